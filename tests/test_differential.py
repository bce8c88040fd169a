"""One verdict on a valid event: `Event.from_dict` against an independent validator over the same schemas.

The oracle is ``jsonschema`` (Draft 2020-12) over ``schemas/event.schema.json`` and the event's product profile,
reading patterns as ECMA-262 does (``$`` ends the input), with format checkers written here: real calendar dates
and times, and times within the documented window; the identifier formats (``tc-*``) delegate to
`tracechain.identifiers`, which tests/test_identifiers.py holds to GS1's and GB 32100's own values. What JSON Schema
cannot say is restated here from docs/products.md, independently of the code under test: the same item twice in a
list under two spellings, the limits on strings and nesting inside free values, lone surrogates, production after
expiry or after the event.

Inputs: every example of tests/examples, every variant with one field (at any depth) dropped, GS1's own example
events (envelope only), and Hypothesis-generated valid events of all five types with every field family, and their
mutations. Hypothesis runs 300 examples per property here; ``TRACECHAIN_LONG=1`` (10,000) or
``TRACECHAIN_EXAMPLES=N`` raise it, as for the battery.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from tests.battery.support import examples
from tests.conftest import SHARED
from tracechain import identifiers
from tracechain.errors import IdentifierError, ValidationError
from tracechain.events import Event, parse_json

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_FILES = sorted((ROOT / "tests" / "examples").glob("*/*.json"))
PRODUCTS = ("edible_oil", "food", "infant_formula", "liquor", "salt", "vet_drug")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
# docs/products.md, "Limits": the window for times, and what free values may hold.
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), NOW + timedelta(days=1)
MAX_TEXT, MAX_DEPTH = 4096, 16
EXAMPLES = examples(300)


# -------------------------------------------------------------------------------------------------------------
# The oracle


_DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(Z|([+-])([0-9]{2}):([0-9]{2}))"
)
_CHECKER = FormatChecker(formats=())


@_CHECKER.checks("date", raises=ValueError)
def _real_date(value: object) -> bool:
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        date(int(value[:4]), int(value[5:7]), int(value[8:]))
    return True


@_CHECKER.checks("date-time", raises=ValueError)
def _real_time_in_window(value: object) -> bool:
    m = _DATE_TIME.fullmatch(value) if isinstance(value, str) else None
    if m is None:
        return True  # the pattern reports the shape
    offset = (
        timedelta(0) if m[8] == "Z" else (1 if m[9] == "+" else -1) * timedelta(hours=int(m[10]), minutes=int(m[11]))
    )
    moment = datetime(*(int(m[i]) for i in range(1, 7)), tzinfo=timezone(offset))  # type: ignore[misc]
    return EARLIEST <= moment <= LATEST


def _identifier(check: Any) -> Any:
    def run(value: object) -> bool:
        if isinstance(value, str):
            check(value)
        return True

    return run


for _name, _check in {
    "tc-code": identifiers.canonical_code,
    "tc-uscc": identifiers.validate_uscc,
    "tc-gtin": identifiers.validate_gtin,
    "tc-sc-licence": identifiers.validate_sc_licence,
    "tc-vet-trace-code": identifiers.validate_vet_trace_code,
}.items():
    _CHECKER.checks(_name, raises=IdentifierError)(_identifier(_check))


def _ecma(schema: Any) -> Any:
    """The schema with every pattern's end anchor spelled so that Python's re reads it as ECMA-262 does."""
    anchor = re.compile(r"(?<!\\)\$")
    if isinstance(schema, list):
        return [_ecma(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "pattern":
            out[key] = anchor.sub(r"\\Z", value)
        elif key == "patternProperties":
            out[key] = {anchor.sub(r"\\Z", name): _ecma(sub) for name, sub in value.items()}
        else:
            out[key] = _ecma(value)
    return out


@cache
def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((ROOT / "schemas" / f"{name}.json").read_text(encoding="utf-8"))
    return Draft202012Validator(_ecma(schema), format_checker=_CHECKER)


def _strings(value: Any, depth: int = 1) -> Iterator[tuple[str, int]]:
    """Every string (member names too) in a JSON value, with the nesting level it sits at."""
    if isinstance(value, str):
        yield value, depth
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key, depth
            yield from _strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _beyond_schema(event: dict[str, Any], profile: bool) -> list[str]:
    """The rules of docs/products.md that JSON Schema cannot state, checked the plain way."""
    found = []
    for text, _ in _strings(event):
        if len(text) > MAX_TEXT:
            found.append("a string over the limit")
        if re.search("[\ud800-\udfff]", text):
            found.append("a lone surrogate")
    if _depth(event) > MAX_DEPTH:
        found.append("nested too deeply")
    for key in ("epcList", "childEPCs", "inputEPCList", "outputEPCList"):
        codes = event.get(key)
        if isinstance(codes, list):
            canonical = []
            for code in codes:
                try:
                    canonical.append(identifiers.canonical_code(code))
                except (IdentifierError, TypeError, AttributeError):
                    continue
            if len(set(canonical)) < len(canonical):
                found.append(f"{key} names one item twice")
    kde = event.get("tc:kde")
    if profile and isinstance(kde, dict):
        produced, expires = kde.get("production_date"), kde.get("expiry_date")
        if _is_date(produced) and _is_date(expires) and expires < produced:
            found.append("expiry before production")
        if _is_date(produced) and _local_date(event) is not None and produced > _local_date(event):
            found.append("production after the event")
    return found


def _is_date(value: object) -> bool:
    try:
        return (
            isinstance(value, str)
            and bool(re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value))
            and bool(date.fromisoformat(value))
        )
    except ValueError:
        return False


def _local_date(event: dict[str, Any]) -> str | None:
    """The calendar date of the event where it happened (eventTime at eventTimeZoneOffset)."""
    time, offset = event.get("eventTime"), event.get("eventTimeZoneOffset")
    m = _DATE_TIME.fullmatch(time) if isinstance(time, str) else None
    o = re.fullmatch(r"([+-])([0-9]{2}):([0-9]{2})", offset) if isinstance(offset, str) else None
    if m is None or o is None:
        return None
    try:
        here = (1 if m[9] == "+" else -1) * timedelta(hours=int(m[10]), minutes=int(m[11])) if m[8] != "Z" else None
        moment = datetime(*(int(m[i]) for i in range(1, 7)), tzinfo=timezone(here or timedelta(0)))  # type: ignore[misc]
        there = timezone((1 if o[1] == "+" else -1) * timedelta(hours=int(o[2]), minutes=int(o[3])))
        return moment.astimezone(there).date().isoformat()
    except ValueError:
        return None


def oracle(event: Any, *, profile: bool = True) -> list[str]:
    """The independent verdict: every reason ``event`` is invalid; [] when it is valid."""
    if not isinstance(event, dict):
        return ["not an object"]
    names = ["event.schema"]
    product = event.get("tc:product")
    if profile and isinstance(product, str) and product in PRODUCTS:
        names.append(f"profile-{product}")
    found = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for n in names for e in _validator(n).iter_errors(event)
    ]
    return found + _beyond_schema(event, profile)


def fast(event: Any, *, profile: bool = True) -> list[tuple[str, str]]:
    try:
        Event.from_dict(event, check_profile=profile, now=NOW)
    except ValidationError as e:
        return e.problems
    return []


def assert_same_verdict(event: Any, *, profile: bool = True) -> None:
    expected, got = oracle(event, profile=profile), fast(event, profile=profile)
    assert bool(expected) == bool(got), (
        f"jsonschema says {expected or 'valid'}; Event.from_dict says {got or 'valid'}; "
        f"event: {json.dumps(event, default=str, ensure_ascii=False)[:1500]}"
    )


# -------------------------------------------------------------------------------------------------------------
# Examples, drop-one-field variants, GS1's examples


def load(path: Path) -> dict[str, Any]:
    event: dict[str, Any] = parse_json(path.read_bytes())
    return event


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every member and list item inside a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield (*prefix, i)
            yield from _paths(item, (*prefix, i))


def _dropped(event: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    out = copy.deepcopy(event)
    parent: Any = out
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    return out


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_example_and_every_variant_with_one_field_dropped(path: Path) -> None:
    event = load(path)
    assert oracle(event) == [] and fast(event) == []
    for at in _paths(event):
        assert_same_verdict(_dropped(event, at))


def _gs1_events() -> list[dict[str, Any]]:
    out = []
    for path in sorted((SHARED / "epcis" / "gs1-examples").rglob("*.jsonld")):
        try:
            doc = parse_json(path.read_bytes())
        except ValidationError:
            continue  # the example that repeats a key
        body = doc.get("epcisBody", {})
        out += body.get("eventList") or ([body["event"]] if "event" in body else [])
    return [{**e, "tc:product": "food"} for e in out]


@pytest.mark.skipif(not (SHARED / "epcis").is_dir(), reason="../shared/epcis is not beside the checkout")
def test_gs1_example_events_and_their_drop_one_field_variants_envelope_only() -> None:
    events = _gs1_events()
    assert len(events) >= 50
    for event in events:
        assert oracle(event, profile=False) == [], event.get("eventID")
        assert fast(event, profile=False) == [], event.get("eventID")
        for at in _paths(event):
            if at[0] != "@context":
                assert_same_verdict(_dropped(event, at), profile=False)


# -------------------------------------------------------------------------------------------------------------
# Generated events


def _example_values(*keys: str) -> list[str]:
    found: set[str] = set()
    for path in EXAMPLE_FILES:
        event = load(path)
        for key in keys:
            value = event.get(key)
            values = value if isinstance(value, list) else [value]
            for v in values:
                if isinstance(v, str):
                    found.add(v)
                elif isinstance(v, dict) and isinstance(
                    v.get("epcClass" if "Quantity" in key or key == "quantityList" else "id"), str
                ):
                    found.add(v.get("epcClass") or v["id"])
    return sorted(found)


# One spelling per item: the examples spell some items several ways, and two spellings of one item in one list
# are one item twice (the mutations below do that on purpose).
ITEMS = list(
    {
        identifiers.canonical_code(code): code
        for code in [
            *reversed(_example_values("epcList", "childEPCs", "inputEPCList", "outputEPCList")),
            "urn:epc:id:sgtin:0614141.107346.2017",
        ]
    }.values()
)
OTHER_SPELLING = "https://id.gs1.org/01/06903215123455/21/A0000017"  # of an example's element string
CLASSES = [*_example_values("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")]
PARENTS = _example_values("parentID")
PLACES = [*_example_values("readPoint", "bizLocation"), "urn:epc:id:sgln:0614141.00777.0"]
URIS = [
    "urn:example:1",
    "https://example.cn/x/1",
    "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
    "ni:///sha-256;ab?ver=CBV2.0",
]
OFFSETS = ["+08:00", "+00:00", "-05:00", "+05:45", "+14:00", "-14:00", "-00:00"]
STEPS = ["commissioning", "shipping", "receiving", "inspecting", "sensor_reporting", "packing", "destroying"]
STEP_SPELLINGS = [
    *STEPS,
    "https://ref.gs1.org/cbv/BizStep-shipping",
    "urn:epcglobal:cbv:bizstep:receiving",
    "https://gs1.org/voc/BizStep-packing",
    "https://example.cn/voc/cold-check",
]
DISPOSITIONS = ["active", "in_transit", "recalled", "https://ref.gs1.org/cbv/Disp-damaged", "urn:example:disp:held"]


def subsets(items: list[Any], min_size: int, max_size: int) -> st.SearchStrategy[list[Any]]:
    """Distinct members of ``items``, in any order."""
    return st.permutations(items).flatmap(lambda order: st.integers(min_size, max_size).map(lambda n: list(order[:n])))


names = st.from_regex(r"[a-z][a-zA-Z0-9]{0,7}", fullmatch=True)
small_numbers = st.one_of(
    st.integers(-(10**9), 10**9),
    st.decimals(min_value=-(10**6), max_value=10**6, places=3, allow_nan=False, allow_infinity=False),
)
positive = st.one_of(st.integers(1, 10**6), st.decimals(min_value=Decimal("0.001"), max_value=10**6, places=3))
json_values = st.recursive(
    st.none() | st.booleans() | small_numbers | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.lists(st.tuples(names, inner), max_size=3).map(dict),
    max_leaves=6,
)


@st.composite
def times(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2026, 5, 30)))
    offset = draw(st.sampled_from(OFFSETS))
    fraction = draw(st.sampled_from(["", ".5", ".123456", ".123456000", ".000"]))
    suffix = draw(st.sampled_from(["Z", offset]))
    return f"{moment:%Y-%m-%dT%H:%M:%S}{fraction}{suffix}"


def _quantities(classes: list[str]) -> st.SearchStrategy[list[dict[str, Any]]]:
    element = st.fixed_dictionaries(
        {"epcClass": st.sampled_from(classes), "quantity": positive},
        optional={"uom": st.sampled_from(["KGM", "LTR", "H87", "EA"])},
    )
    return st.lists(element, min_size=1, max_size=3)


codes = subsets(ITEMS, 1, 4)
links = st.lists(
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["owning_party", "possessing_party", "location", "urn:example:sdt"]),
            "x": st.sampled_from(URIS),
        }
    ),
    max_size=2,
)
sensor_reports = st.lists(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["Temperature", "gs1:Humidity", "https://example.cn/m/x"])},
        optional={
            "value": small_numbers,
            "minValue": small_numbers,
            "uom": st.sampled_from(["CEL", "P1", "KGM"]),
            "time": times(),
            "exception": st.sampled_from(["ALARM_CONDITION", "ERROR_CONDITION"]),
            "stringValue": st.text(max_size=8),
        },
    ),
    min_size=1,
    max_size=3,
)
sensors = st.lists(
    st.fixed_dictionaries(
        {"sensorReport": sensor_reports},
        optional={
            "sensorMetadata": st.fixed_dictionaries(
                {}, optional={"time": times(), "deviceID": st.sampled_from(URIS), "startTime": times()}
            )
        },
    ),
    min_size=1,
    max_size=2,
)
transactions = st.fixed_dictionaries(
    {"bizTransaction": st.sampled_from(URIS)},
    optional={"type": st.sampled_from(["po", "desadv", "https://ref.gs1.org/cbv/BTT-inv", "urn:example:btt"])},
)
extension_names = st.from_regex(r"(example|ext1|gs1):[a-zA-Z][a-zA-Z0-9]{0,6}", fullmatch=True)
COMMON = {
    "bizStep": st.sampled_from(STEP_SPELLINGS),
    "disposition": st.sampled_from(DISPOSITIONS),
    "readPoint": st.fixed_dictionaries({"id": st.sampled_from(PLACES)}),
    "bizLocation": st.fixed_dictionaries(
        {"id": st.sampled_from(PLACES)}, optional={"example:floor": st.integers(0, 9)}
    ),
    "sourceList": links.map(lambda ls: [{"type": link["type"], "source": link["x"]} for link in ls]),
    "destinationList": links.map(lambda ls: [{"type": link["type"], "destination": link["x"]} for link in ls]),
    "bizTransactionList": st.lists(transactions, max_size=2),
    "sensorElementList": sensors,
    "eventID": st.sampled_from(URIS),
    "recordTime": times(),
    "certificationInfo": st.sampled_from(URIS) | st.lists(st.sampled_from(URIS), max_size=2),
    "errorDeclaration": st.fixed_dictionaries(
        {"declarationTime": times()},
        optional={
            "reason": st.sampled_from(["did_not_occur", "incorrect_data", "urn:epcglobal:cbv:er:incorrect_data"]),
            "correctiveEventIDs": st.lists(st.sampled_from(URIS), max_size=2),
            "example:note": st.text(max_size=8),
        },
    ),
    "persistentDisposition": st.fixed_dictionaries({}, optional={"set": subsets(DISPOSITIONS, 1, 2)}).filter(bool),
    "@context": st.sampled_from(["https://ref.gs1.org/standards/epcis/epcis-context.jsonld", [{"example": "urn:x:"}]]),
    "tc:kde": st.lists(st.tuples(names, json_values), min_size=1, max_size=4).map(dict),
}


@st.composite
def envelope_events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event of any type, with any of the envelope's optional fields (profiles are not this test's aim)."""
    kind = draw(
        st.sampled_from(
            ["ObjectEvent", "AggregationEvent", "TransformationEvent", "TransactionEvent", "AssociationEvent"]
        )
    )
    event: dict[str, Any] = {
        "type": kind,
        "eventTime": draw(times()),
        "eventTimeZoneOffset": draw(st.sampled_from(OFFSETS)),
    }
    product = draw(st.sampled_from([*PRODUCTS, None]))  # None: a plain EPCIS event
    if product is not None:
        event["tc:product"] = product
    if kind != "TransformationEvent":
        event["action"] = draw(st.sampled_from(["ADD", "OBSERVE", "DELETE"]))
    lists = {
        "ObjectEvent": ("epcList", "quantityList"),
        "AggregationEvent": ("childEPCs", "childQuantityList"),
        "AssociationEvent": ("childEPCs", "childQuantityList"),
        "TransformationEvent": ("inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList"),
        "TransactionEvent": ("epcList", "quantityList"),
    }[kind]
    for key in draw(subsets(list(lists), 1, len(lists))):
        event[key] = draw(_quantities(CLASSES) if "uantity" in key else codes)
    if kind in ("AggregationEvent", "AssociationEvent") or (kind == "TransactionEvent" and draw(st.booleans())):
        event["parentID"] = draw(st.sampled_from(PARENTS))
    if kind == "TransactionEvent":
        event["bizTransactionList"] = draw(st.lists(transactions, min_size=1, max_size=2))
    if kind in ("ObjectEvent", "TransformationEvent") and draw(st.booleans()):
        event["ilmd"] = draw(st.lists(st.tuples(extension_names, json_values), max_size=3).map(dict))
    if kind == "TransformationEvent" and draw(st.booleans()):
        event["transformationID"] = draw(st.sampled_from(URIS))
    for key in draw(subsets(sorted(COMMON), 0, 6)):
        if key != "tc:kde" or product is not None:
            event.setdefault(key, draw(COMMON[key]))
    for _ in range(draw(st.integers(0, 2))):
        event[draw(extension_names)] = draw(json_values)
    return event


NASTY = [
    None, True, 0, -1, Decimal("0"), Decimal("2.5"), "", " ", "x", "urn:x", "urn:x\n", "KGM\n", "kg",
    "a" * (MAX_TEXT + 1), "\ud800", [], {}, ["x"], [{}], {"a": 1}, "urn:epcglobal:cbv:bizstep:teleporting", "https://ref.gs1.org/cbv/Disp-active",
    "2026-02-30T00:00:00Z", "1999-12-31T23:59:59Z", "2026-06-03T00:00:00Z", "2026-01-01T00:00:00.1234567Z",
    "2026-01-01T00:00:00.1234560Z", "+14:00", "+15:00", "08:00", "did_not_occur", "(01)123", OTHER_SPELLING, CLASSES[0],
]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """A valid event with one to three changes anywhere in it: a value replaced, a member dropped or added."""
    event = copy.deepcopy(draw(base))
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(event))
        op = draw(st.sampled_from(["replace", "drop", "add", "duplicate"]))
        if op == "add" or not paths:
            key = draw(
                st.sampled_from(["colour", "tc:extra", "x:y", "@context", "epcList", "parentID", "ilmd"]) | names
            )
            event[key] = copy.deepcopy(draw(st.sampled_from(NASTY) | json_values))
            continue
        at = draw(st.sampled_from(paths))
        parent: Any = event
        for part in at[:-1]:
            parent = parent[part]
        if op == "drop":
            del parent[at[-1]]
        elif op == "duplicate" and isinstance(parent[at[-1]], list) and parent[at[-1]]:
            parent[at[-1]].append(copy.deepcopy(parent[at[-1]][0]))
        else:
            parent[at[-1]] = copy.deepcopy(draw(st.sampled_from(NASTY) | json_values))
    return event


@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(envelope_events())
def test_generated_valid_events_are_valid_for_both(event: dict[str, Any]) -> None:
    assert oracle(event, profile=False) == [], event
    assert fast(event, profile=False) == [], event
    assert_same_verdict(event, profile=False)


@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(mutated(envelope_events()))
def test_generated_events_with_mutations_get_the_same_verdict(event: dict[str, Any]) -> None:
    assert_same_verdict(event, profile=False)


@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(mutated(st.sampled_from(EXAMPLE_FILES).map(load)))
def test_mutated_examples_get_the_same_verdict_with_their_profile(event: dict[str, Any]) -> None:
    assert_same_verdict(event, profile=True)
