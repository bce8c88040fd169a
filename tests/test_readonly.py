"""An auditor's read-only copy can be verified, listed and proved, and reading never changes a file (issue 10.4)."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tracechain.cli import main

import tracechain
from tests.conftest import make_event
from tracechain import Ledger, SigningKey
from tracechain.errors import StorageError
from tracechain.storage import sqlite as _loaded  # noqa: F401 - loaded before fork(): the child cannot reach it

NOBODY = 65534


def _as_unprivileged(job: Callable[[], Any]) -> Any:
    """Run ``job`` in a child process that has given up root (as root), so file modes apply; returns its result."""
    if os.geteuid() != 0:
        return job()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop root, run, report, and leave without running the parent's cleanups
        code = 1
        try:
            os.close(read)
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.write(write, repr(job()).encode())
            code = 0
        except BaseException as e:
            os.write(write, repr(("raised", repr(e))).encode())
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        answer = f.read().decode()
    os.waitpid(pid, 0)
    return eval(answer)


@pytest.fixture
def readonly_copy(ledger: Ledger, actor_key: SigningKey) -> Iterator[Path]:
    """A ledger copied into a folder of mode 0555 as a file of mode 0444."""
    ledger.append_many([make_event(i) for i in range(40)], actor_key)
    folder = Path(tempfile.mkdtemp(prefix="tc-readonly-"))  # under /tmp: reachable by an unprivileged user
    os.chmod(folder, 0o755)
    ledger.close()  # the last connection checkpoints the WAL into the file
    shutil.copy(ledger.path, folder / "ledger.db")
    os.chmod(folder / "ledger.db", 0o444)
    os.chmod(folder, 0o555)
    try:
        yield folder / "ledger.db"
    finally:
        os.chmod(folder, 0o755)
        shutil.rmtree(folder)


def test_a_read_only_file_in_a_read_only_folder_verifies_as_an_unprivileged_user(
    readonly_copy: Path,
) -> None:
    path = readonly_copy
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    def job() -> tuple[bool, int, list[str]]:
        report = tracechain.verify(path, workers=1)
        return report.ok, report.size, [p.message for p in report.problems]

    assert _as_unprivileged(job) == (True, 45, [])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["ledger.db"]  # no -wal or -shm left beside it


def test_entries_and_proofs_of_a_read_only_copy(readonly_copy: Path) -> None:
    path = readonly_copy
    code = make_event(7)["epcList"][0]

    def job() -> tuple[list[int], int]:
        with Ledger.open(path, readonly=True) as led:
            proofs = led.prove_item(code)
            for proof in proofs:
                proof.verify()
            return [p.index for p in proofs], len(list(led.entries()))

    assert _as_unprivileged(job) == ([11], 45)


def test_a_read_only_ledger_refuses_writes(readonly_copy: Path, actor_key: SigningKey) -> None:
    path = readonly_copy
    with Ledger.open(path, readonly=True) as led, pytest.raises(StorageError, match="opened read-only"):
        led.append(make_event(99), actor_key)


def test_commits_left_in_a_wal_beside_a_read_only_ledger_are_named_not_ignored(tmp_path: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="tc-readonly-"))
    try:
        shutil.copy(Path(__file__).parent / "fixtures" / "legacy-v1" / "ledger.db", folder / "ledger.db")
        (folder / "ledger.db-wal").write_bytes(b"\x37\x7f\x06\x82" + bytes(60))  # a WAL header's worth
        os.chmod(folder / "ledger.db", 0o444)
        os.chmod(folder, 0o555)

        def job() -> str:
            try:
                tracechain.Ledger.open(folder / "ledger.db", readonly=True).close()
            except StorageError as e:
                return str(e)
            return "opened"

        answer = _as_unprivileged(job)
        assert "-wal" in answer and "writable folder" in answer, answer
    finally:
        os.chmod(folder, 0o755)
        shutil.rmtree(folder)


def _foreign(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.execute("INSERT INTO t VALUES (1)")
    con.commit()
    con.close()
    return path


@pytest.mark.parametrize("command", ["log", "prove", "verify", "append", "checkpoint", "reindex"])
@pytest.mark.parametrize("kind", ["empty", "foreign"])
def test_a_command_refuses_a_file_that_is_not_a_ledger_and_leaves_it_unchanged(
    tmp_path: Path, command: str, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "x.db"
    if kind == "empty":
        path.touch()
    else:
        _foreign(path)
    before = path.read_bytes()
    key = tmp_path / "k.key"
    args = {
        "log": ["log", str(path)],
        "prove": ["prove", str(path), "--index", "0"],
        "verify": ["verify", str(path)],
        "append": ["append", str(path), str(key), "--key", str(key)],
        "checkpoint": ["checkpoint", str(path), "--key", str(key)],
        "reindex": ["reindex", str(path)],
    }[command]
    key.write_text("{}")
    key.chmod(0o600)
    os.environ["TRACECHAIN_PASSWORD"] = "x"
    try:
        code = main(args)
    finally:
        del os.environ["TRACECHAIN_PASSWORD"]
    err = capsys.readouterr().err
    assert code == 2, err
    assert str(path) in err and "Traceback" not in err
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.key", "x.db"]  # no -wal, no -shm
    assert stat.S_ISREG(path.stat().st_mode)
