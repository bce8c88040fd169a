#!/usr/bin/env python3
"""Set up and run tracechain's jobs on a machine that has only Python 3.11+.

    python3 tasks.py demo          the main job end to end: a SQLite ledger in ./demo-ledger
    python3 tasks.py test          ruff, ruff format --check, mypy --strict, then pytest
    python3 tasks.py bench [ARGS]  the benchmark harness (python -m benchmarks ARGS)
    python3 tasks.py tracechain ARGS   the CLI inside the project's environment
    python3 tasks.py i18n          re-extract the messages into the catalogs and compile them (docs/i18n.md)

Each job first makes sure `.venv` exists and holds the project installed in editable mode with its dev
dependencies; it reinstalls only when pyproject.toml has changed since the last install.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".tracechain-installed"


def _run(*args: str | os.PathLike[str], here: bool = False) -> int:
    """Run a command in the project's folder, or with ``here`` in the caller's (where their paths point)."""
    env = None
    if here:
        # How the CLI's hints spell the command, so that what the demo prints runs as printed from here.
        script = os.path.relpath(Path(__file__).resolve(), Path.cwd())
        env = {**os.environ, "TRACECHAIN_COMMAND": f"python3 {shlex.quote(script)} tracechain"}
    return subprocess.call([str(a) for a in args], cwd=None if here else ROOT, env=env)


def ensure_env() -> None:
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PY.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not PY.exists():
        print("setting up .venv (first run only)…", flush=True)
        venv.create(VENV, with_pip=True)
    steps = [
        [PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        [PY, "-m", "pip", "install", "--quiet", "-e", ".[dev]"],
    ]
    for step in steps:
        if _run(*step) != 0:
            sys.exit("installing tracechain's dependencies failed; see pip's message above")
    STAMP.write_text(wanted)


def test(extra: list[str]) -> int:
    checks = [
        [PY, "-m", "ruff", "check", "."],
        [PY, "-m", "ruff", "format", "--check", "."],
        [PY, "-m", "mypy"],
    ]
    for check in checks:
        print("$", " ".join(str(c) for c in check[1:]), flush=True)
        if _run(*check) != 0:
            return 1
    return _run(PY, "-m", "pytest", *extra)


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script must say so plainly on an old Python
        print(f"tracechain needs Python 3.11 or newer; this is {sys.version.split()[0]}")
        return 2
    if not argv or argv[0] not in {"demo", "test", "bench", "tracechain", "i18n"}:
        print(__doc__)
        return 2
    ensure_env()
    job, extra = argv[0], argv[1:]
    if job == "test":
        return test(extra)
    if job == "demo":
        return _run(BIN / "tracechain", "demo", *extra, here=True)
    if job == "bench":
        return _run(PY, "-m", "benchmarks", *extra)
    if job == "i18n":
        return _run(PY, "-m", "tools.catalog", "update") or _run(PY, "-m", "tools.catalog", "compile")
    return _run(BIN / "tracechain", *extra, here=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
