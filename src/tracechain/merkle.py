"""RFC 9162 Merkle tree hashing, inclusion and consistency proofs, and their verification.

Two layers. The public list functions (`root`, `inclusion_proof`, `consistency_proof`) take every leaf hash and
are what a reader checks against the RFC. Underneath, the same algorithms are written against a `NodeReader`:
a function giving the root of any complete, aligned subtree, which is what the ledger's tile store answers in
O(1) reads. A proof then costs O(log n) node reads whatever the tree's size.

A consistency proof from size 0 is defined here as empty: every tree extends the empty tree, whose root is
SHA-256 of the empty string. `verify_consistency(0, n, EMPTY_ROOT, new_root, [])` accepts; any other old root or a
non-empty proof is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, MutableMapping, Sequence

from tracechain.errors import ProofError

__all__ = [
    "EMPTY_ROOT",
    "LEAF_PREFIX",
    "NodeReader",
    "RangeMemo",
    "RootAccumulator",
    "consistency_proof",
    "consistency_proof_from",
    "hash_children",
    "inclusion_proof",
    "inclusion_proof_from",
    "leaf_hash",
    "root",
    "root_from",
    "verify_consistency",
    "verify_inclusion",
]

#: RFC 9162 leaf prefix; exported for loops that hash leaves inline: SHA-256(LEAF_PREFIX || data).
LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_sha256 = hashlib.sha256

EMPTY_ROOT = _sha256(b"").digest()

#: ``reader(height, index)`` is the root of the complete subtree over leaves
#: ``[index * 2**height, (index + 1) * 2**height)``; height 0 gives leaf hashes.
NodeReader = Callable[[int, int], bytes]

#: Remembered roots of leaf ranges [start, end) that are not complete subtrees (see `inclusion_proof_from`).
RangeMemo = MutableMapping[tuple[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return _sha256(LEAF_PREFIX + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _range_root(start: int, end: int, reader: NodeReader, memo: RangeMemo | None = None) -> bytes:
    """MTH(D[start:end]) for a range the RFC recursion produces (start aligned to the range's split).

    Such a range is a run of complete subtrees of decreasing size, one per set bit of its length, whose
    roots fold right to left. Only the ranges along a tree's right edge have more than one part; with a ``memo``
    their roots are remembered, since every proof at the same tree size meets the same ones.
    """
    remaining = end - start
    if not remaining & (remaining - 1):  # one complete subtree: a single lookup
        height = remaining.bit_length() - 1
        return reader(height, start >> height)
    if memo is not None:
        known = memo.get((start, end))
        if known is not None:
            return known
    parts: list[bytes] = []
    pos = start
    while remaining:
        height = remaining.bit_length() - 1
        parts.append(reader(height, pos >> height))
        pos += 1 << height
        remaining -= 1 << height
    acc = parts[-1]
    for part in reversed(parts[:-1]):
        acc = hash_children(part, acc)
    if memo is not None:
        memo[(start, end)] = acc
    return acc


def root_from(size: int, reader: NodeReader, memo: RangeMemo | None = None) -> bytes:
    """The root of the tree of the first ``size`` leaves (``memo``: see `inclusion_proof_from`)."""
    if size < 0:
        raise ProofError(f"tree size must be ≥ 0, found {size}")
    if size == 0:
        return EMPTY_ROOT
    return _range_root(0, size, reader, memo)


def inclusion_proof_from(index: int, size: int, reader: NodeReader, memo: RangeMemo | None = None) -> list[bytes]:
    """The audit path for leaf ``index`` in the tree of ``size`` leaves, leaf to root (RFC 9162 §2.1.3.1).

    ``memo`` remembers the roots of ranges that are not complete subtrees, keyed by (start, end): pass the same
    mapping to later proofs over the same committed leaves and they skip that hashing.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index must be in [0, {size}), found {index}")
    top_down: list[bytes] = []
    start, n, m = 0, size, index
    while n > 1:
        k = _split(n)
        if m < k:
            top_down.append(_range_root(start + k, start + n, reader, memo))
            n = k
        else:
            top_down.append(_range_root(start, start + k, reader, memo))
            start, n, m = start + k, n - k, m - k
    top_down.reverse()
    return top_down


def consistency_proof_from(
    old_size: int, new_size: int, reader: NodeReader, memo: RangeMemo | None = None
) -> list[bytes]:
    """The proof that the tree of ``old_size`` leaves is a prefix of the tree of ``new_size`` (RFC 9162 §2.1.4.1).

    ``memo``: as for `inclusion_proof_from`.
    """
    if not 0 <= old_size <= new_size:
        raise ProofError(f"consistency needs 0 ≤ old size ≤ new size, found {old_size} and {new_size}")
    if old_size in (0, new_size):
        return []
    top_down: list[bytes] = []
    start, n, m, whole = 0, new_size, old_size, True
    while m != n:
        k = _split(n)
        if m <= k:
            top_down.append(_range_root(start + k, start + n, reader, memo))
            n = k
        else:
            top_down.append(_range_root(start, start + k, reader, memo))
            start, n, m, whole = start + k, n - k, m - k, False
    if not whole:
        top_down.append(_range_root(start, start + m, reader, memo))
    top_down.reverse()
    return top_down


def _list_reader(leaf_hashes: Sequence[bytes]) -> NodeReader:
    """A node reader over an in-memory list, building each level once on first use."""
    levels: list[list[bytes]] = [list(leaf_hashes)]

    def reader(height: int, index: int) -> bytes:
        while len(levels) <= height:
            below = levels[-1]
            levels.append([hash_children(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
        return levels[height][index]

    return reader


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over the given leaf hashes (RFC 9162 §2.1.1).

    Computed level by level, an odd last node moving up unhashed: the RFC's split at the largest power of two
    below n makes the same tree (its left parts are perfect, so pairing from the left never crosses a split), and
    hashing a whole level in one comprehension costs far less than a call per node.
    """
    level = list(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    sha256, prefix = _sha256, _NODE_PREFIX
    while len(level) > 1:
        carry = level[-1:] if len(level) & 1 else []
        level = [sha256(prefix + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)] + carry
    return level[0]


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The inclusion proof for leaf ``index`` in the tree over all of ``leaf_hashes``."""
    return inclusion_proof_from(index, len(leaf_hashes), _list_reader(leaf_hashes))


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """The consistency proof from the first ``old_size`` leaves to all of ``leaf_hashes``."""
    return consistency_proof_from(old_size, len(leaf_hashes), _list_reader(leaf_hashes))


def _check_hashes(what: str, values: Sequence[bytes]) -> None:
    for i, v in enumerate(values):
        if not isinstance(v, bytes) or len(v) != 32:
            raise ProofError(f"{what} element {i} must be 32 bytes, found {_describe(v)}")


def _describe(value: object) -> str:
    if isinstance(value, bytes):
        return f"{len(value)} bytes"
    return type(value).__name__


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf`` is leaf ``index`` of the tree of ``size`` with root ``root`` (RFC 9162 §2.1.3.2).

    Raises `ProofError` saying what was expected and what the proof computes.
    """
    _check_hashes("leaf hash", [leaf])
    _check_hashes("root", [root])
    _check_hashes("proof", proof)
    if not 0 <= index < size:
        raise ProofError(f"leaf index must be in [0, {size}), found {index}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError(f"proof is longer than a tree of size {size} allows ({len(proof)} elements)")
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"proof is shorter than a tree of size {size} needs ({len(proof)} elements)")
    if r != root:
        raise ProofError(
            f"inclusion proof for index {index} in size {size} computes root {r.hex()}, expected {root.hex()}"
        )


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Check that the tree (old_size, old_root) is a prefix of (new_size, new_root) (RFC 9162 §2.1.4.2).

    Raises `ProofError` saying what was expected and what the proof computes.
    """
    _check_hashes("old root", [old_root])
    _check_hashes("new root", [new_root])
    _check_hashes("proof", proof)
    if not 0 <= old_size <= new_size:
        raise ProofError(f"consistency needs 0 ≤ old size ≤ new size, found {old_size} and {new_size}")
    if old_size in (0, new_size):
        if proof:
            raise ProofError(f"a consistency proof from size {old_size} to {new_size} must be empty")
        expected = EMPTY_ROOT if old_size == 0 else new_root
        if old_root != expected:
            raise ProofError(f"old root {old_root.hex()} does not match {expected.hex()} at size {old_size}")
        return
    if not proof:
        raise ProofError(f"a consistency proof from size {old_size} to {new_size} cannot be empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"proof is longer than sizes {old_size} → {new_size} allow ({len(proof)} elements)")
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"proof is shorter than sizes {old_size} → {new_size} need ({len(proof)} elements)")
    if fr != old_root:
        raise ProofError(f"consistency proof computes old root {fr.hex()}, expected {old_root.hex()}")
    if sr != new_root:
        raise ProofError(f"consistency proof computes new root {sr.hex()}, expected {new_root.hex()}")


class RootAccumulator:
    """The root of a growing tree in O(log n) memory: a stack of complete-subtree roots, one per set bit."""

    __slots__ = ("_stack", "size")

    def __init__(self) -> None:
        self._stack: list[bytes] = []
        self.size = 0

    def append(self, leaf: bytes) -> None:
        """Add the next leaf hash."""
        h = leaf
        n = self.size
        stack = self._stack
        while n & 1:
            h = hash_children(stack.pop(), h)
            n >>= 1
        stack.append(h)
        self.size += 1

    def root(self) -> bytes:
        """MTH of the leaves appended so far."""
        stack = self._stack
        if not stack:
            return EMPTY_ROOT
        acc = stack[-1]
        for h in reversed(stack[:-1]):
            acc = hash_children(h, acc)
        return acc
