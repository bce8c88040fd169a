"""The battery's long runs: the same checks as the test suite, with the counts of issue 5 (or any others).

    .venv/bin/python tests/battery/long.py                      # everything, at the issue's counts
    .venv/bin/python tests/battery/long.py --only crash --crash 500
    .venv/bin/python tests/battery/long.py --quick              # everything at the test suite's counts

Prints one table row per check as it finishes, then the whole table; exits 1 if any check failed (a lost entry,
a silent change, a foreign exception, an accepted mutation, ...), 0 otherwise. Runs one battery at a time, so it
uses one core (two while a verifier runs beside writers).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

BATTERIES = ("crash", "concurrency", "corruption", "tampering", "proofs", "hostile", "model")
ISSUE_COUNTS = {
    "crash": 200,
    "concurrency": 20,
    "corruption": 10_000,
    "tampering": 1_000,
    "proofs": 64,
    "hostile": 10_000,
    "model": 500,
}
QUICK_COUNTS = {
    "crash": 8,
    "concurrency": 2,
    "corruption": 500,
    "tampering": 25,
    "proofs": 64,
    "hostile": 300,
    "model": 40,
}


def _package() -> str:
    """Import the battery as the test suite does: ``tests.battery`` when ``tests`` is a package."""
    here = Path(__file__).resolve().parent
    if (here.parent / "__init__.py").exists():
        sys.path.insert(0, str(here.parent.parent))
        return "tests.battery"
    sys.path.insert(0, str(here.parent))
    return "battery"


def _module(package: str, name: str) -> ModuleType:
    return importlib.import_module(f"{package}.{name}")


def _row(tally: Any) -> list[str]:
    good = ", ".join(f"{k} {v:,}" for k, v in sorted(tally.outcomes.items()))
    bad = ", ".join(f"{k} {v:,}" for k, v in sorted(tally.failures.items())) or "0"
    return [tally.battery, tally.check, f"{tally.trials:,}", good, bad, f"{tally.seconds:,.0f}"]


def _table(rows: list[list[str]]) -> str:
    head = ["battery", "check", "trials", "outcomes", "failures", "seconds"]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *rows]]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=BATTERIES, default=list(BATTERIES), help="batteries to run")
    parser.add_argument("--quick", action="store_true", help="the test suite's counts instead of the issue's")
    parser.add_argument("--crash", type=int, help="crash rounds (SIGKILL of two writers each)")
    parser.add_argument("--concurrency", type=int, help="concurrency rounds (four writers, two readers each)")
    parser.add_argument("--corruption", type=int, help="damaged copies of the ledger file")
    parser.add_argument("--tampering", type=int, help="tamperings of each of the ten kinds")
    parser.add_argument("--proofs", type=int, help="largest tree whose proofs are all mutated")
    parser.add_argument("--hostile", type=int, help="Hypothesis examples per parser")
    parser.add_argument("--model", type=int, help="Hypothesis runs of the stateful model")
    parser.add_argument("--steps", type=int, default=40, help="steps per stateful model run")
    parser.add_argument("--workdir", type=Path, help="where to put the ledgers (default: a temporary folder)")
    args = parser.parse_args(argv)
    counts = dict(QUICK_COUNTS if args.quick else ISSUE_COUNTS)
    for name in BATTERIES:
        if getattr(args, name) is not None:
            counts[name] = getattr(args, name)

    package = _package()
    crash, corruption, tampering = (_module(package, m) for m in ("crash", "corruption", "tampering"))
    proofs, hostile, model = (_module(package, m) for m in ("proofs", "hostile", "model"))
    runs: dict[str, Callable[[Path, int], list[Any]]] = {
        "crash": lambda d, n: [crash.run_crash(d, n)],
        "concurrency": lambda d, n: crash.run_concurrency(d, n, writers=4, readers=2, batches=40),
        "corruption": lambda d, n: [corruption.run_corruption(d, n)],
        "tampering": tampering.run_tampering,
        "proofs": proofs.run_proofs,
        "hostile": lambda d, n: [run(d, n) for run in hostile.HOSTILE.values()],
        "model": lambda d, n: [model.run_model(d, n, args.steps)],
    }
    rows: list[list[str]] = []
    failed = False
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for name in args.only:
            workdir = Path(tmp) / name
            workdir.mkdir()
            print(f"# {name}: {counts[name]:,}", flush=True)
            for tally in runs[name](workdir, counts[name]):
                rows.append(_row(tally))
                failed |= not tally.ok
                print(" | ".join(rows[-1]), flush=True)
                for example in tally.examples:
                    print(f"    {example}", flush=True)
    print()
    print(_table(rows))
    print(f"\n{'FAILED' if failed else 'ok'}: {len(rows)} checks in {time.monotonic() - started:,.0f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
