"""The ledger: appends, batches, keys, checkpoints, proofs and the item index."""

from __future__ import annotations

import itertools
import os
import sqlite3
from pathlib import Path

import pytest

import tracechain
from tests.conftest import ACTOR_USCC, GTIN14, OPERATOR_USCC, ORIGIN, make_event
from tracechain import Ledger, SigningKey, merkle
from tracechain.checkpoints import parse_unverified
from tracechain.entries import batch_message
from tracechain.errors import (
    CheckpointError,
    IdentifierError,
    LedgerFormatError,
    ProofError,
    SignatureError,
    StorageError,
    ValidationError,
    VerificationError,
)


def _all_leaves(ledger: Ledger) -> list[bytes]:
    return [e.leaf_hash for e in ledger.entries()]


def test_a_new_ledger_holds_a_signed_genesis(ledger_path: Path, operator_key: SigningKey) -> None:
    with Ledger.create(str(ledger_path), ORIGIN, operator_key, OPERATOR_USCC) as led:
        entries = list(led.entries())
        assert [e.kind for e in entries] == ["genesis", "seal"]
        assert entries[0].body["origin"] == ORIGIN
        assert entries[0].prev == bytes(32)
        assert entries[1].prev == entries[0].leaf_hash
    assert tracechain.verify(ledger_path).ok


def test_append_returns_the_index_after_a_durable_commit(ledger: Ledger, actor_key: SigningKey) -> None:
    index = ledger.append(make_event(1), actor_key)
    other = sqlite3.connect(ledger.path)  # another connection sees the commit at once
    (count,) = other.execute("SELECT COUNT(*) FROM entries WHERE idx = ?", (index,)).fetchone()
    other.close()
    assert count == 1
    assert ledger.entry(index).event is not None
    assert ledger.entry(index + 1).kind == "seal"


def test_a_batch_is_one_seal_over_the_root_of_its_entries(ledger: Ledger, actor_key: SigningKey) -> None:
    receipt = ledger.append_many([make_event(i) for i in range(5)], actor_key)
    assert receipt.count == 5
    seal = ledger.entry(receipt.seal_index)
    assert seal.kind == "seal"
    assert seal.body["first"] == receipt.first
    assert seal.body["count"] == 5
    assert seal.body["root"] == merkle.root(list(receipt.leaf_hashes))
    message = batch_message(ORIGIN, receipt.first, 5, seal.body["root"])
    assert actor_key.verifier_key.verify(message, seal.body["sig"])


def test_chain_links_and_tree_share_one_hash_per_entry(ledger: Ledger, actor_key: SigningKey) -> None:
    ledger.append_many([make_event(i) for i in range(300)], actor_key)
    entries = list(ledger.entries())
    for before, after in itertools.pairwise(entries):
        assert after.prev == before.leaf_hash
    assert ledger.root() == merkle.root([e.leaf_hash for e in entries])


def test_roots_and_proofs_from_tiles_match_the_naive_tree_at_every_size(ledger: Ledger, actor_key: SigningKey) -> None:
    for start in range(0, 700, 100):
        ledger.append_many([make_event(i) for i in range(start, start + 100)], actor_key)
    leaves = _all_leaves(ledger)
    n = len(leaves)
    for size in [1, 2, 3, 255, 256, 257, 511, 512, 513, n - 1, n]:
        assert ledger.root(size) == merkle.root(leaves[:size])
        for index in {0, size // 2, size - 1}:
            proof = ledger.prove_inclusion(index, size)
            assert list(proof.path) == merkle.inclusion_proof(leaves[:size], index)
            proof.verify()
        for old in {1, size // 3, size - 1} - {0}:
            c = ledger.prove_consistency(old, size)
            assert list(c.path) == merkle.consistency_proof(leaves[:size], old)
            c.verify()


def test_invalid_event_in_a_batch_writes_nothing(ledger: Ledger, actor_key: SigningKey) -> None:
    size, root = ledger.size, ledger.root()
    bad = make_event(2, eventTime="2026-02-30T00:00:00+08:00")
    with pytest.raises(ValidationError) as caught:
        ledger.append_many([make_event(1), bad, make_event(3, bizStep="flying")], actor_key)
    paths = [p for p, _ in caught.value.problems]
    assert "[1].eventTime" in paths
    assert "[2].bizStep" in paths
    assert (ledger.size, ledger.root()) == (size, root)


def test_an_unregistered_or_revoked_key_cannot_append(
    ledger: Ledger, operator_key: SigningKey, actor_key: SigningKey
) -> None:
    stranger = SigningKey.generate("stranger")
    with pytest.raises(SignatureError, match="not registered"):
        ledger.append(make_event(1), stranger)
    ledger.append(make_event(2), actor_key)
    ledger.revoke(actor_key.verifier, operator_key)
    size = ledger.size
    with pytest.raises(SignatureError, match="revoked"):
        ledger.append(make_event(3), actor_key)
    assert ledger.size == size
    assert tracechain.verify(ledger.path).ok


def test_rotation_keeps_old_batches_valid(ledger: Ledger, operator_key: SigningKey, actor_key: SigningKey) -> None:
    ledger.append(make_event(1), actor_key)
    new_key = SigningKey.generate("plant.example.cn-2027")
    ledger.register(new_key.verifier, ACTOR_USCC, operator_key)
    ledger.revoke(actor_key.verifier, operator_key)
    ledger.append(make_event(2), new_key)
    report = tracechain.verify(ledger.path)
    assert report.ok, report.problems
    assert report.signatures_checked == report.batches


def test_only_the_operator_registers_keys(ledger: Ledger, actor_key: SigningKey) -> None:
    with pytest.raises(SignatureError, match="not to the ledger operator"):
        ledger.register(SigningKey.generate("x").verifier, ACTOR_USCC, actor_key)


def test_registering_needs_a_valid_uscc(ledger: Ledger, operator_key: SigningKey) -> None:
    with pytest.raises(IdentifierError):
        ledger.register(SigningKey.generate("x").verifier, "91350100M000100Y44", operator_key)


def test_checkpoint_is_a_c2sp_note_by_the_origin_key_and_is_stored(
    ledger: Ledger, operator_key: SigningKey, actor_key: SigningKey
) -> None:
    ledger.append_many([make_event(i) for i in range(10)], actor_key)
    note = ledger.checkpoint(operator_key)
    lines = note.split("\n")
    assert lines[0] == ORIGIN
    assert int(lines[1]) == ledger.size
    assert note.split("\n\n")[1].startswith(f"— {ORIGIN} ")
    cp = ledger.open_checkpoint(note)
    assert cp.root == ledger.root()
    assert ledger.checkpoints() == [note]


def test_only_an_operator_key_signs_checkpoints(ledger: Ledger, actor_key: SigningKey) -> None:
    with pytest.raises(SignatureError):
        ledger.checkpoint(actor_key)


def test_the_operator_key_must_be_named_by_the_origin(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="named"):
        Ledger.create(str(tmp_path / "l.db"), ORIGIN, SigningKey.generate("other"), OPERATOR_USCC)
    assert not (tmp_path / "l.db").exists()


def test_prove_against_a_held_checkpoint(ledger: Ledger, operator_key: SigningKey, actor_key: SigningKey) -> None:
    ledger.append_many([make_event(i) for i in range(10)], actor_key)
    held = ledger.checkpoint(operator_key)
    ledger.append_many([make_event(i) for i in range(10, 30)], actor_key)
    proof = ledger.prove_against(held)
    proof.verify()
    assert proof.old_root == parse_unverified(held).root


def test_entries_by_code_find_every_spelling(ledger: Ledger, actor_key: SigningKey) -> None:
    receipt = ledger.append_many([make_event(i) for i in range(20)], actor_key)
    spellings = [
        f"https://id.gs1.org/01/{GTIN14}/21/U000007",
        f"https://shop.example.cn/01/{GTIN14[1:]}/21/U000007",
        f"(01){GTIN14}(21)U000007",
    ]
    for code in spellings:
        assert [e.index for e in ledger.entries(code)] == [receipt.first + 7]


def test_proof_arguments_out_of_range_are_refused(ledger: Ledger) -> None:
    n = ledger.size
    for call in (
        lambda: ledger.prove_inclusion(n),
        lambda: ledger.prove_inclusion(0, n + 1),
        lambda: ledger.prove_consistency(n + 1),
        lambda: ledger.prove_consistency(2, 1),
        lambda: ledger.root(n + 1),
    ):
        with pytest.raises(ProofError):
            call()


def test_writers_in_two_connections_interleave_without_forking(ledger: Ledger, actor_key: SigningKey) -> None:
    other = Ledger.open(ledger.path)
    try:
        ledger.append(make_event(1), actor_key)
        other.append(make_event(2), actor_key)  # its cached tip is stale and must be reloaded
        ledger.append(make_event(3), actor_key)
    finally:
        other.close()
    assert tracechain.verify(ledger.path).ok


def test_opening_something_that_is_not_a_ledger_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(LedgerFormatError):
        Ledger.open(str(text))
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(LedgerFormatError, match="not a tracechain ledger"):
        Ledger.open(str(other))
    with pytest.raises(StorageError, match="no such"):
        Ledger.open(str(tmp_path / "missing.db"))


def test_an_unknown_format_version_is_refused(ledger: Ledger) -> None:
    path = ledger.path
    ledger.close()
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value = '99' WHERE key = 'format_version'")
    con.commit()
    con.close()
    with pytest.raises(LedgerFormatError, match="version '99'"):
        Ledger.open(path)


def test_the_file_is_wal_with_full_synchronous(ledger: Ledger) -> None:
    store = ledger._store
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_an_open_ledger_reads_through_a_map_and_verification_does_not(ledger: Ledger) -> None:
    from tracechain.storage.sqlite import SQLiteStore

    assert ledger._store.conn.execute("PRAGMA mmap_size").fetchone()[0] == 1 << 30  # type: ignore[attr-defined]
    reader = SQLiteStore(ledger.path, readonly=True)
    try:
        assert reader.conn.execute("PRAGMA mmap_size").fetchone()[0] == 0
    finally:
        reader.close()


def test_a_connection_used_after_fork_raises(ledger: Ledger, actor_key: SigningKey) -> None:
    pid = os.fork()
    if pid == 0:  # the child: must get a clear error, never touch the parent's connection
        code = 1
        try:
            ledger.append(make_event(1), actor_key)
        except StorageError as e:
            code = 0 if "after fork()" in str(e) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    ledger.append(make_event(2), actor_key)  # the parent's connection is untouched
    assert tracechain.verify(ledger.path).ok


def test_checkpoint_refuses_to_sign_over_tampered_entries(
    ledger: Ledger, operator_key: SigningKey, actor_key: SigningKey
) -> None:
    ledger.append_many([make_event(i) for i in range(300)], actor_key)
    con = sqlite3.connect(ledger.path)
    (data,) = con.execute("SELECT data FROM entries WHERE idx = 260").fetchone()
    con.execute("UPDATE entries SET data = ? WHERE idx = 260", (data.replace(b"U000", b"X000"),))
    con.commit()
    con.close()
    with pytest.raises(VerificationError, match="entry 260"):
        ledger.checkpoint(operator_key)
    assert ledger.checkpoints() == []


def test_a_write_that_fails_midway_leaves_nothing_and_the_next_append_is_sound(
    ledger: Ledger, actor_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.append_many([make_event(i) for i in range(250)], actor_key)
    size, root = ledger.size, ledger.root()

    def broken(projection: object, rows: object) -> None:
        raise StorageError("disk full (simulated)")

    monkeypatch.setattr(ledger._store, "insert_rows", broken)
    with pytest.raises(StorageError, match="simulated"):
        ledger.append_many([make_event(i) for i in range(250, 260)], actor_key)
    monkeypatch.undo()
    assert (ledger.size, ledger.root()) == (size, root)
    ledger.append_many([make_event(i) for i in range(260, 270)], actor_key)
    assert tracechain.verify(ledger.path).ok


def test_proofs_stay_right_whatever_the_tile_cache_size(ledger: Ledger, actor_key: SigningKey) -> None:
    for start in range(0, 1200, 300):
        ledger.append_many([make_event(i) for i in range(start, start + 300)], actor_key)
    tiny = Ledger.open(ledger.path, tile_cache=1)
    try:
        leaves = _all_leaves(ledger)
        for index in range(0, len(leaves), 97):
            assert tiny.prove_inclusion(index).path == ledger.prove_inclusion(index).path
            assert list(tiny.prove_inclusion(index).path) == merkle.inclusion_proof(leaves, index)
    finally:
        tiny.close()
    with pytest.raises(ValidationError, match="tile_cache"):
        Ledger.open(ledger.path, tile_cache=0)
