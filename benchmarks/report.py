"""The run's outputs: results.json (everything measured) and RESULTS.md (rendered from that JSON alone).

Rendering only from the JSON keeps the two in step: ``python -m benchmarks --render results.json`` rewrites the
Markdown of an earlier run without measuring anything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["render_markdown", "write"]

_PLURAL = {"entry": "entries", "proof": "proofs", "batch": "batches"}


def write(payload: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "results.json", out_dir / "RESULTS.md"
    json_path.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    md_path.write_text(render_markdown(payload), encoding="utf-8")
    return json_path, md_path


def _plural(unit: str) -> str:
    return _PLURAL.get(unit, unit + "s")


def _duration(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:,.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:,.2f} ms"
    return f"{seconds:,.2f} s"


def figure(m: dict[str, Any] | None) -> str:
    if m is None:
        return "—"
    if m["kind"] == "memory":
        return f"{m['value']:,.1f} MiB"
    work, value, unit = m["work"], m["value"], m["unit"]
    if work == 1:
        return _duration(value)
    rate = work / value if value else float("inf")
    per = value / work
    return f"{rate:,.0f} {_plural(unit)}/s ({_duration(per)}/{unit})"


def ratio_text(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    if ratio >= 100:
        return f"{ratio:,.0f}×"
    if ratio >= 10:
        return f"{ratio:.1f}×"
    return f"{ratio:.2f}×"


def _value_text(t: dict[str, Any]) -> str:
    if t["unit"] == "ms":
        return f"{t['value']:.3f} ms"
    return f"{ratio_text(t['value'])}" if t["unit"] == "×" else f"{t['value']:.3g} {t['unit']}"


def _threshold_text(t: dict[str, Any]) -> str:
    sign = "≥" if t["higher_is_better"] else "≤"
    unit = " ms" if t["unit"] == "ms" else "×"
    return f"{sign} {t['threshold']:g}{unit}"


def status_text(t: dict[str, Any]) -> str:
    margin = t["margin"]
    if t["met"]:
        return "met" + (f" ({margin:.2f}× the threshold)" if margin < 100 else " (by far)")
    return f"**MISSED**: needs {1 / margin:.2f}× better"


def _target_cell(t: dict[str, Any]) -> str:
    return f"{_threshold_text(t)} → {_value_text(t)}: {status_text(t)}"


def _at(size: int | None) -> str:
    return "" if size is None else f" ({size:,})"


def _size(size: int | None) -> str:
    return "—" if size is None else f"{size:,}"


def render_markdown(payload: dict[str, Any]) -> str:
    m = payload["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
    load_end = payload.get("load_average_end")
    out = [
        "# tracechain benchmarks",
        "",
        f"Written by `{payload['command']}` — regenerate it, do not edit it. Mode **{payload['mode']}**, "
        f"{payload['started']} (UTC), {payload['duration_s'] / 60:.1f} min, git {m['git']}.",
        "",
        f"**Machine**: {m['cores']} cores ({m['cpu']}), {m['platform']}; Python {m['python']}; SQLite {m['sqlite']}; "
        f"{m['openssl_hashlib']} (hashlib) and {m['openssl_cryptography']} (cryptography); {packages}. "
        f"Load average at start {_load(m['load_average'])}, at end {_load(load_end)}. "
        f"Measured parallel capacity (CPU-bound work in a {m['cores']}-process pool against the same work run "
        f"serially): {m.get('parallel_speedup_start', '?')}× at the start, {m.get('parallel_speedup_end', '?')}× at "
        "the end — the all-cores ideals below assume the nominal core count.",
        "",
        "**How to read.** Every contender runs in the same process run on the same data, interleaved round by round; "
        "figures are medians over the repeats. **Ratio = the peer's cost ÷ tracechain's cost for the same work** (the "
        "median of the per-round ratios where both were timed in the same rounds): "
        "above 1× tracechain is faster (or smaller). Peers are *alternatives* (another library doing the job), "
        "*limits* (the raw primitive: ratios below 1× are expected, the targets say how close to get), "
        "*references* (stripped-down passes that show where the cost is) or *variants* (tracechain with one thing "
        "changed). Absolute figures drift on this shared machine; compare ratios.",
        "",
        _workload(payload["workload"]),
        "",
    ]
    targets = [(line, t) for line in payload["lines"] for t in line["targets"]]
    if targets:
        met = sum(1 for _, t in targets if t["met"])
        out += [
            f"## Targets ({met} of {len(targets)} met)",
            "",
            "| Target | Line | Size | Value | Status |",
            "|---|---|---|---|---|",
        ]
        for line, t in targets:
            out.append(
                f"| {t['text']} | {line['title']} | {_size(line['size'])} | {_value_text(t)} | {status_text(t)} |"
            )
        out.append("")
    out += ["## Figures", ""]
    groups: dict[str, list[dict[str, Any]]] = {}
    for line in payload["lines"]:
        if line["status"] == "measured":
            groups.setdefault(line["group"], []).append(line)
    for group, lines in groups.items():
        out += [
            f"### {group}",
            "",
            "| Line | Size | tracechain | Peer (role) | Peer figure | Ratio | Target |",
            "|---|---|---|---|---|---|---|",
        ]
        for line in lines:
            tc = line["tracechain"]
            label = f"{line['title']}<br>*{tc['label']}*" if tc else line["title"]
            rows = line["peers"] or [None]
            for i, peer in enumerate(rows):
                first = i == 0
                cells = [label if first else "", _size(line["size"]) if first else "", figure(tc) if first else ""]
                if peer is None:
                    cells += ["—", "—", "—"]
                else:
                    cells += [f"{peer['label']} ({peer['role']})", figure(peer), ratio_text(peer["ratio"])]
                mine = [t for t in line["targets"] if peer is not None and t["peer"] == peer["label"]]
                if first:
                    mine += [t for t in line["targets"] if t["peer"] is None]
                cells.append("<br>".join(_target_cell(t) for t in mine))
                out.append("| " + " | ".join(cells) + " |")
        out.append("")
    noted = [line for line in payload["lines"] if line["notes"] and line["status"] == "measured"]
    if noted:
        out += ["## Notes", ""]
        seen: set[str] = set()
        for line in noted:
            notes = [n for n in line["notes"] if n not in seen]
            seen.update(notes)
            if notes:
                out.append(f"- **{line['title']}**{_at(line['size'])}: " + "; ".join(notes))
        out.append("")
    pending = [line for line in payload["lines"] if line["status"] != "measured"]
    if pending:
        out += ["## Pending and failed lines", ""]
        for line in pending:
            peers = "; ".join(f"{p['label']}: {figure(p)}" for p in line["peers"])
            out.append(
                f"- **{line['title']}** ({line['status']}): {'; '.join(line['notes'])}"
                + (f". Peers measured: {peers}" if peers else "")
            )
        out.append("")
    profiled = [line for line in payload["lines"] if line.get("profile")]
    if profiled:
        out += [
            "## Where the time goes (cProfile of tracechain's side of each missed target)",
            "",
            "Own time per function, largest first; cProfile slows pure-Python code more than C calls, so read the "
            "shares, not the seconds. The full listings (and .prof files for pstats) are in "
            "benchmarks/work/run-*-profiles/.",
            "",
        ]
        for line in profiled:
            out += [
                f"### {line['title']}{_at(line['size'])}",
                "",
                "| Function | Calls | Own s | Cumulative s | Share of own time |",
                "|---|---|---|---|---|",
            ]
            for row in line["profile"][:12]:
                cells = (
                    f"`{row['function']}`",
                    f"{row['calls']:,}",
                    f"{row['tottime_s']:.3f}",
                    f"{row['cumtime_s']:.3f}",
                    f"{row['share_of_total']:.1%}",
                )
                out.append("| " + " | ".join(cells) + " |")
            out.append("")
    if payload.get("setup"):
        out += ["## Setup", "", "```json", json.dumps(payload["setup"], indent=1, ensure_ascii=False), "```", ""]
    return "\n".join(out)


def _load(load: Any) -> str:
    if not load:
        return "unknown"
    return " / ".join(f"{x:.2f}" for x in load)


def _spellings(w: dict[str, Any]) -> str:
    """How the sample's item codes were written, per kind, as the share of each spelling."""
    drawn: dict[str, int] = w.get("code_spellings") or {}
    if not drawn:
        return ""
    kinds: dict[str, dict[str, int]] = {}
    for name, count in drawn.items():
        kind, _, spelling = name.partition("/")
        kinds.setdefault(kind, {})[spelling] = count
    parts = []
    for kind, spellings in kinds.items():
        total = sum(spellings.values())
        shares = ", ".join(f"{s} {c / total:.0%}" for s, c in sorted(spellings.items(), key=lambda kv: -kv[1]))
        parts.append(f"{kind} ({total:,}): {shares}")
    random_lines = len(w.get("random_serial_templates", []))
    return (
        " Item codes are spelled as producers send them (benchmarks/spellings.py says why these proportions); in the"
        f" sample: {'; '.join(parts)}. Serials: {w.get('serials', 'mixed')}, random in {random_lines} of"
        f" {w['templates']} templates (anti-counterfeit practice), sequential in the rest."
    )


def _workload(w: dict[str, Any]) -> str:
    sizes = w["canonical_bytes"]
    return (
        f"**Workload.** {w['templates']} event templates from {w['source']} ({', '.join(w['products'])}; every step "
        f"of each product profile), trimmed once to about 200–600 canonical bytes and then varied per event (time, "
        f"serials, SSCCs, vet drug trace codes with their check digits). Canonical event size over a sample of "
        f"{w['sample']:,}: min {sizes['min']}, median {sizes['median']:.0f}, p90 {sizes['p90']}, max {sizes['max']} "
        f"bytes; {w['sample'] - w['sample_invalid']:,} of {w['sample']:,} pass "
        f"{'envelope and profile' if w['profiles_checked'] else 'envelope'} validation." + _spellings(w)
    )
