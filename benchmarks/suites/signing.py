"""Signing lines: signed batches against signing every event, and the verifier's signature stage against raw Ed25519.

tracechain signs one message per batch (the batch's Merkle root with its position), so its signing cost for N
events is N/1,000 signatures plus the batch roots; the alternative signs each event's canonical bytes. For
verification the limit is cryptography's Ed25519 verify with the public key loaded once, on one core, and that
rate times the cores (the ideal a parallel verifier could reach); a measured process pool is shown beside it.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from benchmarks.harness import Line, Measure, Peer, Run, Target, interleaved, suite
from benchmarks.ledgers import ORIGIN, Keys
from tracechain import merkle
from tracechain.entries import batch_message


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@suite("signing", "signing: signed batches vs. signing every event; the signature-verification stage")
def signing_suite(run: Run) -> None:
    sign_events(run)
    verify_signatures(run)


def sign_events(run: Run) -> None:
    plan, keys = run.plan, Keys()
    n, batch = plan.sign_events, plan.batch
    run.log(f"signing {n:,} events: batch signatures vs. one signature per event")
    blobs = [e.canonical_bytes() for e in run.source.events(n)]
    leaves = [merkle.leaf_hash(b) for b in blobs]
    raw_key = Ed25519PrivateKey.generate()

    def tc_sign() -> None:
        for first in range(0, n, batch):
            root = merkle.root(leaves[first : first + batch])
            keys.actor.sign(batch_message(ORIGIN, first, min(batch, n - first), root))

    def raw_sign() -> None:
        for b in blobs:
            raw_key.sign(b)

    times = interleaved({"tc": lambda r: tc_sign(), "raw": lambda r: raw_sign()}, 5)
    tc = Measure.of("batch root + one Ed25519 signature per 1,000 events", times["tc"], n)
    raw = Measure.of("cryptography Ed25519 sign() of every event's canonical bytes", times["raw"], n)
    line = Line(
        "signing.events",
        "signing",
        f"signing {n:,} events: signed batches vs. signing each event",
        tracechain=tc,
        peers=[Peer("alternative", raw)],
        notes=["leaf hashes are computed beforehand for both: the chain needs them whether or not anything is signed"],
    )
    run.record(line, tc_sign)


def _raw_verify_chunk(items: list[tuple[bytes, bytes, bytes]]) -> int:
    keys: dict[bytes, Ed25519PublicKey] = {}
    for public, message, signature in items:
        key = keys.get(public) or keys.setdefault(public, Ed25519PublicKey.from_public_bytes(public))
        key.verify(signature, message)
    return len(items)


def verify_signatures(run: Run) -> None:
    plan, keys = run.plan, Keys()
    count, n_cores = plan.signature_items, cores()
    run.log(f"signature verification stage: {count:,} batch signatures, 1 and {n_cores} cores")
    try:
        from tracechain.verification._signatures import verify_signatures
    except ImportError as e:
        run.pending("signatures.verify", "signing", "signature verification stage", f"tracechain.verify API: {e}")
        return
    items = []
    for i in range(count):
        message = batch_message(ORIGIN, i * 1001 + 4, 1000, merkle.leaf_hash(i.to_bytes(8, "big")))
        items.append((keys.actor.public_bytes, message, keys.actor.sign(message)))
    assert all(verify_signatures(items[:8], 1))

    def pool_verify() -> None:
        chunks = [items[i : i + 256] for i in range(0, count, 256)]
        with ProcessPoolExecutor(max_workers=n_cores) as pool:
            assert sum(pool.map(_raw_verify_chunk, chunks)) == count

    times = interleaved(
        {
            "tc1": lambda r: verify_signatures(items, 1),
            "tcN": lambda r: verify_signatures(items, None),
            "raw": lambda r: _raw_verify_chunk(items),
            "pool": lambda r: pool_verify(),
        },
        plan.verify_repeats + 2,
    )
    raw1 = Measure.of(
        "cryptography Ed25519 verify, key loaded once, 1 core (the limit)", times["raw"], count, "signature"
    )
    ideal = Measure.of(
        f"raw Ed25519 verify × {n_cores} cores (ideal: 1-core time ÷ cores)",
        [t / n_cores for t in times["raw"]],
        count,
        "signature",
    )
    pool = Measure.of(f"raw Ed25519 verify in a {n_cores}-process pool (measured)", times["pool"], count, "signature")
    tc1 = Measure.of("verify's signature stage, workers=1", times["tc1"], count, "signature")
    tcn = Measure.of(f"verify's signature stage, all cores ({n_cores})", times["tcN"], count, "signature")
    line = Line(
        "signatures.verify.single",
        "signing",
        "signature verify, single core",
        tracechain=tc1,
        peers=[Peer("limit", raw1)],
    )
    line.targets = [Target("≥ 0.8× (raw Ed25519 verify × 1 core)", line.ratio_of(raw1), 0.8, peer=raw1.label)]
    run.record(line, lambda: verify_signatures(items, 1))
    line = Line(
        "signatures.verify.all",
        "signing",
        "signature verify, all cores",
        tracechain=tcn,
        peers=[Peer("limit", ideal), Peer("reference", pool)],
        notes=[
            "the stage verify() runs for batch seals: (public key, batch message, signature) triples; the ledger's "
            "own batches are 1,000 events each, so a ledger of N events holds N/1,000 of them"
        ],
    )
    line.targets = [Target("≥ 0.8× (raw Ed25519 verify × cores)", line.ratio_of(ideal), 0.8, peer=ideal.label)]
    run.record(line, lambda: verify_signatures(items, None))
