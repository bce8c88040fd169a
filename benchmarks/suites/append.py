"""Append lines: batched appends beside pymerkle, sqlite-utils and raw executemany; one event per durable call.

Every contender writes the same events' canonical bytes into its own SQLite file, round by round, in rotating
order. tracechain and the plain SQLite peers use WAL with synchronous=FULL and one transaction per call;
pymerkle keeps its own defaults (rollback journal, synchronous=FULL), which are as durable.
"""

from __future__ import annotations

import pymerkle
import sqlite_utils

from benchmarks.harness import Line, Measure, Peer, Run, Target, interleaved, suite
from benchmarks.ledgers import Keys, new_ledger, plain_sqlite

_DURABILITY = (
    "durability: tracechain and the plain SQLite peers commit in WAL mode with synchronous=FULL, one transaction"
    " per call; pymerkle uses SQLite's defaults (rollback journal, synchronous=FULL)"
)


@suite("append", "append: batched (1,000 events per call) and one event per durable call")
def append_suite(run: Run) -> None:
    batched(run)
    single(run)


def batched(run: Run) -> None:
    plan, keys, folder = run.plan, Keys(), run.workdir / "append"
    warmup, rounds, size = 2, plan.append_rounds, plan.batch
    run.log(f"append batched: {warmup + rounds} rounds of {size} events per contender")
    batches = [run.source.events(size) for _ in range(warmup + rounds)]
    extra = [run.source.events(size) for _ in range(3)]  # for the profile, appended after the timed rounds
    blobs = [[e.canonical_bytes() for e in b] for b in batches]
    signed = new_ledger(folder / "signed.db", keys)
    # The stubbed key has the actor's public key, so the registration new_ledger makes covers it too.
    unsigned_ledger = new_ledger(folder / "unsigned.db", keys)
    tree = pymerkle.SqliteTree(str(folder / "pymerkle.db"))
    su_db = sqlite_utils.Database(plain_sqlite(folder / "sqlite-utils.db"))
    su_table = su_db.table("entries")
    raw = plain_sqlite(folder / "raw.db")

    def su_insert(r: int) -> None:
        with su_db.atomic():
            su_table.insert_all({"idx": r * size + i, "data": b} for i, b in enumerate(blobs[r]))

    def raw_insert(r: int) -> None:
        raw.execute("BEGIN IMMEDIATE")
        raw.executemany(
            "INSERT INTO entries (idx, data) VALUES (?, ?)", [(r * size + i, b) for i, b in enumerate(blobs[r])]
        )
        raw.execute("COMMIT")

    times = interleaved(
        {
            "signed": lambda r: signed.append_many(batches[r], keys.actor),
            "unsigned": lambda r: unsigned_ledger.append_many(batches[r], keys.unsigned),
            "pymerkle": lambda r: tree.append_entries(blobs[r]),
            "sqlite-utils": su_insert,
            "raw": raw_insert,
        },
        rounds,
        warmup=warmup,
    )
    mean_bytes = sum(len(b) for batch in blobs for b in batch) / sum(len(batch) for batch in blobs)
    tc = Measure.of(f"Ledger.append_many, {size:,} validated events, signed", times["signed"], size)
    pm = Measure.of("pymerkle SqliteTree.append_entries (same canonical bytes)", times["pymerkle"], size)
    su = Measure.of("sqlite-utils insert_all in one transaction (same rows, no hashing)", times["sqlite-utils"], size)
    rw = Measure.of("sqlite3 executemany in one transaction (the storage limit)", times["raw"], size)
    line = Line(
        "append.batched",
        "append",
        "append, batched (1,000 events per call)",
        tracechain=tc,
        peers=[Peer("alternative", pm), Peer("alternative", su), Peer("limit", rw)],
        notes=[
            _DURABILITY,
            f"events average {mean_bytes:.0f} canonical bytes; tracechain also writes the entry header, the seal,"
            " the item index and the tiles, and signs; pymerkle stores the bytes and their leaf hash",
            "inputs are validated Event objects: validation is measured on its own (validation lines)",
        ],
    )
    line.targets = [
        Target("≥ 1.0× pymerkle SQLite bulk append", line.ratio_of(pm), 1.0, peer=pm.label),
        Target("≥ 0.4× raw executemany", line.ratio_of(rw), 0.4, peer=rw.label),
    ]

    def profile_append() -> None:
        for events in extra:
            signed.append_many(events, keys.actor)

    run.record(line, profile_append)

    unsigned_measure = Measure.of("the same append with signing stubbed out", times["unsigned"], size)
    line = Line(
        "append.signed_vs_unsigned",
        "signing",
        "signed batched append vs. the same append unsigned",
        tracechain=tc,
        peers=[Peer("variant", unsigned_measure)],
        notes=["unsigned: the actor's key with sign() returning 64 zero bytes; everything else identical"],
    )
    line.targets = [Target("signed ≥ 0.9× unsigned", line.ratio_of(unsigned_measure), 0.9, peer=unsigned_measure.label)]
    run.record(line, profile_append)
    for closable in (signed, unsigned_ledger, tree):
        closable.close()
    su_db.close()
    raw.close()


def single(run: Run) -> None:
    plan, keys, folder = run.plan, Keys(), run.workdir / "append-single"
    chunk = plan.single_chunk
    rounds = plan.single_events // chunk
    run.log(f"append one event per call: {rounds} rounds of {chunk} durable appends per contender")
    events = run.source.events(chunk * (rounds + 1))
    blobs = [e.canonical_bytes() for e in events]
    ledger = new_ledger(folder / "single.db", keys)
    tree = pymerkle.SqliteTree(str(folder / "pymerkle.db"))
    raw = plain_sqlite(folder / "raw.db")

    def tc_append(r: int) -> None:
        for e in events[r * chunk : (r + 1) * chunk]:
            ledger.append(e, keys.actor)

    def pm_append(r: int) -> None:
        for b in blobs[r * chunk : (r + 1) * chunk]:
            tree.append_entry(b)

    def raw_append(r: int) -> None:
        for i in range(r * chunk, (r + 1) * chunk):
            raw.execute("BEGIN IMMEDIATE")
            raw.execute("INSERT INTO entries (idx, data) VALUES (?, ?)", (i, blobs[i]))
            raw.execute("COMMIT")

    times = interleaved({"tc": tc_append, "pymerkle": pm_append, "raw": raw_append}, rounds)
    tc = Measure.of("Ledger.append: one event, signed, durable commit", times["tc"], chunk)
    pm = Measure.of("pymerkle SqliteTree.append_entry (commit per entry)", times["pymerkle"], chunk)
    rw = Measure.of("sqlite3: one INSERT + COMMIT per row (the storage limit)", times["raw"], chunk)
    line = Line(
        "append.single",
        "append",
        "append, one event per call (durable commit each)",
        tracechain=tc,
        peers=[Peer("alternative", pm), Peer("limit", rw)],
        notes=[
            _DURABILITY,
            "each tracechain call is a batch of one: the event, its seal and one Ed25519 signature",
        ],
    )

    def profile_single() -> None:
        for e in events[-chunk:]:
            ledger.append(e, keys.actor)

    run.record(line, profile_single)
    ledger.close()
    tree.close()
    raw.close()
