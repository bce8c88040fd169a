"""Lookup lines: how long a person waits for the command line to answer one question, process start included.

Each contender is a fresh process timed from spawn to exit, with bytecode caches warm (one untimed run first, and
PYTHONDONTWRITEBYTECODE unset, as for an installed package): ``tracechain log LEDGER --code CODE`` (an item's
events as records), ``tracechain prove LEDGER --index N`` and ``tracechain key show FILE``. Peers, in the same
environment and rounds: the interpreter starting and doing nothing (``python -c pass``, the limit no command beats)
and the interpreter importing the CLI's framework (``python -c "import click"``, a reference: the part of the time
that is click's). The issue's target is under 100 ms for each lookup.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from benchmarks.harness import Line, Measure, Peer, Run, Stage, Target, interleaved, size_suite
from tracechain import Ledger, SigningKey

_TARGET_MS = 100.0
_ROUNDS, _QUICK_ROUNDS = 11, 5


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["LANG"] = "C.UTF-8"
    return env


def _first_code(path: Path) -> tuple[str, int]:
    """An item code the ledger holds, and the index of an event entry."""
    with Ledger.open(str(path), readonly=True) as ledger:
        for index in range(4, ledger.size):
            event = ledger.entry(index).event
            if event is not None:
                return next(iter(event.item_codes())), index
    raise AssertionError(f"{path} holds no event")


@size_suite("lookup", "a lookup from the command line, process start included")
def lookup_suite(run: Run, stage: Stage) -> None:
    bin_dir = Path(sys.executable).parent
    program = str(bin_dir / "tracechain")
    key_file = run.workdir / "lookup.key"
    if not key_file.exists():
        SigningKey.generate("lookup.example.cn").save(key_file, "benchmark password")
    code, index = _first_code(stage.path)
    env = _environment()

    def spawn(*args: str) -> object:
        done = subprocess.run(list(args), env=env, capture_output=True, check=False)
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(args)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
        return done

    commands = {
        "log --code": (program, "log", str(stage.path), "--code", code),
        "prove --index": (program, "prove", str(stage.path), "--index", str(index)),
        "key show": (program, "key", "show", str(key_file)),
    }
    peers = {
        "python -c pass": (sys.executable, "-c", "pass"),
        "python -c 'import click'": (sys.executable, "-c", "import click"),
    }
    contenders = {name: (lambda r, a=args: spawn(*a)) for name, args in {**commands, **peers}.items()}
    rounds = _QUICK_ROUNDS if run.plan.quick else _ROUNDS
    run.log(f"lookups at {stage.size:,} entries: {len(commands)} commands and 2 peers, {rounds} rounds")
    times = interleaved(contenders, rounds, warmup=1)
    for name, args in commands.items():
        line = Line(
            f"lookup.{name.split()[0]}",
            "lookup",
            f"tracechain {name} in a new process",
            size=stage.size,
            tracechain=Measure.of(
                " ".join(a if a != str(stage.path) else "LEDGER" for a in args[1:]), times[name], 1, "lookup"
            ),
            peers=[
                Peer(
                    "limit",
                    Measure.of("python -c pass (the interpreter's start)", times["python -c pass"], 1, "lookup"),
                ),
                Peer(
                    "reference",
                    Measure.of(
                        "python -c 'import click' (the framework's share)",
                        times["python -c 'import click'"],
                        1,
                        "lookup",
                    ),
                ),
            ],
            targets=[],
            notes=["bytecode caches warm; wall-clock from spawn to exit on a machine shared with the other suites"],
        )
        assert line.tracechain is not None
        line.targets.append(
            Target(
                "under 100 ms from process start",
                line.tracechain.value * 1e3,
                _TARGET_MS,
                higher_is_better=False,
                unit="ms",
            )
        )
        run.record(line)
