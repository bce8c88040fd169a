"""Ledgers, keys and plain SQLite files for the benchmarks, and the run's growing ledger with its pymerkle twin.

The growing ledger is built once per run with batched appends of realistic events and stopped at each of the
plan's sizes (10k, 100k, 1M entries) for the size suites to measure. pymerkle's SQLite tree is grown in lockstep
over exactly the same entry bytes, so at every size both trees must have the same RFC 9162 root: the harness
checks that before comparing their proofs.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pymerkle

from benchmarks.harness import Run, Stage, size_label
from benchmarks.workload import EXAMPLES
from tracechain import Ledger, SigningKey

__all__ = [
    "ACTOR_USCC",
    "OPERATOR_USCC",
    "ORIGIN",
    "GrowingLedger",
    "Keys",
    "UnsignedKey",
    "new_ledger",
    "plain_sqlite",
    "read_entries",
]

ORIGIN = "bench.tracechain.example/ledger"
OPERATOR_USCC = "91350100M000100Y43"
ACTOR_USCC = "91512081MA62K0260E"
_ACTOR_NAME = "plant.bench.example"
_ACTOR_SEED = bytes(range(32))


class UnsignedKey(SigningKey):
    """The actor's key with signing stubbed out: the same append, minus the Ed25519 signature (64 zero bytes).

    Only for the signed-versus-unsigned line; a ledger written with it fails verification, as it should.
    """

    __slots__ = ()

    def sign(self, message: bytes) -> bytes:
        return bytes(64)


class Keys:
    """The operator key (named by the origin, as checkpoints require) and a registered actor's key."""

    def __init__(self) -> None:
        self.operator = SigningKey.generate(ORIGIN)
        self.actor = SigningKey.from_seed(_ACTOR_NAME, _ACTOR_SEED)
        self.unsigned = UnsignedKey.from_seed(_ACTOR_NAME, _ACTOR_SEED)


def new_ledger(path: Path, keys: Keys) -> Ledger:
    """A new ledger with the operator's genesis and the actor's key registered, ready for event batches.

    The workload's events name the enterprises of the product examples; since a ledger refuses events naming an
    enterprise its signer may not speak for, the actor is delegated to record for each of them (as a platform
    recording on producers' behalf would be).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    ledger = Ledger.create(str(path), ORIGIN, keys.operator, OPERATOR_USCC)
    ledger.register(keys.actor.verifier, ACTOR_USCC, keys.operator)
    for enterprise in _example_enterprises():
        ledger.delegate(ACTOR_USCC, enterprise, keys.operator)
    return ledger


def _example_enterprises() -> list[str]:
    """The enterprise USCCs the product examples record events for, other than the actor's."""
    found = set()
    for path in sorted(EXAMPLES.glob("*/*.json")):
        kde = json.loads(path.read_text(encoding="utf-8")).get("tc:kde") or {}
        if isinstance(kde.get("enterprise_uscc"), str):
            found.add(kde["enterprise_uscc"])
    return sorted(found - {ACTOR_USCC})


def plain_sqlite(path: Path) -> sqlite3.Connection:
    """A plain SQLite file with the ledger's durability settings (WAL, synchronous=FULL) and an entries table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL)")
    return conn


def read_entries(path: Path, start: int = 0, end: int | None = None) -> sqlite3.Cursor:
    """The stored entry bytes in index order, read-only (SQLite hands BLOBs back as bytes)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    stop = (1 << 63) - 1 if end is None else end
    return conn.execute("SELECT data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx", (start, stop))


class GrowingLedger:
    """One ledger grown with 1,000-event signed batches to each size of the plan, and pymerkle's tree beside it."""

    def __init__(self, run: Run, keys: Keys) -> None:
        self.run = run
        self.keys = keys
        self.path = run.workdir / "growing.db"
        self.pymerkle_path = run.workdir / "growing-pymerkle.db"
        new_ledger(self.path, keys).close()
        self.events = 0
        self.seals = 2  # the genesis batch and the actor's registration
        self.pymerkle_size = 0
        self.build_seconds = {"tracechain": 0.0, "events": 0.0, "pymerkle": 0.0}

    def grow_to(self, target: int) -> Stage:
        run, batch = self.run, self.run.plan.batch
        ledger = Ledger.open(str(self.path))
        try:
            size = ledger.size
            last_log = time.monotonic()
            while size < target:
                start = time.perf_counter()
                events = run.source.events(batch)
                made = time.perf_counter()
                receipt = ledger.append_many(events, self.keys.actor)
                self.build_seconds["events"] += made - start
                self.build_seconds["tracechain"] += time.perf_counter() - made
                size = receipt.seal_index + 1
                self.events += batch
                self.seals += 1
                if time.monotonic() - last_log > 30:
                    run.log(f"  … {size:,} entries")
                    last_log = time.monotonic()
        finally:
            ledger.close()
        start = time.perf_counter()
        tree = pymerkle.SqliteTree(str(self.pymerkle_path))
        try:
            rows = read_entries(self.path, self.pymerkle_size, size)
            while chunk := rows.fetchmany(50_000):
                tree.append_entries([data for (data,) in chunk])
            rows.connection.close()
            if tree.get_size() != size:
                raise RuntimeError(f"pymerkle holds {tree.get_size()} leaves, the ledger {size} entries")
        finally:
            tree.close()
        self.pymerkle_size = size
        self.build_seconds["pymerkle"] += time.perf_counter() - start
        run.setup[f"growing ledger at {size_label(target)}"] = {
            "entries": size,
            "events": self.events,
            "seals": self.seals,
            "file_bytes": os.path.getsize(self.path),
            "pymerkle_file_bytes": os.path.getsize(self.pymerkle_path),
            "cumulative_build_seconds": {k: round(v, 2) for k, v in self.build_seconds.items()},
        }
        return Stage(size_label(target), target, size, self.path, self.pymerkle_path, self.events, self.seals, ORIGIN)
