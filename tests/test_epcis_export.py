"""export_document through a real ledger: a document GS1's schema accepts, whose eventIDs GS1's reference computes
too, which imports into another ledger as the same canonical events, written in parts without holding the ledger
in memory; and the selections (an item, a range of entries)."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import epcis_generators as gen
from tests.conftest import GTIN14, OPERATOR_USCC, ORIGIN, make_event
from tests.epcis_support import GS1, VALID, document, hash_spelled, needs_shared, reference_ids, schema_errors
from tracechain import Ledger, SigningKey
from tracechain.epcis import LEDGER_FIELDS, event_hash_id, export_document, import_document
from tracechain.epcis import _exchange as exchange
from tracechain.epcis._codes import hash_code
from tracechain.errors import ValidationError
from tracechain.events import to_json
from tracechain.merkle import verify_inclusion

LONG = os.environ.get("TRACECHAIN_LONG") == "1"
GENERATED_EVENTS = 1_000 if LONG else 100  # compared with GS1's reference through a ledger's import and export
NOW = datetime(2031, 1, 1, tzinfo=UTC)  # the generators draw times up to 2030
IMPORTABLE = ("association_event", "booleans_untyped_transactions", "cbv_spellings", "query_document",
              "transaction_event", "transformation_event")  # fmt: skip


def _exported(ledger: Ledger, **selection: Any) -> tuple[str, exchange.ExportResult]:
    out = io.StringIO()
    result = export_document(ledger, out, creation_date="2026-03-01T00:00:00Z", **selection)
    return out.getvalue(), result


def _bodies(ledger: Ledger) -> list[bytes]:
    return [e.body for e in ledger.entries() if e.kind == "event"]


@pytest.fixture
def other(tmp_path: Path, operator_key: SigningKey, actor_key: SigningKey) -> Iterator[Ledger]:
    """A second ledger with the same actor registered: where an export is imported again."""
    from tests.conftest import ACTOR_USCC

    led = Ledger.create(str(tmp_path / "other.db"), ORIGIN, operator_key, OPERATOR_USCC)
    led.register(actor_key.verifier, ACTOR_USCC, operator_key)
    yield led
    led.close()


@pytest.fixture
def mixed(ledger: Ledger, actor_key: SigningKey) -> Ledger:
    """tracechain's own events and plain EPCIS events from the project's documents, in several batches."""
    ledger.append_many([make_event(i) for i in range(4)], actor_key)
    for name in IMPORTABLE:
        import_document(ledger, (VALID / f"{name}.jsonld").read_bytes(), actor_key, source=name)
    ledger.append_many([make_event(i) for i in range(4, 6)], actor_key)
    return ledger


def test_an_export_imports_into_another_ledger_as_the_same_canonical_events(
    mixed: Ledger, other: Ledger, actor_key: SigningKey
) -> None:
    text, result = _exported(mixed)
    assert result.events == len(_bodies(mixed)) == 17  # cbv_spellings' five events are one
    back = import_document(other, text, actor_key, source="export")
    assert (back.appended, back.skipped) == (17, 0)
    assert _bodies(other) == _bodies(mixed)
    # And once more: the same document adds nothing.
    assert import_document(other, text, actor_key).appended == 0


def test_every_event_is_named_by_its_hash_id_and_proves_its_inclusion(mixed: Ledger, operator_key: SigningKey) -> None:
    text, _ = _exported(mixed)
    mixed.checkpoint(operator_key)
    size, root = mixed.size, mixed.root()
    for written in json.loads(text)["epcisBody"]["eventList"]:
        entry = mixed.entry(written["tc:ledgerIndex"])
        assert entry.event is not None
        assert written["eventID"] == event_hash_id(entry.event.data)
        assert [e.index for e in mixed.entries(event_id=written["eventID"])] == [entry.index]
        proof = mixed.prove_inclusion(entry.index)
        verify_inclusion(bytes.fromhex(written["tc:leafHash"]), entry.index, size, proof.path, root)


@needs_shared
def test_the_export_is_valid_against_gs1s_schema(mixed: Ledger) -> None:
    text, _ = _exported(mixed)
    assert schema_errors(json.loads(text)) == []


def test_the_document_declares_tracechains_fields_and_what_the_hash_leaves_out(mixed: Ledger) -> None:
    doc = json.loads(_exported(mixed)[0])
    assert (doc["type"], doc["schemaVersion"], doc["creationDate"]) == ("EPCISDocument", "2.0", "2026-03-01T00:00:00Z")
    assert doc["@context"][1]["tc"] == "urn:tracechain:epcis:"
    assert doc["repository-x:ignoreFields"] == list(LEDGER_FIELDS)
    native = [e for e in doc["epcisBody"]["eventList"] if "tc:product" in e]
    assert len(native) == 6 and all(k.startswith("tc:") for e in native for k in e["tc:kde"])


def test_a_part_at_a_time_writes_the_same_document(mixed: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    whole, _ = _exported(mixed)
    monkeypatch.setattr(exchange, "EXPORT_PART", 2)
    assert _exported(mixed)[0] == whole


def test_an_item_or_a_range_of_entries_is_exported(mixed: Ledger) -> None:
    unit = f"https://id.gs1.org/01/{GTIN14}/21/U000003"
    text, result = _exported(mixed, code=f"(01){GTIN14}(21)U000003")  # any spelling of the code
    assert result.events == 1
    assert json.loads(text)["epcisBody"]["eventList"][0]["epcList"] == [unit]
    _, every = _exported(mixed)
    text, part = _exported(mixed, start=every.first + 2, end=every.first + 3)  # type: ignore[operator]
    indexes = [e["tc:ledgerIndex"] for e in json.loads(text)["epcisBody"]["eventList"]]
    assert indexes == [every.first + 2, every.first + 3] and (part.first, part.last) == tuple(indexes)  # type: ignore[operator]
    assert _exported(mixed, start=0, end=3)[1].events == 0  # genesis and key entries hold no event


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        ({"code": "x", "start": 1}, "not both"),
        ({"start": 5, "end": 4}, "starts after it ends"),
        ({"end": 10_000}, "end: expected an entry index from 0 to"),
        ({"start": -1}, "start: expected an entry index"),
    ],
)
def test_a_selection_that_makes_no_sense_is_refused_before_anything_is_written(
    mixed: Ledger, selection: dict[str, Any], message: str
) -> None:
    out = io.StringIO()
    with pytest.raises(ValidationError, match=message):
        export_document(mixed, out, **selection)
    assert out.getvalue() == ""


def test_events_binding_one_prefix_two_ways_keep_their_own_contexts(
    ledger: Ledger, other: Ledger, actor_key: SigningKey
) -> None:
    base = json.loads((VALID / "association_event.jsonld").read_text())["epcisBody"]["eventList"][0]
    one = document({**base, "ex:note": "A"}, context=["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                                                     {"ex": "https://one.example.com/"}])  # fmt: skip
    two = document({**base, "ex:note": "B"}, context=["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                                                     {"ex": "https://two.example.com/"}])  # fmt: skip
    import_document(ledger, one, actor_key)
    import_document(ledger, two, actor_key)
    doc = json.loads(_exported(ledger)[0])
    assert "ex" not in doc["@context"][1]
    assert [e["@context"] for e in doc["epcisBody"]["eventList"]] == [
        {"ex": "https://one.example.com/"},
        {"ex": "https://two.example.com/"},
    ]
    import_document(other, json.dumps(doc), actor_key)
    assert _bodies(other) == _bodies(ledger)


# --- generated events, against GS1's reference implementation ----------------------------------------------------


def _importable(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The generated events as the ledger takes them: one spelling of an item per list (two spellings of one EPC
    are the same EPC twice), and a quantity in every quantity element (the envelope asks for one; see the strict
    xfail in test_epcis_import)."""
    out = []
    for event in events:
        event = json.loads(to_json(event))
        for key in ("epcList", "childEPCs", "inputEPCList", "outputEPCList"):
            if key in event:
                seen: dict[str, str] = {}
                for code in event[key]:
                    seen.setdefault(hash_code(code) or code, code)
                event[key] = list(seen.values())
        for key in ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"):
            for element in event.get(key, []):
                element.setdefault("quantity", 1)
        out.append(event)
    return out


@needs_shared
def test_generated_events_go_through_a_ledger_and_gs1s_reference_names_them_as_tracechain_does(
    tmp_path: Path, operator_key: SigningKey, actor_key: SigningKey
) -> None:
    from tests.conftest import ACTOR_USCC

    seen: list[int] = []
    counter = iter(range(10**6))

    @settings(
        max_examples=GENERATED_EVENTS // 2,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(st.lists(gen.event(), min_size=2, max_size=6))
    def check(events: list[dict[str, Any]]) -> None:
        n = next(counter)
        doc = gen.epcis_document(_importable(events))
        ledgers = []
        for side in ("a", "b"):
            led = Ledger.create(str(tmp_path / f"{n}{side}.db"), ORIGIN, operator_key, OPERATOR_USCC)
            led.register(actor_key.verifier, ACTOR_USCC, operator_key)
            ledgers.append(led)
        try:
            a, b = ledgers
            imported = import_document(a, to_json(doc), actor_key, now=NOW)
            text, result = _exported(a)
            exported = json.loads(text)
            ids = [e["eventID"] for e in exported["epcisBody"]["eventList"]]
            assert result.events == imported.appended == len(set(imported.event_ids))
            assert ids == list(dict.fromkeys(imported.event_ids))  # the ID the document's events have
            # The reference, handed the export as its convention means (without the fields the document asks it to
            # leave out, which 1.9.3 does not read: D15) and with GS1 keys in the hash's spelling (D16).
            plain = hash_spelled(exported)
            for event in plain["epcisBody"]["eventList"]:
                for key in LEDGER_FIELDS:
                    event.pop(key, None)
            assert reference_ids(plain) == ids
            assert schema_errors(exported) == []
            import_document(b, text, actor_key, now=NOW)
            assert _bodies(b) == _bodies(a)
            seen.append(len(ids))
        finally:
            for led in ledgers:
                led.close()

    check()
    assert sum(seen) >= GENERATED_EVENTS


@needs_shared
def test_every_example_of_the_standard_round_trips_through_two_ledgers(
    ledger: Ledger, other: Ledger, actor_key: SigningKey
) -> None:
    for path in sorted((GS1 / "gs1-examples").rglob("*.jsonld")):
        if path.name in ("AssociationEvent-h.jsonld", "transformation_event_all_possible_fields.jsonld"):
            continue  # refused: test_epcis_import
        import_document(ledger, path.read_bytes(), actor_key, source=path.name)
    text, result = _exported(ledger)
    assert result.events == 46
    assert schema_errors(json.loads(text)) == []
    import_document(other, text, actor_key)
    assert _bodies(other) == _bodies(ledger)
