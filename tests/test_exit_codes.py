"""One exit-code table for every command and situation (README.md, tracechain.cli): 0 done, 1 a check failed or
the ledger refused, 2 usage, 3 busy, 130 interrupted — tested as a matrix. Also: a write kept waiting by another
writer says so after a second, and appends report only the entries they wrote (issue 14.6)."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import tracechain.cli
from tracechain.cli import main
from tracechain.cli.writing import ranges_text

from tests.conftest import ACTOR_USCC, GTIN14, OPERATOR_USCC, ORIGIN, make_event
from tracechain import Ledger, SigningKey
from tracechain.ingest import append_stream
from tracechain.storage import sqlite as sqlite_store

PASSWORD = "exit code password"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger with a registered plant, events, a checkpoint and a proof; keys, a stranger's key, input files."""
    folder = tmp_path_factory.mktemp("prepared")
    operator, plant, stranger = (SigningKey.generate(n) for n in (ORIGIN, "plant.example.cn", "stranger.example.cn"))
    for name, key in (("op", operator), ("plant", plant), ("stranger", stranger)):
        key.save(folder / f"{name}.key", PASSWORD)
    (folder / "stranger.pub").write_text(stranger.verifier + "\n")
    with Ledger.create(folder / "l.db", ORIGIN, operator, OPERATOR_USCC) as led:
        led.register(plant.verifier, ACTOR_USCC, operator)
        led.append_many([make_event(i) for i in range(5)], plant)
        (folder / "cp.txt").write_text(led.checkpoint(operator))
        (folder / "proof.json").write_text(json.dumps(led.prove_inclusion(5).to_dict()))
    (folder / "events.jsonl").write_text("".join(json.dumps(make_event(i)) + "\n" for i in range(10, 13)))
    (folder / "invalid.jsonl").write_text(json.dumps(make_event(20, eventTime="yesterday")) + "\n")
    bad = json.loads((folder / "proof.json").read_text())
    bad["leaf_hash"] = "00" * 32
    (folder / "bad-proof.json").write_text(json.dumps(bad))
    (folder / "notes.txt").write_text("not a key, a proof or a checkpoint\n")
    return folder


def _tamper(folder: Path) -> None:
    con = sqlite3.connect(folder / "l.db")
    con.execute("UPDATE entries SET data = data || x'00' WHERE idx = 6")
    con.commit()
    con.close()


@pytest.fixture
def hold_the_lock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], None]]:
    """Another writer holding the ledger's write lock until the test ends, and writes that wait 1.5 s at most."""
    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_MS", 1500)
    holders: list[threading.Thread] = []
    done = threading.Event()

    def hold(path: Path) -> None:
        ready = threading.Event()

        def run() -> None:
            con = sqlite3.connect(path, isolation_level=None)
            con.execute("BEGIN IMMEDIATE")
            ready.set()
            done.wait(60)
            con.execute("ROLLBACK")
            con.close()

        thread = threading.Thread(target=run)
        thread.start()
        holders.append(thread)
        ready.wait()

    yield hold
    done.set()
    for thread in holders:
        thread.join()


def _stop(*_: object) -> None:
    raise KeyboardInterrupt


def _interrupt(monkeypatch: pytest.MonkeyPatch) -> None:
    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("tracechain.ingest._land", stop)


SITUATIONS: dict[str, Callable[..., None]] = {
    "no password": lambda folder, mp, hold: mp.delenv("TRACECHAIN_PASSWORD"),
    "wrong password": lambda folder, mp, hold: mp.setenv("TRACECHAIN_PASSWORD", "not it"),
    "tampered": lambda folder, mp, hold: _tamper(folder),
    "busy": lambda folder, mp, hold: hold(folder / "l.db"),
    "interrupted": lambda folder, mp, hold: _interrupt(mp),
    "interrupted at the key": lambda folder, mp, hold: mp.setattr("tracechain.cli.writing.load_key", _stop),
}

# (command, situation, command line with {d} for the folder, exit code)
MATRIX = [
    ("keygen", "done", "keygen k.example.cn --out {d}/new.key", 0),
    ("keygen", "file exists", "keygen k.example.cn --out {d}/op.key", 2),
    ("keygen", "no password", "keygen k.example.cn --out {d}/new.key", 2),
    ("key show", "done", "key show {d}/plant.key", 0),
    ("key show", "not a key", "key show {d}/notes.txt", 2),
    ("key show", "wrong password", "key show {d}/plant.key --check", 2),
    ("init", "done", f"init {{d}}/new.db --origin {ORIGIN} --key {{d}}/op.key --actor {OPERATOR_USCC}", 0),
    ("init", "bad USCC", f"init {{d}}/new.db --origin {ORIGIN} --key {{d}}/op.key --actor 91350100M000100Y44", 2),
    (
        "init",
        "key named otherwise",
        f"init {{d}}/new.db --origin other.example/x --key {{d}}/op.key --actor {OPERATOR_USCC}",
        1,
    ),
    ("register", "done", f"register {{d}}/l.db {{d}}/stranger.pub --key {{d}}/op.key --actor {OPERATOR_USCC}", 0),
    (
        "register",
        "registered already",
        f"register {{d}}/l.db {{d}}/plant.key --key {{d}}/op.key --actor {ACTOR_USCC}",
        1,
    ),
    (
        "register",
        "not an operator",
        f"register {{d}}/l.db {{d}}/stranger.pub --key {{d}}/plant.key --actor {ACTOR_USCC}",
        1,
    ),
    ("register", "not a verifier", f"register {{d}}/l.db nothing --key {{d}}/op.key --actor {ACTOR_USCC}", 2),
    (
        "register",
        "wrong password",
        f"register {{d}}/l.db {{d}}/stranger.pub --key {{d}}/op.key --actor {ACTOR_USCC}",
        2,
    ),
    ("register", "busy", f"register {{d}}/l.db {{d}}/stranger.pub --key {{d}}/op.key --actor {OPERATOR_USCC}", 3),
    ("revoke", "done", "revoke {d}/l.db {d}/plant.key --key {d}/op.key", 0),
    ("revoke", "unknown key", "revoke {d}/l.db {d}/stranger.pub --key {d}/op.key", 1),
    ("delegate", "done", f"delegate {{d}}/l.db --agent {ACTOR_USCC} --for {OPERATOR_USCC} --key {{d}}/op.key", 0),
    (
        "delegate",
        "none to withdraw",
        f"delegate {{d}}/l.db --agent {ACTOR_USCC} --for {OPERATOR_USCC} --key {{d}}/op.key --withdraw",
        1,
    ),
    ("append", "done", "append {d}/l.db {d}/events.jsonl --key {d}/plant.key", 0),
    ("append", "invalid events", "append {d}/l.db {d}/invalid.jsonl --key {d}/plant.key", 1),
    ("append", "unregistered key", "append {d}/l.db {d}/events.jsonl --key {d}/stranger.key", 1),
    ("append", "no such events file", "append {d}/l.db {d}/none.jsonl --key {d}/plant.key", 2),
    ("append", "busy", "append {d}/l.db {d}/events.jsonl --key {d}/plant.key", 3),
    ("append", "interrupted", "append {d}/l.db {d}/events.jsonl --key {d}/plant.key", 130),
    ("append", "interrupted at the key", "append {d}/l.db {d}/events.jsonl --key {d}/plant.key", 130),
    ("checkpoint", "done", "checkpoint {d}/l.db --key {d}/op.key", 0),
    ("checkpoint", "not an operator", "checkpoint {d}/l.db --key {d}/plant.key", 1),
    ("checkpoint", "busy", "checkpoint {d}/l.db --key {d}/op.key", 3),
    ("reindex", "done", "reindex {d}/l.db", 0),
    ("verify", "done", "verify {d}/l.db --checkpoint {d}/cp.txt", 0),
    ("verify", "tampered", "verify {d}/l.db", 1),
    ("verify", "not a ledger", "verify {d}/notes.txt", 2),
    ("verify", "not a checkpoint", "verify {d}/l.db --checkpoint {d}/notes.txt", 2),
    ("prove", "done", "prove {d}/l.db --index 5", 0),
    ("prove", "no such item", f"prove {{d}}/l.db --code https://id.gs1.org/01/{GTIN14}/21/NONE", 1),
    ("prove", "beyond the ledger", "prove {d}/l.db --index 999", 2),
    ("check-proof", "done", "check-proof {d}/proof.json --checkpoint {d}/cp.txt --verifier {d}/op.key", 0),
    ("check-proof", "does not verify", "check-proof {d}/bad-proof.json --checkpoint {d}/cp.txt", 1),
    ("check-proof", "not a proof", "check-proof {d}/notes.txt --checkpoint {d}/cp.txt", 2),
    ("log", "done", f"log {{d}}/l.db --code https://id.gs1.org/01/{GTIN14}/21/U000001", 0),
    ("log", "nothing matches", f"log {{d}}/l.db --code https://id.gs1.org/01/{GTIN14}/21/NONE", 1),
    ("log", "bad option value", "log {d}/l.db --since yesterday", 2),
    ("validate", "done", "validate {d}/events.jsonl", 0),
    ("validate", "invalid events", "validate {d}/invalid.jsonl", 1),
    ("validate", "no such file", "validate {d}/none.jsonl", 2),
    ("schema", "done", "schema show salt", 0),
    ("schema", "no such schema", "schema show wine", 2),
    ("demo", "not a demo folder", "demo --dir {d}", 2),
    ("tracechain", "no such command", "frobnicate", 2),
    ("tracechain", "no such language", "--lang fr schema list", 2),
    ("tracechain", "version", "--version", 0),
]


@pytest.mark.parametrize(
    ("command", "situation", "line", "expected"),
    MATRIX,
    ids=[f"{c}-{s}" for c, s, _, _ in MATRIX],
)
def test_exit_codes(
    prepared: Path,
    tmp_path: Path,
    command: str,
    situation: str,
    line: str,
    expected: int,
    monkeypatch: pytest.MonkeyPatch,
    hold_the_lock: Callable[[Path], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "d"
    shutil.copytree(prepared, folder)
    monkeypatch.setenv("TRACECHAIN_PASSWORD", PASSWORD)
    if situation in SITUATIONS:
        SITUATIONS[situation](folder, monkeypatch, hold_the_lock)
    code = main(line.format(d=folder).split())
    out, err = capsys.readouterr()
    assert code == expected, (out, err)
    assert "Traceback" not in out + err
    if expected:
        assert err.strip(), "a failure always says why on standard error"
    if expected == 130:  # an interrupted append says what is in the ledger and how to go on
        assert "events are in the ledger" in err and "run the same command again" in err


def test_the_readme_and_the_cli_give_the_same_table() -> None:
    readme = (ROOT / "README.md").read_text()
    table = dict(re.findall(r"^\| \*\*(\d+)\*\* \| (.+) \|$", readme, re.M))
    cli = tracechain.cli
    assert {int(code) for code in table} == {cli.OK, cli.FAILED, cli.USAGE, cli.BUSY, cli.INTERRUPTED}
    assert {code for *_, code in MATRIX} == {int(code) for code in table}  # the matrix covers every row


def test_a_write_kept_waiting_says_so_after_a_second_then_goes_on(
    prepared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "d"
    shutil.copytree(prepared, folder)
    monkeypatch.setenv("TRACECHAIN_PASSWORD", PASSWORD)
    release = threading.Event()
    locked = threading.Event()

    def other_writer() -> None:
        con = sqlite3.connect(folder / "l.db", isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(10)
        con.execute("ROLLBACK")
        con.close()

    thread = threading.Thread(target=other_writer)
    thread.start()
    locked.wait()
    timer = threading.Timer(2.0, release.set)  # the other writer finishes after two seconds
    timer.start()
    try:
        code = main(["append", str(folder / "l.db"), str(folder / "events.jsonl"), "--key", str(folder / "plant.key")])
    finally:
        release.set()
        thread.join()
        timer.cancel()
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "waiting: another program is writing to" in err
    assert "appended 3 events" in out


def test_an_append_reports_only_the_entries_it_wrote_when_another_writer_comes_between_its_batches(
    ledger: Ledger, actor_key: SigningKey, operator_key: SigningKey
) -> None:
    other = Ledger.open(ledger.path)
    try:

        def interleave(_result: object) -> None:
            other.register(SigningKey.generate(f"k{other.size}.example.cn").verifier, OPERATOR_USCC, operator_key)

        records = [(n, make_event(n)) for n in range(1, 7)]
        result = append_stream(ledger, records, actor_key, batch_size=2, progress=interleave)
    finally:
        other.close()
    # Batches of 2 events + a seal each, with the other writer's key entry and seal between them.
    assert result.ranges == [(4, 6), (9, 11), (14, 16)]
    assert ranges_text(result.ranges) == "4..6, 9..11, 14..16"
    written = {i for a, b in result.ranges for i in range(a, b + 1)}
    assert all(ledger.entry(i).kind in ("event", "seal") for i in written)
    assert {ledger.entry(i).kind for i in range(4, 17)} - {"event", "seal"} == {"key"}


def test_a_busy_ledger_has_its_own_error_and_exit_code() -> None:
    from tracechain.errors import LedgerBusyError, StorageError

    assert issubclass(LedgerBusyError, StorageError)
    assert tracechain.cli.exit_code(LedgerBusyError("x")) == 3
    assert tracechain.cli.exit_code(StorageError("x")) == 2
