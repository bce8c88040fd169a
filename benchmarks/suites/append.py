"""Append lines: from dicts as producers send them, from a JSON Lines file through the CLI, and pre-validated,
each beside pymerkle's bulk append of the same bytes; one event per durable call.

The headline starts where a producer system does: ``Ledger.append_many`` on EPCIS dicts whose item codes are
spelled as labels and scanners give them (`benchmarks.spellings`), so validation and reading the codes are in the
figure. Beside it, in the same rounds: the same events with every code already canonical, the same events as
pre-validated `Event` objects (the line before issue 11), the same append with signing stubbed out, pymerkle's
bulk append of the events' canonical bytes, sqlite-utils and raw executemany of the same rows, and the append from
dicts again with all-sequential and all-random serials. The CLI line runs ``tracechain append`` on a JSON Lines
file as a subprocess, timed end to end.

Every contender writes into its own SQLite file, round by round, in rotating order. tracechain and the plain
SQLite peers use WAL with synchronous=FULL and one transaction per call; pymerkle keeps its own defaults (rollback
journal, synchronous=FULL), which are as durable.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pymerkle
import sqlite_utils

from benchmarks.harness import Line, Measure, Peer, Run, Target, interleaved, suite
from benchmarks.ledgers import Keys, new_ledger, plain_sqlite
from tracechain import Event, SigningKey

_DURABILITY = (
    "durability: tracechain and the plain SQLite peers commit in WAL mode with synchronous=FULL, one transaction"
    " per call; pymerkle uses SQLite's defaults (rollback journal, synchronous=FULL)"
)
_CLI_PASSWORD = "benchmark key password"


@suite("append", "append: from dicts as producers send them, from a file through the CLI, pre-validated; one per call")
def append_suite(run: Run) -> None:
    batched(run)
    from_file(run)
    single(run)


def _same_events(label_dicts: list[list[dict[str, Any]]], events: list[list[Event]]) -> int:
    """Check that every dict with respelled codes validates to the very event of the canonical workload."""
    checked = 0
    for dicts, batch in zip(label_dicts, events, strict=True):
        for d, event in zip(dicts, batch, strict=True):
            if Event.from_dict(d).canonical_bytes() != event.canonical_bytes():
                raise RuntimeError(f"the workload's respelled event is not the same event: {d!r}")
            checked += 1
    return checked


def batched(run: Run) -> None:
    plan, keys, folder = run.plan, Keys(), run.workdir / "append"
    warmup, rounds, size = 2, plan.append_rounds, plan.batch
    run.log(f"append batched: {warmup + rounds} rounds of {size} events per contender")
    pairs = [run.source.pairs(size) for _ in range(warmup + rounds)]
    labels = [label for label, _ in pairs]
    canonical = [canon for _, canon in pairs]
    batches = [[Event.from_dict(d) for d in b] for b in canonical]
    blobs = [[e.canonical_bytes() for e in b] for b in batches]
    checked = _same_events(labels, batches)
    sequential = [run.source.dicts(size, serials="sequential") for _ in range(warmup + rounds)]
    random_serials = [run.source.dicts(size, serials="random") for _ in range(warmup + rounds)]
    extra = [run.source.dicts(size) for _ in range(3)]  # for the profile, appended after the timed rounds
    ledgers = {name: new_ledger(folder / f"{name}.db", keys) for name in _LEDGERS}
    # The stubbed key has the actor's public key, so the registration new_ledger makes covers it too.
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
            "labels": lambda r: ledgers["labels"].append_many(labels[r], keys.actor),
            "canonical": lambda r: ledgers["canonical"].append_many(canonical[r], keys.actor),
            "events": lambda r: ledgers["events"].append_many(batches[r], keys.actor),
            "unsigned": lambda r: ledgers["unsigned"].append_many(batches[r], keys.unsigned),
            "sequential": lambda r: ledgers["sequential"].append_many(sequential[r], keys.actor),
            "random": lambda r: ledgers["random"].append_many(random_serials[r], keys.actor),
            "pymerkle": lambda r: tree.append_entries(blobs[r]),
            "sqlite-utils": su_insert,
            "raw": raw_insert,
        },
        rounds,
        warmup=warmup,
    )
    mean_bytes = sum(len(b) for batch in blobs for b in batch) / sum(len(batch) for batch in blobs)
    codes = sum(len(list(e.item_codes())) for batch in batches for e in batch) / sum(len(b) for b in batches)
    dicts = Measure.of(f"Ledger.append_many, {size:,} dicts, codes as labels carry them, signed", times["labels"], size)
    canon = Measure.of("the same events from dicts with every code canonical", times["canonical"], size)
    events = Measure.of(f"Ledger.append_many, {size:,} pre-validated events, signed", times["events"], size)
    pm = Measure.of("pymerkle SqliteTree.append_entries (same canonical bytes)", times["pymerkle"], size)
    su = Measure.of("sqlite-utils insert_all in one transaction (same rows, no hashing)", times["sqlite-utils"], size)
    rw = Measure.of("sqlite3 executemany in one transaction (the storage limit)", times["raw"], size)
    run.state["append.dicts"] = dicts
    workload_note = (
        f"events average {mean_bytes:.0f} canonical bytes and {codes:.1f} item codes; tracechain also writes the"
        " entry header, the seal, the item index and the tiles, and signs; pymerkle stores the bytes and their leaf"
        " hash"
    )
    line = Line(
        "append.dicts",
        "append",
        "append from dicts, codes as labels carry them (1,000 events per call)",
        tracechain=dicts,
        peers=[Peer("alternative", pm), Peer("variant", canon), Peer("reference", events), Peer("limit", rw)],
        notes=[
            _DURABILITY,
            workload_note,
            "codes in the spellings and proportions of benchmarks/spellings.py (Digital Links on brand domains and"
            " id.gs1.org with lot and expiry, element strings, EPC URNs, bare digits, a quarter canonical);"
            f" all {checked:,} respelled events were checked to validate to the same canonical bytes",
            "serials: half the product lines sequential, half random (anti-counterfeit); vet drug codes random",
        ],
    )
    line.targets = [
        Target("≥ 0.25× pymerkle SQLite bulk append", line.ratio_of(pm), 0.25, peer=pm.label),
        Target("≥ 0.8× the same events with canonical codes", line.ratio_of(canon), 0.8, peer=canon.label),
    ]

    def profile_dicts() -> None:
        for batch in extra:
            ledgers["labels"].append_many(batch, keys.actor)

    run.record(line, profile_dicts)

    line = Line(
        "append.batched",
        "append",
        "append pre-validated events, batched (1,000 events per call)",
        tracechain=events,
        peers=[Peer("alternative", pm), Peer("alternative", su), Peer("limit", rw)],
        notes=[
            _DURABILITY,
            workload_note,
            "inputs are validated Event objects (validation is measured on its own in the validation lines); the"
            " same events as the dicts line above, in the same rounds",
        ],
    )
    line.targets = [
        Target("≥ 1.0× pymerkle SQLite bulk append", line.ratio_of(pm), 1.0, peer=pm.label),
        Target("≥ 0.4× raw executemany", line.ratio_of(rw), 0.4, peer=rw.label),
    ]
    extra_events = [[Event.from_dict(d) for d in batch] for batch in extra]

    def profile_append() -> None:
        for batch in extra_events:
            ledgers["events"].append_many(batch, keys.actor)

    run.record(line, profile_append)

    seq = Measure.of("the same append from dicts, all serials sequential", times["sequential"], size)
    rnd = Measure.of("Ledger.append_many of dicts, all serials random", times["random"], size)
    line = Line(
        "append.serials",
        "append",
        "append from dicts: random serials against sequential ones (1,000 events per call)",
        tracechain=rnd,
        peers=[Peer("variant", seq), Peer("alternative", pm)],
        notes=[
            "other events than the lines above (same templates and spellings, other serials), into fresh ledgers;"
            " how the item index bears random serials as the ledger grows is measured at scale, not here",
        ],
    )
    run.record(line)

    unsigned_measure = Measure.of("the same append with signing stubbed out", times["unsigned"], size)
    line = Line(
        "append.signed_vs_unsigned",
        "signing",
        "signed batched append vs. the same append unsigned",
        tracechain=events,
        peers=[Peer("variant", unsigned_measure)],
        notes=["unsigned: the actor's key with sign() returning 64 zero bytes; everything else identical"],
    )
    line.targets = [Target("signed ≥ 0.9× unsigned", line.ratio_of(unsigned_measure), 0.9, peer=unsigned_measure.label)]
    run.record(line, profile_append)
    for closable in (*ledgers.values(), tree):
        closable.close()
    su_db.close()
    raw.close()


_LEDGERS = ("labels", "canonical", "events", "unsigned", "sequential", "random")


def _cli() -> list[str]:
    """The installed ``tracechain`` command beside this Python, else the module run by this Python."""
    script = Path(sys.executable).with_name("tracechain")
    if script.exists():
        return [str(script)]
    found = shutil.which("tracechain")
    return [found] if found else [sys.executable, "-c", "import sys, tracechain.cli as c; sys.exit(c.main())"]


def _fixed_costs(run: Run, command: list[str], folder: Path, key_file: Path) -> tuple[float, float, float]:
    """Seconds a CLI run pays whatever its file holds: process start and imports, compiling the profiles'
    validators (once per process, for each event shape met), and decrypting the key."""
    templates = folder / "templates.jsonl"
    with templates.open("w", encoding="utf-8") as out:
        for name, template in run.source.templates:
            out.write(json.dumps(run.source.vary(template, name), ensure_ascii=False) + "\n")
    start = time.perf_counter()
    subprocess.run([*command, "--version"], capture_output=True, check=True)
    started = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run([*command, "validate", str(templates)], capture_output=True, check=True)
    validated = time.perf_counter() - start
    start = time.perf_counter()
    SigningKey.load(key_file, _CLI_PASSWORD)
    return started, max(validated - started, 0.0), time.perf_counter() - start


def from_file(run: Run) -> None:
    """``tracechain append LEDGER FILE`` in a subprocess, end to end, beside the library on the same events."""
    plan, keys, folder = run.plan, Keys(), run.workdir / "append-cli"
    size, batches = plan.batch, plan.cli_batches
    rounds, warmup = plan.cli_rounds, 1
    count = size * batches
    run.log(f"append from a JSON Lines file through the CLI: {warmup + rounds} rounds of {count:,} events")
    folder.mkdir(parents=True, exist_ok=True)
    key_file = folder / "actor.key"
    keys.actor.save(key_file, _CLI_PASSWORD)
    files, dicts, blobs = [], [], []
    for r in range(warmup + rounds):
        events = run.source.dicts(count)
        path = folder / f"events-{r}.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for d in events:
                out.write(json.dumps(d, ensure_ascii=False) + "\n")
        files.append(path)
        dicts.append(events)
        blobs.append([Event.from_dict(d).canonical_bytes() for d in events])
    cli_ledger = folder / "cli.db"
    new_ledger(cli_ledger, keys).close()
    library = new_ledger(folder / "library.db", keys)
    tree = pymerkle.SqliteTree(str(folder / "pymerkle.db"))
    env = {**os.environ, "TRACECHAIN_PASSWORD": _CLI_PASSWORD}
    command = _cli()

    def cli_append(r: int) -> None:
        args = [*command, "append", str(cli_ledger), str(files[r]), "--key", str(key_file)]
        done = subprocess.run([*args, "--batch-size", str(size)], check=False, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"tracechain append exited {done.returncode}: {done.stderr.strip()[-500:]}")

    def library_append(r: int) -> None:
        for start in range(0, count, size):
            library.append_many(dicts[r][start : start + size], keys.actor)

    def pymerkle_append(r: int) -> None:
        for start in range(0, count, size):
            tree.append_entries(blobs[r][start : start + size])

    contenders = {"cli": cli_append, "library": library_append, "pymerkle": pymerkle_append}
    times = interleaved(contenders, rounds, warmup=warmup)
    library.close()
    tree.close()
    started, compiled, unlocked = _fixed_costs(run, command, folder, key_file)
    cli = Measure.of(f"tracechain append of a {count:,}-line JSON Lines file, end to end", times["cli"], count)
    lib = Measure.of(f"Ledger.append_many of the same dicts, {size:,} per call, in process", times["library"], count)
    pm = Measure.of("pymerkle SqliteTree.append_entries (same canonical bytes)", times["pymerkle"], count)
    line = Line(
        "append.cli",
        "append",
        "append a JSON Lines file through the CLI (subprocess, end to end)",
        tracechain=cli,
        peers=[Peer("alternative", pm), Peer("variant", lib)],
        notes=[
            f"each round is one `tracechain append LEDGER FILE --key KEY --batch-size {size}` process: start-up,"
            " imports, reading and validating every line, decrypting the key, then the signed batches",
            f"fixed costs of every run in that figure: starting the process and importing ≈ {started:.2f} s"
            f" (`tracechain --version`); compiling the product profiles' validators ≈ {compiled:.2f} s more"
            f" (`tracechain validate` of one event per template, {len(run.source.templates)} templates);"
            f" decrypting the key ≈ {unlocked:.2f} s (scrypt, deliberately slow); a round took {cli.value:.2f} s",
            "the events are spelled as in the dicts line (labels), with mixed serials",
        ],
    )
    line.targets = [
        Target("within 1.3× of the library's append from dicts", line.ratio_of(lib), 1 / 1.3, peer=lib.label),
        Target("≥ 0.25× pymerkle SQLite bulk append", line.ratio_of(pm), 0.25, peer=pm.label),
    ]
    run.record(line)


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
