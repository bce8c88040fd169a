"""Tampering by an insider holding the file and every key, judged against checkpoints held outside."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

import tracechain
from tracechain import Ledger
from tracechain.checkpoints import Checkpoint

from .insider import read_batches, write_batches
from .support import Built, Tally, event_dict, operator_key
from .tampering import KINDS, run_tampering


@pytest.fixture(scope="module")
def tallies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Tally]:
    return {t.check: t for t in run_tampering(tmp_path_factory.mktemp("tampering"), 25)}


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_tampering_is_found_at_the_first_divergent_index(kind: str, tallies: dict[str, Tally]) -> None:
    tallies[kind].assert_ok()


def test_a_rebuilt_ledger_verifies_alone_and_fails_against_the_held_checkpoints(built: Built) -> None:
    batches = read_batches(built.path)
    batches[10].items[0] = (
        "event",
        tracechain.Event.from_dict(
            {**tracechain.Event.from_canonical(batches[10].items[0][1]).to_dict(), "bizStep": "destroying"},
            check_profile=False,
        ).canonical_bytes(),
    )
    write_batches(built.path, batches, built.signers)
    assert tracechain.verify(built.path).ok
    report = tracechain.verify(built.path, built.held)
    first = built.boundaries[9]  # the entries after the tenth batch's checkpoint are no longer vouched for
    assert report.first_bad_index == first
    rewritten = [p for p in report.problems if "rewritten" in p.message]
    assert rewritten and all(p.index == first and p.evidence[0] in built.held for p in rewritten)
    fork = next(p for p in report.problems if "fork" in p.message)
    assert built.final in fork.evidence  # the insider's re-signed checkpoint of the same size is the other


def test_a_ledger_rolled_back_to_an_old_copy_is_a_rollback_with_both_checkpoints_as_evidence(
    built: Built, tmp_path: Path
) -> None:
    old = tmp_path / "old.db"
    shutil.copyfile(built.path, old)
    op = operator_key(1)
    with Ledger.open(str(old)) as led:
        old_note = led.checkpoints()[-1]
    with Ledger.open(str(built.path)) as led:
        led.append(
            tracechain.Event.from_dict(event_dict(99_999), check_profile=False), built.signers[_plant_public(led)]
        )
        seen = led.checkpoint(op)
    report = tracechain.verify(old, [seen])
    rollback = [p for p in report.problems if "rollback" in p.message]
    assert rollback and set(rollback[0].evidence) == {seen, old_note}
    # One checkpoint vouches for nothing short of its size: the loss lies somewhere in 0 .. its size - 1.
    assert (report.first_bad_index, rollback[0].until) == (0, built.size + 2)
    # A witness holding a checkpoint after every batch pins it to the first entry the old copy lacks.
    assert tracechain.verify(old, [*built.held, seen]).first_bad_index == built.size


def test_a_stored_checkpoint_older_than_one_already_seen_is_a_rollback(built: Built) -> None:
    with Ledger.open(str(built.path)) as led:
        stored = led.checkpoints()
    con = sqlite3.connect(built.path)
    with con:
        con.execute("DELETE FROM checkpoints WHERE size = (SELECT MAX(size) FROM checkpoints)")
    con.close()
    report = tracechain.verify(built.path, [stored[-1]])
    problem = next(p for p in report.problems if "older than a checkpoint already seen" in p.message)
    assert problem.evidence == (stored[-2], stored[-1])


def test_two_checkpoints_of_one_size_with_different_roots_are_a_fork_with_both_as_evidence(built: Built) -> None:
    with Ledger.open(str(built.path)) as led:
        stored = led.checkpoints()[-1]
    real = Checkpoint.from_text(stored.split("\n\n")[0] + "\n")
    other = Checkpoint(real.origin, real.size, bytes(32)).sign(operator_key(1))
    report = tracechain.verify(built.path, [other])
    fork = next(p for p in report.problems if "fork" in p.message)
    assert set(fork.evidence) == {stored, other}
    rewritten = next(p for p in report.problems if "rewritten" in p.message)
    assert stored in rewritten.evidence  # the log's own signature on the tree the entries give


def test_two_held_checkpoints_beyond_the_ledger_that_disagree_are_a_fork(built: Built) -> None:
    op = operator_key(1)
    a = Checkpoint("battery.tracechain.example/ledger", built.size + 10, bytes(32)).sign(op)
    b = Checkpoint("battery.tracechain.example/ledger", built.size + 10, bytes(31) + b"\x01").sign(op)
    report = tracechain.verify(built.path, [a, b])
    assert any("fork" in p.message and set(p.evidence) == {a, b} for p in report.problems)
    assert any("rollback" in p.message for p in report.problems)


def _plant_public(led: Ledger) -> bytes:
    registered = led.keys()
    return next(k.public for k in registered if k.revoked is None and k.role == "actor" and k.name.startswith("plant"))


def test_a_stored_checkpoint_of_more_entries_than_the_ledger_holds_is_reported(built: Built) -> None:
    """Found by the battery: a stored checkpoint beyond the last entry was never compared, so a clean truncation
    that kept the checkpoints table passed verification."""
    con = sqlite3.connect(built.path)
    stored = con.execute("SELECT size, note FROM checkpoints").fetchall()
    con.close()
    batches = read_batches(built.path)
    write_batches(built.path, batches[:-5], built.signers)  # a clean truncation, tiles and tables rebuilt
    con = sqlite3.connect(built.path)
    with con:
        con.executemany("INSERT OR REPLACE INTO checkpoints (size, note) VALUES (?, ?)", stored)
    con.close()
    report = tracechain.verify(built.path)
    assert any("rollback" in p.message and "stored checkpoint" in p.message for p in report.problems)
