"""Proof mutation: every proof a ledger serves for trees up to N leaves verifies, and every mutation of it fails.

Proofs come from a real ledger (`Ledger.prove_inclusion`, `Ledger.prove_consistency`, served from its tiles)
and must equal the proofs computed from the leaf list. Mutations: index ±1; size ±1, doubled or halved (each
with the real root of that size, since RFC 9162 binds the size only through the proof's shape); one bit flipped
in any element; an element added (front, middle, end), dropped or two swapped; a wrong leaf or root; an empty
proof. Only `ProofError` may come out of a rejected proof.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterator
from pathlib import Path

from tracechain import ConsistencyProof, InclusionProof, Ledger, merkle
from tracechain.errors import ProofError

from .support import Tally, build_ledger, foreign, timed


def _flip(value: bytes, bit: int) -> bytes:
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def _path_mutations(
    path: tuple[bytes, ...], rng: random.Random, extra: bytes
) -> Iterator[tuple[str, tuple[bytes, ...]]]:
    n = len(path)
    for i in range(n):
        yield "bit flipped", path[:i] + (_flip(path[i], rng.randrange(256)),) + path[i + 1 :]
        yield "element dropped", path[:i] + path[i + 1 :]
    for i in range(n):
        for j in range(i + 1, n):
            if path[i] != path[j]:
                swapped = list(path)
                swapped[i], swapped[j] = swapped[j], swapped[i]
                yield "elements swapped", tuple(swapped)
    yield "element added", (*path, extra)
    yield "element added", (extra, *path)
    yield "element added", path[: n // 2] + (extra,) + path[n // 2 :]
    if path:
        yield "empty proof", ()


def _expect_rejected(tally: Tally, what: str, check: Callable[[], None], label: str) -> None:
    tally.trials += 1
    try:
        check()
    except ProofError:
        tally.ok_as("rejected")
        return
    except Exception as e:
        tally.fail("foreign exception", f"{label} {what}: {foreign(e)}")
        return
    tally.fail("mutation accepted", f"{label}: {what}")


def _inclusion(
    tally: Tally, proof: InclusionProof, roots: list[bytes], leaves: list[bytes], rng: random.Random
) -> None:
    m, n = proof.index, proof.size
    label = f"inclusion of {m} in {n}"
    other_leaf = leaves[(m + 1) % len(leaves)]
    for index in (m - 1, m + 1):
        _expect_rejected(tally, f"index {index}", dataclasses.replace(proof, index=index).verify, label)
    for size in sorted({n - 1, n + 1, 2 * n, n // 2} - {n}):
        bad = dataclasses.replace(proof, size=size, root=roots[size])
        _expect_rejected(tally, f"size {size}", bad.verify, label)
    for what, path in _path_mutations(proof.path, rng, other_leaf):
        _expect_rejected(tally, what, dataclasses.replace(proof, path=path).verify, label)
    _expect_rejected(tally, "wrong leaf", dataclasses.replace(proof, leaf_hash=other_leaf).verify, label)
    _expect_rejected(tally, "wrong root", dataclasses.replace(proof, root=roots[n + 1]).verify, label)
    _expect_rejected(tally, "root bit flipped", dataclasses.replace(proof, root=_flip(proof.root, 3)).verify, label)


def _consistency(tally: Tally, proof: ConsistencyProof, roots: list[bytes], rng: random.Random) -> None:
    m, n = proof.old_size, proof.size
    label = f"consistency {m} → {n}"
    sizes = {(m - 1, n), (m + 1, n), (m, n - 1), (m, n + 1), (2 * m, n), (m // 2, n), (m, 2 * n), (m, n // 2)}
    for m2, n2 in sorted(sizes - {(m, n)}):
        if m2 < 0 or n2 < 0:
            continue
        bad = dataclasses.replace(proof, old_size=m2, size=n2, old_root=roots[m2], root=roots[n2])
        _expect_rejected(tally, f"sizes {m2} → {n2}", bad.verify, label)
    for what, path in _path_mutations(proof.path, rng, roots[1]):
        _expect_rejected(tally, what, dataclasses.replace(proof, path=path).verify, label)
    _expect_rejected(tally, "wrong old root", dataclasses.replace(proof, old_root=roots[m + 1]).verify, label)
    _expect_rejected(tally, "wrong new root", dataclasses.replace(proof, root=roots[n + 1]).verify, label)
    _expect_rejected(
        tally, "roots swapped", dataclasses.replace(proof, old_root=proof.root, root=proof.old_root).verify, label
    )


def _verifies(tally: Tally, proof: InclusionProof | ConsistencyProof, expected_path: list[bytes], label: str) -> None:
    tally.trials += 1
    if list(proof.path) != expected_path:
        tally.fail("proof differs from the list computation", label)
        return
    try:
        proof.verify()
    except Exception as e:
        tally.fail("genuine proof rejected", f"{label}: {foreign(e)}")
        return
    tally.ok_as("genuine proof verifies")


def run_proofs(workdir: Path, max_leaves: int = 64, *, seed: int = 3) -> list[Tally]:
    """All proofs for trees of 1 .. ``max_leaves`` entries of a real ledger, and their mutations."""
    genuine = Tally("proofs", f"genuine proofs, trees up to {max_leaves}")
    inclusion = Tally("proofs", "inclusion mutations")
    consistency = Tally("proofs", "consistency mutations")
    rng = random.Random(seed)
    path = workdir / "proofs.db"
    with timed(genuine):
        build_ledger(path, events=int(max_leaves * 1.7) + 10)
        led = Ledger.open(str(path))
    try:
        leaves = [e.leaf_hash for e in led.entries()]
        assert len(leaves) > 2 * max_leaves + 1
        roots = [merkle.root(leaves[:n]) for n in range(2 * max_leaves + 2)]
        with timed(genuine):
            for n in range(1, max_leaves + 1):
                genuine.trials += 1
                if led.root(n) != roots[n]:
                    genuine.fail("tile root differs", f"size {n}")
                for m in range(n):
                    proof = led.prove_inclusion(m, n)
                    _verifies(genuine, proof, merkle.inclusion_proof(leaves[:n], m), f"inclusion {m} in {n}")
                    with timed(inclusion):
                        _inclusion(inclusion, proof, roots, leaves, rng)
                for m in range(n + 1):
                    proof_c = led.prove_consistency(m, n)
                    _verifies(genuine, proof_c, merkle.consistency_proof(leaves[:n], m), f"consistency {m} → {n}")
                    if 0 < m < n:
                        with timed(consistency):
                            _consistency(consistency, proof_c, roots, rng)
    finally:
        led.close()
    genuine.seconds -= inclusion.seconds + consistency.seconds
    return [genuine, inclusion, consistency]
