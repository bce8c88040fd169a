"""The scan log: who scanned which code, where and when, in its own SQLite file apart from the signed ledger.

Scans are made by the public, shops and inspectors, not by the enterprises that sign events, so they are kept
apart: a scan log is never hashed, signed or proved, and losing one loses no evidence of the supply chain. What it
must do is keep every scan that was recorded, from any number of processes at once (a shop's tills, a web service's
workers): each scan is one ``BEGIN IMMEDIATE`` transaction in WAL mode with ``synchronous=FULL`` and a long busy
timeout, so concurrent writers queue instead of failing, and a recorded scan survives a crash.

This is the only module besides ``storage.sqlite`` that imports sqlite3. The file is marked with its own SQLite
``application_id``; a ledger, an empty file or any other database is refused before anything is written to it.
Scans hold where people were, so a new scan log is made readable by its owner only (mode 0600).

Table::

    scans(id INTEGER PRIMARY KEY, code TEXT, time INTEGER, zone TEXT, region TEXT, lat REAL, lon REAL,
          by TEXT, first_sale INTEGER, recorded INTEGER)        index on (code, time)
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tracechain.errors import StorageError

__all__ = ["APPLICATION_ID", "BUSY_TIMEOUT_MS", "ScanLog", "ScanLogError", "ScanRecord"]

APPLICATION_ID = 0x74637363  # "tcsc": a tracechain scan log
BUSY_TIMEOUT_MS = 60_000
_FORMAT_VERSION = 1
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SQLITE_ERRORS = (sqlite3.Error, UnicodeDecodeError)
_COLUMNS = "code, time, zone, region, lat, lon, by, first_sale, recorded"


class ScanLogError(StorageError):
    """A scan log file that cannot be used: missing, not a scan log, damaged or locked for too long."""


@dataclass(frozen=True, slots=True)
class ScanRecord:
    """One recorded scan. ``time`` is microseconds since the Unix epoch (UTC) and ``zone`` the offset it was given
    in (``+08:00``); ``region`` a GB/T 2260 code; ``by`` who scanned (free text: a shop's USCC, an app's user ID);
    ``first_sale`` marks a scan at the point of sale; ``recorded`` when the log received it; ``id`` its row."""

    code: str
    time: int
    zone: str
    region: str
    lat: float | None = None
    lon: float | None = None
    by: str = ""
    first_sale: bool = False
    recorded: int = 0
    id: int = 0


def _check_file(path: Path) -> None:
    """Refuse, before SQLite touches it, anything that is not a scan log: read from the database header itself
    (``application_id`` at byte 68, ``user_version`` at 60), so that nothing is opened, locked or made beside a
    file that is not ours — not even the -wal and -shm files SQLite makes to read a WAL database."""
    try:
        mode = path.stat().st_mode
    except OSError as e:
        raise ScanLogError(f"{path}: cannot be read ({e.strerror})") from e
    if stat.S_ISDIR(mode):
        raise ScanLogError(f"{path}: is a folder, not a scan log")
    if not stat.S_ISREG(mode):
        raise ScanLogError(f"{path}: is not a regular file (a pipe or device?), not a scan log")
    try:
        with path.open("rb") as f:
            head = f.read(100)
    except OSError as e:
        raise ScanLogError(f"{path}: cannot be read ({e.strerror})") from e
    if not head.startswith(_SQLITE_MAGIC) or len(head) < 100:
        found = "the file is empty" if not head else "not an SQLite database"
        raise ScanLogError(f"{path}: not a tracechain scan log ({found})")
    app, version = int.from_bytes(head[68:72], "big"), int.from_bytes(head[60:64], "big")
    if app != APPLICATION_ID:
        raise ScanLogError(f"{path}: not a tracechain scan log (SQLite application_id is {app:#x})")
    if version != _FORMAT_VERSION:
        raise ScanLogError(f"{path}: scan log format {version}; this tracechain reads {_FORMAT_VERSION}")


class ScanLog:
    """An open scan log. Open one per process; `record` is durable when it returns."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True, readonly: bool = False) -> None:
        """Open the scan log at ``path``; with ``create`` (and not ``readonly``) a missing file becomes a new one."""
        self.path = Path(path)
        self._pid = os.getpid()
        self._readonly = readonly
        if not os.path.lexists(self.path) and create and not readonly:
            self._make_file()
        _check_file(self.path)
        try:
            self.conn = self._connect(readonly)
        except _SQLITE_ERRORS as e:
            raise self._failed(e) from e

    def _make_file(self) -> None:
        """Make a complete scan log beside ``path`` and link it into place, so that the path never holds half a
        scan log (another process opening it meanwhile would refuse an empty file); losing a race to another
        process making the same log is fine: its file is used."""
        staging = self.path.with_name(f".{self.path.name}.{os.getpid()}.{time.time_ns()}.new")
        try:
            fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            conn = sqlite3.connect(staging, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {_FORMAT_VERSION}")
                conn.execute(
                    "CREATE TABLE scans (id INTEGER PRIMARY KEY, code TEXT NOT NULL, time INTEGER NOT NULL,"
                    " zone TEXT NOT NULL, region TEXT NOT NULL, lat REAL, lon REAL, by TEXT NOT NULL,"
                    " first_sale INTEGER NOT NULL, recorded INTEGER NOT NULL)"
                )
                conn.execute("CREATE INDEX scans_by_code ON scans (code, time)")
            finally:
                conn.close()  # the last connection's close folds the -wal file back in and removes it
            with contextlib.suppress(FileExistsError):
                os.link(staging, self.path)
        except OSError as e:
            raise ScanLogError(f"{self.path}: cannot create a scan log there ({e.strerror})") from e
        except _SQLITE_ERRORS as e:
            raise self._failed(e) from e
        finally:
            for leftover in (staging, Path(f"{staging}-wal"), Path(f"{staging}-shm")):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()

    def _connect(self, readonly: bool) -> sqlite3.Connection:
        timeout = BUSY_TIMEOUT_MS / 1000
        if readonly:
            uri = self.path.resolve().as_uri()
            conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None, timeout=timeout)
        else:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=timeout)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
        return conn

    def _failed(self, e: BaseException) -> ScanLogError:
        if isinstance(e, sqlite3.OperationalError) and "locked" in str(e):
            return ScanLogError(f"{self.path}: the scan log stayed locked by another writer for too long ({e})")
        if isinstance(e, sqlite3.DatabaseError) and "not a database" in str(e):
            return ScanLogError(f"{self.path}: not a tracechain scan log (SQLite says: {e})")
        return ScanLogError(f"{self.path}: the scan log cannot be read or written (SQLite says: {e})")

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        if os.getpid() != self._pid:
            raise ScanLogError(f"{self.path}: opened in process {self._pid}, used in {os.getpid()} after fork()")
        if self._readonly:
            raise ScanLogError(f"{self.path}: the scan log was opened read-only")
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                with contextlib.suppress(*_SQLITE_ERRORS):
                    self.conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        if os.getpid() == self._pid:
            self.conn.close()

    def __enter__(self) -> ScanLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing and reading -------------------------------------------------------------------------------

    def record(self, scans: Iterable[ScanRecord]) -> list[ScanRecord]:
        """Record scans in one durable transaction; returns them with their ``id`` and ``recorded`` time filled in.

        The values are stored as given: callers validate them (`tracechain.scan.record_scan` does).
        """
        now = time.time_ns() // 1000
        out = []
        try:
            with self._write():
                for s in scans:
                    row = (s.code, s.time, s.zone, s.region, s.lat, s.lon, s.by, int(s.first_sale), now)
                    cursor = self.conn.execute(f"INSERT INTO scans ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)", row)  # noqa: S608 (constant)
                    out.append(_replace_id(s, int(cursor.lastrowid or 0), now))
        except _SQLITE_ERRORS as e:
            raise self._failed(e) from e
        return out

    def scans(self, code: str) -> list[ScanRecord]:
        """Every scan of ``code`` (its canonical form), oldest first."""
        return self._select("WHERE code = ? ORDER BY time, id", (code,))

    def all_scans(self) -> list[ScanRecord]:
        """Every scan in the log, in the order recorded."""
        return self._select("ORDER BY id", ())

    def count(self) -> int:
        try:
            return int(self.conn.execute("SELECT COUNT(*) FROM scans").fetchone()[0])
        except _SQLITE_ERRORS as e:
            raise self._failed(e) from e

    def _select(self, where: str, args: tuple[object, ...]) -> list[ScanRecord]:
        try:
            rows = self.conn.execute(f"SELECT {_COLUMNS}, id FROM scans {where}", args)  # noqa: S608 (constant).fetchall()
        except _SQLITE_ERRORS as e:
            raise self._failed(e) from e
        return [
            ScanRecord(
                str(code),
                int(t),
                str(zone),
                str(region),
                None if lat is None else float(lat),
                None if lon is None else float(lon),
                str(by),
                bool(first),
                int(recorded),
                int(row_id),
            )
            for code, t, zone, region, lat, lon, by, first, recorded, row_id in rows
        ]


def _replace_id(scan: ScanRecord, row_id: int, recorded: int) -> ScanRecord:
    return ScanRecord(
        scan.code, scan.time, scan.zone, scan.region, scan.lat, scan.lon, scan.by, scan.first_sale, recorded, row_id
    )
