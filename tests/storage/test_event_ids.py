"""The event-ID projection: each event's GS1 event hash ID → its entries, derived with the entries, looked up by
`Ledger.entries(event_id=…)`, rebuilt in an old ledger, found by verify when edited, and the ``identity="event_id"``
append that skips what a ledger already holds under another spelling."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import tracechain
from tests.conftest import make_event
from tracechain import Ledger, SigningKey
from tracechain.epcis import event_hash_id
from tracechain.errors import StorageError, ValidationError
from tracechain.events import Event
from tracechain.storage import EVENT_IDS, PROJECTIONS
from tracechain.storage.projections import event_id_key


@pytest.fixture
def recorded(ledger: Ledger, actor_key: SigningKey) -> Ledger:
    ledger.append_many([make_event(i) for i in range(6)], actor_key)
    return ledger


def _id(i: int) -> str:
    return event_hash_id(Event.from_dict(make_event(i)).to_dict())


def test_every_event_has_one_row_holding_its_hash_id(recorded: Ledger) -> None:
    rows = list(recorded.store.iter_rows(EVENT_IDS))
    events = [e for e in recorded.entries() if e.kind == "event"]
    assert len(rows) == len(events) == 6
    assert sorted(rows) == sorted((event_id_key(_id(i)), e.index) for i, e in enumerate(events))
    # The ID is the one of the event's JSON form (its text times), not of the stored microseconds as numbers.
    assert EVENT_IDS.derive(events[0].event, 9) == [(event_id_key(event_hash_id(make_event(0))), 9)]


def test_an_event_is_found_by_its_id_in_any_case_of_its_hex(recorded: Ledger) -> None:
    found = [e.index for e in recorded.entries(event_id=_id(3))]
    assert found == [next(e.index for e in recorded.entries(make_event(3)["epcList"][0]))]
    upper = _id(3).replace(_id(3)[14:78], _id(3)[14:78].upper())
    assert [e.index for e in recorded.entries(event_id=upper)] == found
    assert list(recorded.entries(event_id=_id(99))) == []


@pytest.mark.parametrize(
    "bad",
    ["", "ni:///sha-256;abc?ver=CBV2.0", "ni:///sha-256;" + "g" * 64 + "?ver=CBV2.0", "sha-256;" + "0" * 64],
)
def test_a_text_that_is_no_event_hash_id_is_refused_saying_what_one_looks_like(recorded: Ledger, bad: str) -> None:
    with pytest.raises(ValidationError, match=r"expected a GS1 event hash ID such as ni:///sha-256;0+\?ver=CBV2\.0"):
        list(recorded.entries(event_id=bad))
    with pytest.raises(ValidationError, match="code or by event ID, not both"):
        list(recorded.entries("x", event_id=_id(1)))


def test_an_edited_event_id_row_is_found_by_verify_and_rebuilt_by_reindex(recorded: Ledger) -> None:
    path = recorded.path
    recorded.close()
    con = sqlite3.connect(path)
    con.execute("UPDATE event_ids SET sha256 = ? WHERE sha256 = ?", ("0" * 64, event_id_key(_id(2))))
    con.commit()
    con.close()
    report = tracechain.verify(path, workers=1)
    assert [p.message for p in report.problems] == [
        "the event ID index does not match the events: rows were changed (projection event_ids; tracechain"
        " reindex rebuilds it from the entries)"
    ]
    with Ledger.open(path) as led:
        assert list(led.entries(event_id="ni:///sha-256;" + "0" * 64 + "?ver=CBV2.0"))  # the forged row answers
        assert led.reindex([EVENT_IDS]) == {"event_ids": 6}
        assert list(led.entries(event_id="ni:///sha-256;" + "0" * 64 + "?ver=CBV2.0")) == []
        assert len(list(led.entries(event_id=_id(2)))) == 1
    assert tracechain.verify(path, workers=1).ok


def test_a_ledger_written_before_the_event_id_index_gets_it_when_opened_for_writing(recorded: Ledger) -> None:
    path = recorded.path
    expected = list(recorded.store.iter_rows(EVENT_IDS))
    recorded.close()
    con = sqlite3.connect(path)
    listed = ",".join(p.name for p in PROJECTIONS if p is not EVENT_IDS)
    con.executescript(f"DROP TABLE event_ids; UPDATE meta SET value = '{listed}' WHERE key = 'projections';")
    con.commit()
    con.close()
    assert tracechain.verify(path, workers=1).ok  # an older file is sound without it
    with (
        Ledger.open(path, readonly=True) as reader,
        pytest.raises(StorageError, match=r"before its event ID index existed; .*\(tracechain reindex "),
    ):
        list(reader.entries(event_id=_id(1)))
    with Ledger.open(path) as writer:
        assert writer.store.built_projections() == list(PROJECTIONS)
        assert list(writer.store.iter_rows(EVENT_IDS)) == expected
    assert tracechain.verify(path, workers=1).ok


def test_matching_on_event_ids_skips_an_event_the_ledger_holds_in_another_spelling(
    recorded: Ledger, actor_key: SigningKey
) -> None:
    # The same event with an eventID and a recordTime of another system, its step spelled as a full CBV URI:
    # other canonical bytes, the same GS1 event hash ID.
    again = make_event(
        4,
        eventID="urn:uuid:6f5c2d84-8e0a-4d36-a3a5-1f0c1f0f5c11",
        recordTime="2026-03-02T10:00:00+08:00",
        bizStep="https://ref.gs1.org/cbv/BizStep-commissioning",
    )
    assert event_hash_id(again) == _id(4)
    new = make_event(40)
    size = recorded.size
    receipt = recorded.append_many([again, new, new, again], actor_key, identity="event_id")
    held = next(e.index for e in recorded.entries(event_id=_id(4)))
    assert (receipt.count, receipt.existing) == (1, (held, held))
    assert recorded.size == size + 2  # the new event and its seal
    # Matched on bytes, the same event in another spelling is another event.
    assert recorded.append_many([again], actor_key).count == 1
    assert len(list(recorded.entries(event_id=_id(4)))) == 2
    with pytest.raises(ValidationError, match="identity must be one of"):
        recorded.append_many([new], actor_key, identity="content")
    with pytest.raises(ValidationError, match=r"1 event\(s\) are already in the ledger"):
        recorded.append_many([make_event(5)], actor_key, identity="event_id", duplicates="refuse")


def test_the_event_id_table_keeps_a_repeated_row_once_and_looks_up_by_the_first_column(tmp_path: Path) -> None:
    from tracechain.storage import open_store

    store = open_store(tmp_path / "s.db", create=True)
    try:
        with store.write():
            store.insert_rows(EVENT_IDS, [("ab" * 32, 3), ("ab" * 32, 3), ("ab" * 32, 9), ("cd" * 32, 4)])
        assert store.lookup(EVENT_IDS, "ab" * 32) == [("ab" * 32, 3), ("ab" * 32, 9)]
        assert store.row_count(EVENT_IDS) == 3
    finally:
        store.close()
