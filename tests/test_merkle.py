"""tracechain.merkle against RFC 9162's reference values and an independent, naive recursive implementation."""

from __future__ import annotations

import hashlib
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracechain import merkle
from tracechain.errors import ProofError

# FORMATS.md §1: leaf inputs and the roots of the first n leaves.
LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
HASHES = [merkle.leaf_hash(d) for d in LEAVES]


# --- a naive implementation written straight from the RFC's recursive definitions -----------------------------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def naive_mth(d: list[bytes]) -> bytes:
    if not d:
        return _h(b"")
    if len(d) == 1:
        return d[0]
    k = 1
    while k * 2 < len(d):
        k *= 2
    return _h(b"\x01" + naive_mth(d[:k]) + naive_mth(d[k:]))


def naive_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = 1
    while k * 2 < len(d):
        k *= 2
    if m < k:
        return naive_path(m, d[:k]) + [naive_mth(d[k:])]
    return naive_path(m - k, d[k:]) + [naive_mth(d[:k])]


def naive_subproof(m: int, d: list[bytes], whole: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if whole else [naive_mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return naive_subproof(m, d[:k], whole) + [naive_mth(d[k:])]
    return naive_subproof(m - k, d[k:], False) + [naive_mth(d[:k])]


# --- reference values --------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(9))
def test_root_matches_rfc_reference_values(n: int) -> None:
    assert merkle.root(HASHES[:n]).hex() == ROOTS[n]


def test_every_inclusion_proof_up_to_eight_leaves_verifies_against_the_reference_roots() -> None:
    for n in range(1, 9):
        for m in range(n):
            proof = merkle.inclusion_proof(HASHES[:n], m)
            assert proof == naive_path(m, HASHES[:n])
            merkle.verify_inclusion(HASHES[m], m, n, proof, bytes.fromhex(ROOTS[n]))


def test_every_consistency_proof_up_to_eight_leaves_verifies_against_the_reference_roots() -> None:
    for n in range(1, 9):
        for m in range(n + 1):
            proof = merkle.consistency_proof(HASHES[:n], m)
            expected = [] if m in (0, n) else naive_subproof(m, HASHES[:n], True)
            assert proof == expected
            merkle.verify_consistency(m, n, bytes.fromhex(ROOTS[m]), bytes.fromhex(ROOTS[n]), proof)


def test_consistency_from_zero_requires_the_empty_root_and_an_empty_proof() -> None:
    merkle.verify_consistency(0, 3, merkle.EMPTY_ROOT, bytes.fromhex(ROOTS[3]), [])
    with pytest.raises(ProofError):
        merkle.verify_consistency(0, 3, bytes.fromhex(ROOTS[1]), bytes.fromhex(ROOTS[3]), [])
    with pytest.raises(ProofError):
        merkle.verify_consistency(0, 3, merkle.EMPTY_ROOT, bytes.fromhex(ROOTS[3]), [HASHES[0]])


_MORE = HASHES + [merkle.leaf_hash(bytes([i])) for i in range(8, 16)]


def _root_of(size: int) -> bytes:
    return naive_mth(_MORE[: max(size, 0)])


# --- mutations: every changed proof is rejected ------------------------------------------------------------


def _mutations(proof: list[bytes]) -> list[list[bytes]]:
    out: list[list[bytes]] = [proof + [HASHES[1]], [HASHES[1], *proof]]
    for i in range(len(proof)):
        out.append(proof[:i] + proof[i + 1 :])
        for bit in (0, 7, 255):
            flipped = bytearray(proof[i])
            flipped[bit // 8] ^= 1 << (bit % 8)
            out.append(proof[:i] + [bytes(flipped)] + proof[i + 1 :])
    for i, j in itertools.combinations(range(len(proof)), 2):
        if proof[i] != proof[j]:
            swapped = list(proof)
            swapped[i], swapped[j] = swapped[j], swapped[i]
            out.append(swapped)
    return out


def test_inclusion_proofs_reject_every_mutation_wrong_index_and_wrong_size() -> None:
    for n in range(1, 9):
        r = bytes.fromhex(ROOTS[n])
        for m in range(n):
            proof = merkle.inclusion_proof(HASHES[:n], m)
            for bad in _mutations(proof):
                with pytest.raises(ProofError):
                    merkle.verify_inclusion(HASHES[m], m, n, bad, r)
            for other in range(-1, n + 2):
                if other != m and not (HASHES[other % n] == HASHES[m] and 0 <= other < n):
                    with pytest.raises(ProofError):
                        merkle.verify_inclusion(HASHES[m], other, n, proof, r)
            # RFC 9162 binds the size only through the proof's shape, so a wrong size is caught together with
            # the root that size really has (a checkpoint signs both together).
            for size in {n - 1, n + 1, 2 * n, n // 2} - {n}:
                with pytest.raises(ProofError):
                    merkle.verify_inclusion(HASHES[m], m, size, proof, _root_of(size))
            with pytest.raises(ProofError):
                merkle.verify_inclusion(HASHES[(m + 1) % 8], m, n, proof, r)


def test_consistency_proofs_reject_every_mutation_and_wrong_sizes() -> None:
    for n in range(2, 9):
        new = bytes.fromhex(ROOTS[n])
        for m in range(1, n):
            old = bytes.fromhex(ROOTS[m])
            proof = merkle.consistency_proof(HASHES[:n], m)
            for bad in _mutations(proof):
                with pytest.raises(ProofError):
                    merkle.verify_consistency(m, n, old, new, bad)
            for m2, n2 in [(m - 1, n), (m + 1, n), (m, n - 1), (m, n + 1), (m, 2 * n), (m * 2, n)]:
                if (m2, n2) != (m, n):
                    with pytest.raises(ProofError):
                        merkle.verify_consistency(m2, n2, _root_of(m2), _root_of(n2), proof)
            with pytest.raises(ProofError):
                merkle.verify_consistency(m, n, new, new, proof)
            with pytest.raises(ProofError):
                merkle.verify_consistency(m, n, old, old, proof)
            with pytest.raises(ProofError):
                merkle.verify_consistency(m, n, old, new, [])


def test_malformed_proof_elements_raise_proof_error() -> None:
    with pytest.raises(ProofError, match="32 bytes"):
        merkle.verify_inclusion(HASHES[0], 0, 2, [b"short"], bytes.fromhex(ROOTS[2]))
    with pytest.raises(ProofError):
        merkle.verify_consistency(1, 2, bytes.fromhex(ROOTS[1]), b"", [HASHES[1]])


# --- agreement with the naive implementation on larger trees -----------------------------------------------


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


@pytest.mark.parametrize("n", [*range(1, 70), 127, 128, 129, 255, 256, 257, 511, 1000])
def test_agrees_with_naive_implementation(n: int) -> None:
    d = _leaves(n)
    r = merkle.root(d)
    assert r == naive_mth(d)
    for m in sorted({0, 1, n // 3, n // 2, n - 1} & set(range(n))):
        proof = merkle.inclusion_proof(d, m)
        assert proof == naive_path(m, d)
        merkle.verify_inclusion(d[m], m, n, proof, r)
    for m in sorted({1, 2, n // 3, n // 2, n - 1} & set(range(1, n))):
        proof = merkle.consistency_proof(d, m)
        assert proof == naive_subproof(m, d, True)
        merkle.verify_consistency(m, n, naive_mth(d[:m]), r, proof)


@given(st.integers(min_value=1, max_value=1000), st.data())
def test_random_proofs_match_naive_implementation(n: int, data: st.DataObject) -> None:
    d = _leaves(n)
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    assert merkle.inclusion_proof(d, m) == naive_path(m, d)
    old = data.draw(st.integers(min_value=1, max_value=n))
    expected = [] if old == n else naive_subproof(old, d, True)
    assert merkle.consistency_proof(d, old) == expected


def test_root_accumulator_matches_root_at_every_size() -> None:
    d = _leaves(300)
    acc = merkle.RootAccumulator()
    assert acc.root() == merkle.EMPTY_ROOT
    for i, h in enumerate(d):
        acc.append(h)
        assert acc.size == i + 1
        assert acc.root() == naive_mth(d[: i + 1])


def test_a_shared_range_memo_changes_no_proof_and_no_root() -> None:
    """One memo serves every size of a growing tree: a range's root does not depend on the tree around it."""
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(300)]
    reader = merkle._list_reader(leaves)
    memo: dict[tuple[int, int], bytes] = {}
    for size in (1, 2, 3, 7, 100, 255, 256, 257, 299, 300):
        assert merkle.root_from(size, reader, memo) == merkle.root(leaves[:size])
        for index in range(0, size, 7):
            assert merkle.inclusion_proof_from(index, size, reader, memo) == merkle.inclusion_proof(
                leaves[:size], index
            )
        for old in range(0, size + 1, 11):
            assert merkle.consistency_proof_from(old, size, reader, memo) == merkle.consistency_proof(
                leaves[:size], old
            )
    # Only ranges that are not complete subtrees are remembered, each under its exact bounds.
    assert memo
    assert all((end - start) & (end - start - 1) for start, end in memo)
    assert all(root == merkle.root(leaves[start:end]) for (start, end), root in memo.items())
