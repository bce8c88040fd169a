"""read_document: EPCIS 2.0 documents in, tracechain's events out, and documents that break the standard refused
whole, naming the event and the field."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.epcis_support import EX, GS1, REFUSED, REFUSED_CASES, VALID, document, load, needs_shared
from tracechain.epcis import GS1_CONTEXT, event_hash_id, read_document
from tracechain.errors import TracechainError, ValidationError
from tracechain.events import BIZ_STEPS, DISPOSITIONS, to_json


def test_every_refused_document_has_its_expectation() -> None:
    assert sorted(p.stem for p in REFUSED.glob("*.jsonld")) == sorted(REFUSED_CASES)


@pytest.mark.parametrize("name", sorted(REFUSED_CASES))
def test_a_document_breaking_the_standard_is_refused_naming_event_and_field(name: str) -> None:
    where, what = REFUSED_CASES[name]
    with pytest.raises(ValidationError) as caught:
        read_document((REFUSED / f"{name}.jsonld").read_bytes(), source=name)
    message = str(caught.value)
    assert message.startswith(f"{name}: ")
    assert where in message, message
    assert what in message, message
    assert caught.value.problems and caught.value.problems[0][0].startswith("$")


def test_a_bad_event_anywhere_refuses_the_whole_document_and_every_problem_is_listed() -> None:
    good = _event()
    bad = _event(bizStep="exampling", disposition="sold_out")
    worse = _event(eventTime="yesterday")
    with pytest.raises(ValidationError) as caught:
        read_document(document(good, bad, good, worse), source="batch.jsonld")
    assert "event 1, field bizStep" in str(caught.value)
    assert "(and 2 more problems)" in str(caught.value)
    assert [p for p, _ in caught.value.problems] == [
        "$.epcisBody.eventList[1].bizStep",
        "$.epcisBody.eventList[1].disposition",
        "$.epcisBody.eventList[3].eventTime",
    ]
    assert all(m.startswith(("event 1:", "event 3:")) for _, m in caught.value.problems)


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


# --- what comes out -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("object_event.jsonld", 3),
        ("aggregation_event.jsonld", 3),
        ("transaction_event.jsonld", 2),
        ("transformation_event.jsonld", 2),
        ("association_event.jsonld", 2),
        ("query_document.jsonld", 2),
        ("cbv_spellings.jsonld", 5),
        ("booleans_untyped_transactions.jsonld", 2),
    ],
)
def test_the_projects_documents_read_in_every_input_form(name: str, count: int) -> None:
    path = VALID / name
    from_bytes = read_document(path.read_bytes(), source=name)
    assert len(from_bytes) == count
    assert read_document(path.read_text(encoding="utf-8"), source=name) == from_bytes
    assert read_document(b"\xef\xbb\xbf" + path.read_bytes(), source=name) == from_bytes  # a UTF-8 BOM
    parsed = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    assert read_document(parsed, source=name) == from_bytes


def test_all_five_event_types_come_back_with_their_fields() -> None:
    types = {e["type"] for name in ("object", "aggregation", "transaction", "transformation", "association")
             for e in read_document((VALID / f"{name}_event.jsonld").read_bytes(), source=name)}  # fmt: skip
    assert types == {"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"}


def test_cbv_values_become_bare_words_whatever_their_spelling() -> None:
    events = read_document((VALID / "cbv_spellings.jsonld").read_bytes(), source="cbv")
    assert events[0] == events[1] == events[2]
    first = events[0]
    assert first["bizStep"] == "shipping" and first["disposition"] == "in_transit"
    assert first["bizTransactionList"][0]["type"] == "desadv"
    assert first["sourceList"][0]["type"] == "owning_party"
    assert first["persistentDisposition"] == {"set": ["recalled"]}
    # EPC URN and Digital Link stay as written (tracechain's item index makes them one code).
    assert events[3]["epcList"] == ["https://id.gs1.org/00/069032150000000121"]


def test_every_field_family_of_the_full_object_event_survives() -> None:
    event = read_document((VALID / "object_event.jsonld").read_bytes(), source="object")[0]
    assert event["@context"] == {"ex": EX, "lab": "https://lab.example.cn/ns/"}  # only what it uses, not GS1's
    assert event["eventID"] == "urn:uuid:1b4e28ba-2fa1-41d2-883f-0016d3cca427"
    assert event["recordTime"] == "2025-03-01T09:31:00Z"
    assert event["certificationInfo"] == [
        "https://cert.example.cn/haccp/2025-0117",
        "https://cert.example.cn/iso22000/88",
    ]
    assert event["bizStep"] == "commissioning" and event["disposition"] == "active"
    assert event["persistentDisposition"] == {"set": ["completeness_verified"], "unset": ["completeness_inferred"]}
    assert event["quantityList"][0] == {
        "epcClass": "urn:epc:class:lgtin:6903215.012345.NL250301A",
        "quantity": Decimal("1200.50"),
        "uom": "KGM",
    }
    assert event["readPoint"] == {"id": "urn:epc:id:sgln:6903215.00001.0", "ex:dock": "B-2"}
    assert event["bizTransactionList"][1]["type"] == "prodorder"
    assert event["destinationList"] == [
        {"type": "possessing_party", "destination": "https://id.gs1.org/417/6909111000029"}
    ]
    sensor = event["sensorElementList"][0]
    assert sensor["sensorMetadata"]["ex:calibrated"] == "2025-01-10"
    assert [r["type"] for r in sensor["sensorReport"]][:3] == ["Temperature", "RelativeHumidity", "Dimensionless"]
    assert sensor["sensorReport"][2]["exception"] == "ALARM_CONDITION"
    assert [r.get("component") for r in sensor["sensorReport"][3:5]] == ["latitude", "longitude"]
    assert sensor["ex:vehicle"] == "粤Q·12345"
    assert event["ilmd"]["cbvmda:lotNumber"] == "NL250301A"
    assert event["ilmd"]["lab:reportList"] == ["R-1", "R-2"]
    assert event["ex:weights"] == {"ex:gross": 1250, "ex:net": "1200.50", "ex:tare": {"ex:kg": 50}}
    assert event["errorDeclaration"]["reason"] == "incorrect_data"


def test_an_extension_prefix_is_declared_on_the_event_so_it_means_the_same_alone() -> None:
    doc = document(
        _event(**{"ex:a": "acme:grade", "acme:b": 1}),
        context=[GS1_CONTEXT, {"ex": EX, "acme": "urn:acme:", "unused": "urn:u:"}],
    )
    event = read_document(doc, source="ctx")[0]
    assert event["@context"] == {"acme": "urn:acme:", "ex": EX}
    assert event_hash_id(event) == event_hash_id(doc["epcisBody"]["eventList"][0], context=doc["@context"])


def test_an_event_without_extensions_carries_no_context() -> None:
    event = read_document(document(_event(bizStep="shipping")), source="plain")[0]
    assert "@context" not in event


def test_numbers_come_back_exact_and_integral_ones_as_integers() -> None:
    quantities = '[{"epcClass": "urn:epc:class:lgtin:6903215.012345.L1", "quantity": 1200.0, "uom": "KGM"},' \
        ' {"epcClass": "urn:epc:class:lgtin:6903215.012345.L2", "quantity": 0.10}]'  # fmt: skip
    text = to_json(document(_event(quantityList="QUANTITIES"))).replace('"QUANTITIES"', quantities)
    first, second = read_document(text, source="n")[0]["quantityList"]
    assert first["quantity"] == 1200 and isinstance(first["quantity"], int)
    assert str(second["quantity"]) == "0.10"  # exact, as written
    floats = read_document(document(_event(**{"ex:f": 0.1})), source="f")[0]
    assert floats["ex:f"] == Decimal("0.1")


def test_an_eventid_that_is_the_events_own_hash_is_dropped_and_any_other_kept() -> None:
    plain = _event()
    own = event_hash_id(plain)
    kept = read_document(document(_event(eventID="urn:uuid:1b4e28ba-2fa1-41d2-883f-0016d3cca427")), source="k")[0]
    dropped = read_document(document(_event(eventID=own)), source="d")[0]
    assert kept["eventID"] == "urn:uuid:1b4e28ba-2fa1-41d2-883f-0016d3cca427"
    assert "eventID" not in dropped
    restored = read_document(document(_event(eventID=own, **{"tc:eventID": "urn:uuid:aa"})), source="r")[0]
    assert restored["eventID"] == "urn:uuid:aa"


def test_fields_a_document_declares_outside_the_hash_are_dropped() -> None:
    context = [GS1_CONTEXT, {"ex": EX, "repository-x": "https://repository-x.example.com/"}]
    doc = document(
        _event(**{"ex:captureID": "c-1", "ex:kept": "yes", "tc:ledgerIndex": 7, "tc:leafHash": "00" * 32}),
        context=context,
        **{"repository-x:ignoreFields": ["ex:captureID"]},
    )
    event = read_document(doc, source="ignore")[0]
    assert "ex:captureID" not in event and event["ex:kept"] == "yes"
    assert "tc:ledgerIndex" not in event and "tc:leafHash" not in event  # another ledger's position, always


def test_tracechain_fields_in_any_prefix_come_back_as_tc() -> None:
    context = [GS1_CONTEXT, {"trace": "urn:tracechain:epcis:"}]
    doc = document(
        _event(**{"trace:product": "salt", "trace:kde": {"trace:lot": "L1", "trace:grades": [{"trace:g": "A"}]}}),
        context=context,
    )
    event = read_document(doc, source="tc")[0]
    assert event["tc:product"] == "salt"
    assert event["tc:kde"] == {"lot": "L1", "grades": [{"g": "A"}]}
    assert "@context" not in event


def test_sensor_only_object_events_need_a_read_point() -> None:
    sensor = [{"sensorReport": [{"type": "Temperature", "value": 4}]}]
    ok = _event(sensorElementList=sensor, readPoint={"id": "urn:epc:id:sgln:6903215.00001.0"})
    del ok["epcList"]
    assert len(read_document(document(ok), source="s")) == 1
    del ok["readPoint"]
    with pytest.raises(ValidationError, match="no identifier at all"):
        read_document(document(ok), source="s")


@needs_shared
def test_every_example_of_the_standard_reads_but_the_two_that_break_it() -> None:
    examples = sorted((GS1 / "gs1-examples").rglob("*.jsonld"))
    refused = {}
    for path in examples:
        try:
            events = read_document(path.read_bytes(), source=path.name)
        except ValidationError as e:
            refused[path.name] = str(e)
            continue
        assert events, path.name
        for event in events:
            assert event.get("bizStep", "shipping") in BIZ_STEPS or ":" in event["bizStep"]
            assert event.get("disposition", "active") in DISPOSITIONS or ":" in event["disposition"]
    assert len(examples) == 47
    assert sorted(refused) == ["AssociationEvent-h.jsonld", "transformation_event_all_possible_fields.jsonld"]
    assert "the key 'eventID' appears twice" in refused["AssociationEvent-h.jsonld"]
    assert (
        "redefines 'cbvmda', a protected term of GS1's EPCIS context"
        in refused["transformation_event_all_possible_fields.jsonld"]
    )


def test_a_query_documents_event_list_is_read() -> None:
    events = read_document((VALID / "query_document.jsonld").read_bytes(), source="q")
    assert [e["bizStep"] for e in events] == ["receiving", "retail_selling"]
    broken = load(VALID / "query_document.jsonld")
    del broken["epcisBody"]["queryResults"]["resultsBody"]
    with pytest.raises(ValidationError, match=r"queryResults\.resultsBody\.eventList: required"):
        read_document(broken, source="q")


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.pop("creationDate"), r"\$\.creationDate: required"),
        (lambda d: d.update(schemaVersion="1.2"), "EPCIS 2.x schema version"),
        (lambda d: d.update(creationDate="today"), r"\$\.creationDate"),
        (lambda d: d.update(surprise=1), r"\$\.surprise: not a field of an EPCISDocument"),
        (lambda d: d["epcisBody"].pop("eventList"), r"eventList: required"),
    ],
)
def test_the_envelope_is_checked(mutate: Any, expected: str) -> None:
    doc = document(_event())
    mutate(doc)
    with pytest.raises(ValidationError, match=expected):
        read_document(doc, source="env")


def test_text_that_is_not_utf8_or_json_values_that_are_not_json_are_refused() -> None:
    with pytest.raises(ValidationError, match="not UTF-8"):
        read_document(b"\xff\xfe{}", source="bytes")
    with pytest.raises(ValidationError, match="NaN is not a JSON number"):
        read_document('{"type": NaN}', source="nan")
    with pytest.raises(ValidationError, match="not valid Unicode text"):
        read_document('{"type": "EPCISDocument", "x": "\\ud800"}', source="surrogate")
    with pytest.raises(ValidationError, match="set is not a JSON value"):
        read_document({"type": "EPCISDocument", "x": {1, 2}}, source="set")  # type: ignore[dict-item]


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.sampled_from(["shipping", "ex:x", "urn:epc:id:sgtin:1.2.3"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["type", "epcList", "bizStep", "ex:x", "x", "@context", "readPoint", "id", "quantityList", "quantity"]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=120, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(sorted(_event()) + ["ilmd", "sensorElementList", "parentID", "childEPCs", "ex:e"]),
            _JSON,
            max_size=8,
        ),
        max_size=3,
    )
)
def test_any_json_in_an_event_list_gives_events_or_a_validation_error(events: list[dict[str, Any]]) -> None:
    try:
        read_document(document(*events), source="fuzz")
    except ValidationError:
        pass
    except TracechainError as e:  # pragma: no cover - the assertion names it
        pytest.fail(f"a TracechainError that is no ValidationError: {e!r}")
