"""Run tracechain's benchmarks: ``python -m benchmarks [--quick] [--only SUITES] [--profile]``.

The full run grows one ledger (and pymerkle's tree beside it) to 10k, 100k and 1M entries and writes
benchmarks/results.json and benchmarks/RESULTS.md. ``--quick`` is a smoke run at 10k (under two minutes) that
writes to benchmarks/work/quick/ unless ``--out-dir`` says otherwise, so it never overwrites the full results.
Scratch ledgers live in benchmarks/work/run-*/ and are removed at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import machine, report
from benchmarks.harness import SUITES, Line, Plan, Run
from benchmarks.ledgers import GrowingLedger, Keys
from benchmarks.workload import EventSource

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"


def _sizes(text: str) -> tuple[int, ...]:
    out = []
    for raw in text.split(","):
        part = raw.strip().lower()
        scale = {"k": 1000, "m": 1_000_000}.get(part[-1:], 1)
        out.append(int(float(part.rstrip("km")) * scale))
    return tuple(sorted(out))


def parse(argv: list[str]) -> argparse.Namespace:
    import benchmarks.suites  # noqa: F401  (registers the suites, in order)

    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run at 10k entries, under two minutes")
    parser.add_argument("--only", help=f"comma-separated suites to run, of: {', '.join(SUITES)}")
    parser.add_argument("--sizes", type=_sizes, help="ledger sizes for the size suites, e.g. 10k,100k,1M")
    parser.add_argument("--profile", action="store_true", help="cProfile tracechain's side of every missed target")
    parser.add_argument("--out-dir", type=Path, help="where results.json and RESULTS.md go")
    parser.add_argument("--keep", action="store_true", help="keep the scratch ledgers in benchmarks/work/run-*")
    parser.add_argument(
        "--render", type=Path, metavar="RESULTS_JSON", help="only re-render RESULTS.md from a JSON file"
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    if args.render:
        payload = report.json.loads(args.render.read_text(encoding="utf-8"))
        target = args.render.with_name("RESULTS.md")
        target.write_text(report.render_markdown(payload), encoding="utf-8")
        print(target)
        return 0
    selected = list(SUITES) if not args.only else [s.strip() for s in args.only.split(",")]
    unknown = [s for s in selected if s not in SUITES]
    if unknown:
        print(f"unknown suites {unknown}; known: {', '.join(SUITES)}", file=sys.stderr)
        return 2
    plan = Plan.for_mode(args.quick, args.sizes)
    out_dir = args.out_dir or (WORK / "quick" if args.quick else HERE)
    started = datetime.now(UTC)
    clock = time.monotonic()
    workdir = WORK / f"run-{started:%Y%m%d-%H%M%S}"
    workdir.mkdir(parents=True)

    def log(message: str) -> None:
        print(f"[{time.monotonic() - clock:7.1f}s] {message}", file=sys.stderr, flush=True)

    log(f"tracechain benchmarks, {'quick' if plan.quick else 'full'} run; scratch in {workdir}")
    info = machine.describe()
    info["parallel_speedup_start"] = machine.parallel_speedup(info["cores"] or 1)
    log(f"{info['cores']} cores give a {info['parallel_speedup_start']}× speed-up on CPU-bound work right now")
    source = EventSource()
    workload = source.describe()
    log(f"workload: {workload['templates']} templates, canonical bytes {workload['canonical_bytes']}")
    run = Run(plan, workdir, source, profile=args.profile, log=log)
    try:
        for name in selected:
            entry = SUITES[name]
            if entry.once is not None:
                _guarded(run, name, lambda entry=entry: entry.once(run))  # type: ignore[misc]
        per_size = [SUITES[n] for n in selected if SUITES[n].per_size is not None]
        if per_size:
            keys = Keys()
            run.state["keys"] = keys  # the scan suite signs a checkpoint of the growing ledger
            growing = GrowingLedger(run, keys)
            for size in plan.sizes:
                log(f"growing the ledger to {size:,} entries")
                stage = growing.grow_to(size)
                for entry in per_size:
                    _guarded(run, entry.name, lambda entry=entry, stage=stage: entry.per_size(run, stage))  # type: ignore[misc]
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    info["parallel_speedup_end"] = machine.parallel_speedup(info["cores"] or 1)
    payload: dict[str, Any] = {
        "tool": "tracechain benchmarks",
        "format": 1,
        "command": "python -m benchmarks" + ("" if not argv else " " + " ".join(argv)),
        "mode": "quick" if plan.quick else "full",
        "started": f"{started:%Y-%m-%d %H:%M}",
        "duration_s": round(time.monotonic() - clock, 1),
        "machine": info,
        "load_average_end": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "plan": plan.to_dict(),
        "suites": selected,
        "workload": workload,
        "setup": run.setup,
        "lines": [line.to_dict() for line in run.lines],
    }
    json_path, md_path = report.write(payload, out_dir)
    missed = [(line, t) for line in run.lines for t in line.missed()]
    log(f"wrote {json_path} and {md_path}; {len(missed)} target(s) missed")
    for line, t in missed:
        log(f"  missed: {line.title}{'' if line.size is None else f' @ {line.size:,}'}: {t.text} ({t.gap_text()})")
    return 0


def _guarded(run: Run, name: str, fn: Any) -> None:
    """Run one suite; a failure becomes an error line in the results instead of ending the run."""
    try:
        fn()
    except Exception as e:  # any suite failure is reported; the other suites still run
        run.log(f"suite {name} failed: {e!r}")
        line = Line(f"{name}.error", "errors", f"suite {name}", status="error")
        line.notes = [f"{type(e).__name__}: {e}", traceback.format_exc(limit=4).strip().splitlines()[-3]]
        run.lines.append(line)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
