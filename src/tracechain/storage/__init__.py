"""Where ledgers are kept: the storage protocol, its backends, and the projections derived from entries.

`open_store(location)` is the one way a store is opened — by `Ledger.open`, `Ledger.create`, verification and
its worker processes — so that each of them takes any backend. A location is a path or ``sqlite:///path``
(SQLAlchemy's spelling: ``sqlite:///ledger.db`` is relative, ``sqlite:////srv/ledger.db`` absolute); other
schemes (``postgresql://…``) are refused until a backend for them exists.
"""

from __future__ import annotations

import os

from tracechain.errors import StorageError
from tracechain.storage.base import LedgerStore, Row, when_busy
from tracechain.storage.projections import BATCHES, DELEGATIONS, DIGESTS, ITEMS, PROJECTIONS, Projection

__all__ = [
    "BATCHES",
    "DELEGATIONS",
    "DIGESTS",
    "ITEMS",
    "PROJECTIONS",
    "LedgerStore",
    "Projection",
    "Row",
    "open_store",
    "store_path",
    "when_busy",
]

Location = str | os.PathLike[str]


def store_path(location: Location) -> str:
    """The file path of a SQLite location; `StorageError` for a scheme no backend takes."""
    text = os.fspath(location)
    if text.startswith("sqlite:///"):
        return text.removeprefix("sqlite:///")
    scheme, sep, _ = text.partition("://")
    if sep and scheme.isascii() and scheme.replace("+", "").isalnum():
        raise StorageError(f"{text}: no storage backend for {scheme}:// in this tracechain (only SQLite files)")
    return text


def open_store(
    location: Location, *, create: bool = False, readonly: bool = False, mmap: bool | None = None
) -> LedgerStore:
    """Open (or with ``create``, make) the store at ``location``; ``readonly`` never writes to it."""
    from tracechain.storage.sqlite import SQLiteStore  # imported here: SQLite loads only when a store opens

    return SQLiteStore(store_path(location), create=create, readonly=readonly, mmap=mmap)
