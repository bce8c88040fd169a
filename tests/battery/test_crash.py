"""Crash safety: SIGKILLed writers lose no acknowledged entry; weak durability settings are refused or fixed;
a connection used after fork() raises a clear error."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import tracechain
from tracechain import Ledger
from tracechain.errors import StorageError
from tracechain.storage import sqlite as store

from .crash import run_crash
from .support import Built, event, operator_key


def test_writers_killed_at_random_moments_lose_no_acknowledged_entry(tmp_path: Path) -> None:
    tally = run_crash(tmp_path, 8, rounds_per_ledger=4)
    tally.assert_ok()
    assert tally.outcomes["acknowledged entries kept"] > 0


def test_a_ledger_left_in_a_weaker_journal_mode_is_switched_back_to_wal_and_full_sync(built: Built) -> None:
    con = sqlite3.connect(built.path)
    assert con.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete"
    con.close()
    with Ledger.open(str(built.path)) as led:
        conn = led._store.conn  # type: ignore[attr-defined]  # the library's own connection: synchronous is per connection
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


class _Weak(sqlite3.Connection):
    """A connection whose SQLite will not give the durability asked for."""

    refuse = ""

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if self.refuse == "wal" and sql.startswith("PRAGMA journal_mode ="):
            return super().execute("SELECT 'delete'")
        if self.refuse == "sync" and sql == "PRAGMA synchronous":
            return super().execute("SELECT 1")
        return super().execute(sql, *args)


@pytest.mark.parametrize(("refuse", "message"), [("wal", "WAL"), ("sync", "synchronous=FULL")])
def test_a_connection_that_cannot_be_made_durable_is_refused(
    built: Built, monkeypatch: pytest.MonkeyPatch, refuse: str, message: str
) -> None:
    connect = sqlite3.connect
    monkeypatch.setattr(_Weak, "refuse", refuse)
    monkeypatch.setattr(store.sqlite3, "connect", lambda *a, **k: connect(*a, **k, factory=_Weak))
    with pytest.raises(StorageError, match=message):
        Ledger.open(str(built.path))


def test_every_use_of_a_ledger_after_fork_raises_a_clear_error_and_the_parent_is_unharmed(built: Built) -> None:
    led = Ledger.open(str(built.path))
    registered = led.keys()
    live = {i.public for i in registered if i.revoked is None}
    plant = next(k for k in built.signers.values() if k.name.startswith("plant") and k.public_bytes in live)
    uses = {
        "append": lambda: led.append(event(1), plant),
        "size": lambda: led.size,
        "root": led.root,
        "entries": lambda: list(led.entries()),
        "entry": lambda: led.entry(0),
        "keys": led.keys,
        "checkpoint": lambda: led.checkpoint(operator_key(1)),
        "prove": lambda: led.prove_inclusion(0),
    }
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reports what each use raised, then leaves without running any cleanup
        outcome = {}
        for name, use in uses.items():
            try:
                use()
                outcome[name] = "no error"
            except StorageError as e:
                outcome[name] = "clear" if "fork()" in str(e) else str(e)
            except BaseException as e:
                outcome[name] = repr(e)
        led.close()  # must not close the parent's connection
        os.write(write, json.dumps(outcome).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        outcome = json.loads(pipe.read())
    os.waitpid(pid, 0)
    assert outcome == dict.fromkeys(uses, "clear")
    led.append(event(2), plant)
    led.close()
    assert tracechain.verify(built.path).ok
