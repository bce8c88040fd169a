"""What a ledger needs from a store: the storage protocol every backend implements.

A store keeps an append-only log of entries (the exact bytes that were hashed) and what is derived from them: the
Merkle tree's tiles, the registered keys, the signed checkpoints, and the projections (`storage.projections`).
Every write happens inside `write()`, one transaction that commits durably or leaves nothing; reads inside
`read()` see one snapshot. Stores are opened from a location by `tracechain.storage.open_store`, which is also
how a verification worker process reopens the store it was handed.

The SQLite backend (`storage.sqlite`) is the ledger store today; a PostgreSQL store implements this protocol and
passes tests/storage/test_conformance.py. A published log (`storage.published`) implements it read-only: entries,
tiles and its checkpoint, and none of the tables derived from the entries (`keeps_derived` is False).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from tracechain.entries import KeyInfo
    from tracechain.storage.projections import Projection

__all__ = ["BUSY_NOTICE_AFTER", "LedgerStore", "Row", "busy_notice", "when_busy"]

Row = tuple[Any, ...]

BUSY_NOTICE_AFTER = 1.0
"""Seconds a write waits for another writer before `when_busy`'s callback is told."""

_busy: ContextVar[tuple[Callable[[str], None], float] | None] = ContextVar("tracechain_busy_notice", default=None)


@contextmanager
def when_busy(callback: Callable[[str], None], after: float = BUSY_NOTICE_AFTER) -> Iterator[None]:
    """Inside the block, a write that has waited ``after`` seconds for another writer's lock calls
    ``callback(location)`` once, then goes on waiting as before. For a program that should say why it is waiting
    (the command line does); the ledger itself never prints."""
    token = _busy.set((callback, after))
    try:
        yield
    finally:
        _busy.reset(token)


def busy_notice() -> tuple[Callable[[str], None], float] | None:
    """The callback (and its delay) a store's write should call when it has to wait; None outside `when_busy`."""
    return _busy.get()


class LedgerStore(Protocol):
    """An open ledger store. Not shared across processes: each process opens its own."""

    @property
    def location(self) -> str:
        """Where the store was opened from, as `open_store` takes it (used in messages and by workers)."""
        ...

    @property
    def readonly(self) -> bool: ...

    @property
    def keeps_derived(self) -> bool:
        """Whether the store keeps tables derived from the entries — the registered keys and the projections —
        which verification then compares with the entries. A ledger does; a published log keeps only its entries,
        tiles and checkpoint."""
        ...

    def close(self) -> None: ...

    # --- transactions --------------------------------------------------------------------------------------

    def write(self) -> AbstractContextManager[None]:
        """One durable write transaction that also holds off every other writer; rolled back on any error."""
        ...

    def read(self) -> AbstractContextManager[None]:
        """A read transaction: everything read inside it comes from one snapshot."""
        ...

    # --- meta ----------------------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    # --- entries -------------------------------------------------------------------------------------------

    def size(self) -> int:
        """The number of entries: one past the highest index."""
        ...

    def entry(self, index: int) -> bytes | None: ...

    def iter_entries(self, start: int = 0, end: int | None = None, chunk: int = 4096) -> Iterator[tuple[int, bytes]]:
        """(index, bytes) in index order from ``start``, read in chunks so memory stays flat.

        A value stored with another type (damage) comes back as bytes all the same, so it is reported at its
        index by the byte checks instead of failing the read.
        """
        ...

    def next_index(self, at: int) -> int | None:
        """The lowest entry index stored at or after ``at``, if any."""
        ...

    def insert_entries(self, rows: Iterable[tuple[int, bytes]]) -> None: ...

    # --- tiles ---------------------------------------------------------------------------------------------

    def tile(self, level: int, index: int) -> bytes | None: ...

    def tile_count(self) -> int: ...

    def put_tiles(self, rows: Iterable[tuple[int, int, bytes]]) -> None: ...

    # --- keys and checkpoints ------------------------------------------------------------------------------

    def registered_keys(self) -> list[KeyInfo]:
        """Every registered key, in registration order."""
        ...

    def add_key(self, key: KeyInfo) -> None: ...

    def revoke_key(self, public: bytes, revoked: int) -> None: ...

    def checkpoints(self) -> list[tuple[int, str]]:
        """(size, signed note) of every stored checkpoint, oldest first."""
        ...

    def add_checkpoint(self, size: int, note: str) -> None: ...

    # --- projections ---------------------------------------------------------------------------------------

    def insert_rows(self, projection: Projection, rows: Iterable[Row]) -> None:
        """Add rows to a projection; a row already there is kept once."""
        ...

    def lookup(self, projection: Projection, value: Any) -> list[Row]:
        """The rows whose first column is ``value``, in key order."""
        ...

    def lookup_floor(self, projection: Projection, value: Any) -> Row | None:
        """The row with the greatest first column at or below ``value`` (e.g. the batch an entry belongs to)."""
        ...

    def lookup_many(self, projection: Projection, values: Iterable[Any]) -> list[Row]:
        """The rows whose first column is any of ``values`` (in no particular order)."""
        ...

    def iter_rows(self, projection: Projection, chunk: int = 4096) -> Iterator[Row]:
        """Every row of a projection in key order, read in chunks so memory stays flat."""
        ...

    def row_count(self, projection: Projection) -> int: ...

    def built_projections(self) -> list[Projection]:
        """The projections this store holds: all of today's for a store made now; for one written before a
        projection existed, the ones it had (the ledger builds the others from the entries when it can write)."""
        ...

    def clear(self, projection: Projection) -> None:
        """Remove every row of a projection before it is rebuilt; a projection not built yet gets its (empty)
        table and counts as built from this transaction on."""
        ...

    # --- checks --------------------------------------------------------------------------------------------

    def self_check(self, *, thorough: bool = True) -> list[str]:
        """What the backend itself finds wrong with its storage (damaged pages, tables of another shape).

        ``thorough`` also runs the backend's full consistency check, which reads every page.
        """
        ...
