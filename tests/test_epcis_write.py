"""write_document: ledger events out as EPCIS 2.0 JSON-LD that GS1's schema accepts, that reads back to the same
events, whose eventIDs are the events' hash IDs, and whose ledger fields prove each event's inclusion."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import epcis_generators as gen
from tests.conftest import make_event
from tests.epcis_support import (
    EX,
    GS1,
    VALID,
    document,
    needs_shared,
    reference_ids,
    reference_view,
    schema_errors,
)
from tracechain import Ledger, SigningKey
from tracechain.epcis import (
    GS1_CONTEXT,
    IGNORE_FIELDS,
    LEDGER_FIELDS,
    TC_NAMESPACE,
    LedgerEvent,
    event_hash_id,
    read_document,
    write_document,
)
from tracechain.errors import ValidationError
from tracechain.events import Event, parse_time, to_json
from tracechain.merkle import verify_inclusion

EXAMPLES = sorted((Path(__file__).resolve().parent / "examples").glob("*/*.json"))
VALID_DOCUMENTS = sorted(VALID.glob("*.jsonld"))
WHEN = "2025-03-01T00:00:00Z"


def _export(events: list[dict[str, Any]]) -> dict[str, Any]:
    return write_document([(e, i, f"{i:064x}") for i, e in enumerate(events)], creation_date=WHEN)


def _read(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return read_document(to_json(doc), source="export")  # through JSON text, as a recipient gets it


@pytest.mark.parametrize("path", VALID_DOCUMENTS, ids=lambda p: p.name)
def test_read_write_read_gives_the_same_events(path: Path) -> None:
    events = read_document(path.read_bytes(), source=path.name)
    assert _read(_export(events)) == events


@needs_shared
@pytest.mark.parametrize("path", VALID_DOCUMENTS, ids=lambda p: p.name)
def test_the_export_is_valid_against_gs1s_schema(path: Path) -> None:
    exported = _export(read_document(path.read_bytes(), source=path.name))
    assert schema_errors(exported) == []


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_tracechains_own_events_export_and_come_back_as_the_same_canonical_events(path: Path) -> None:
    original = Event.from_dict(json.loads(path.read_text(encoding="utf-8")))
    exported = write_document([LedgerEvent(original.to_dict(), 17, bytes(range(32)))], creation_date=WHEN)
    written = exported["epcisBody"]["eventList"][0]
    assert written["eventID"] == event_hash_id(original.to_dict())
    assert written["tc:kde"] and all(k.startswith("tc:") for k in written["tc:kde"])
    back = _read(exported)
    assert Event.from_dict(back[0]).data == original.data  # the product profile is checked again, and passes
    # Key data elements hold booleans and words like "conformant", which the reference hashes its own way.
    assert reference_ids(_without_ledger_fields(exported)) == [event_hash_id(reference_view(original.to_dict()))]


@needs_shared
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_tracechains_own_events_export_valid_against_gs1s_schema(path: Path) -> None:
    original = Event.from_dict(json.loads(path.read_text(encoding="utf-8")))
    assert schema_errors(write_document([(original.to_dict(), 0, "00" * 32)], creation_date=WHEN)) == []


def test_stored_events_export_as_their_displayed_form() -> None:
    # Event.data holds times as microseconds; the writer turns them back into text at the event's offset.
    event = Event.from_dict(make_event(3, eventTime="2026-03-01T08:00:03.250+08:00"))
    from_data = _export([dict(event.data)])["epcisBody"]["eventList"][0]
    from_dict = _export([event.to_dict()])["epcisBody"]["eventList"][0]
    assert from_data == from_dict
    assert from_data["eventTime"] == "2026-03-01T08:00:03.250+08:00"


def _without_ledger_fields(doc: dict[str, Any]) -> dict[str, Any]:
    plain = json.loads(to_json(doc))
    for event in plain["epcisBody"]["eventList"]:
        for key in LEDGER_FIELDS:
            event.pop(key, None)
    return plain


def test_the_document_declares_the_gs1_context_tracechains_prefix_and_what_the_id_leaves_out() -> None:
    exported = _export([make_event(1)])
    context = exported["@context"]
    assert context[0] == GS1_CONTEXT
    assert context[1]["tc"] == TC_NAMESPACE
    assert exported["type"] == "EPCISDocument" and exported["schemaVersion"] == "2.0"
    assert exported["creationDate"] == WHEN
    ignore_key = next(k for k in exported if k.endswith(":ignoreFields"))
    prefix = ignore_key.split(":")[0]
    assert context[1][prefix] + "ignoreFields" == IGNORE_FIELDS
    assert exported[ignore_key] == list(LEDGER_FIELDS)


def test_every_event_carries_its_hash_id_and_ledger_position() -> None:
    events = [make_event(i) for i in range(3)]
    exported = write_document(
        [LedgerEvent(e, 40 + i, bytes([i]) * 32) for i, e in enumerate(events)], creation_date=WHEN
    )
    written = exported["epcisBody"]["eventList"]
    assert [e["tc:ledgerIndex"] for e in written] == [40, 41, 42]
    assert [e["tc:leafHash"] for e in written] == [bytes([i]).hex() * 32 for i in range(3)]
    assert [e["eventID"] for e in written] == [event_hash_id(e) for e in events]
    assert len({e["eventID"] for e in written}) == 3


def test_the_ledger_position_proves_inclusion(ledger: Ledger, actor_key: SigningKey, operator_key: SigningKey) -> None:
    receipt = ledger.append_many([make_event(i) for i in range(5)], actor_key)
    entries = [ledger.entry(i) for i in receipt.indices]
    exported = write_document(
        [LedgerEvent(e.event.to_dict(), e.index, e.leaf_hash) for e in entries if e.event is not None],
        creation_date=WHEN,
    )
    ledger.checkpoint(operator_key)
    size, root = ledger.size, ledger.root()
    for written in exported["epcisBody"]["eventList"]:
        proof = ledger.prove_inclusion(written["tc:ledgerIndex"])
        # The proof from the ledger verifies for the leaf hash the document carries.
        verify_inclusion(bytes.fromhex(written["tc:leafHash"]), written["tc:ledgerIndex"], size, proof.path, root)


def test_an_eventid_of_another_system_moves_aside_and_comes_back() -> None:
    foreign = dict(make_event(1), eventID="urn:uuid:1b4e28ba-2fa1-41d2-883f-0016d3cca427")
    written = _export([foreign])["epcisBody"]["eventList"][0]
    assert written["eventID"] == event_hash_id(foreign)
    assert written["tc:eventID"] == "urn:uuid:1b4e28ba-2fa1-41d2-883f-0016d3cca427"
    assert _read(_export([foreign])) == [foreign]


def test_an_eventid_that_already_is_the_hash_id_is_not_moved_aside() -> None:
    event = make_event(1)
    written = _export([dict(event, eventID=event_hash_id(event))])["epcisBody"]["eventList"][0]
    assert "tc:eventID" not in written


def test_event_prefixes_move_to_the_document_unless_two_events_disagree() -> None:
    one = dict(make_event(1), **{"@context": {"ex": EX}, "ex:a": "1"})
    two = dict(make_event(2), **{"@context": {"acme": "urn:acme:", "ex": EX}, "acme:b": "2", "ex:c": "x"})
    other = dict(make_event(3), **{"@context": {"acme": "urn:another-acme:"}, "acme:b": "3"})
    agreed = _export([one, two])
    assert agreed["@context"][1]["ex"] == EX and agreed["@context"][1]["acme"] == "urn:acme:"
    assert all("@context" not in e for e in agreed["epcisBody"]["eventList"])
    split = _export([one, two, other])
    assert split["@context"][1]["ex"] == EX and "acme" not in split["@context"][1]
    assert [e.get("@context") for e in split["epcisBody"]["eventList"]] == [
        None,
        {"acme": "urn:acme:"},  # ex went to the document; acme is bound two ways, so stays with each event
        {"acme": "urn:another-acme:"},
    ]
    assert _read(split) == [one, two, other]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ((make_event(1), -1, "00" * 32), "ledger index: expected an integer ≥ 0"),
        ((make_event(1), 3, "AB" * 32), "ledger entry 3: expected a leaf hash of 32 bytes or 64 lowercase hex"),
        ((make_event(1), 3, b"short"), "ledger entry 3: expected a leaf hash"),
        ((dict(make_event(1), epcList=["LOCAL-CODE-7"]), 9, "00" * 32), "ledger entry 9: EPCIS 2.0 cannot carry"),
        (([1, 2], 4, "00" * 32), "ledger entry 4: an event is a mapping"),
    ],
)
def test_what_the_standard_cannot_carry_is_refused_naming_the_entry(entry: tuple[Any, int, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        write_document([entry], creation_date=WHEN)


def test_creation_date_is_given_or_now() -> None:
    cst = timezone(timedelta(hours=8))
    assert (
        write_document([], creation_date=datetime(2025, 3, 1, 8, 0, tzinfo=cst))["creationDate"]
        == "2025-03-01T00:00:00.000Z"
    )
    parse_time(write_document([])["creationDate"], "creationDate")  # now, as an RFC 3339 time
    with pytest.raises(ValidationError, match="time zone"):
        write_document([], creation_date=datetime(2025, 3, 1, tzinfo=None))
    assert write_document([], creation_date=datetime(2025, 3, 1, tzinfo=UTC))["epcisBody"]["eventList"] == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(gen.event(), min_size=1, max_size=5))
def test_generated_documents_round_trip_through_an_export(events: list[dict[str, Any]]) -> None:
    read = read_document(to_json(gen.epcis_document(events)), source="generated")
    exported = _export(read)
    assert _read(exported) == read
    if (GS1 / "EPCIS-JSON-Schema.json").exists():
        assert schema_errors(exported) == []


def test_an_exported_document_imports_into_another_reader_as_a_plain_epcis_document() -> None:
    # Nothing in the export needs tracechain to be read: GS1's reference reads it and names its events alike.
    doc = document(
        {
            "type": "ObjectEvent",
            "eventTime": "2025-03-01T09:30:00+08:00",
            "eventTimeZoneOffset": "+08:00",
            "action": "OBSERVE",
            "epcList": ["urn:epc:id:sgtin:6903215.012345.A0000017"],
            "ex:note": "a b",
        }
    )
    exported = _export(read_document(doc, source="plain"))
    assert reference_ids(_without_ledger_fields(exported)) == [e["eventID"] for e in exported["epcisBody"]["eventList"]]
