"""tracechain's event hash IDs against GS1's reference implementation (epcis-event-hash-generator 1.9.3).

The reference is the oracle wherever it follows the standard: on the project's own documents, on generated events
(1,000 in the default run, 10,000 with TRACECHAIN_LONG=1) and on what `write_document` exports, the two must give
identical IDs. Where the reference departs from the standard, a test below pins down exactly how (what it writes
instead, or that it fails), so a fix in either implementation shows up here; docs/epcis.md lists the same cases.
"""

from __future__ import annotations

import copy
import json
import os
import warnings
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import epcis_generators as gen
from tests.epcis_support import (
    EX,
    GS1,
    VALID,
    document,
    load,
    needs_shared,
    python_booleans,
    reference_ids,
    reference_prehashes,
)
from tracechain.epcis import GS1_CONTEXT, LEDGER_FIELDS, event_hash_id, pre_hash_string, read_document, write_document
from tracechain.events import to_json

GENERATED_EVENTS = 10_000 if os.environ.get("TRACECHAIN_LONG") == "1" else 1_000
EVENTS_PER_DOCUMENT = 10
# Documents of tests/epcis/valid the reference reads as the standard says; the other one is covered event by event
# below (JSON booleans, a bizTransaction without type).
AGREEING = sorted(p.name for p in VALID.glob("*.jsonld") if p.name != "booleans_untyped_transactions.jsonld")


def _event(**fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": "2025-03-01T09:30:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "action": "OBSERVE",
        "epcList": ["urn:epc:id:sgtin:6903215.012345.A0000017"],
    }
    event.update(fields)
    return event


def _mine(doc: dict[str, Any]) -> list[str]:
    body = doc["epcisBody"]
    events = body["eventList"] if "eventList" in body else body["queryResults"]["resultsBody"]["eventList"]
    return [pre_hash_string(e, context=doc["@context"]) for e in events]


def _as_epcis_document(doc: dict[str, Any]) -> dict[str, Any]:
    """The reference reads no EPCISQueryDocument (it looks for epcisBody.event): hand it the events as a document."""
    events = doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    return document(*events, context=doc["@context"])


# --- agreement ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", AGREEING)
def test_the_reference_agrees_on_every_event_of_the_projects_documents(name: str) -> None:
    doc = load(VALID / name)
    theirs = _as_epcis_document(doc) if doc["type"] == "EPCISQueryDocument" else doc
    assert reference_prehashes(theirs) == _mine(doc)


def test_the_reference_agrees_on_generated_events() -> None:
    seen: list[int] = []

    @settings(
        max_examples=GENERATED_EVENTS // EVENTS_PER_DOCUMENT,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(st.lists(gen.event(), min_size=EVENTS_PER_DOCUMENT, max_size=EVENTS_PER_DOCUMENT))
    def check(events: list[dict[str, Any]]) -> None:
        doc = gen.epcis_document(events)
        mine = _mine(doc)
        theirs = reference_prehashes(doc)
        assert len(theirs) == len(mine), "the reference left events out"
        for i, (a, b) in enumerate(zip(theirs, mine, strict=True)):
            # Say exactly where the two differ: the documents are too large for pytest to show whole.
            at = next((j for j, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
            assert a == b, f"event {i}: {to_json(events[i])}\nreference …{a[max(0, at - 120) : at + 160]}\n" \
                f"tracechain …{b[max(0, at - 120) : at + 160]}"  # fmt: skip
        # read_document keeps everything the ID depends on, whatever spelling it normalises.
        read = read_document(to_json(doc), source="generated")
        assert [event_hash_id(e) for e in read] == [event_hash_id(e, context=doc["@context"]) for e in events]
        seen.append(len(events))

    check()
    assert sum(seen) >= GENERATED_EVENTS


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(gen.event(), min_size=1, max_size=6))
def test_the_reference_computes_the_ids_an_export_carries(events: list[dict[str, Any]]) -> None:
    read = read_document(to_json(gen.epcis_document(events)), source="generated")
    exported = write_document([(e, i, f"{i:064x}") for i, e in enumerate(read)], creation_date="2025-03-01T00:00:00Z")
    written = [e["eventID"] for e in exported["epcisBody"]["eventList"]]
    assert written == [event_hash_id(e) for e in read]
    # The reference (1.9.3) predates the ignoreFields convention the export declares: it is handed the document
    # without those fields, which is what the convention means (see test_the_reference_ignores_no_fields).
    assert reference_ids(_without_ledger_fields(exported)) == written


def _without_ledger_fields(doc: dict[str, Any]) -> dict[str, Any]:
    plain = json.loads(to_json(doc))
    for event in plain["epcisBody"]["eventList"]:
        for key in LEDGER_FIELDS:
            event.pop(key, None)
    return plain


@needs_shared
def test_the_reference_reproduces_the_published_ids_this_suite_checks() -> None:
    # The oracle is checked against the authority too, except where docs/epcis.md says it cannot.
    examples = GS1 / "hash-examples"
    for path in sorted(examples.glob("*.jsonld")):
        if path.stem in ("epcisQueryDocument", "epcisQueryDocHavingEventWithIgnoreFields"):
            continue  # query documents: see test_the_reference_reads_no_query_document
        expected = path.with_suffix(".hashes").read_text().split()
        if path.stem == "epcisDocHavingEventWithIgnoreFields":
            assert reference_ids(path.read_text()) != expected  # see test_the_reference_ignores_no_fields
            continue
        assert reference_ids(path.read_text()) == expected, path.name


# --- where the reference departs from the standard -------------------------------------------------------------


def test_the_reference_writes_json_booleans_as_python_does() -> None:
    # D1. Rule 7 and the XML binding write xsd:boolean as true/false; 1.9.3 writes Python's True/False, so the
    # same event in XML and JSON gets two IDs. tracechain writes true/false.
    doc = load(VALID / "booleans_untyped_transactions.jsonld")
    event = doc["epcisBody"]["eventList"][0]
    mine = pre_hash_string(event, context=doc["@context"])
    assert "booleanValue=true" in mine and "}reviewed=false" in mine
    theirs = reference_prehashes(document(event, context=doc["@context"]))
    assert theirs == [mine.replace("=true", "=True").replace("=false", "=False")]
    assert theirs == [pre_hash_string(python_booleans(event), context=doc["@context"])]


def test_the_reference_fails_on_a_bizTransaction_without_type() -> None:
    # D4. The type of a business transaction is optional (EPCIS 2.0 schema); 1.9.3 raises IndexError while
    # reading a document that has one without it, so no event of that document gets an ID. tracechain writes
    # bizTransaction=… alone.
    doc = load(VALID / "booleans_untyped_transactions.jsonld")
    event = doc["epcisBody"]["eventList"][1]
    assert "bizTransactionListbizTransaction=https://erp.example.cn/contract/2025-17" in pre_hash_string(event)
    with pytest.raises(IndexError):
        reference_prehashes(document(event, context=doc["@context"]))


def test_the_reference_follows_the_json_key_order_inside_a_typed_list() -> None:
    # D5. Key order carries no meaning in JSON; 1.9.3 writes a bizTransaction's value before its type when the
    # document does. tracechain always writes the type first, as every published expected value has it.
    written = _event(bizTransactionList=[{"bizTransaction": "https://erp.example.cn/po/1", "type": "po"}])
    usual = _event(bizTransactionList=[{"type": "po", "bizTransaction": "https://erp.example.cn/po/1"}])
    assert event_hash_id(written) == event_hash_id(usual)
    assert reference_ids(document(usual)) == [event_hash_id(usual)]
    assert reference_prehashes(document(written)) == [
        pre_hash_string(usual).replace(
            "type=https://ref.gs1.org/cbv/BTT-pobizTransaction=https://erp.example.cn/po/1",
            "bizTransaction=https://erp.example.cn/po/1type=https://ref.gs1.org/cbv/BTT-po",
        )
    ]


def test_the_reference_knows_only_the_prefixes_a_document_declares_itself() -> None:
    # D2, D3. GS1's context defines gs1, cbv and cbvmda; rule 15 expands compact IRIs and rule 19 writes ILMD
    # names with their full namespace. 1.9.3 does so only for prefixes the document declares again.
    event = _event(
        action="ADD",
        bizStep="cbv:BizStep-shipping",
        sensorElementList=[{"sensorReport": [{"type": "gs1:Temperature", "value": 4}]}],
        ilmd={"cbvmda:lotNumber": "L1"},
    )
    mine = pre_hash_string(event)
    assert "bizStep=https://ref.gs1.org/cbv/BizStep-shipping" in mine
    assert "type=https://gs1.org/voc/Temperature" in mine
    assert "ilmd{urn:epcglobal:cbv:mda:}lotNumber=L1" in mine
    declared = [
        GS1_CONTEXT,
        {"cbv": "https://ref.gs1.org/cbv/", "gs1": "https://gs1.org/voc/", "cbvmda": "urn:epcglobal:cbv:mda:"},
    ]
    assert reference_prehashes(document(event, context=declared)) == [mine]
    assert reference_prehashes(document(event, context=[GS1_CONTEXT])) == [
        mine.replace("https://ref.gs1.org/cbv/BizStep-shipping", "cbv:BizStep-shipping")
        .replace("https://gs1.org/voc/Temperature", "gs1:Temperature")
        .replace("{urn:epcglobal:cbv:mda:}lotNumber", "cbvmda:lotNumber")
    ]


def test_the_reference_hashes_an_events_own_context_as_data() -> None:
    # D6. JSON-LD lets an event carry its own @context; it declares prefixes and is no field of the event. 1.9.3
    # hashes it as a field and does not use it, so the extension's name stays unexpanded. `write_document` moves
    # event contexts to the document for this reason, unless two events bind one prefix differently.
    event = _event(**{"@context": {"own": "https://own.example.org/"}, "own:x": "1"})
    mine = pre_hash_string(event)
    assert mine.endswith("action=OBSERVE{https://own.example.org/}x=1")
    assert reference_prehashes(document(event, context=[GS1_CONTEXT])) == [
        mine.replace("{https://own.example.org/}x=1", "@contextown=https://own.example.org/own:x=1")
    ]


@pytest.mark.parametrize(
    ("written", "standard", "reference"),
    [
        ("2025-03-01T00:00:00.0005Z", "2025-03-01T00:00:00.001Z", "2025-03-01T00:00:00.000Z"),
        ("2025-03-01T00:00:00.1425Z", "2025-03-01T00:00:00.143Z", "2025-03-01T00:00:00.142Z"),
    ],
)
def test_the_reference_rounds_half_milliseconds_to_even(written: str, standard: str, reference: str) -> None:
    # D7. Rule 9: the 3rd decimal is rounded up when the 4th is 5-9. 1.9.3 rounds the microseconds with Python's
    # round(), which sends an exact half to the even millisecond.
    event = _event(eventTime=written)
    mine = pre_hash_string(event)
    assert f"eventTime={standard}" in mine
    assert reference_prehashes(document(event)) == [mine.replace(standard, reference)]


def test_the_reference_fails_on_a_time_that_rounds_into_the_next_second() -> None:
    # D7. .9995 s and later round up to the next second; 1.9.3 builds a datetime with 1,000,000 microseconds,
    # fails, and leaves the event out.
    event = _event(eventTime="2025-03-01T00:00:59.9996Z")
    assert "eventTime=2025-03-01T00:01:00.000Z" in pre_hash_string(event)
    assert reference_prehashes(document(event)) == []


@pytest.mark.parametrize(
    ("value", "standard", "reference"),
    [
        (Decimal("0.00001"), "0.00001", "1e-05"),
        (Decimal("0.000015"), "0.000015", "1.5e-05"),
        (Decimal("12345678.123456789012"), "12345678.123456789012", "12345678.12345679"),
    ],
)
def test_the_reference_writes_numbers_through_binary_floats(value: Decimal, standard: str, reference: str) -> None:
    # D8. Rule 6 writes the number without trailing zeros; 1.9.3 converts it to a binary float first, so small
    # numbers come out in exponent form and long ones rounded. tracechain writes the exact decimal.
    event = _event(quantityList=[{"epcClass": "urn:epc:class:lgtin:6903215.012345.L1", "quantity": value}])
    mine = pre_hash_string(event)
    assert f"quantity={standard}action" in mine
    assert reference_prehashes(document(event)) == [mine.replace(f"quantity={standard}", f"quantity={reference}")]


def test_the_reference_misplaces_nested_extensions_whose_namespace_does_not_end_in_a_slash() -> None:
    # D10. Rule 21 puts extensions of readPoint, bizLocation and the sensor parts after their parent's fields.
    # 1.9.3 recognises them only when the namespace IRI ends in '/', so 'urn:…:' or '…#' ones fall to the end of
    # the pre-hash string.
    context = [GS1_CONTEXT, {"ex": EX, "rail": "urn:gs1:epcisapp:rail:"}]
    event = _event(readPoint={"id": "urn:epc:id:sgln:6903215.00001.0", "rail:track": "7"}, **{"ex:z": "1"})
    mine = pre_hash_string(event, context=context)
    inside = "readPointid=https://id.gs1.org/414/6903215000015{urn:gs1:epcisapp:rail:}track=7"
    assert inside in mine
    # … where it sorts among the other leftovers, before the extension {…example.com…}z.
    assert reference_prehashes(document(event, context=context)) == [
        mine.replace(inside, "readPointid=https://id.gs1.org/414/6903215000015").replace(
            "{https://ns.example.com/epcis/}z=1",
            "readPoint{urn:gs1:epcisapp:rail:}track=7{https://ns.example.com/epcis/}z=1",
        )
    ]


@pytest.mark.parametrize(
    ("sensor", "inside", "leftover"),
    [
        # A sensorMetadata holding nothing but an extension: 1.9.3 gathers extensions only beside other fields.
        (
            {"sensorMetadata": {"ex:batch": "B1"}, "sensorReport": [{"type": "Temperature", "value": 4}]},
            "sensorMetadata{https://ns.example.com/epcis/}batch=B1",
            "sensorElementListsensorElementsensorMetadata{https://ns.example.com/epcis/}batch=B1",
        ),
        # An extension whose name contains "action" (or "eventTime") makes 1.9.3 take its parent for the event.
        (
            {"sensorReport": [{"type": "Temperature", "value": 4, "ex:transactionRef": "T1"}]},
            "{https://ns.example.com/epcis/}transactionRef=T1",
            "sensorElementListsensorElementsensorReport{https://ns.example.com/epcis/}transactionRef=T1",
        ),
    ],
)
def test_the_reference_misplaces_nested_extensions_in_two_more_cases(sensor: Any, inside: str, leftover: str) -> None:
    # D10 continued: the extension goes to the end of the pre-hash string, under a copy of its parents' names.
    event = _event(sensorElementList=[sensor])
    mine = pre_hash_string(event, context=[GS1_CONTEXT, {"ex": EX}])
    assert inside in mine
    assert reference_prehashes(document(event)) == [mine.replace(inside, "") + leftover]


@pytest.mark.parametrize(
    ("value", "standard", "reference"),
    [
        (None, "", "{https://ns.example.com/epcis/}note=None"),  # D11: JSON-LD null is no value
        (
            [[1, 2], [3]],
            "{https://ns.example.com/epcis/}note=1{https://ns.example.com/epcis/}note=2"
            "{https://ns.example.com/epcis/}note=3",
            "{https://ns.example.com/epcis/}note=1=2{https://ns.example.com/epcis/}note=3",
        ),
    ],
)
def test_the_reference_writes_null_and_nested_arrays_as_python_sees_them(
    value: Any, standard: str, reference: str
) -> None:
    # D11, D12. read_document refuses both (neither has an EPCIS meaning); the hash function still gives them one.
    event = _event(**{"ex:note": value})
    mine = pre_hash_string(event, context=[GS1_CONTEXT, {"ex": EX}])
    assert mine.endswith("action=OBSERVE" + standard)
    assert reference_prehashes(document(event)) == [mine.removesuffix(standard) + reference]


@needs_shared
def test_the_reference_fails_on_a_term_definition_in_the_context() -> None:
    # D13. A context may define terms ("rail:trainAxleCount": {"@type": "xsd:integer"}), as GS1's own rail
    # example does; 1.9.3 adds the definition object to a string and raises TypeError for the whole document.
    path = GS1 / "gs1-examples" / "Example-TransactionEvents-2020_07_03y.jsonld"
    with pytest.raises(TypeError):
        reference_prehashes(path.read_text())
    assert len(read_document(path.read_bytes(), source=path.name)) == 2


def test_the_reference_remembers_prefixes_from_one_document_to_the_next() -> None:
    # D14. 1.9.3 keeps prefixes in a module-level dict; reference_prehashes clears it around each call. Without
    # that, a prefix one document declares expands in the next document, which never declared it.
    from epcis_event_hash_generator import hash_generator, json_to_py

    later = document(_event(**{"ex:x": "1"}), context=[GS1_CONTEXT])  # uses ex without declaring it
    alone = reference_prehashes(later)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # as in reference_prehashes
            json_to_py.event_list_from_epcis_document_str(to_json(document(_event())))  # declares ex
            events = json_to_py.event_list_from_epcis_document_str(to_json(later))
        after = hash_generator.derive_prehashes_from_events(events, "")
    finally:
        json_to_py._namespaces.clear()
    assert alone[0].endswith("ex:x=1")
    assert after[0].endswith("{https://ns.example.com/epcis/}x=1")


def test_the_reference_ignores_no_fields() -> None:
    # D15. A document's repository-x:ignoreFields names fields outside every event's ID (the convention of the
    # reference's own later releases, pull request 114). 1.9.3 predates it and hashes them.
    context = [GS1_CONTEXT, {"ex": EX, "repository-x": "https://repository-x.example.com/"}]
    event = _event(**{"ex:captureID": "c-17"})
    doc = document(event, context=context, **{"repository-x:ignoreFields": ["ex:captureID"]})
    read = read_document(to_json(doc), source="ignore")
    assert "ex:captureID" not in read[0]
    assert event_hash_id(read[0]) == event_hash_id(_event())
    assert reference_ids(doc) == [event_hash_id(event, context=context)] != [event_hash_id(_event())]


def test_the_reference_keeps_a_digital_links_spelling() -> None:
    # D16. RFC 3986 makes %41 and A, and %2f and %2F, the same URI; 1.9.3 keeps escapes (and an upper-case
    # scheme or host) as written, so one item gets two IDs. tracechain decodes and re-encodes.
    plain = _event(epcList=["https://id.gs1.org/01/06903215123455/21/A%2F1"])
    escaped = _event(epcList=["https://id.gs1.org/01/06903215123455/21/%41%2f1"])
    assert event_hash_id(plain) == event_hash_id(escaped)
    assert reference_ids(document(plain)) == [event_hash_id(plain)]
    assert reference_ids(document(escaped)) != [event_hash_id(escaped)]


def test_the_reference_recognises_no_digital_link_with_an_escape() -> None:
    # D16. GS1 Digital Link requires escapes (%2F for '/', %21 for '!', …) and the reference writes them in the
    # links it makes from EPC URNs, yet it recognises no link that contains one: such a link on another host, or
    # with a query string, stays as written. tracechain gives all three spellings one ID.
    urn = _event(epcList=["urn:epc:id:sgtin:6903215.012345.A%2F1"])
    canonical = _event(epcList=["https://id.gs1.org/01/06903215123455/21/A%2F1"])
    elsewhere = _event(epcList=["https://resolver.example.cn/01/06903215123455/21/A%2F1?17=270228"])
    assert event_hash_id(urn) == event_hash_id(canonical) == event_hash_id(elsewhere)
    assert reference_ids(document(urn)) == reference_ids(document(canonical)) == [event_hash_id(urn)]
    assert reference_ids(document(elsewhere)) != [event_hash_id(urn)]
    # Nor does it recognise a link with a /22/ qualifier when the values after it are long: a 5-character lot
    # and a 6-character serial are already too many.
    variant = _event(epcList=["https://id.gs1.org/01/06903215123455/22/V2/10/LOT-7/21/cZlXXb"])
    assert event_hash_id(variant) == event_hash_id(_event(epcList=["urn:epc:id:sgtin:6903215.012345.cZlXXb"]))
    assert (
        "epc=https://id.gs1.org/01/06903215123455/22/V2/10/LOT-7/21/cZlXXb" in reference_prehashes(document(variant))[0]
    )


def test_the_reference_takes_gdti_serials_longer_than_gs1_allows() -> None:
    # D17. A GDTI's serial is at most 17 characters (AI 253, N13+X..17); 1.9.3 converts URNs with 18 or 19 as well.
    # tracechain treats such a URN as no GS1 key and hashes it as written.
    event = _event(epcList=["urn:epc:id:gdti:0614141.58599." + "1" * 18])
    assert "epc=urn:epc:id:gdti:0614141.58599.111111111111111111" in pre_hash_string(event)
    assert reference_prehashes(document(event)) == [
        pre_hash_string(event).replace(
            "urn:epc:id:gdti:0614141.58599.111111111111111111", "https://id.gs1.org/253/0614141585991111111111111111111"
        )
    ]


@pytest.mark.parametrize(
    ("field", "value"), [("stringValue", "007"), ("hexBinaryValue", "0100"), ("hexBinaryValue", "4E84")]
)
def test_the_reference_reads_sensor_text_as_a_number(field: str, value: str) -> None:
    # D19. stringValue is xsd:string and hexBinaryValue xsd:hexBinary: "0100" and "100" are different values,
    # and "4E84" is no number at all. 1.9.3 formats every numeric-looking value as a number.
    event = _event(sensorElementList=[{"sensorReport": [{"type": "Count", field: value}]}])
    mine = pre_hash_string(event)
    assert f"{field}={value}" in mine
    as_number = str(int(float(value)))
    assert reference_prehashes(document(event)) == [mine.replace(f"{field}={value}", f"{field}={as_number}")]


def test_the_reference_rounds_long_digit_strings_through_a_float() -> None:
    # D8. Numeric text is a number (rule 6), and 1.9.3 makes it a binary float: a 24-digit veterinary drug trace
    # code loses its last eight digits, so two trace codes that differ there get the same ID.
    one = _event(**{"ex:trace": "202503021023400000000157"})
    other = _event(**{"ex:trace": "202503021023400000000158"})
    assert event_hash_id(one, context=[GS1_CONTEXT, {"ex": EX}]) != event_hash_id(
        other, context=[GS1_CONTEXT, {"ex": EX}]
    )
    assert reference_ids(document(one)) == reference_ids(document(other))
    assert reference_prehashes(document(one))[0].endswith("trace=202503021023399988166656")


def test_the_reference_expands_any_text_that_ends_like_a_vocabulary_word() -> None:
    # D18. 1.9.3 finds bare vocabulary words by expanding the whole document as JSON-LD and then replacing every
    # string, anywhere, that an expanded CBV IRI of the document ends with. An extension's text "shipping" thus
    # becomes a business step URI, and only in documents that also use the business step shipping.
    event = _event(bizStep="shipping", **{"ex:note": "shipping"})
    mine = pre_hash_string(event, context=[GS1_CONTEXT, {"ex": EX}])
    assert mine.endswith("{https://ns.example.com/epcis/}note=shipping")
    assert reference_prehashes(document(event)) == [
        mine.replace("note=shipping", "note=https://ref.gs1.org/cbv/BizStep-shipping")
    ]
    assert reference_prehashes(document(_event(**{"ex:note": "shipping"}))) == [
        pre_hash_string(_event(**{"ex:note": "shipping"}), context=[GS1_CONTEXT, {"ex": EX}])
    ]


def test_the_reference_reads_no_query_document() -> None:
    # D9. 1.9.3 looks for the events of an EPCISQueryDocument under epcisBody.event and raises KeyError.
    doc = load(VALID / "query_document.jsonld")
    with pytest.raises(KeyError):
        reference_prehashes(doc)
    assert reference_prehashes(_as_epcis_document(copy.deepcopy(doc))) == _mine(doc)


def test_the_readme_order_and_the_published_ids_differ_and_tracechain_follows_the_ids() -> None:
    # R1, R2. The reference's README lists epcList before parentID and bizTransactionList/sourceList/destinationList
    # before sensorElementList; its code and every published expected value put parentID first and those three
    # lists among the sorted rest. A TransactionEvent can hold both parentID and epcList.
    event = {
        "type": "TransactionEvent",
        "eventTime": "2025-03-20T14:00:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "action": "ADD",
        "parentID": "urn:epc:id:sscc:6903215.0000000012",
        "epcList": ["urn:epc:id:sgtin:6903215.012345.A0000017"],
        "bizTransactionList": [{"type": "po", "bizTransaction": "https://erp.example.cn/po/4711"}],
        "sensorElementList": [{"sensorReport": [{"type": "Temperature", "value": 4}]}],
    }
    mine = pre_hash_string(event)
    assert mine.index("parentID=") < mine.index("epcList")
    assert mine.index("sensorElementList") < mine.index("bizTransactionList")
    assert reference_prehashes(document(event)) == [mine]
