"""Where ledgers are kept: the storage protocol, its backends, and the projections derived from entries.

`open_store(location)` is the one way a store is opened — by `Ledger.open`, `Ledger.create`, verification and
its worker processes, mirroring — so that each of them takes any backend. A location is:

- a path or ``sqlite:///path`` (SQLAlchemy's spelling: ``sqlite:///ledger.db`` is relative,
  ``sqlite:////srv/ledger.db`` absolute): a SQLite ledger (`storage.sqlite`);
- a folder, or an ``http://`` or ``https://`` URL: a published log (`storage.published`), read-only.

Other schemes (``postgresql://…``) are refused until a backend for them exists.
"""

from __future__ import annotations

import os

from tracechain.errors import StorageError
from tracechain.http_client import is_url
from tracechain.storage.base import LedgerStore, Row, when_busy
from tracechain.storage.projections import (
    BATCHES,
    DELEGATIONS,
    DIGESTS,
    ITEMS,
    LINKS,
    LOTS,
    PROJECTIONS,
    Projection,
)

__all__ = [
    "BATCHES",
    "DELEGATIONS",
    "DIGESTS",
    "ITEMS",
    "LINKS",
    "LOTS",
    "PROJECTIONS",
    "LedgerStore",
    "Projection",
    "Row",
    "is_published",
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
        raise StorageError(
            f"{text}: no storage backend for {scheme}:// in this tracechain (SQLite files, and published logs in"
            " folders or at http:// and https:// URLs)"
        )
    return text


def is_published(location: str) -> bool:
    """Whether ``location`` names a published log rather than a ledger file: an ``http(s)://`` URL, or a folder."""
    return is_url(location) or os.path.isdir(location)


def open_store(
    location: Location, *, create: bool = False, readonly: bool = False, mmap: bool | None = None
) -> LedgerStore:
    """Open (or with ``create``, make) the store at ``location``; ``readonly`` never writes to it.

    A published log (a folder or an http(s) URL) opens only with ``readonly``; asked to create or write one,
    `StorageError` says to mirror it instead.
    """
    text = os.fspath(location)
    if is_published(text):
        if create or not readonly:
            raise StorageError(
                f"{text}: a published log (a folder or URL) is opened read-only; to keep a copy that can be"
                " written, mirror it into a ledger file (tracechain mirror)"
            )
        from tracechain.storage.published import PublishedStore  # loaded only for a published log

        return PublishedStore(text)
    from tracechain.storage.sqlite import SQLiteStore  # imported here: SQLite loads only when a store opens

    return SQLiteStore(store_path(text), create=create, readonly=readonly, mmap=mmap)
