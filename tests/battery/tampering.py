"""Tampering by an insider who holds the database and every key.

Ten kinds, each applied to a fresh copy of one varied ledger whose outside holders (a witness) kept a checkpoint
after every batch:

- clumsy: edit, delete, insert, reorder or truncate entries with SQL, re-hashing nothing;
- rebuilt: edit, delete, insert or reorder events, or truncate the ledger at a batch, then rebuild every table
  re-hashed and re-signed with the real keys (`insider.write_batches`) — a forgery that verifies on its own.

Each must fail `verify` against the held checkpoints at the first divergent entry ``d``. Clumsy tampering breaks
the entries' own checks, so ``first_bad_index`` is ``d`` itself, except for a truncation that cut a batch short:
the entries left of that batch have lost their seal, so the first of them is bad. A rebuilt ledger agrees with
itself, so only the held checkpoints locate it: ``first_bad_index`` is the size of the last held checkpoint that
still matches, the first entry of the batch holding ``d``.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import tracechain
from tracechain import encoding, merkle

from .insider import Batch, read_batches, rewrite_entries, write_batches
from .support import (
    PLANT_USCC,
    SHIPPER_USCC,
    Built,
    Tally,
    build_ledger,
    copy_ledger,
    entries_of,
    event,
    first_difference,
    foreign,
    integrity_pass,
    spanned,
    timed,
)

CLUMSY = ("edit", "delete", "insert", "reorder", "truncate")
REBUILT = ("rebuilt edit", "rebuilt delete", "rebuilt insert", "rebuilt reorder", "rebuilt truncate")
KINDS = CLUMSY + REBUILT


# --- clumsy tampering: the entries table changed with SQL, nothing re-hashed --------------------------------


def _changed_body(kind: str, body: Any, rng: random.Random) -> Any:
    """The same entry saying something else, still in canonical form."""
    if kind == "event":
        data = dict(encoding.decode(body))
        data["eventTime"] = data["eventTime"] + rng.randint(1, 10**9)
        return encoding.encode(data)
    if kind == "seal":
        return {**body, "sig": bytes(b ^ 1 for b in body["sig"])}
    if kind == "genesis":
        return {**body, "created": body["created"] + 1}
    if kind == "key":
        other = SHIPPER_USCC if body["actor"] != SHIPPER_USCC else PLANT_USCC
        return {**body, "actor": other}
    return {**body, "public": bytes(32)}  # revoke


def _reencode(data: bytes, index: int, prev: bytes, body: Any | None = None) -> bytes:
    version, _index, _prev, kind, old = encoding.decode_entry(data)
    return encoding.encode_entry(version, index, prev, kind, old if body is None else body)


def clumsy(kind: str, entries: list[bytes], rng: random.Random) -> list[bytes]:
    out = list(entries)
    size = len(entries)
    if kind == "edit":
        i = rng.randrange(size)
        version, index, prev, entry_kind, body = encoding.decode_entry(entries[i])
        out[i] = encoding.encode_entry(version, index, prev, entry_kind, _changed_body(entry_kind, body, rng))
    elif kind == "delete":
        del out[rng.randrange(size)]
        return out  # indices are kept by `apply_clumsy`, which writes a gap
    elif kind == "insert":
        i = rng.randrange(1, size + 1)
        donor = rng.randrange(size)
        prev = merkle.leaf_hash(entries[i - 1])
        out.insert(i, _reencode(entries[donor], i, prev))
    elif kind == "reorder":
        i, j = sorted(rng.sample(range(size), 2))
        out[i], out[j] = out[j], out[i]
    else:  # truncate
        out = out[: rng.randrange(1, size)]
    return out


# --- rebuilt tampering: every table rewritten, re-hashed and re-signed ---------------------------------------


def _event_slots(batches: list[Batch]) -> list[tuple[int, int]]:
    return [(b, j) for b, batch in enumerate(batches) for j, (kind, _) in enumerate(batch.items) if kind == "event"]


def rebuilt(kind: str, batches: list[Batch], rng: random.Random) -> list[Batch]:
    out = [Batch(b.public, b.actor, list(b.items)) for b in batches]
    slots = _event_slots(out)
    if kind == "rebuilt edit":
        b, j = rng.choice(slots)
        data = dict(encoding.decode(out[b].items[j][1]))
        data["bizStep"] = rng.choice(["destroying", "shipping", "receiving"])
        data["eventTime"] += 1
        out[b].items[j] = ("event", encoding.encode(data))
    elif kind == "rebuilt delete":
        b, j = rng.choice(slots)
        del out[b].items[j]
        if not out[b].items:
            del out[b]
    elif kind == "rebuilt insert":
        b, j = rng.choice(slots)
        out[b].items.insert(j + rng.randint(0, 1), ("event", event(10_000 + rng.randrange(10_000)).canonical_bytes()))
    elif kind == "rebuilt reorder":
        (b1, j1), (b2, j2) = rng.sample(slots, 2)
        out[b1].items[j1], out[b2].items[j2] = out[b2].items[j2], out[b1].items[j1]
    else:  # truncate at a batch, keeping the genesis and the key registrations
        out = out[: rng.randrange(3, len(out))]
    return out


# --- judging -----------------------------------------------------------------------------------------------


def judge(tally: Tally, kind: str, built: Built, path: Path, original: list[bytes], label: str) -> None:
    """Detected, at the first divergent entry ``d`` (see the module docstring), with that entry named."""
    tampered = entries_of(path)
    d = first_difference(original, tampered)
    assert d is not None, "the tampering changed nothing"
    vouched = max(b for b in [0, *built.boundaries] if b <= d)  # the first entry of the batch holding d
    cut = len(tampered) < len(original) and tampered == original[: len(tampered)]  # a truncation, nothing else
    try:
        report = tracechain.verify(path, built.held)
        alone = tracechain.verify(path) if kind in REBUILT else None
        quick = integrity_pass(path, built.held)
        spans = spanned(path, built.held, span=37)
    except Exception as e:
        tally.fail("verify raised", f"{label}: {foreign(e)}")
        return
    if quick.ok or quick.first_bad_index != report.first_bad_index:
        tally.fail("integrity pass disagrees", f"{label}: {quick.first_bad_index} vs {report.first_bad_index}")
        return
    if [(p.index, p.message) for p in spans.problems] != [(p.index, p.message) for p in report.problems]:
        tally.fail("span walk disagrees", f"{label}: in 37-entry spans {spans.problems[:2]}")
        return
    first = report.first_bad_index
    exact = {p.index for p in report.problems if p.until is None}
    shown = sorted((p.index if p.index is not None else -1, p.message[:90]) for p in report.problems)[:3]
    if report.ok:
        tally.fail("undetected", label)
    elif kind in REBUILT:
        if first != vouched:
            tally.fail("wrong first index", f"{label}: reported {first}, expected {vouched}: {shown}")
        elif alone is not None and not alone.ok:
            tally.fail("forgery not self-consistent", f"{label}: {alone.problems[:2]}")
        elif not any(note in p.evidence for p in report.problems for note in built.held):
            tally.fail("no evidence", label)
        else:
            tally.ok_as("found at its batch, from the held checkpoints")
    elif first != (vouched if cut else d) or (not cut and d not in exact):
        tally.fail("wrong first index", f"{label}: reported {first}, divergence at {d} (batch {vouched}): {shown}")
    else:
        tally.ok_as("found at the divergent entry" if first == d else "found at the batch the cut left unsealed")


def run_tampering(workdir: Path, per_kind: int, *, seed: int = 2, kinds: tuple[str, ...] = KINDS) -> list[Tally]:
    """``per_kind`` tamperings of each kind, one tally per kind."""
    base = workdir / "base.db"
    built = build_ledger(base)
    original = entries_of(base)
    batches = read_batches(base)
    target = workdir / "tampered.db"
    tallies = []
    for kind in kinds:
        tally = Tally("tampering", kind)
        rng = random.Random(f"{seed}:{kind}")
        with timed(tally):
            for trial in range(per_kind):
                copy_ledger(base, target)
                if kind in CLUMSY:
                    changed = clumsy(kind, original, rng)
                    if kind == "delete":
                        _write_with_gap(target, original, changed)
                    else:
                        rewrite_entries(target, changed)
                else:
                    write_batches(target, rebuilt(kind, batches, rng), built.signers)
                tally.trials += 1
                judge(tally, kind, built, target, original, f"{kind} #{trial}")
        tallies.append(tally)
    return tallies


def _write_with_gap(path: Path, original: list[bytes], kept: list[bytes]) -> None:
    """Delete one row by its index, leaving the others where they were."""
    gone = first_difference(original, kept)
    con = sqlite3.connect(path)
    try:
        with con:
            con.execute("DELETE FROM entries WHERE idx = ?", (gone,))
    finally:
        con.close()
