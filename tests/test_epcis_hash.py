"""GS1's event hash ID: every expected value GS1 published, and each canonicalisation rule on its own."""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests import epcis_generators as gen
from tests.conftest import make_event
from tests.epcis_support import EX, GS1, VALID, load, needs_shared, ni
from tracechain.epcis import GS1_CONTEXT, event_hash_id, pre_hash_string, read_document
from tracechain.epcis._codes import _CANONICAL_RE, gs1_check_digit, hash_code, spelled_code
from tracechain.epcis._context import Namespaces
from tracechain.epcis._hash import prehash
from tracechain.errors import ValidationError
from tracechain.events import Event
from tracechain.identifiers import gtin_check_digit

HASH_EXAMPLES = GS1 / "hash-examples"
JSON_LD_EXAMPLES = sorted(p.stem for p in HASH_EXAMPLES.glob("*.jsonld")) if HASH_EXAMPLES.exists() else []
CONTEXT = [GS1_CONTEXT, {"ex": EX}]


def _event(**fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": "2025-03-01T09:30:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "action": "OBSERVE",
        "epcList": ["urn:epc:id:sgtin:6903215.012345.A0000017"],
        "bizStep": "shipping",
    }
    event.update(fields)
    return event


def _ignored(doc: dict[str, Any]) -> list[str]:
    holder = doc.get("epcisBody", {}).get("queryResults", doc)
    return list(doc.get("repository-x:ignoreFields", holder.get("repository-x:ignoreFields", [])))


def _events(doc: dict[str, Any]) -> list[dict[str, Any]]:
    body = doc["epcisBody"]
    return body["eventList"] if "eventList" in body else body["queryResults"]["resultsBody"]["eventList"]


# --- GS1's published expected values ---------------------------------------------------------------------------


@needs_shared
def test_the_published_examples_are_all_there() -> None:
    # A silently empty folder must not pass for a green run.
    assert len(JSON_LD_EXAMPLES) == 22


@needs_shared
@pytest.mark.parametrize("name", JSON_LD_EXAMPLES)
def test_every_published_expected_id_of_a_json_ld_input(name: str) -> None:
    doc = load(HASH_EXAMPLES / f"{name}.jsonld")
    expected = (HASH_EXAMPLES / f"{name}.hashes").read_text().split()
    raw = [event_hash_id(e, context=doc["@context"], ignore=_ignored(doc)) for e in _events(doc)]
    assert raw == expected
    # The same IDs from the events as read_document hands them to tracechain.
    read = read_document((HASH_EXAMPLES / f"{name}.jsonld").read_bytes(), source=name)
    assert [event_hash_id(e) for e in read] == expected


@needs_shared
def test_pre_hash_strings_equal_every_published_one_that_hashes_to_its_expected_id() -> None:
    # Some published .prehashes files are stale or garbled; the .hashes files are the authority, so a published
    # pre-hash line is compared only where it hashes to the expected ID.
    compared = 0
    for name in JSON_LD_EXAMPLES:
        path = HASH_EXAMPLES / f"{name}.prehashes"
        if not path.exists():
            continue
        doc = load(HASH_EXAMPLES / f"{name}.jsonld")
        expected = (HASH_EXAMPLES / f"{name}.hashes").read_text().split()
        lines = path.read_text().splitlines()
        for event, line, want in zip(_events(doc), lines, expected, strict=False):
            if ni(line) == want:
                assert pre_hash_string(event, context=doc["@context"], ignore=_ignored(doc)) == line, name
                compared += 1
    assert compared >= 30


# --- the rules ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("2025-03-01T09:30:00+08:00", "2025-03-01T01:30:00.000Z"),
        ("2025-03-01T01:30:00Z", "2025-03-01T01:30:00.000Z"),
        ("2025-03-01t01:30:00z", "2025-03-01T01:30:00.000Z"),
        ("2023-02-02T11:04:03.1415Z", "2023-02-02T11:04:03.142Z"),  # the 4th decimal rounds the 3rd up
        ("2023-02-02T11:04:03.14149999Z", "2023-02-02T11:04:03.141Z"),  # only the 4th decimal decides
        ("2023-02-02T11:04:03.0005Z", "2023-02-02T11:04:03.001Z"),  # half up, not half to even
        ("2023-02-02T11:04:03.1425Z", "2023-02-02T11:04:03.143Z"),
        ("2024-12-31T23:59:59.9996Z", "2025-01-01T00:00:00.000Z"),  # the carry reaches the year
        ("2025-03-01T00:00:00.5-13:59", "2025-03-01T13:59:00.500Z"),
        ("2025-03-01 01:30:00Z", "2025-03-01 01:30:00Z"),  # not xsd:dateTime: left as written
    ],
)
def test_times_are_utc_milliseconds_with_the_fourth_decimal_rounding_half_up(written: str, canonical: str) -> None:
    assert f"eventTime={canonical}eventTimeZoneOffset" in pre_hash_string(_event(eventTime=written))


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (Decimal("1200.50"), "1200.5"),
        (Decimal("1.0"), "1"),
        (5.0, "5"),
        (Decimal("1E+3"), "1000"),
        (Decimal("-0.0"), "0"),
        (Decimal("0.00001"), "0.00001"),
        (12345678901234567890, "12345678901234567890"),
        ("  007 ", "7"),  # numeric text is a number too, so XML and JSON agree
        ("+4.50", "4.5"),
        ("1_000", "1_000"),  # Python float syntax is not a number
        ("12 kg", "12 kg"),
    ],
)
def test_numbers_have_no_exponent_sign_or_trailing_zeros(value: object, written: str) -> None:
    quantities = [{"epcClass": "urn:epc:class:lgtin:6903215.012345.L1", "quantity": value}]
    text = pre_hash_string(_event(quantityList=quantities))
    assert f"quantity={written}action" in text


def _sgtin(company: str, item: str) -> str:
    body = item[0] + company + item[1:]
    return body + gs1_check_digit(body)


KEYS = [
    ("urn:epc:id:sgtin:4012345.011111.9876", "https://id.gs1.org/01/04012345111118/21/9876"),
    ("urn:epc:id:sgtin:4012345.011111.a.b!(c)", "https://id.gs1.org/01/04012345111118/21/a.b%21%28c%29"),
    ("urn:epc:id:sgtin:4012345.011111.x%2Fy%22z'w", "https://id.gs1.org/01/04012345111118/21/x%2Fy%22z'w"),
    ("urn:epc:id:sscc:4012345.3111111111", "https://id.gs1.org/00/340123451111111111"),
    ("urn:epc:id:sgln:4012345.00005.0", "https://id.gs1.org/414/4012345000054"),
    ("urn:epc:id:sgln:4012345.00005.12.3", "https://id.gs1.org/414/4012345000054/254/12.3"),
    ("urn:epc:id:pgln:4000001.00000", "https://id.gs1.org/417/4000001000005"),
    ("urn:epc:id:grai:4012345.00022.334455", "https://id.gs1.org/8003/04012345000221334455"),
    ("urn:epc:id:giai:4012345.ABC.345", "https://id.gs1.org/8004/4012345ABC.345"),
    ("urn:epc:id:gsrn:4012345.0000006765", "https://id.gs1.org/8018/401234500000067657"),
    ("urn:epc:id:gsrnp:4012345.0000000007", "https://id.gs1.org/8017/401234500000000074"),
    ("urn:epc:id:gdti:4012345.00009.PO-4711", "https://id.gs1.org/253/4012345000092PO-4711"),
    ("urn:epc:id:sgcn:4012345.99999.44", "https://id.gs1.org/255/401234599999044"),
    (
        "urn:epc:id:cpi:0614141.11111111111111-A%23%2F.1234",
        "https://id.gs1.org/8010/061414111111111111111-A%23%2F/8011/1234",
    ),
    ("urn:epc:id:ginc:0614141.xyz47%2F11", "https://id.gs1.org/401/0614141xyz47%2F11"),
    ("urn:epc:id:gsin:4012345.222333444", "https://id.gs1.org/402/40123452223334442"),
    ("urn:epc:id:itip:4012345.011111.01.02.987", "https://id.gs1.org/8006/040123451111180102/21/987"),
    (
        "urn:epc:id:upui:1234567.098765.51qIgY)%3C%26Jp3*j7'SDB",
        "https://id.gs1.org/01/01234567987651/235/51qIgY%29%3C%26Jp3%2Aj7'SDB",
    ),
    ("urn:epc:class:lgtin:4012345.012345.Lot987", "https://id.gs1.org/01/04012345123456/10/Lot987"),
    ("urn:epc:idpat:sgtin:4012345.066666.*", "https://id.gs1.org/01/04012345666663"),
    ("urn:epc:idpat:grai:4012345.66666.*", "https://id.gs1.org/8003/04012345666663"),
    ("urn:epc:idpat:itip:4012345.012345.01.02.*", "https://id.gs1.org/8006/040123451234560102"),
    ("https://example.com/gtin/09780345418913/21/765tz?abc=211121", "https://id.gs1.org/01/09780345418913/21/765tz"),
    ("http://id.gs1.org/01/09506000134352/22/2A/10/ABC1/21/12345", "https://id.gs1.org/01/09506000134352/21/12345"),
    ("https://id.gs1.org/01/9506000134352/10/ABC1", "https://id.gs1.org/01/09506000134352/10/ABC1"),
    ("HTTPS://Resolver.Example.CN/some/prefix/01/09506000134352/", "https://id.gs1.org/01/09506000134352"),
    ("https://id.gs1.org/01/09506000134352/21/%41%2f%27", "https://id.gs1.org/01/09506000134352/21/A%2F'"),
    ("https://id.gs1.org/414/4012345000054/254/1", "https://id.gs1.org/414/4012345000054/254/1"),
    ("https://id.gs1.org/8010/0614141ABC/8011/7", "https://id.gs1.org/8010/0614141ABC/8011/7"),
]
# The reference keeps a Digital Link's scheme, host case and percent-escapes as written (docs/epcis.md, D16).
_SPELLINGS_THE_REFERENCE_KEEPS = {
    "HTTPS://Resolver.Example.CN/some/prefix/01/09506000134352/",
    "https://id.gs1.org/01/09506000134352/21/%41%2f%27",
}


@pytest.mark.parametrize(("code", "canonical"), KEYS)
def test_gs1_keys_become_constrained_canonical_digital_links(code: str, canonical: str) -> None:
    assert hash_code(code) == canonical


@pytest.mark.parametrize(("code", "canonical"), [k for k in KEYS if k[0] not in _SPELLINGS_THE_REFERENCE_KEEPS])
def test_the_reference_implementation_normalises_gs1_keys_the_same_way(code: str, canonical: str) -> None:
    from epcis_event_hash_generator.dl_normaliser import normaliser

    assert normaliser(code) == canonical


@pytest.mark.parametrize(
    "code",
    [
        "urn:epc:id:sgtin:4012345.0111.1",  # company prefix and item reference too short together
        "urn:epc:idpat:sgtin:4012345.*.*",  # a pattern over more than the last component
        "urn:epc:id:usdod:2S194.12345",  # not a GS1 key
        "https://example.com/01/0950600013435x",  # not a Digital Link: the path does not parse
        "https://example.com/01/09506000134352/99/1",  # an AI that is no qualifier of 01
        "geo:21.58,111.6",
        "urn:uuid:1b4e28ba-2fa1-41d2-883f-0016d3cca427",
    ],
)
def test_what_is_not_a_gs1_key_is_left_as_written(code: str) -> None:
    assert hash_code(code) is None


@given(st.text("0123456789", min_size=1, max_size=17))
def test_check_digits_agree_with_the_identifiers_module(digits: str) -> None:
    # Two implementations written apart: the hash's own and the one item codes are checked with.
    assert gs1_check_digit(digits) == str(gtin_check_digit(digits))


def test_check_digits_of_known_keys() -> None:
    assert gs1_check_digit("0690321512345") == "5"  # GTIN 06903215123455
    assert gs1_check_digit("401234500000") == "9"  # GLN 4012345000009
    assert _sgtin("6903215", "012345") == "06903215123455"


def test_every_spelling_of_the_same_event_has_the_same_id() -> None:
    # CBV bare / compact / URI; EPC URN / canonical Digital Link / another host with a query; the same instant at
    # another offset.
    events = read_document((VALID / "cbv_spellings.jsonld").read_bytes(), source="cbv_spellings")
    raw = _events(load(VALID / "cbv_spellings.jsonld"))
    ids = {event_hash_id(e, context=load(VALID / "cbv_spellings.jsonld")["@context"]) for e in raw}
    assert len(ids) == 1
    assert {event_hash_id(e) for e in events} == ids


def test_eventid_recordtime_error_declarations_comments_and_context_are_outside_the_id() -> None:
    base = _event()
    dressed = _event(
        eventID="urn:uuid:1b4e28ba-2fa1-41d2-883f-0016d3cca427",
        recordTime="2025-03-02T00:00:00Z",
        errorDeclaration={"declarationTime": "2025-03-03T00:00:00Z", "reason": "incorrect_data"},
        comment="an aside",
        **{"rdfs:comment": "another aside", "@context": {"unused": "https://unused.example/"}},
    )
    assert event_hash_id(dressed) == event_hash_id(base)


def test_ignored_fields_are_left_out_whatever_their_spelling() -> None:
    event = _event(**{"ex:captureID": "c-1", "ex:kept": "k"})
    plain = _event(**{"ex:kept": "k"})
    for name in ("ex:captureID", EX + "captureID", "{" + EX + "}captureID"):
        assert event_hash_id(event, context=CONTEXT, ignore=[name]) == event_hash_id(plain, context=CONTEXT)
    assert event_hash_id(event, context=CONTEXT) != event_hash_id(plain, context=CONTEXT)


def test_extensions_are_named_by_namespace_not_by_prefix() -> None:
    one = _event(**{"ex:colour": "red", "@context": {"ex": EX}})
    other = _event(**{"acme:colour": "red", "@context": {"acme": EX}})
    assert pre_hash_string(one) == pre_hash_string(other)
    assert pre_hash_string(one).endswith("{https://ns.example.com/epcis/}colour=red")


def test_tracechain_form_and_epcis_form_have_the_same_id() -> None:
    # tracechain keeps key data elements bare inside tc:kde; EPCIS documents write them in tracechain's namespace.
    ours = _event(**{"tc:product": "salt", "tc:kde": {"lot": "L1", "grades": [{"grade": "A"}]}})
    theirs = _event(**{"tc:product": "salt", "tc:kde": {"tc:lot": "L1", "tc:grades": [{"tc:grade": "A"}]}})
    assert event_hash_id(ours) == event_hash_id(theirs)
    assert "{urn:tracechain:epcis:}kde{urn:tracechain:epcis:}grades{urn:tracechain:epcis:}grade=A" in pre_hash_string(
        ours
    )


def test_the_hash_id_is_sha256_of_the_utf8_pre_hash_string_in_an_ni_uri() -> None:
    event = _event(**{"ex:note": "冷链 ✓", "@context": {"ex": EX}})
    assert event_hash_id(event) == ni(pre_hash_string(event))
    assert event_hash_id(event).startswith("ni:///sha-256;") and event_hash_id(event).endswith("?ver=CBV2.0")


def test_a_lone_surrogate_is_refused_rather_than_hashed_some_way() -> None:
    with pytest.raises(ValidationError, match="not valid Unicode"):
        event_hash_id(_event(**{"ex:note": "\ud800", "@context": {"ex": EX}}))


def test_an_event_must_be_an_object() -> None:
    with pytest.raises(ValidationError, match="JSON object"):
        event_hash_id(["not", "an", "event"])  # type: ignore[arg-type]


# --- properties -----------------------------------------------------------------------------------------------

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False))
def test_the_id_does_not_depend_on_key_or_list_order(rnd: Any) -> None:
    doc = load(VALID / "object_event.jsonld")
    event = doc["epcisBody"]["eventList"][0]
    shuffled = _shuffled(copy.deepcopy(event), rnd)
    assert event_hash_id(shuffled, context=doc["@context"]) == event_hash_id(event, context=doc["@context"])


def _shuffled(value: Any, rnd: Any) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {k: _shuffled(v, rnd) for k, v in items}
    if isinstance(value, list):
        items = [_shuffled(v, rnd) for v in value]
        rnd.shuffle(items)
        return items
    return value


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_changing_any_value_changes_the_id(data: st.DataObject) -> None:
    doc = load(VALID / "object_event.jsonld")
    event = doc["epcisBody"]["eventList"][0]
    paths = list(_leaves(event, ()))
    path = data.draw(st.sampled_from([p for p in paths if p[0] not in _OUTSIDE]))
    before = _get(event, path)
    # Numeric text is a number to the hash (rule 6), so "7" and "007" name the same value: drawn values are not.
    after = data.draw(
        _TEXT.filter(lambda t: t.strip() not in ("", str(before).strip()) and not _NUMERIC.match(t.strip()))
    )
    changed = copy.deepcopy(event)
    _set(changed, path, after)
    assert event_hash_id(changed, context=doc["@context"]) != event_hash_id(event, context=doc["@context"]), path


_OUTSIDE = ("eventID", "recordTime", "errorDeclaration", "type")
_NUMERIC = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")


def _leaves(value: Any, path: tuple[Any, ...]) -> Any:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    else:
        yield path


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        value = value[p]
    return value


def _set(value: Any, path: tuple[Any, ...], new: Any) -> None:
    for p in path[:-1]:
        value = value[p]
    value[path[-1]] = new


# --- the shortcut for common shapes ------------------------------------------------------------------------------

_ODD = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**20), 10**20),
        st.decimals(allow_nan=False, allow_infinity=False, places=3),
        st.sampled_from(["", " ", "shipping", " active ", "ex:x", "urn:epc:id:sgtin:0614141.107346.2017", "+08:00"]),
        st.sampled_from(["2025-03-01T09:30:00.12345+08:00", "12", "https://id.gs1.org/01/09506000134352/21/A%2F1"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["id", "epcClass", "quantity", "uom", "ex:a", "set", "comment"]), inner),
    ),
    max_leaves=6,
)
_ORDERED = ("eventTime", "eventTimeZoneOffset", "certificationInfo", "parentID", "epcList", "childEPCs",
            "quantityList", "outputQuantityList", "action", "transformationID", "bizStep", "disposition",
            "readPoint", "bizLocation", "tc:kde")  # fmt: skip


_EDGES = [
    {"epcList": [" ", "", " urn:epc:id:sgtin:0614141.107346.2017 "], "bizStep": " shipping "},
    {"epcList": [], "quantityList": [], "readPoint": {"id": " "}, "action": ""},
    {"quantityList": [{"epcClass": " ", "quantity": Decimal("5.00"), "uom": " KGM"}, {}], "eventTime": " "},
    {"quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": True}]},
    {"childEPCs": ["b", 7], "readPoint": {"id": "x", "ex:a": "1"}, "bizLocation": {"id": 5}},
    {"tc:kde": {"lot": " L1 ", "comment": "c", "certList": "x"}, "eventTime": 1_772_323_199_999_600},
    {"tc:kde": {"lot": "L1", "tc:grade": "A", "ex:b": ""}, "disposition": "urn:epcglobal:cbv:disp:active"},
]


@settings(max_examples=300, deadline=None)
@given(gen.event(), st.dictionaries(st.sampled_from(_ORDERED), _ODD, max_size=4))
@example(_EDGES[0], {}).via("edge cases")
@example(_EDGES[1], {}).via("edge cases")
@example(_EDGES[2], {}).via("edge cases")
@example(_EDGES[3], {}).via("edge cases")
@example(_EDGES[4], {}).via("edge cases")
@example(_EDGES[5], {}).via("edge cases")
@example(_EDGES[6], {}).via("edge cases")
def test_the_shortcut_for_common_shapes_writes_what_the_general_path_writes(
    event: dict[str, Any], odd: dict[str, Any]
) -> None:
    """`prehash` writes fields of the usual shapes straight to text; any value, usual or not, must come out as the
    element trees would write it."""
    names = Namespaces().with_context(gen.CONTEXT, "context")
    for candidate in (event, {**event, **odd}):
        assert prehash(candidate, names) == prehash(candidate, names, shortcut=False)


def test_an_event_as_the_ledger_holds_it_has_the_id_of_its_json_form() -> None:
    """`Event.data` keeps times as microseconds; the ID is the one of the RFC 3339 text, rounding included."""
    for fraction in ("", ".1", ".0004", ".0005", ".9996", ".123456"):
        event = Event.from_dict(make_event(3, eventTime=f"2026-03-01T23:59:59{fraction}+08:00"))
        assert event_hash_id(event.data) == event_hash_id(event.to_dict()) == event_hash_id(make_event(
            3, eventTime=f"2026-03-01T23:59:59{fraction}+08:00"))  # fmt: skip
    assert "eventTime=2026-03-01T16:00:00.000Z" in pre_hash_string(
        Event.from_dict(make_event(3, eventTime="2026-03-01T23:59:59.9996+08:00")).data
    )


@settings(max_examples=300, deadline=None)
@given(st.from_regex(_CANONICAL_RE, fullmatch=True))
def test_a_code_already_in_canonical_form_is_what_the_rules_write(code: str) -> None:
    assert hash_code(code) == spelled_code(code) == code
