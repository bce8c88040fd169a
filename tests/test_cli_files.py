"""Every file argument of every command, given what people give by mistake: a usage error naming the file, never a
traceback, never a hang, and the file left as it was (issue 10.6)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from tracechain.cli import main

from tests.conftest import ACTOR_USCC, OPERATOR_USCC, ORIGIN, make_event
from tracechain import Ledger, SigningKey

PASSWORD = "file matrix password"


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A ledger, an operator key, an actor key, an events file and a checkpoint that all work."""
    folder = tmp_path_factory.mktemp("good")
    operator, plant = SigningKey.generate(ORIGIN), SigningKey.generate("plant.example.cn")
    operator.save(folder / "op.key", PASSWORD)
    plant.save(folder / "plant.key", PASSWORD)
    with Ledger.create(folder / "l.db", ORIGIN, operator, OPERATOR_USCC) as led:
        led.register(plant.verifier, ACTOR_USCC, operator)
        (folder / "cp.txt").write_text(led.checkpoint(operator))
        (folder / "proof.json").write_text(json.dumps(led.prove_inclusion(1).to_dict()))
    (folder / "events.jsonl").write_text(json.dumps(make_event(1)) + "\n")
    (folder / "logs.txt").write_text(f"{ORIGIN} {operator.verifier}\n")
    return {
        "ledger": folder / "l.db",
        "op": folder / "op.key",
        "plant": folder / "plant.key",
        "events": folder / "events.jsonl",
        "checkpoint": folder / "cp.txt",
        "verifier": plant.verifier,
        "logs": folder / "logs.txt",
        "payload": "202503021023400000000157",
        "proof": folder / "proof.json",
    }


# (command, argument name, the command line with {x} where the bad path goes and {name} for the good files)
CASES = [
    ("register", "LEDGER", "register {x} {verifier} --key {op} --actor " + ACTOR_USCC),
    ("register", "--key", "register {ledger} {verifier} --key {x} --actor " + ACTOR_USCC),
    ("revoke", "LEDGER", "revoke {x} {verifier} --key {op}"),
    ("revoke", "--key", "revoke {ledger} {verifier} --key {x}"),
    ("delegate", "LEDGER", f"delegate {{x}} --agent {ACTOR_USCC} --for {OPERATOR_USCC} --key {{op}}"),
    ("delegate", "--key", f"delegate {{ledger}} --agent {ACTOR_USCC} --for {OPERATOR_USCC} --key {{x}}"),
    ("init", "--key", f"init {{ledger}}.new --origin {ORIGIN} --key {{x}} --actor {OPERATOR_USCC}"),
    ("append", "LEDGER", "append {x} {events} --key {plant}"),
    ("append", "EVENTS", "append {ledger} {x} --key {plant}"),
    ("append", "--key", "append {ledger} {events} --key {x}"),
    ("checkpoint", "LEDGER", "checkpoint {x} --key {op}"),
    ("checkpoint", "--key", "checkpoint {ledger} --key {x}"),
    ("reindex", "LEDGER", "reindex {x}"),
    ("verify", "LEDGER", "verify {x}"),
    ("verify", "--checkpoint", "verify {ledger} --checkpoint {x}"),
    ("prove", "LEDGER", "prove {x} --index 0"),
    ("log", "LEDGER", "log {x}"),
    ("validate", "EVENTS", "validate {x}"),
    ("publish", "LEDGER", "publish {x} {ledger}.published"),
    ("mirror", "SOURCE", "mirror {x} {ledger}.mirror"),
    ("witnesses", "LEDGER", "witnesses {x}"),
    ("witness-vkey", "--key", "witness vkey --key {x}"),
    ("witness-serve", "--key", "witness serve --key {x} --logs {logs} --listen 127.0.0.1:1"),
    ("witness-serve", "--logs", "witness serve --key {op} --logs {x} --listen 127.0.0.1:1"),
    ("trace", "LEDGER", "trace {x} (01)06901234567892(21)U000001"),
    ("trace", "LEDGER", "trace {ledger} {x} (01)06901234567892(21)U000001"),
    ("recall", "LEDGER", "recall {x} L20260301"),
    ("recall", "LEDGER", "recall {ledger} {x} L20260301"),
    ("audit", "LEDGER", "audit {x}"),
    ("audit", "LEDGER", "audit {ledger} {x}"),
    ("audit", "--checkpoint", "audit {ledger} --checkpoint {x}"),
    ("scan", "IMAGE", "scan {x} --ledger {ledger}"),
    ("scan", "--ledger", "scan --text {payload} --ledger {x}"),
    ("scan", "--bundle", "scan --bundle {x} --verifier {verifier}"),
    ("scan", "--verifier", "scan --text {payload} --ledger {ledger} --verifier {x}"),
    ("scan", "--issuer", "scan --text {payload} --ledger {ledger} --issuer vd:02340={x}"),
    ("scan", "--record", "scan --text {payload} --ledger {ledger} --record {x} --region 441721"),
    ("verify-bundle", "FILE", "verify-bundle {x} --verifier {verifier}"),
    ("verify-bundle", "--verifier", "verify-bundle {events} --verifier {x}"),
    ("register", "VERIFIER", "register {ledger} {x} --key {op} --actor " + ACTOR_USCC),
    ("revoke", "VERIFIER", "revoke {ledger} {x} --key {op}"),
    ("key-show", "FILE", "key show {x}"),
    ("check-proof", "PROOF", "check-proof {x} --checkpoint {checkpoint}"),
    ("check-proof", "--checkpoint", "check-proof {proof} --checkpoint {x}"),
    ("check-proof", "--verifier", "check-proof {proof} --checkpoint {checkpoint} --verifier {x}"),
]
# Arguments naming a file the command makes when it is missing: for them a missing path is not an error.
MADE_WHEN_MISSING = {("scan", "--record")}
KINDS = ["missing", "unreadable", "folder", "fifo", "empty", "foreign-sqlite"]


def _bad(folder: Path, kind: str) -> Path:
    path = folder / f"bad-{kind}"
    if kind == "unreadable":
        path.write_text("something")
        path.chmod(0o000)
    elif kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "empty":
        path.touch()
    elif kind == "foreign-sqlite":
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE t (x)")
        con.commit()
        con.close()
    return path


def _state(path: Path) -> tuple[object, ...]:
    if not os.path.lexists(path):
        return ("absent",)
    info = path.lstat()
    if path.is_file() and info.st_mode & 0o400:
        return (info.st_mode, hashlib.sha256(path.read_bytes()).hexdigest())
    return (info.st_mode, info.st_size)


@pytest.fixture
def no_hang() -> Iterator[None]:
    def hung(*_: object) -> None:
        raise TimeoutError("the command hung")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("command", "argument", "line"), CASES, ids=[f"{c}-{a}" for c, a, _ in CASES])
def test_a_bad_file_argument_is_a_usage_error_naming_it(
    good: dict[str, object],
    tmp_path: Path,
    kind: str,
    command: str,
    argument: str,
    line: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    no_hang: None,
) -> None:
    monkeypatch.setenv("TRACECHAIN_PASSWORD", PASSWORD)
    if kind == "missing" and (command, argument) in MADE_WHEN_MISSING:
        made = tmp_path / "made"
        code = main([part.format(x=made, **good) for part in line.split()])
        assert code == 1  # the scan ran (the code is unknown to the ledger) ...
        assert made.is_file() and oct(made.stat().st_mode & 0o777) == "0o600"  # ... and its log was made
        return
    bad = _bad(tmp_path, kind)
    before = _state(bad)
    ledger = Path(str(good["ledger"]))
    ledger_before = _state(ledger)
    code = main([part.format(x=bad, **good) for part in line.split()])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert str(bad) in err, err
    assert "Traceback" not in err + out
    assert len(err.splitlines()) <= 4, err  # short: click's usage block at most, then the one line
    assert _state(bad) == before
    left = [bad.name] if kind != "missing" else []
    assert sorted(p.name for p in tmp_path.iterdir()) == left  # nothing made beside it (-wal, -shm)
    if argument != "LEDGER":
        assert _state(ledger) == ledger_before


# Arguments naming a file the command makes when it is missing: every other kind of bad file is a usage error.
CREATED = [("mirror", "LEDGER", "mirror {published} {x}")]


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "missing"])
@pytest.mark.parametrize(("command", "argument", "line"), CREATED, ids=[f"{c}-{a}" for c, a, _ in CREATED])
def test_a_bad_file_to_be_made_is_a_usage_error_naming_it(
    good: dict[str, object],
    tmp_path: Path,
    kind: str,
    command: str,
    argument: str,
    line: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    no_hang: None,
) -> None:
    from tracechain.publish import publish

    published = Path(str(good["ledger"])).with_name("published")
    if not (published / "checkpoint").exists():
        publish(Path(str(good["ledger"])), published)
    monkeypatch.setenv("TRACECHAIN_PASSWORD", PASSWORD)
    bad = _bad(tmp_path, kind)
    before = _state(bad)
    code = main([part.format(x=bad, published=published, **good) for part in line.split()])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert str(bad) in err, err
    assert "Traceback" not in err + out
    assert len(err.splitlines()) <= 4, err
    assert _state(bad) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [bad.name]
