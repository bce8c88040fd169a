"""What the ledger hands back: batch receipts and RFC 9162 proofs that anyone can check without the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from tracechain import merkle
from tracechain.errors import ValidationError

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

    @classmethod
    def from_dict(cls, d: Any, where: str = "$") -> Self:
        """The proof `to_dict` (and ``tracechain prove --json``) wrote; `ValidationError` names a field that is
        missing or of the wrong form."""
        fields = _fields(d, where, ("index", "size", "leaf_hash", "root", "proof"))
        return cls(
            _count(fields, "index", where),
            _count(fields, "size", where),
            _hash(fields["leaf_hash"], f"{where}.leaf_hash"),
            _hash(fields["root"], f"{where}.root"),
            _path(fields["proof"], f"{where}.proof"),
        )


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

    @classmethod
    def from_dict(cls, d: Any, where: str = "$") -> Self:
        """The proof `to_dict` (and ``tracechain prove --consistency --json``) wrote; `ValidationError` names a field
        that is missing or of the wrong form."""
        fields = _fields(d, where, ("old_size", "size", "old_root", "root", "proof"))
        return cls(
            _count(fields, "old_size", where),
            _count(fields, "size", where),
            _hash(fields["old_root"], f"{where}.old_root"),
            _hash(fields["root"], f"{where}.root"),
            _path(fields["proof"], f"{where}.proof"),
        )


def _fields(d: Any, where: str, names: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise ValidationError(f"{where}: expected a proof object, found {type(d).__name__}")
    missing = [n for n in names if n not in d]
    if missing:
        raise ValidationError(
            f"{where}: a proof needs {', '.join(names)}; missing {', '.join(missing)}",
            [(f"{where}.{n}", "required") for n in missing],
        )
    return d


def _count(fields: dict[str, Any], name: str, where: str) -> int:
    value = fields[name]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise ValidationError(f"{where}.{name}: expected a whole number from 0 to 2**63-1, found {value!r}")
    return value


def _hash(value: Any, where: str) -> bytes:
    if isinstance(value, str) and len(value) == 64:
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:80] + "…"
    raise ValidationError(f"{where}: expected a SHA-256 hash as 64 hex digits, found {shown}")


def _path(value: Any, where: str) -> tuple[bytes, ...]:
    if not isinstance(value, list) or len(value) > 128:
        raise ValidationError(f"{where}: expected a list of at most 128 hashes, found {type(value).__name__}")
    return tuple(_hash(v, f"{where}[{i}]") for i, v in enumerate(value))
