"""The SQLite store: the only module that imports sqlite3 and sqlite-utils.

One file holds the entries (the exact bytes that were hashed), the Merkle tree's tiles, the registered keys, the
checkpoints and one table per projection. Every write is one ``BEGIN IMMEDIATE`` transaction in WAL mode with
``synchronous=FULL``, so a write either commits durably or leaves no trace, and the tip cannot race another
writer. The file is recognised by SQLite's ``application_id`` and a format version in ``meta``; both are checked
before anything is changed, so opening a file that is not a ledger leaves it as it was.

A read-only store never writes: it opens with ``mode=ro``, and where SQLite cannot keep its shared-memory file
beside a WAL ledger (a read-only folder, an auditor's copy) with ``immutable=1``.

Tables::

    meta(key TEXT PRIMARY KEY, value)                 format_version, origin, projections (the built ones)
    entries(idx INTEGER PRIMARY KEY, data BLOB)       entry bytes, exactly as hashed
    tiles(level, idx, hashes BLOB)                    C2SP-style tiles: up to 256 hashes of 32 bytes
    keys(public BLOB PRIMARY KEY, name, actor, role, registered INTEGER, revoked INTEGER)
    checkpoints(size INTEGER PRIMARY KEY, note TEXT)  signed checkpoints, newest last
    <projection>(<columns>, PRIMARY KEY (all))        one per projection: items(code, idx), …

Longer than most modules: it is the whole `LedgerStore` protocol for one backend plus the schema check, and
keeping it in one module keeps SQLite behind exactly one import.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tracechain.entries import KeyInfo
from tracechain.errors import LedgerBusyError, LedgerFormatError, StorageError
from tracechain.storage.base import Row, busy_notice
from tracechain.storage.projections import PROJECTIONS, Projection

__all__ = ["APPLICATION_ID", "FORMAT_VERSION", "SQLiteStore"]

FORMAT_VERSION = 1
APPLICATION_ID = 0x74636C67  # "tclg": marks the file as a tracechain ledger to `file` and to us
BUSY_TIMEOUT_MS = 60_000
_SYNC_FULL = 2
_MMAP_BYTES = 1 << 30
_SQLITE_MAGIC = b"SQLite format 3\x00"

# SQLite's errors, and UnicodeDecodeError: the sqlite3 module raises it instead when SQLite's message quotes bytes
# of a damaged file (a mangled schema, say) that are not UTF-8.
_SQLITE_ERRORS = (sqlite3.Error, UnicodeDecodeError)
_TYPES = {"text": "TEXT", "integer": "INTEGER"}
_BUILT = "projections"  # the meta key listing the projections a file holds
_IN_CHUNK = 500  # values per IN (…) list: well under SQLite's limit of 32,766 variables


def _create_projection(conn: sqlite3.Connection, projection: Projection) -> None:
    columns = ", ".join(f"{name} {_TYPES[kind]} NOT NULL" for name, kind in projection.columns)
    keys = ", ".join(projection.column_names)
    conn.execute(f"CREATE TABLE {projection.name} ({columns}, PRIMARY KEY ({keys})) WITHOUT ROWID")


def _create_tables(conn: sqlite3.Connection, projections: Iterable[Projection] = PROJECTIONS) -> None:
    """A ledger's tables; also made in memory, to learn the schema a ledger file with these projections has."""
    import sqlite_utils  # only here, where a ledger is created: it takes longer to load than a lookup to answer

    db = sqlite_utils.Database(conn)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.table("entries").create({"idx": int, "data": bytes}, pk="idx", not_null={"data"})
    conn.execute(
        "CREATE TABLE tiles (level INTEGER NOT NULL, idx INTEGER NOT NULL, hashes BLOB NOT NULL,"
        " PRIMARY KEY (level, idx)) WITHOUT ROWID"
    )
    for projection in projections:
        _create_projection(conn, projection)
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
def _expected_schema(built: tuple[str, ...]) -> dict[tuple[str, str], Any]:
    conn = sqlite3.connect(":memory:")
    try:
        _create_tables(conn, [p for p in PROJECTIONS if p.name in built])
        return _schema_of(conn)
    finally:
        conn.close()


def _check_file(path: Path) -> None:
    """Refuse, before SQLite touches it, anything that is not a non-empty SQLite database file."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise StorageError(f"{path}: no such ledger file") from None
    except OSError as e:
        raise StorageError(f"{path}: cannot be read ({e.strerror})") from e
    if stat.S_ISDIR(mode):
        raise StorageError(f"{path}: is a folder, not a ledger file")
    if not stat.S_ISREG(mode):
        raise StorageError(f"{path}: is not a regular file (a pipe or device?), not a ledger file")
    try:
        with path.open("rb") as f:
            head = f.read(len(_SQLITE_MAGIC))
    except OSError as e:
        raise StorageError(f"{path}: cannot be read ({e.strerror})") from e
    if not head:
        raise LedgerFormatError(f"{path}: the file is empty, not a tracechain ledger")
    if head != _SQLITE_MAGIC:
        raise LedgerFormatError(f"{path}: not a tracechain ledger (not an SQLite database)")


class SQLiteStore:
    """An open ledger file. Not shared across processes: each process opens its own (SQLite forbids it)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        create: bool = False,
        readonly: bool = False,
        mmap: bool | None = None,
    ) -> None:
        self.path = Path(path)
        self._readonly = readonly
        self._pid = os.getpid()
        if create:
            if os.path.lexists(self.path):
                raise StorageError(f"{self.path}: a file already exists there; a new ledger needs a new path")
        else:
            _check_file(self.path)
        try:
            self.conn = self._connect(readonly)
            if create:
                self._configure(mmap)
                self._create_schema()
            else:
                self._check_format()
                self._configure(mmap)
        except _SQLITE_ERRORS as e:
            raise self._damaged(e) from e

    @property
    def location(self) -> str:
        return str(self.path)

    @property
    def readonly(self) -> bool:
        return self._readonly

    @property
    def keeps_derived(self) -> bool:
        return True  # the keys table and every projection's table

    # --- opening -------------------------------------------------------------------------------------------

    def _connect(self, readonly: bool) -> sqlite3.Connection:
        timeout = BUSY_TIMEOUT_MS / 1000
        if not readonly:
            return sqlite3.connect(self.path, isolation_level=None, timeout=timeout)
        uri = self.path.resolve().as_uri()
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None, timeout=timeout)
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            conn.close()
        # A WAL ledger needs its -shm file, which a read-only folder or file cannot give. Without a -wal file
        # holding commits the main file is the whole ledger, and immutable mode reads it without any lock.
        wal = Path(f"{self.path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise StorageError(
                f"{self.path}: the ledger has commits in {wal.name} that SQLite cannot read without writing beside"
                " the file (a read-only folder or file); copy the ledger with its -wal file to a writable folder"
            )
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None, timeout=timeout)

    def _configure(self, mmap: bool | None) -> None:
        c = self.conn
        c.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if self._readonly:
            return
        mode = c.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StorageError(f"{self.path}: could not switch the journal to WAL (SQLite kept {mode!r})")
        c.execute("PRAGMA synchronous = FULL")
        if mmap is not False:
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
            self.set_meta(_BUILT, ",".join(p.name for p in PROJECTIONS))

    def _check_format(self) -> None:
        app = self.conn.execute("PRAGMA application_id").fetchone()[0]
        if app != APPLICATION_ID:
            raise LedgerFormatError(f"{self.path}: not a tracechain ledger (SQLite application_id is {app:#x})")
        try:
            rows = self.conn.execute("SELECT value FROM meta WHERE key = 'format_version'").fetchall()
        except sqlite3.OperationalError as e:
            raise LedgerFormatError(f"{self.path}: not a tracechain ledger (no meta table: {e})") from e
        version = str(rows[0][0]) if rows else None
        if version != str(FORMAT_VERSION):
            raise LedgerFormatError(
                f"{self.path}: ledger format version {version!r}; this tracechain reads version {FORMAT_VERSION}"
            )

    def _tables(self) -> set[str]:
        return {str(r[0]).lower() for r in self._query("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def _damaged(self, e: Exception) -> StorageError:
        if isinstance(e, UnicodeDecodeError):
            return StorageError(
                f"{self.path}: the file is damaged (SQLite's error message quotes bytes that are not text)"
            )
        if isinstance(e, sqlite3.OperationalError) and "locked" in str(e):
            return LedgerBusyError(f"{self.path}: the ledger stayed locked by another writer for too long ({e})")
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
        if self._readonly:
            raise StorageError(f"{self.path}: the ledger was opened read-only")
        try:
            self._begin_immediate()
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

    def _begin_immediate(self) -> None:
        """BEGIN IMMEDIATE, waiting for another writer up to the busy timeout; under `when_busy`, the wait is first
        tried for the notice's delay, the callback told, and the rest of the timeout waited."""
        notice = busy_notice()
        if notice is None:
            self.conn.execute("BEGIN IMMEDIATE")
            return
        callback, after = notice
        first = max(int(after * 1000), 1)
        self.conn.execute(f"PRAGMA busy_timeout = {first}")
        try:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e):
                    raise
            callback(self.location)
            self.conn.execute(f"PRAGMA busy_timeout = {max(BUSY_TIMEOUT_MS - first, 1)}")
            self.conn.execute("BEGIN IMMEDIATE")
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

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

    # --- meta, entries, tiles ------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def size(self) -> int:
        return int(self._query("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries")[0][0])

    def entry(self, index: int) -> bytes | None:
        rows = self._query("SELECT COALESCE(CAST(data AS BLOB), X'') FROM entries WHERE idx = ?", (index,))
        return bytes(rows[0][0]) if rows else None

    def iter_entries(self, start: int = 0, end: int | None = None, chunk: int = 4096) -> Iterator[tuple[int, bytes]]:
        # Values are read as BLOBs whatever their stored type (NULL as empty): see LedgerStore.iter_entries.
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
        return self._query("SELECT MIN(idx) FROM entries WHERE idx >= ?", (at,))[0][0]  # type: ignore[no-any-return]

    def insert_entries(self, rows: Iterable[tuple[int, bytes]]) -> None:
        self.conn.executemany("INSERT INTO entries (idx, data) VALUES (?, ?)", rows)

    def tile(self, level: int, index: int) -> bytes | None:
        rows = self._query(
            "SELECT COALESCE(CAST(hashes AS BLOB), X'') FROM tiles WHERE level = ? AND idx = ?", (level, index)
        )
        return bytes(rows[0][0]) if rows else None

    def tile_count(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM tiles")[0][0])

    def put_tiles(self, rows: Iterable[tuple[int, int, bytes]]) -> None:
        self.conn.executemany("INSERT OR REPLACE INTO tiles (level, idx, hashes) VALUES (?, ?, ?)", rows)

    # --- keys and checkpoints ------------------------------------------------------------------------------

    def registered_keys(self) -> list[KeyInfo]:
        rows = self._query(
            "SELECT COALESCE(CAST(public AS BLOB), X''), name, actor, role, registered, revoked FROM keys"
            " ORDER BY registered"
        )
        return [KeyInfo(bytes(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in rows]

    def add_key(self, key: KeyInfo) -> None:
        self.conn.execute(
            "INSERT INTO keys (public, name, actor, role, registered, revoked) VALUES (?, ?, ?, ?, ?, ?)",
            (key.public, key.name, key.actor, key.role, key.registered, key.revoked),
        )

    def revoke_key(self, public: bytes, revoked: int) -> None:
        self.conn.execute("UPDATE keys SET revoked = ? WHERE public = ?", (revoked, public))

    def checkpoints(self) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in self._query("SELECT size, note FROM checkpoints ORDER BY size")]

    def add_checkpoint(self, size: int, note: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO checkpoints (size, note) VALUES (?, ?)", (size, note))

    # --- projections ---------------------------------------------------------------------------------------

    # Projection and column names are declared in code and checked to be plain SQL names (Projection's own
    # check), never taken from input, so they are safe to place in the statements below.

    def insert_rows(self, projection: Projection, rows: Iterable[Row]) -> None:
        marks = ", ".join("?" * len(projection.columns))
        self.conn.executemany(f"INSERT OR IGNORE INTO {projection.name} VALUES ({marks})", rows)  # noqa: S608

    def lookup(self, projection: Projection, value: Any) -> list[Row]:
        names = projection.column_names
        return [
            tuple(r)
            for r in self._query(
                f"SELECT {', '.join(names)} FROM {projection.name}"  # noqa: S608
                f" WHERE {names[0]} = ? ORDER BY {', '.join(names)}",
                (value,),
            )
        ]

    def iter_rows(self, projection: Projection, chunk: int = 4096) -> Iterator[Row]:
        names = ", ".join(projection.column_names)
        marks = ", ".join("?" * len(projection.columns))
        select = f"SELECT {names} FROM {projection.name}"  # noqa: S608
        rows = self._query(f"{select} ORDER BY {names} LIMIT ?", (chunk,))
        while rows:
            yield from (tuple(r) for r in rows)
            if len(rows) < chunk:
                return
            rows = self._query(f"{select} WHERE ({names}) > ({marks}) ORDER BY {names} LIMIT ?", (*rows[-1], chunk))

    def row_count(self, projection: Projection) -> int:
        return int(self._query(f"SELECT COUNT(*) FROM {projection.name}")[0][0])  # noqa: S608

    def _listed(self) -> set[str]:
        listed = self.meta(_BUILT)
        # A file written before projections were listed has the one projection there was then.
        return set(listed.split(",")) if listed is not None else {"items"}

    def built_projections(self) -> list[Projection]:
        # A listed projection whose table is gone is not built (self_check reports it; reindex rebuilds it).
        names = self._listed() & self._tables()
        return [p for p in PROJECTIONS if p.name in names]

    def clear(self, projection: Projection) -> None:
        if projection.name in self._tables():
            self.conn.execute(f"DELETE FROM {projection.name}")  # noqa: S608
        else:
            _create_projection(self.conn, projection)
        built = self._listed() | {projection.name}
        self.set_meta(_BUILT, ",".join(p.name for p in PROJECTIONS if p.name in built))

    def lookup_floor(self, projection: Projection, value: Any) -> Row | None:
        names = projection.column_names
        rows = self._query(
            f"SELECT {', '.join(names)} FROM {projection.name} WHERE {names[0]} <= ?"  # noqa: S608
            f" ORDER BY {names[0]} DESC LIMIT 1",
            (value,),
        )
        return tuple(rows[0]) if rows else None

    def lookup_many(self, projection: Projection, values: Iterable[Any]) -> list[Row]:
        names = ", ".join(projection.column_names)
        first = projection.column_names[0]
        wanted = list(values)
        out: list[Row] = []
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            marks = ", ".join("?" * len(chunk))
            rows = self._query(f"SELECT {names} FROM {projection.name} WHERE {first} IN ({marks})", chunk)  # noqa: S608
            out += [tuple(r) for r in rows]
        return out

    # --- checks --------------------------------------------------------------------------------------------

    def self_check(self, *, thorough: bool = True) -> list[str]:
        """SQLite's own check of the file (with ``thorough``) and how its tables differ from a ledger's.

        The integrity check is not quick_check: that skips the indexes, and a damaged index (of the keys table,
        say) would mislead later writes while every row still read back intact. Tables are compared as SQLite
        understands them (columns, types, constraints, keys, indexes), letter case aside, so a damaged schema text
        that still parses, such as one that lost a NOT NULL, is found.
        """
        out: list[str] = []
        if thorough:
            rows = self._query("PRAGMA integrity_check")
            out += [] if rows == [("ok",)] else [f"SQLite finds the file damaged: {r[0]}" for r in rows[:5]]
        self._check_process()
        try:
            found = _schema_of(self.conn)
        except _SQLITE_ERRORS as e:
            raise self._damaged(e) from e
        expected = _expected_schema(tuple(sorted(self._listed())))
        projections = {p.name for p in PROJECTIONS}
        problems = []
        for kind, name in sorted(set(expected) | set(found)):
            if (kind, name) not in found:
                if kind == "table" and name in projections:
                    problems.append(f"projection {name} is missing; rebuild it with tracechain reindex")
                else:
                    problems.append(f"{kind} {name} is missing")
            elif (kind, name) not in expected:
                problems.append(f"{kind} {name} is not one tracechain creates")
            elif expected[kind, name] != found[kind, name]:
                problems.append(f"{kind} {name} has another definition than tracechain gives it")
        return out + [f"the file's tables are not a ledger's: {p}" for p in problems[:5]]
