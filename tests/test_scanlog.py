"""The scan log: its own SQLite file, every scan kept when several processes record at once, and any file that is
not a scan log refused and left as it was."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from tests.conftest import OPERATOR_USCC, ORIGIN
from tracechain import Ledger, SigningKey
from tracechain.storage.scanlog import ScanLog, ScanLogError, ScanRecord

WRITERS = 4
SCANS_EACH = 150


def _scan(writer: int, n: int) -> ScanRecord:
    return ScanRecord(
        f"code-{n % 7}", 1_000_000 * n + writer, "+08:00", "441721", 21.7, 111.6, f"w{writer}-{n}", n % 2 == 0
    )


def test_scans_are_kept_as_given_and_read_back_per_code_in_time_order(tmp_path: Path) -> None:
    path = tmp_path / "scans.db"
    with ScanLog(path) as log:
        recorded = log.record([_scan(0, n) for n in (5, 3, 12)])
        assert [r.id for r in recorded] == [1, 2, 3] and all(r.recorded > 0 for r in recorded)
        again = log.record([ScanRecord("code-5", 7, "-03:00", "110101")])
        assert again[0].lat is None and again[0].by == "" and again[0].first_sale is False
    with ScanLog(path, readonly=True) as log:
        assert log.count() == 4
        assert log.scans("code-5") == [again[0], recorded[0], recorded[2]]
        assert log.all_scans() == [*recorded, *again]
        with pytest.raises(ScanLogError, match="read-only"):
            log.record([_scan(0, 1)])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # where people were is nobody else's business
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".new")]


def _writer(path: str, writer: int, start: multiprocessing.synchronize.Event) -> None:
    start.wait()
    with ScanLog(path) as log:  # every process may be the one that makes the file
        for n in range(SCANS_EACH):
            log.record([_scan(writer, n)])


def test_scans_recorded_by_several_processes_at_once_are_all_kept(tmp_path: Path) -> None:
    path = tmp_path / "scans.db"
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [context.Process(target=_writer, args=(str(path), w, start)) for w in range(WRITERS)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=300)
        assert worker.exitcode == 0
    with ScanLog(path, readonly=True) as log:
        scans = log.all_scans()
    assert len(scans) == WRITERS * SCANS_EACH
    assert {s.by for s in scans} == {f"w{w}-{n}" for w in range(WRITERS) for n in range(SCANS_EACH)}
    assert len({s.id for s in scans}) == len(scans)
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".new")]  # the losers' staging files are gone


@pytest.mark.parametrize("kind", ["empty", "text", "foreign-sqlite", "ledger", "folder"])
def test_a_file_that_is_not_a_scan_log_is_refused_and_left_as_it_was(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "not-scans"
    if kind == "empty":
        path.touch()
    elif kind == "text":
        path.write_text("scan,when\n")
    elif kind == "foreign-sqlite":
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE scans (x)")
        con.commit()
        con.close()
    elif kind == "ledger":
        Ledger.create(path, ORIGIN, SigningKey.generate(ORIGIN), OPERATOR_USCC).close()
    else:
        path.mkdir()
    before = sorted(os.listdir(tmp_path))
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    with pytest.raises(ScanLogError, match=str(path)):
        ScanLog(path)
    assert sorted(os.listdir(tmp_path)) == before
    if digest is not None:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_a_missing_log_is_not_made_when_reading_or_when_asked_not_to(tmp_path: Path) -> None:
    for kwargs in ({"readonly": True}, {"create": False}):
        with pytest.raises(ScanLogError, match="cannot be read"):
            ScanLog(tmp_path / "absent.db", **kwargs)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ScanLogError, match="cannot create"):
        ScanLog(tmp_path / "no-such-folder" / "scans.db")
