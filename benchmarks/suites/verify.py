"""Whole-ledger verify lines at each size, beside the raw loops that bound them.

- hash-only: ``tracechain.verify(path, signatures=False, contents=False)``, the integrity pass: every entry hashed
  and chained, every seal's batch root, the tree rebuilt against every stored tile, the checkpoints; event bodies
  not decoded. Beside it the raw loop (read every entry from SQLite and SHA-256 it, the limit), a hash+chain pass
  (the raw loop plus the chain link check) and, as a variant, the full checks without signatures (canonical
  re-encoding of every entry and event, SQLite's integrity check, the item and key indexes).
- with signatures, one core and all cores, against the raw loop plus raw Ed25519 verification of the same seals.
"""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from benchmarks.harness import Line, Measure, Peer, Run, Stage, Target, interleaved, median_of, size_suite
from benchmarks.ledgers import read_entries
from benchmarks.suites.signing import cores
from tracechain import verify
from tracechain.entries import Entry, batch_message

verify_module = importlib.import_module("tracechain.verification._scan")  # where the span sizes live

_INT_WIDTH = {0xCC: 2, 0xCD: 3, 0xCE: 5, 0xCF: 9}  # msgpack uint8..uint64 with their type byte; fixint is 1


def raw_hash_loop(path: Path) -> int:
    """Read every entry and take its RFC 9162 leaf hash: the least any verifier of these bytes must do."""
    sha256, n = hashlib.sha256, 0
    rows = read_entries(path)
    for (data,) in rows:
        sha256(b"\x00" + data).digest()
        n += 1
    rows.connection.close()
    return n


def hash_chain_pass(path: Path) -> int:
    """The raw loop plus the chain: each entry's previous-hash field equals the previous leaf hash.

    Entries start ``0x95 0x01 <index> 0xc4 0x20 <32-byte previous hash>``; this reads that header by offset and
    checks nothing else (no canonical form, no kinds, no seals, no tree).
    """
    sha256, prev, n = hashlib.sha256, bytes(32), 0
    rows = read_entries(path)
    for (data,) in rows:
        at = 2 + _INT_WIDTH.get(data[2], 1)
        if data[at : at + 2] != b"\xc4\x20" or data[at + 2 : at + 34] != prev:
            raise AssertionError(f"entry {n}: chain broken")
        prev = sha256(b"\x00" + data).digest()
        n += 1
    rows.connection.close()
    return n


def seal_signatures(path: Path, origin: str) -> list[tuple[bytes, bytes, bytes]]:
    """(public key, batch message, signature) of every seal in the ledger, as the verifier rebuilds them."""
    out = []
    rows = read_entries(path)
    for (data,) in rows:
        at = 2 + _INT_WIDTH.get(data[2], 1) + 34
        if data[at : at + 5] == b"\xa4seal":
            body = Entry.from_bytes(data).body
            message = batch_message(origin, body["first"], body["count"], body["root"])
            out.append((body["public"], message, body["sig"]))
    rows.connection.close()
    return out


def raw_signature_loop(items: list[tuple[bytes, bytes, bytes]]) -> None:
    keys: dict[bytes, Ed25519PublicKey] = {}
    for public, message, signature in items:
        key = keys.get(public) or keys.setdefault(public, Ed25519PublicKey.from_public_bytes(public))
        key.verify(signature, message)


def in_memory_hash(path: Path, cap: int) -> tuple[list[float], int]:
    """SHA-256 leaf hashes of up to ``cap`` entries already in memory (no SQLite): the pure hashing limit."""
    rows = read_entries(path)
    blobs = [data for (data,) in rows.fetchmany(cap)]
    rows.connection.close()
    sha256 = hashlib.sha256

    def loop() -> None:
        for data in blobs:
            sha256(b"\x00" + data).digest()

    return median_of(loop, 5, warmup=1), len(blobs)


@size_suite("verify", "verify of the whole ledger, hash-only and with signatures, one core and all cores")
def verify_suite(run: Run, stage: Stage) -> None:
    path, n, n_cores = stage.path, stage.size, cores()
    run.log(f"verify at {stage.size:,} entries ({run.plan.verify_repeats} repeats per contender)")
    seals = seal_signatures(path, stage.origin)
    raw_hash_loop(path)  # warm the page cache alike for everybody

    def check(**options: object) -> None:
        report = verify(path, **options)  # type: ignore[arg-type]
        if not report.ok:
            raise AssertionError(f"verify found problems: {report.problems[:3]}")

    times = interleaved(
        {
            "hash_only": lambda r: check(signatures=False, contents=False),
            "hash_only_1": lambda r: check(signatures=False, contents=False, workers=1),
            "full_unsigned": lambda r: check(signatures=False),
            "signatures_1": lambda r: check(workers=1),
            "signatures_all": lambda r: check(),
            "raw": lambda r: raw_hash_loop(path),
            "chain": lambda r: hash_chain_pass(path),
            "ed25519": lambda r: raw_signature_loop(seals),
        },
        run.plan.verify_repeats,
        warmup=0,
    )
    memory_times, memory_count = in_memory_hash(path, run.plan.in_memory_hash_cap)
    unit = "entry"
    raw = Measure.of("sqlite3 read + hashlib.sha256 leaf hash of every entry (the limit)", times["raw"], n, unit)
    chain = Measure.of("raw loop + chain link check (hash+chain only, reference)", times["chain"], n, unit)
    pure = Measure.of(
        f"hashlib.sha256 over entry bytes already in memory ({memory_count:,} entries)",
        memory_times,
        memory_count,
        unit,
    )
    raw_all = Measure.of(f"the raw loop × {n_cores} cores (ideal)", [t / n_cores for t in times["raw"]], n, unit)
    hash_only = Measure.of("verify(path, signatures=False, contents=False)", times["hash_only"], n, unit)
    hash_only_1 = Measure.of("the same pass on one core (workers=1)", times["hash_only_1"], n, unit)
    full_unsigned = Measure.of("verify(path, signatures=False): every content check", times["full_unsigned"], n, unit)
    line = Line(
        "verify.hash_only",
        "verify",
        "verify whole ledger, hash-only",
        size=n,
        tracechain=hash_only,
        peers=[
            Peer("limit", raw),
            Peer("limit", pure),
            Peer("reference", chain),
            Peer("limit", raw_all),
            Peer("variant", hash_only_1),
            Peer("variant", full_unsigned),
        ],
        notes=[
            "the integrity pass hashes and chains every entry and checks every seal's batch root, every stored tile "
            "and every checkpoint; the variant adds canonical re-encoding of every entry and event, SQLite's "
            "integrity check and the item and key indexes",
            f"from {verify_module._PARALLEL_ENTRIES:,} entries the pass reads and hashes spans of"
            f" {verify_module._SPAN:,} entries in worker processes (all {n_cores} cores by default) and joins them in"
            " the parent; below that, and with workers=1, it runs in one process",
        ],
    )
    line.targets = [Target("≥ 0.5× raw hashlib loop over the same bytes", line.ratio_of(raw), 0.5, peer=raw.label)]
    run.record(line, lambda: check(signatures=False, contents=False))

    ed = Measure.of(f"raw Ed25519 verify of the {len(seals):,} seals", times["ed25519"], n, unit)
    limit_1 = Measure(
        "raw loop + raw Ed25519 verify of the seals, 1 core (the limit)",
        raw.value + ed.value,
        n,
        unit,
        samples=[a + b for a, b in zip(times["raw"], times["ed25519"], strict=True)],
    )
    limit_all = Measure(
        f"the same limit ÷ {n_cores} cores (ideal)",
        limit_1.value / n_cores,
        n,
        unit,
        samples=[s / n_cores for s in limit_1.samples],
    )
    one = Measure.of("verify(path, workers=1)", times["signatures_1"], n, unit)
    line = Line(
        "verify.signatures.single",
        "verify",
        "verify whole ledger with signatures, single core",
        size=n,
        tracechain=one,
        peers=[Peer("limit", limit_1), Peer("reference", ed)],
        notes=[f"{len(seals):,} batch signatures (one per 1,000 events, plus genesis and key registration)"],
    )
    run.record(line, lambda: check(workers=1))
    every = Measure.of(f"verify(path), all cores ({n_cores})", times["signatures_all"], n, unit)
    line = Line(
        "verify.signatures.all",
        "verify",
        "verify whole ledger with signatures, all cores",
        size=n,
        tracechain=every,
        peers=[Peer("limit", limit_all)],
        notes=["verify() spreads signature checks over a process pool only from 512 signatures on"],
    )
    run.record(line, check)
