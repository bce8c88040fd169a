"""The event envelope: EPCIS 2.0 fields checked, every spelling normalised to one canonical form."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import GTIN14, SHARED, make_event
from tracechain.errors import TracechainError, ValidationError
from tracechain.events import Event, format_time, parse_json, parse_time, to_json


def envelope(d: dict[str, Any]) -> Event:
    return Event.from_dict(d, check_profile=False)


def test_event_time_is_utc_microseconds_and_the_offset_is_kept() -> None:
    e = envelope(make_event(eventTime="2026-03-01T08:00:00.5+08:00"))
    assert e.data["eventTime"] == parse_time("2026-03-01T00:00:00.500Z", "t")
    assert e.data["eventTimeZoneOffset"] == "+08:00"
    assert e.to_dict()["eventTime"] == "2026-03-01T08:00:00.500+08:00"


def test_the_same_instant_in_two_offsets_is_the_same_canonical_time() -> None:
    a = envelope(make_event(eventTime="2026-03-01T08:00:00+08:00"))
    b = envelope(make_event(eventTime="2026-03-01T00:00:00Z"))
    assert a.data["eventTime"] == b.data["eventTime"]


def test_cbv_values_in_any_spelling_become_bare_words() -> None:
    spellings = ["shipping", "https://ref.gs1.org/cbv/BizStep-shipping", "urn:epcglobal:cbv:bizstep:shipping"]
    steps = {envelope(make_event(bizStep=s)).data["bizStep"] for s in spellings}
    assert steps == {"shipping"}


def test_item_codes_in_any_spelling_become_one_canonical_code() -> None:
    forms = [
        f"https://id.gs1.org/01/{GTIN14}/21/U1",
        f"https://trace.example.cn/01/{GTIN14}/21/U1",
        f"https://id.gs1.org/01/{GTIN14[1:]}/21/U1",
    ]
    codes = {envelope(make_event(epcList=[f])).data["epcList"][0] for f in forms}
    assert codes == {f"https://id.gs1.org/01/{GTIN14}/21/U1"}


def test_key_order_and_decimal_spelling_do_not_change_canonical_bytes() -> None:
    a = make_event(quantityList=[{"epcClass": f"https://id.gs1.org/01/{GTIN14}/10/L1", "quantity": 2.50, "uom": "KGM"}])
    b = dict(reversed(list(copy.deepcopy(a).items())))
    b["quantityList"][0]["quantity"] = Decimal("2.5000")
    assert envelope(a).canonical_bytes() == envelope(b).canonical_bytes()


def test_round_trip_through_canonical_bytes() -> None:
    e = envelope(make_event(7))
    again = Event.from_canonical(e.canonical_bytes())
    assert again.data == e.data
    assert again.to_dict() == e.to_dict()


def test_every_problem_is_listed_with_its_json_path() -> None:
    bad = make_event(type="ObjectEvent", action="MOVE", eventTime="2026-02-30T00:00:00+08:00")
    bad["eventTimeZoneOffset"] = "8"
    bad["bizStep"] = "teleporting"
    bad["epcList"] = ["", 5]
    bad["colour"] = "red"
    with pytest.raises(ValidationError) as caught:
        envelope(bad)
    paths = {p for p, _ in caught.value.problems}
    assert paths >= {
        "$.action",
        "$.eventTime",
        "$.eventTimeZoneOffset",
        "$.bizStep",
        "$.epcList[0]",
        "$.epcList[1]",
        "$.colour",
    }
    assert "expected a real calendar date and time" in caught.value.diagnostics()


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"type": "Event"}, "$.type"),
        ({"tc:product": "tobacco"}, "$.tc:product"),
        ({"eventTime": "2026-03-01 08:00:00"}, "$.eventTime"),
        ({"eventTime": "2026-03-01T08:00:00"}, "$.eventTime"),
        ({"eventTime": "2026-03-01T08:00:00.1234567+08:00"}, "$.eventTime"),
        ({"eventTimeZoneOffset": "+15:00"}, "$.eventTimeZoneOffset"),
        ({"disposition": "lost"}, "$.disposition"),
        ({"quantityList": [{"quantity": 1}]}, "$.quantityList[0].epcClass"),
        ({"quantityList": [{"epcClass": "urn:x:1", "quantity": -1}]}, "$.quantityList[0].quantity"),
        ({"readPoint": {}}, "$.readPoint.id"),
        ({"sourceList": [{"source": "urn:x"}]}, "$.sourceList[0].type"),
        ({"parentID": f"https://id.gs1.org/00/{'1' * 18}"}, "$.parentID"),
        ({"childEPCs": ["urn:x:1"]}, "$.childEPCs"),
        ({"tc:kde": [1, 2]}, "$.tc:kde"),
        ({"tc:other": 1}, "$.tc:other"),
    ],
)
def test_envelope_violations_name_the_field(change: dict[str, Any], path: str) -> None:
    with pytest.raises(ValidationError) as caught:
        envelope(make_event(**change))
    assert path in {p for p, _ in caught.value.problems}


def test_transformation_events_have_no_action() -> None:
    t = make_event(type="TransformationEvent")
    del t["epcList"]
    t["inputEPCList"] = [f"https://id.gs1.org/01/{GTIN14}/21/A"]
    t["outputEPCList"] = [f"https://id.gs1.org/01/{GTIN14}/21/B"]
    with pytest.raises(ValidationError, match="no action"):
        envelope(t)
    del t["action"]
    assert list(envelope(t).item_codes()) == [t["inputEPCList"][0], t["outputEPCList"][0]]


def test_namespaced_extensions_are_kept() -> None:
    e = envelope(make_event(**{"example:temperature": {"value": 4.5}}))
    assert e.data["example:temperature"] == {"value": Decimal("4.5")}


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('{"a": 1, "a": 2}', "duplicate key"),
        ('{"a": NaN}', "NaN"),
        ('{"a": Infinity}', "Infinity"),
        ('{"a": 123456789012345678901234}', "too large"),
        ("[" * 100_000 + "]" * 100_000, "nested"),
        (b'{"a": "\xff"}', "UTF-8"),
        ("{", "not valid JSON"),
    ],
)
def test_strict_json_parsing(text: str | bytes, complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        parse_json(text)


def test_json_output_writes_decimals_as_exact_numbers() -> None:
    assert (
        to_json({"q": Decimal("0.1000000000000000055511151231257827")}) == '{"q": 0.1000000000000000055511151231257827}'
    )


def test_format_time_round_trips() -> None:
    for text in ["2026-03-01T08:00:00+08:00", "2026-03-01T00:00:00.123456Z", "1999-12-31T23:59:59.999-05:30"]:
        offset = "+00:00" if text.endswith("Z") else text[-6:]
        assert format_time(parse_time(text, "t"), offset) == text


def _gs1_events() -> list[tuple[str, dict[str, Any]]]:
    root = SHARED / "epcis" / "gs1-examples"
    out = []
    for path in sorted(root.rglob("*.jsonld")):
        try:
            doc = parse_json(path.read_bytes(), source=path.name)
        except ValidationError:
            continue  # AssociationEvent-h repeats a key; strict parsing refuses it, as it should
        body = doc.get("epcisBody", {})
        events = body.get("eventList") or ([body["event"]] if "event" in body else [])
        out += [(f"{path.name}[{i}]", e) for i, e in enumerate(events)]
    return out


@pytest.mark.skipif(not (SHARED / "epcis").is_dir(), reason="../shared/epcis is not beside the checkout")
def test_gs1_example_events_are_accepted_and_round_trip() -> None:
    events = _gs1_events()
    assert len(events) >= 50
    for name, raw in events:
        raw = {**raw, "tc:product": "food"}
        e = envelope(raw)
        assert Event.from_canonical(e.canonical_bytes()).data == e.data, name
        assert envelope(e.to_dict()).canonical_bytes() == e.canonical_bytes(), name


@pytest.mark.skipif(not (SHARED / "epcis").is_dir(), reason="../shared/epcis is not beside the checkout")
def test_gs1_example_with_a_repeated_key_is_refused() -> None:
    path = SHARED / "epcis" / "gs1-examples" / "AssociationEvent" / "AssociationEvent-h.jsonld"
    with pytest.raises(ValidationError, match="duplicate key"):
        parse_json(path.read_bytes())


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20,
)


@given(st.dictionaries(st.sampled_from(sorted(make_event())) | st.text(max_size=8), json_values, max_size=10))
def test_arbitrary_dicts_only_raise_tracechain_errors(d: dict[str, Any]) -> None:
    merged = {**make_event(), **d}
    try:
        e = envelope(merged)
    except TracechainError:
        return
    assert Event.from_canonical(e.canonical_bytes()).data == e.data


def test_item_codes_met_while_validating_are_those_the_canonical_model_names() -> None:
    from tracechain.events import item_codes

    examples = sorted((Path(__file__).parent / "examples").glob("*/*.json"))
    assert len(examples) >= 50
    for path in examples:
        e = Event.from_dict(parse_json(path.read_bytes()))
        again = Event.from_canonical(e.canonical_bytes())
        assert set(e.item_codes()) == set(item_codes(e.data)) == set(again.item_codes()), path.name


# -------------------------------------------------------------------------------------------------------------
# Issue 10 item 3: what the envelope schema refuses, the event model refuses too (each of these was accepted).

SSCC = "https://id.gs1.org/00/069032150000000121"
UNIT = f"https://id.gs1.org/01/{GTIN14}/21/U000001"


def _without(d: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in keys}


ENVELOPE_DEFECTS: list[tuple[str, dict[str, Any], str]] = [
    ("object event with an empty epcList and no quantityList", make_event(epcList=[]), "$"),
    (
        "aggregation event without parentID",
        _without(make_event(type="AggregationEvent", childEPCs=[UNIT]), "epcList"),
        "$.parentID",
    ),
    (
        "aggregation ADD with no children",
        _without(make_event(type="AggregationEvent", parentID=SSCC), "epcList"),
        "$",
    ),
    (
        "transformation event with no input or output list",
        _without(make_event(type="TransformationEvent"), "epcList", "action"),
        "$",
    ),
    ("transaction event with no bizTransactionList", make_event(type="TransactionEvent"), "$.bizTransactionList"),
    (
        "a quantity of 0",
        _without(
            make_event(quantityList=[{"epcClass": f"https://id.gs1.org/01/{GTIN14}/10/L1", "quantity": 0}]), "epcList"
        ),
        "$.quantityList[0].quantity",
    ),
    (
        "a unit that is not a UN/CEFACT Rec 20 code",
        make_event(quantityList=[{"epcClass": f"https://id.gs1.org/01/{GTIN14}/10/L1", "quantity": 2, "uom": "kg"}]),
        "$.quantityList[0].uom",
    ),
    ("the same EPC twice", make_event(epcList=[UNIT, UNIT]), "$.epcList[1]"),
    ("the same EPC twice in two spellings", make_event(epcList=[UNIT, f"(01){GTIN14}(21)U000001"]), "$.epcList[1]"),
    ("an eventID that is not a URI", make_event(eventID="event 17"), "$.eventID"),
    ("certificationInfo that is not a URI", make_event(certificationInfo="ISO 22000"), "$.certificationInfo"),
    (
        "a list of certificationInfo with a non-URI",
        make_event(certificationInfo=["urn:x:1", "cert"]),
        "$.certificationInfo[1]",
    ),
    (
        "a source that is not a URI",
        make_event(sourceList=[{"type": "owning_party", "source": "阳西县示例食品有限公司"}]),
        "$.sourceList[0].source",
    ),
    (
        "a business transaction that is not a URI",
        make_event(bizTransactionList=[{"type": "po", "bizTransaction": "PO 123"}]),
        "$.bizTransactionList[0].bizTransaction",
    ),
    (
        "an error declaration without its time",
        make_event(errorDeclaration={"reason": "did_not_occur"}),
        "$.errorDeclaration.declarationTime",
    ),
    (
        "an error declaration with an unknown reason",
        make_event(errorDeclaration={"declarationTime": "2026-03-02T08:00:00+08:00", "reason": "oops"}),
        "$.errorDeclaration.reason",
    ),
    (
        "an error declaration with a field outside EPCIS",
        make_event(errorDeclaration={"declarationTime": "2026-03-02T08:00:00+08:00", "note": "typo"}),
        "$.errorDeclaration.note",
    ),
    ("an error declaration that is not an object", make_event(errorDeclaration="did_not_occur"), "$.errorDeclaration"),
    ("an empty persistent disposition", make_event(persistentDisposition={}), "$.persistentDisposition"),
    (
        "a persistent disposition with an empty set",
        make_event(persistentDisposition={"set": []}),
        "$.persistentDisposition.set",
    ),
    (
        "a persistent disposition with another key",
        make_event(persistentDisposition={"add": ["recalled"]}),
        "$.persistentDisposition.add",
    ),
    (
        "a persistent disposition with an unknown disposition",
        make_event(persistentDisposition={"set": ["lost"]}),
        "$.persistentDisposition.set[0]",
    ),
    (
        "a persistent disposition naming one disposition twice",
        make_event(persistentDisposition={"unset": ["recalled", "recalled"]}),
        "$.persistentDisposition.unset[1]",
    ),
]


@pytest.mark.parametrize(("case", "event", "path"), ENVELOPE_DEFECTS, ids=[c for c, _, _ in ENVELOPE_DEFECTS])
def test_what_the_envelope_schema_refuses_the_event_model_refuses(case: str, event: dict[str, Any], path: str) -> None:
    for check_profile in (False, True):
        with pytest.raises(ValidationError) as caught:
            Event.from_dict(event, check_profile=check_profile)
        assert path in {p for p, _ in caught.value.problems}, (case, caught.value.problems)


def test_a_ledger_refuses_an_event_the_envelope_schema_refuses(ledger: Any, actor_key: Any) -> None:
    before = ledger.size
    with pytest.raises(ValidationError, match=r"\$\.quantityList\[0\]\.quantity"):
        ledger.append(ENVELOPE_DEFECTS[5][1], actor_key)
    assert ledger.size == before
