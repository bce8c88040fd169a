"""Peak-memory lines: the resident set of verify (and of audit, once it exists) in a child process at each size.

The target is flatness: from 100k to 1M entries the peak may grow by at most 20%, because verify streams the
ledger in chunks and keeps O(log n) tree state. Beside it: the same child doing nothing after importing
tracechain (the floor) and the raw read+hash loop.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import tracechain
from benchmarks.harness import Line, Measure, Peer, Run, Stage, Target, size_suite

ROOT = Path(__file__).resolve().parents[2]
_FLAT_FROM, _FLAT_TO = 100_000, 1_000_000


def child(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.child", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    try:
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError) as e:
        raise RuntimeError(f"child {args} failed ({done.returncode}): {done.stderr[-2000:]}") from e
    if "error" in result:
        raise RuntimeError(f"child {args}: {result['error']}")
    return result


def _mib(kib: int) -> float:
    return kib / 1024


@size_suite("memory", "peak memory (RSS) of verify and audit at each size, in a child process")
def memory_suite(run: Run, stage: Stage) -> None:
    run.log(f"peak RSS at {stage.size:,} entries (child processes)")
    base = child("baseline")
    raw = child("raw", str(stage.path))
    for job in ("verify", "verify-hash-only", "audit"):
        if job == "audit" and not hasattr(tracechain, "audit"):
            if "memory.audit.pending" not in run.state:
                run.state["memory.audit.pending"] = True
                run.pending(
                    "memory.audit",
                    "memory",
                    "audit peak RSS at each size",
                    "tracechain.audit() does not exist yet; this suite runs it in a child as soon as it does",
                )
            continue
        path = str(stage.path)
        result = child("verify", path, "--hash-only") if job == "verify-hash-only" else child(job, path)
        if not result["ok"]:
            raise AssertionError(f"{job} failed on the benchmark ledger")
        call = "verify(contents=False, signatures=False)" if job.endswith("hash-only") else f"{job}()"
        own = Measure(f"{call} peak RSS of the process", _mib(result["maxrss_kib"]), 1, "run", "memory")
        line = Line(
            f"memory.{job.replace('-', '_')}",
            "memory",
            f"{job.replace('-hash-only', ' hash-only')} peak RSS",
            size=stage.size,
            tracechain=own,
            peers=[
                Peer(
                    "reference",
                    Measure("python + import tracechain, nothing run", _mib(base["maxrss_kib"]), 1, "run", "memory"),
                ),
                Peer(
                    "limit",
                    Measure(
                        "raw read + sha256 loop in the same kind of child", _mib(raw["maxrss_kib"]), 1, "run", "memory"
                    ),
                ),
            ],
            notes=[
                f"{job} took {result['seconds']:.1f} s in the child; its worker processes peaked at "
                f"{_mib(result['children_maxrss_kib']):.1f} MiB each at most",
            ],
        )
        history: dict[int, float] = run.state.setdefault(f"rss.{job}", {})
        history[stage.target] = own.value
        if stage.target == _FLAT_TO and _FLAT_FROM in history:
            growth = own.value / history[_FLAT_FROM]
            line.targets = [
                Target("flat from 100k to 1M (peak grows ≤ 20%)", growth, 1.2, higher_is_better=False, unit="×")
            ]
            net = (own.value - _mib(base["maxrss_kib"])) / max(history[_FLAT_FROM] - _mib(base["maxrss_kib"]), 1e-9)
            line.notes.append(f"growth of the peak above the import floor: {net:.2f}×")
        run.record(line)
