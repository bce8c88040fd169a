"""Specification of tracechain.mirror: a published log copied into a ledger byte for byte, kept up to date, and a
source that contradicts the mirror refused with both checkpoints as evidence, the mirror left as it was."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from tracechain.cli import main

from tests.conftest import ACTOR_USCC, ORIGIN, make_event
from tests.published import grow, new_ledger, serve
from tracechain import Ledger, SigningKey, verify
from tracechain.checkpoints import parse_unverified
from tracechain.errors import InconsistentLogError, StorageError, VerificationError
from tracechain.mirror import mirror
from tracechain.publish import publish


def _rows(path: Path, table: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        order = {"entries": "idx", "tiles": "level, idx", "keys": "registered", "checkpoints": "size"}[table]
        return conn.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
    finally:
        conn.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _grow_and_publish(path: Path, out: Path, operator: SigningKey, actor: SigningKey, events: int, start: int) -> None:
    with Ledger.open(str(path)) as ledger:
        grow(ledger, actor, events, start=start, batch=400)
        ledger.checkpoint(operator)
    publish(path, out)


@pytest.fixture
def source(tmp_path: Path, operator_key: SigningKey, actor_key: SigningKey) -> Path:
    """A ledger (source.db) of 900 events with a delegation and a key rotation, published to pub/."""
    path = tmp_path / "source.db"
    with new_ledger(path, operator_key, actor_key) as ledger:
        grow(ledger, actor_key, 500, batch=200)
        ledger.delegate(ACTOR_USCC, "91350100M000100Y43", operator_key)
        second = SigningKey.generate("plant2.example.cn")
        ledger.register(second.verifier, ACTOR_USCC, operator_key)
        ledger.revoke(actor_key.verifier, operator_key)
        ledger.append_many([make_event(10_000 + i) for i in range(400)], second)
        ledger.checkpoint(operator_key)
    publish(path, tmp_path / "pub")
    return path


def test_a_mirror_holds_the_source_entries_byte_for_byte_and_is_a_whole_ledger(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "mirror.db"
    result = mirror(tmp_path / "pub", target)
    with Ledger.open(str(source), readonly=True) as ledger:
        size, note = ledger.size, ledger.checkpoints()[-1]
        proof = ledger.prove_item(make_event(3)["epcList"][0])
    assert (result.size, result.previous_size, result.appended, result.checkpoint) == (size, 0, size, note)
    for table in ("entries", "tiles", "keys"):
        assert _rows(target, table) == _rows(source, table), table
    assert [n for _, n in _rows(target, "checkpoints")] == [note]
    report = verify(target)  # every projection and the keys table too, against the entries
    assert report.ok, report.problems
    assert report.root == verify(source).root
    with Ledger.open(str(target), readonly=True) as copy:
        assert copy.prove_item(make_event(3)["epcList"][0]) == proof  # the item index was built
        assert copy.signer(size - 1) is not None  # and the batch index


def test_running_the_mirror_again_appends_only_what_is_new(
    source: Path, tmp_path: Path, operator_key: SigningKey
) -> None:
    target = tmp_path / "mirror.db"
    first = mirror(tmp_path / "pub", target)
    again = mirror(tmp_path / "pub", target)
    assert (again.appended, again.previous_size, again.size) == (0, first.size, first.size)
    second = SigningKey.generate("plant3.example.cn")
    with Ledger.open(str(source)) as ledger:
        ledger.register(second.verifier, ACTOR_USCC, operator_key)
    _grow_and_publish(source, tmp_path / "pub", operator_key, second, 700, 50_000)
    grown = mirror(tmp_path / "pub", target)
    assert grown.previous_size == first.size and grown.appended == grown.size - first.size > 700
    assert _rows(target, "entries") == _rows(source, "entries")
    assert _rows(target, "tiles") == _rows(source, "tiles")
    assert len(_rows(target, "checkpoints")) == 2
    assert verify(target).ok


def test_a_mirror_is_taken_over_http(source: Path, tmp_path: Path) -> None:
    with serve(tmp_path / "pub") as url:
        result = mirror(url, tmp_path / "mirror.db")
    assert result.appended == result.size > 900
    assert _rows(tmp_path / "mirror.db", "entries") == _rows(source, "entries")


def _backup(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def test_a_rolled_back_source_is_refused_with_both_checkpoints(
    source: Path, tmp_path: Path, operator_key: SigningKey, actor_key: SigningKey
) -> None:
    publish(source, tmp_path / "old")  # the log as it was
    with Ledger.open(str(source)) as ledger:
        actor = SigningKey.generate("plant4.example.cn")
        ledger.register(actor.verifier, ACTOR_USCC, operator_key)
    _grow_and_publish(source, tmp_path / "pub", operator_key, actor, 300, 70_000)
    target = tmp_path / "mirror.db"
    held = mirror(tmp_path / "pub", target).checkpoint
    before = _digest(target)
    with pytest.raises(InconsistentLogError, match="rolled back") as caught:
        mirror(tmp_path / "old", target)
    old_note = (tmp_path / "old" / "checkpoint").read_text()
    assert caught.value.evidence == (held, old_note)
    diagnostics = caught.value.diagnostics() + "\n"
    assert f"---\n{old_note}" in diagnostics and f"---\n{held}" in diagnostics
    assert _digest(target) == before


@pytest.mark.parametrize("at_same_size", [False, True])
def test_a_forked_source_is_refused_with_both_checkpoints(
    source: Path, tmp_path: Path, operator_key: SigningKey, at_same_size: bool
) -> None:
    fork = tmp_path / "fork.db"
    _backup(source, fork)
    actor = SigningKey.generate("plant5.example.cn")
    for path in (source, fork):  # the same entries in both (Ed25519 signs deterministically), then other events
        with Ledger.open(str(path)) as ledger:
            ledger.register(actor.verifier, ACTOR_USCC, operator_key)
    _grow_and_publish(source, tmp_path / "pub", operator_key, actor, 300, 80_000)
    _grow_and_publish(fork, tmp_path / "forked", operator_key, actor, 300 if at_same_size else 600, 90_000)
    target = tmp_path / "mirror.db"
    held = mirror(tmp_path / "pub", target).checkpoint
    before = _digest(target)
    forked = (tmp_path / "forked" / "checkpoint").read_text()
    assert (parse_unverified(forked).size == parse_unverified(held).size) is at_same_size
    with pytest.raises(InconsistentLogError, match="forked") as caught:
        mirror(tmp_path / "forked", target)
    assert caught.value.evidence == (held, forked)
    assert _digest(target) == before


def test_a_source_of_another_log_or_a_mirror_written_to_is_refused(
    source: Path, tmp_path: Path, operator_key: SigningKey
) -> None:
    other_key = SigningKey.generate("other.example/log")
    other = tmp_path / "other.db"
    with Ledger.create(str(other), "other.example/log", other_key, "91350100M000100Y43") as led:
        led.checkpoint(other_key)
    publish(other, tmp_path / "other-pub")
    target = tmp_path / "mirror.db"
    mirror(tmp_path / "pub", target)
    with pytest.raises(StorageError, match=r"other\.example/log"):
        mirror(tmp_path / "other-pub", target)
    with Ledger.open(str(target)) as copy:  # the operator writes to the mirror itself
        copy.register(SigningKey.generate("x.example.cn").verifier, ACTOR_USCC, operator_key)
    with pytest.raises(StorageError, match="written to after it was last mirrored"):
        mirror(tmp_path / "pub", target)


def test_a_damaged_source_is_refused_and_a_new_mirror_leaves_no_file(source: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "pub" / "tile" / "entries" / "001"
    data = bytearray(bundle.read_bytes())
    data[-10] ^= 0x01
    bundle.write_bytes(bytes(data))
    target = tmp_path / "mirror.db"
    with pytest.raises(VerificationError, match=r"(root|links to|malformed)"):
        mirror(tmp_path / "pub", target)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("mirror")) == []


def test_a_source_checkpoint_not_signed_by_the_log_is_refused(
    source: Path, tmp_path: Path, actor_key: SigningKey
) -> None:
    # A checkpoint of the same tree signed by a key of the log's name that the log never registered.
    impostor = SigningKey.generate(ORIGIN)
    cp = parse_unverified((tmp_path / "pub" / "checkpoint").read_text())
    (tmp_path / "pub" / "checkpoint").write_text(cp.sign(impostor))
    with pytest.raises(VerificationError, match="does not verify with the operator keys"):
        mirror(tmp_path / "pub", tmp_path / "mirror.db")
    assert not (tmp_path / "mirror.db").exists()


def test_the_mirror_command_copies_and_refuses_a_fork_with_exit_1(
    source: Path, tmp_path: Path, operator_key: SigningKey, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "mirror.db"
    assert main(["mirror", str(tmp_path / "pub"), str(target), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["appended"] == out["size"] > 900 and out["previous_size"] == 0
    assert main(["mirror", str(tmp_path / "pub"), str(target)]) == 0
    assert "0 entries appended" in capsys.readouterr().out
    fork = tmp_path / "fork.db"
    _backup(source, fork)
    with Ledger.open(str(fork)) as ledger:
        ledger.delegate(ACTOR_USCC, "91350100M000100Y43", operator_key, withdraw=True)
        ledger.checkpoint(operator_key)
    publish(fork, tmp_path / "forked")
    with Ledger.open(str(source)) as ledger:
        ledger.delegate("91350100M000100Y43", ACTOR_USCC, operator_key)
        ledger.checkpoint(operator_key)
    publish(source, tmp_path / "pub")
    assert main(["mirror", str(tmp_path / "pub"), str(target)]) == 0
    capsys.readouterr()
    assert main(["mirror", str(tmp_path / "forked"), str(target)]) == 1
    err = capsys.readouterr().err
    assert "forked" in err and err.count(f"{ORIGIN}\n") == 2  # both signed checkpoints, in full


def test_a_mirror_run_stopped_part_way_leaves_the_mirror_as_it_was(
    source: Path, tmp_path: Path, operator_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tracechain.mirror as mirroring

    target = tmp_path / "mirror.db"
    first = mirror(tmp_path / "pub", target)
    with Ledger.open(str(source)) as ledger:
        actor = SigningKey.generate("plant6.example.cn")
        ledger.register(actor.verifier, ACTOR_USCC, operator_key)
    _grow_and_publish(source, tmp_path / "pub", operator_key, actor, 5_000, 100_000)
    before = _rows(target, "entries"), _rows(target, "tiles"), _rows(target, "checkpoints")
    original, taken = mirroring._take_in, []

    def dies_part_way(*args: object) -> None:
        taken.append(1)
        if len(taken) > 4_500:  # past the first rounds of inserts (4,096 entries each)
            raise KeyboardInterrupt
        original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(mirroring, "_take_in", dies_part_way)
    with pytest.raises(KeyboardInterrupt):
        mirror(tmp_path / "pub", target)
    assert (_rows(target, "entries"), _rows(target, "tiles"), _rows(target, "checkpoints")) == before
    monkeypatch.setattr(mirroring, "_take_in", original)
    again = mirror(tmp_path / "pub", target)
    assert again.previous_size == first.size and _rows(target, "entries") == _rows(source, "entries")
