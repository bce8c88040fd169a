"""The ledger's SQLite file: the only module that imports sqlite3 and sqlite-utils.

One file holds the entries (the exact bytes that were hashed), the Merkle tree's tiles, the item-code index, the
registered keys and the checkpoints. Every write is one ``BEGIN IMMEDIATE`` transaction in WAL mode with
``synchronous=FULL``, so a write either commits durably or leaves no trace, and the tip cannot race another
writer. The file is recognised by SQLite's ``application_id`` and a format version in ``meta``.

Tables::

    meta(key TEXT PRIMARY KEY, value)                 format_version, origin
    entries(idx INTEGER PRIMARY KEY, data BLOB)       entry bytes, exactly as hashed
    tiles(level, idx, hashes BLOB)                    C2SP-style tiles: up to 256 hashes of 32 bytes
    items(code TEXT, idx INTEGER)                     item code → event entry index
    keys(public BLOB PRIMARY KEY, name, actor, role, registered INTEGER, revoked INTEGER)
    checkpoints(size INTEGER PRIMARY KEY, note TEXT)  signed checkpoints, newest last
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from tracechain.errors import LedgerFormatError, StorageError

__all__ = ["APPLICATION_ID", "FORMAT_VERSION", "KeyRow", "Store"]

FORMAT_VERSION = 1
APPLICATION_ID = 0x74636C67  # "tclg": marks the file as a tracechain ledger to `file` and to us
_BUSY_TIMEOUT_MS = 60_000
_SYNC_FULL = 2
_MMAP_BYTES = 1 << 30

# SQLite's errors, and UnicodeDecodeError: the sqlite3 module raises it instead when SQLite's message quotes bytes
# of a damaged file (a mangled schema, say) that are not UTF-8.
_SQLITE_ERRORS = (sqlite3.Error, UnicodeDecodeError)

KeyRow = tuple[bytes, str, str, str, int, int | None]  # public, name, actor, role, registered, revoked


def _create_tables(conn: sqlite3.Connection) -> None:
    """A ledger's tables; also made in memory, to learn the schema every ledger file must have."""
    db = sqlite_utils.Database(conn)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.table("entries").create({"idx": int, "data": bytes}, pk="idx", not_null={"data"})
    conn.execute(
        "CREATE TABLE tiles (level INTEGER NOT NULL, idx INTEGER NOT NULL, hashes BLOB NOT NULL,"
        " PRIMARY KEY (level, idx)) WITHOUT ROWID"
    )
    conn.execute("CREATE TABLE items (code TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (code, idx)) WITHOUT ROWID")
    db.table("keys").create(
        {"public": bytes, "name": str, "actor": str, "role": str, "registered": int, "revoked": int},
        pk="public",
        not_null={"name", "actor", "role", "registered"},
    )
    db.table("checkpoints").create({"size": int, "note": str}, pk="size", not_null={"note"})


def _schema_of(conn: sqlite3.Connection) -> dict[tuple[str, str], Any]:
    """Every table and index as SQLite understands it, names in lower case (SQL ignores their case)."""
    out: dict[tuple[str, str], Any] = {}
    for kind, name, table in conn.execute("SELECT type, name, tbl_name FROM sqlite_master").fetchall():
        if kind == "table":
            columns = conn.execute(
                'SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?)', (name,)
            )
            indexes = conn.execute('SELECT name, "unique", origin, partial FROM pragma_index_list(?)', (name,))
            shape: Any = (
                [(str(c[0]).lower(), str(c[1]).upper(), *c[2:]) for c in columns.fetchall()],
                sorted((str(i[0]).lower(), *i[1:]) for i in indexes.fetchall()),
            )
        else:
            columns = conn.execute('SELECT seqno, cid, name, "desc", coll, "key" FROM pragma_index_xinfo(?)', (name,))
            shape = [(*c[:2], str(c[2]).lower(), *c[3:]) for c in columns.fetchall()]
        out[(str(kind), str(name).lower())] = (str(table).lower(), shape)
    return out


@functools.cache
def _expected_schema() -> dict[tuple[str, str], Any]:
    conn = sqlite3.connect(":memory:")
    try:
        _create_tables(conn)
        return _schema_of(conn)
    finally:
        conn.close()


class Store:
    """An open ledger file. Not shared across processes: each process opens its own (SQLite forbids it)."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = False, readonly: bool = False) -> None:
        self.path = Path(path)
        self._pid = os.getpid()
        if create and self.path.exists():
            raise StorageError(f"{self.path}: a file already exists there; a new ledger needs a new path")
        if not create and not self.path.is_file():
            raise StorageError(f"{self.path}: no such ledger file")
        try:
            if readonly:
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                self.conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=_BUSY_TIMEOUT_MS / 1000)
            else:
                self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=_BUSY_TIMEOUT_MS / 1000)
            self._configure(readonly)
            if create:
                self._create_schema()
            else:
                self._check_format()
        except _SQLITE_ERRORS as e:
            raise self._damaged(e) from e

    # --- opening -------------------------------------------------------------------------------------------

    def _configure(self, readonly: bool) -> None:
        c = self.conn
        c.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        if not readonly:
            mode = c.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StorageError(f"{self.path}: could not switch the journal to WAL (SQLite kept {mode!r})")
        c.execute("PRAGMA synchronous = FULL")
        if not readonly:
            # A ledger's reads through a memory map cost half what read() calls do for a tile spread over overflow
            # pages (a proof at 1M entries: 28 → 12 µs per tile). Writes still go through write() and fsync, and
            # nothing here shrinks the file (no VACUUM), which is what would make a mapping unsafe. Verification
            # (read-only) streams the file once and would gain nothing, while every page it touched through a map
            # would count in its resident memory.
            c.execute(f"PRAGMA mmap_size = {_MMAP_BYTES}")
        # synchronous is per connection; read it back so a build that ignores it cannot weaken durability.
        if c.execute("PRAGMA synchronous").fetchone()[0] != _SYNC_FULL:
            raise StorageError(f"{self.path}: SQLite refused synchronous=FULL; commits would not be durable")

    def _create_schema(self) -> None:
        with self.write():
            _create_tables(self.conn)
            self.conn.execute("INSERT INTO meta VALUES ('format_version', ?)", (str(FORMAT_VERSION),))

    def _check_format(self) -> None:
        app = self.conn.execute("PRAGMA application_id").fetchone()[0]
        if app != APPLICATION_ID:
            raise LedgerFormatError(f"{self.path}: not a tracechain ledger (SQLite application_id is {app:#x})")
        version = self.meta("format_version")
        if version != str(FORMAT_VERSION):
            raise LedgerFormatError(
                f"{self.path}: ledger format version {version!r}; this tracechain reads version {FORMAT_VERSION}"
            )

    def _damaged(self, e: Exception) -> StorageError:
        if isinstance(e, UnicodeDecodeError):
            return StorageError(
                f"{self.path}: the file is damaged (SQLite's error message quotes bytes that are not text)"
            )
        if isinstance(e, sqlite3.OperationalError) and "locked" in str(e):
            return StorageError(f"{self.path}: the ledger stayed locked by another writer for too long ({e})")
        if isinstance(e, sqlite3.DatabaseError) and "not a database" in str(e):
            return LedgerFormatError(f"{self.path}: not a tracechain ledger (SQLite says: {e})")
        return StorageError(f"{self.path}: the ledger file cannot be read or written (SQLite says: {e})")

    def _check_process(self) -> None:
        if os.getpid() != self._pid:
            raise StorageError(
                f"{self.path}: this ledger was opened in process {self._pid} and used in process {os.getpid()}"
                " after fork(); open the ledger again in each process"
            )

    def close(self) -> None:
        # A connection inherited across fork() must not be touched, not even closed, by the child.
        if os.getpid() == self._pid:
            self.conn.close()

    # --- transactions --------------------------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[None]:
        """One durable write transaction: BEGIN IMMEDIATE … COMMIT, rolled back on any error."""
        self._check_process()
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except _SQLITE_ERRORS as e:
            raise self._damaged(e) from e
        try:
            yield
            self.conn.execute("COMMIT")
        except BaseException as e:
            self._rollback()
            if isinstance(e, _SQLITE_ERRORS):
                raise self._damaged(e) from e
            raise

    @contextmanager
    def read(self) -> Iterator[None]:
        """A read transaction: everything read inside it comes from one snapshot of the ledger."""
        self._check_process()
        try:
            self.conn.execute("BEGIN")
            yield
        except _SQLITE_ERRORS as e:
            raise self._damaged(e) from e
        finally:
            self._rollback()

    def _rollback(self) -> None:
        # On a damaged file the rollback can fail too; the error being raised already says what went wrong.
        if self.conn.in_transaction:
            with contextlib.suppress(*_SQLITE_ERRORS):
                self.conn.execute("ROLLBACK")

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[Any]:
        self._check_process()
        try:
            return self.conn.execute(sql, tuple(args)).fetchall()
        except _SQLITE_ERRORS as e:
            raise self._damaged(e) from e

    # --- reads ---------------------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def size(self) -> int:
        """The number of entries: one past the highest index."""
        return int(self._query("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries")[0][0])

    def entry(self, index: int) -> bytes | None:
        rows = self._query("SELECT COALESCE(CAST(data AS BLOB), X'') FROM entries WHERE idx = ?", (index,))
        return bytes(rows[0][0]) if rows else None

    def iter_entries(self, start: int = 0, end: int | None = None, chunk: int = 4096) -> Iterator[tuple[int, Any]]:
        """(index, data) in index order from ``start``, read in chunks so memory stays flat.

        Values are read as BLOBs whatever their stored type (NULL as empty), so an entry tampered into TEXT, a
        number or NULL is reported at its index by the byte checks instead of failing the read.
        """
        stop = (1 << 63) - 1 if end is None else end
        pos = start
        while pos < stop:
            rows = self._query(
                "SELECT idx, COALESCE(CAST(data AS BLOB), X'') FROM entries"
                " WHERE idx >= ? AND idx < ? ORDER BY idx LIMIT ?",
                (pos, stop, chunk),
            )
            yield from rows
            if len(rows) < chunk:
                return
            pos = rows[-1][0] + 1

    def next_index(self, at: int) -> int | None:
        """The lowest entry index stored at or after ``at``, if any."""
        return self._query("SELECT MIN(idx) FROM entries WHERE idx >= ?", (at,))[0][0]  # type: ignore[no-any-return]

    def tile(self, level: int, index: int) -> bytes | None:
        rows = self._query(
            "SELECT COALESCE(CAST(hashes AS BLOB), X'') FROM tiles WHERE level = ? AND idx = ?", (level, index)
        )
        return bytes(rows[0][0]) if rows else None

    def iter_tiles(self, level: int) -> Iterator[tuple[int, Any]]:
        """(tile index, hashes) of one level in order."""
        pos = 0
        while True:
            rows = self._query(
                "SELECT idx, COALESCE(CAST(hashes AS BLOB), X'') FROM tiles"
                " WHERE level = ? AND idx >= ? ORDER BY idx LIMIT 256",
                (level, pos),
            )
            yield from rows
            if len(rows) < 256:
                return
            pos = rows[-1][0] + 1

    def tile_count(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM tiles")[0][0])

    def indices_for_code(self, code: str) -> list[int]:
        return [r[0] for r in self._query("SELECT idx FROM items WHERE code = ? ORDER BY idx", (code,))]

    def iter_items(self, chunk: int = 4096) -> Iterator[tuple[Any, Any]]:
        """Every (code, entry index) row of the item index in key order, read in chunks so memory stays flat."""
        rows = self._query("SELECT code, idx FROM items ORDER BY code, idx LIMIT ?", (chunk,))
        while rows:
            yield from rows
            if len(rows) < chunk:
                return
            last_code, last_index = rows[-1]
            rows = self._query(
                "SELECT code, idx FROM items WHERE (code, idx) > (?, ?) ORDER BY code, idx LIMIT ?",
                (last_code, last_index, chunk),
            )

    def item_count(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM items")[0][0])

    def key_rows(self) -> list[KeyRow]:
        rows = self._query(
            "SELECT COALESCE(CAST(public AS BLOB), X''), name, actor, role, registered, revoked FROM keys"
            " ORDER BY registered"
        )
        return [(bytes(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in rows]

    def checkpoints(self) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in self._query("SELECT size, note FROM checkpoints ORDER BY size")]

    def integrity_check(self) -> list[str]:
        """SQLite's own check of the file, indexes against their tables included; empty when it is sound.

        Not quick_check: that skips the indexes, and a damaged index (of the keys table, say) would mislead
        later writes while every row still read back intact.
        """
        rows = self._query("PRAGMA integrity_check")
        return [] if rows == [("ok",)] else [str(r[0]) for r in rows]

    def schema_problems(self) -> list[str]:
        """How this file's tables and indexes differ from those tracechain creates; empty when they are the same.

        Compared as SQLite understands them (columns, types, constraints, keys, indexes), letter case aside, so a
        damaged schema text that still parses, such as one that lost a NOT NULL, is found.
        """
        self._check_process()
        try:
            found = _schema_of(self.conn)
        except _SQLITE_ERRORS as e:
            raise self._damaged(e) from e
        expected = _expected_schema()
        problems = []
        for kind, name in sorted(set(expected) | set(found)):
            if (kind, name) not in found:
                problems.append(f"{kind} {name} is missing")
            elif (kind, name) not in expected:
                problems.append(f"{kind} {name} is not one tracechain creates")
            elif expected[kind, name] != found[kind, name]:
                problems.append(f"{kind} {name} has another definition than tracechain gives it")
        return problems

    # --- writes (inside `write()`) -------------------------------------------------------------------------

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def insert_entries(self, rows: Iterable[tuple[int, bytes]]) -> None:
        self.conn.executemany("INSERT INTO entries (idx, data) VALUES (?, ?)", rows)

    def insert_items(self, rows: Iterable[tuple[str, int]]) -> None:
        self.conn.executemany("INSERT OR IGNORE INTO items (code, idx) VALUES (?, ?)", rows)

    def put_tiles(self, rows: Iterable[tuple[int, int, bytes]]) -> None:
        self.conn.executemany("INSERT OR REPLACE INTO tiles (level, idx, hashes) VALUES (?, ?, ?)", rows)

    def add_key(self, public: bytes, name: str, actor: str, role: str, registered: int) -> None:
        self.conn.execute(
            "INSERT INTO keys (public, name, actor, role, registered) VALUES (?, ?, ?, ?, ?)",
            (public, name, actor, role, registered),
        )

    def revoke_key(self, public: bytes, revoked: int) -> None:
        self.conn.execute("UPDATE keys SET revoked = ? WHERE public = ?", (revoked, public))

    def add_checkpoint(self, size: int, note: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO checkpoints (size, note) VALUES (?, ?)", (size, note))
