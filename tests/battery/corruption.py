"""Corruption: random bit flips and byte overwrites in a closed ledger file.

Each damaged copy must be either reported by `verify` with a first bad entry no later than the first entry whose
bytes really changed, or provably harmless: verify passes with the original size and root and every table, read
independently with plain sqlite3, holds exactly the original rows. Neither `verify` nor the library's read API
may raise anything but tracechain's own errors.
"""

from __future__ import annotations

import random
from pathlib import Path

import tracechain
from tracechain import Ledger
from tracechain.errors import TracechainError

from .support import (
    Built,
    Snapshot,
    Tally,
    build_ledger,
    first_difference,
    foreign,
    remove_ledger,
    snapshot,
    spanned,
    timed,
)

MUTATIONS = ("bit flip", "byte overwrite", "run overwrite")


def mutate(data: bytes, rng: random.Random) -> tuple[str, int, bytes]:
    """One random mutation: which kind, at which offset, and the damaged bytes (always different)."""
    damaged = bytearray(data)
    kind = rng.choice(MUTATIONS)
    offset = rng.randrange(len(data))
    if kind == "bit flip":
        damaged[offset] ^= 1 << rng.randrange(8)
    elif kind == "byte overwrite":
        damaged[offset] = (data[offset] + rng.randrange(1, 256)) % 256
    else:
        run = rng.randbytes(rng.randint(2, 16))
        damaged[offset : offset + len(run)] = run
        damaged = damaged[: len(data)]
    return kind, offset, bytes(damaged)


def _library_reads(path: Path, tally: Tally, label: str) -> None:
    """Every read the library offers, on the damaged file: tracechain errors are fine, nothing else is."""
    steps = [
        lambda led: led.size,
        lambda led: led.root(),
        lambda led: [e.to_dict() for e in led.entries()],
        lambda led: [list(e.event.item_codes()) for e in led.entries() if e.event is not None],
        lambda led: led.keys(),
        lambda led: led.checkpoints(),
        lambda led: led.prove_inclusion(0),
        lambda led: led.prove_consistency(1),
        lambda led: list(led.entries("https://id.gs1.org/00/069012345000000011")),
    ]
    try:
        led = Ledger.open(str(path))
    except TracechainError:
        return
    except Exception as e:
        tally.fail("foreign exception", f"{label}: Ledger.open: {foreign(e)}")
        return
    try:
        for step in steps:
            try:
                step(led)
            except TracechainError:
                pass
            except Exception as e:
                tally.fail("foreign exception", f"{label}: {foreign(e)}")
    finally:
        led.close()


def judge(tally: Tally, built: Built, original: Snapshot, path: Path, label: str, *, reads: bool = True) -> None:
    """Classify one damaged file: detected (with a sound first bad index) or harmless; anything else fails."""
    damaged = snapshot(path)
    try:
        report = tracechain.verify(path, [built.final])
        spans = spanned(path, [built.final], span=37)
    except Exception as e:
        tally.fail("verify raised", f"{label}: {foreign(e)}")
        return
    if spans.ok != report.ok:
        tally.fail("span walk disagrees", f"{label}: in 37-entry spans ok={spans.ok}, in one pass ok={report.ok}")
        return
    if report.ok:
        if report.size == built.size and report.root == built.root and damaged == original:
            tally.ok_as("harmless")
        else:
            tally.fail("silent change", f"{label}: verify passed but {_differences(original, damaged)} changed")
    else:
        first_bad = report.first_bad_index
        changed = (
            first_difference(
                [bytes(r[1]) for r in original["entries"]],
                [bytes(r[1]) if isinstance(r[1], bytes) else b"" for r in damaged["entries"]],
            )
            if damaged is not None
            else None
        )
        if first_bad is None:
            tally.fail("no first bad index", label)
        elif changed is not None and first_bad > changed:
            tally.fail("index too late", f"{label}: reported {first_bad}, entry {changed} changed")
        else:
            tally.ok_as("detected")
    if reads:
        _library_reads(path, tally, label)


def _differences(original: Snapshot, damaged: Snapshot | None) -> str:
    if damaged is None:
        return "the file (unreadable with plain sqlite3)"
    return ", ".join(t for t in original if original[t] != damaged.get(t)) or "the size or root"


def run_corruption(workdir: Path, trials: int, *, seed: int = 1, events: int = 220) -> Tally:
    """``trials`` damaged copies of one varied ledger, each judged by `judge`."""
    tally = Tally("corruption", "bit flips and byte overwrites")
    with timed(tally):
        base = workdir / "base.db"
        remove_ledger(base)
        built = build_ledger(base, events=events)
        original = snapshot(base)
        assert original is not None
        data = base.read_bytes()
        rng = random.Random(seed)
        target = workdir / "damaged.db"
        for trial in range(trials):
            kind, offset, damaged = mutate(data, rng)
            remove_ledger(target)
            target.write_bytes(damaged)
            tally.trials += 1
            tally.ok_as(kind)
            judge(tally, built, original, target, f"trial {trial}: {kind} at offset {offset}")
        remove_ledger(target)
    return tally
