"""What the ledger hands back: batch receipts and RFC 9162 proofs that anyone can check without the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracechain import merkle

__all__ = ["BatchReceipt", "ConsistencyProof", "InclusionProof"]


@dataclass(frozen=True, slots=True)
class BatchReceipt:
    """What an append wrote: entries ``first`` .. ``first + count - 1`` and the seal at ``seal_index``.

    ``existing`` are the entry indexes of the events given that the ledger already held (skipped, not written
    again); when every event was one of them nothing is written, ``count`` is 0 and ``seal_index`` is None.
    """

    first: int
    count: int
    seal_index: int | None
    leaf_hashes: tuple[bytes, ...]
    existing: tuple[int, ...] = ()

    @property
    def skipped(self) -> int:
        """How many of the events given were already in the ledger."""
        return len(self.existing)

    @property
    def indices(self) -> range:
        return range(self.first, self.first + self.count)


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Proof that entry ``index`` with ``leaf_hash`` is in the tree of ``size`` entries with ``root``."""

    index: int
    size: int
    leaf_hash: bytes
    root: bytes
    path: tuple[bytes, ...]

    def verify(self) -> None:
        """Raise `ProofError` (with the expected and computed roots) unless the path leads to ``root``."""
        merkle.verify_inclusion(self.leaf_hash, self.index, self.size, self.path, self.root)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "size": self.size,
            "leaf_hash": self.leaf_hash.hex(),
            "root": self.root.hex(),
            "proof": [p.hex() for p in self.path],
        }


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """Proof that the tree of ``old_size`` entries is a prefix of the tree of ``size`` entries."""

    old_size: int
    size: int
    old_root: bytes
    root: bytes
    path: tuple[bytes, ...]

    def verify(self) -> None:
        """Raise `ProofError` unless the path shows the old tree is a prefix of the new one."""
        merkle.verify_consistency(self.old_size, self.size, self.old_root, self.root, self.path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "old_size": self.old_size,
            "size": self.size,
            "old_root": self.old_root.hex(),
            "root": self.root.hex(),
            "proof": [p.hex() for p in self.path],
        }
