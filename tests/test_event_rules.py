"""Issue 10 item 6: messages that tell the truth in JSON terms, limits on every field, times in a sane window, and
contradictions a profile can see. Each test here failed before the change it covers."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GTIN14, make_event
from tracechain import profiles
from tracechain.errors import ValidationError
from tracechain.events import EARLIEST_TIME, FUTURE_TOLERANCE, Event, parse_json

EXAMPLES = Path(__file__).parent / "examples"
SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
# What the messages said before: "found NoneType", "found list", "Decimal('2.5')".
PYTHON_WORDS = re.compile(r"found (NoneType|list|dict|str|int|float|tuple|Decimal)\b|Decimal\(|<class ")


def example(product: str, step: str) -> dict[str, Any]:
    event: dict[str, Any] = parse_json((EXAMPLES / product / f"{step}.json").read_bytes())
    return event


def problems(event: Any, **options: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        Event.from_dict(event, **options)
    assert caught.value.problems, "a refusal lists its problems"
    return caught.value.problems


def message_at(found: list[tuple[str, str]], path: str) -> str:
    messages = [text for at, text in found if at == path]
    assert messages, f"no problem at {path}; found {found}"
    return messages[0]


# -------------------------------------------------------------------------------------------------------------
# Messages


def test_decimal_numbers_are_not_reported_when_another_field_is_wrong() -> None:
    event = example("food", "shipping")  # sensor minValue -19.5 and maxValue -18.1 arrive as Decimal
    event["quantityList"] = [{"epcClass": f"https://id.gs1.org/01/{GTIN14}/10/L1", "quantity": Decimal("2.5")}]
    event["bizStep"] = "teleporting"
    found = problems(event)
    assert {path for path, _ in found} == {"$.bizStep"}
    assert profiles.problems(event) == found


def test_a_lone_surrogate_is_a_validation_error_naming_its_place() -> None:
    for text, path in [
        ('"eventID": "urn:x:\\ud800"', "$.eventID"),
        ('"example:note": "a\\udc00b"', "$.example:note"),
        ('"example:note": {"\\ud800": 1}', '$.example:note (the name "\\ud800")'),
    ]:
        raw = json.dumps(make_event())[:-1] + ", " + text + "}"
        event = parse_json(raw)
        found = problems(event)
        assert path in {p for p, _ in found}, found
        assert "lone surrogate" in message_at(found, path)
        json.dumps(found, ensure_ascii=False).encode("utf-8")  # the messages themselves can be printed


@pytest.mark.parametrize(
    ("change", "path", "says"),
    [
        ({"quantityList": [{"epcClass": f"https://id.gs1.org/01/{GTIN14}/10/L1", "quantity": Decimal("1e308")}]},
         "$.quantityList[0].quantity", "at most 40 significant digits"),
        ({"quantityList": [{"epcClass": f"https://id.gs1.org/01/{GTIN14}/10/L1", "quantity": 1e308}]},
         "$.quantityList[0].quantity", "found 1E+308"),
        ({"epcList": None}, "$.epcList", "found null"),
        ({"epcList": "x"}, "$.epcList", 'found "x"'),
        ({"readPoint": ["x"]}, "$.readPoint", "found a list of 1 item"),
        ({"epcList": [f"urn:x:{i}" for i in range(200_000)]}, "$.epcList", "found 200000 items"),
        ({"example:n": {"k" * 5000: 1}}, "$.example:n", "member names of at most 4096 characters"),
        ({"eventID": 17}, "$.eventID", "found 17"),
        ({"epcList": ["(01)123"]}, "$.epcList[0]", "expected 14 digits, found '123'"),
        ({"epcList": ["(17)1234"]}, "$.epcList[0]", "6 digits as a real date YYMMDD"),
    ],
)  # fmt: skip
def test_messages_speak_json_and_never_show_a_python_type_or_a_regular_expression(
    change: dict[str, Any], path: str, says: str
) -> None:
    found = problems(make_event(**change))
    message = message_at(found, path)
    assert says in message
    assert not PYTHON_WORDS.search(message), message
    assert not any(mark in message for mark in ("\\d", "(?:", "^0", "$'")), message
    assert len(found) <= 3  # a 200,000-item list is one problem, not 200,000


def test_problems_are_capped_and_counted() -> None:
    event = make_event(epcList=[f"(01)1{i}" for i in range(500)])
    found = problems(event)
    assert len(found) == 101
    assert found[-1] == ("$", "400 more problems not listed")


# -------------------------------------------------------------------------------------------------------------
# Limits


def _bounded(schema: Any, where: str, unbounded: list[str]) -> None:
    """Every string, list and object a schema describes must have a bound (a length, a count, or a closed set)."""
    if not isinstance(schema, dict):
        return
    kinds = schema.get("type", [])
    kinds = kinds if isinstance(kinds, list) else [kinds]
    closed = "enum" in schema or "const" in schema or "format" in schema
    if "string" in kinds and "maxLength" not in schema and not closed:
        unbounded.append(f"{where}: string")
    if "array" in kinds and "maxItems" not in schema:
        unbounded.append(f"{where}: array")
    # A profile's root applies together with the envelope, which bounds the event object.
    if "object" in kinds and "maxProperties" not in schema and schema.get("additionalProperties") is not False:
        unbounded.append(f"{where}: object")
    for key, sub in schema.get("properties", {}).items():
        _bounded(sub, f"{where}.{key}", unbounded)
    for key in ("items", "additionalProperties"):
        _bounded(schema.get(key), f"{where}[{key}]", unbounded)
    for key, sub in schema.get("$defs", {}).items():
        _bounded(sub, f"#{key}", unbounded)
    for i, sub in enumerate(schema.get("anyOf", [])):
        _bounded(sub, f"{where}|{i}", unbounded)


@pytest.mark.parametrize("name", sorted(p.stem for p in SCHEMAS.glob("*.json")))
def test_every_field_of_every_schema_has_a_limit(name: str) -> None:
    unbounded: list[str] = []
    _bounded(json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8")), "$", unbounded)
    assert unbounded == ([] if name == "event.schema" else ["$: object"])


@pytest.mark.parametrize(
    ("change", "path", "says"),
    [
        ({"example:big": "a" * 50_000_000}, "$.example:big", "at most 4096 characters"),
        ({"example:wide": {f"k{i}": i for i in range(2_000_000)}}, "$.example:wide", "at most 1000 members"),
        ({"example:long": list(range(100_001))}, "$.example:long", "at most 100000 items"),
        ({"ilmd": {"example:deep": json.loads("[" * 15 + "1" + "]" * 15)}}, "$.ilmd.example:deep" + "[0]" * 14,
         "nested at most 16 levels"),
        ({f"example:f{i}": i for i in range(1001)}, "$", "at most 1000 members"),
        ({"tc:kde": {f"k{i}": i for i in range(1001)}}, "$.tc:kde", "at most 1000 members"),
        ({"eventID": "urn:x:" + "a" * 5000}, "$.eventID", "1 to 4096 characters"),
        ({"example:huge": ["b" * 4000] * 5000}, "$", "at most 16 MiB"),
    ],
)  # fmt: skip
def test_limits_are_enforced_on_every_kind_of_field(change: dict[str, Any], path: str, says: str) -> None:
    for check_profile in (True, False):
        found = problems(make_event(**change), check_profile=check_profile)
        assert says in message_at(found, path)


def test_values_just_within_the_limits_are_accepted() -> None:
    event = make_event(
        **{
            "example:text": "a" * 4096,
            "example:members": {f"k{i}": i for i in range(1000)},
            "ilmd": {"example:deep": json.loads("[" * 14 + "1" + "]" * 14)},  # event, ilmd, then 14 lists: 16
        }
    )
    Event.from_dict(event)


# -------------------------------------------------------------------------------------------------------------
# Times


NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("eventTime", "0001-01-01T00:00:00Z", "on or after 2000-01-01"),
        ("eventTime", "1999-12-31T23:59:59Z", "on or after 2000-01-01"),
        ("eventTime", "9999-12-31T23:59:59Z", "no later than 1 day after the clock"),
        ("eventTime", "2026-06-02T12:00:01Z", "no later than 1 day after the clock"),
        ("recordTime", "2030-01-01T00:00:00+08:00", "no later than 1 day after the clock"),
    ],
)
def test_times_outside_the_window_are_refused(field: str, value: str, says: str) -> None:
    found = problems(make_event(**{field: value}), now=NOW)
    assert says in message_at(found, f"$.{field}")


def test_times_inside_the_window_are_accepted() -> None:
    for value in ("2000-01-01T00:00:00Z", "2026-06-02T12:00:00Z", "2026-06-02T19:59:00+08:00"):
        Event.from_dict(
            make_event(eventTime=value, **{"tc:kde": {**make_event()["tc:kde"], "production_date": "2000-01-01"}}),
            now=NOW,
        )
    assert datetime(2000, 1, 1, tzinfo=UTC) == EARLIEST_TIME
    assert timedelta(days=1) == FUTURE_TOLERANCE


def test_the_clock_is_the_default_now() -> None:
    tomorrow_and_more = datetime.now(UTC) + timedelta(days=1, hours=1)
    found = problems(make_event(eventTime=tomorrow_and_more.strftime("%Y-%m-%dT%H:%M:%SZ")))
    assert "after the clock" in message_at(found, "$.eventTime")


def test_times_in_error_declarations_and_sensor_reports_keep_the_window() -> None:
    event = make_event(
        errorDeclaration={"declarationTime": "1970-01-01T00:00:00Z"},
        sensorElementList=[{"sensorReport": [{"type": "Temperature", "value": 4, "time": "2099-01-01T00:00:00Z"}]}],
    )
    found = problems(event, now=NOW)
    assert "2000-01-01" in message_at(found, "$.errorDeclaration.declarationTime")
    assert "after the clock" in message_at(found, "$.sensorElementList[0].sensorReport[0].time")


def test_a_production_date_after_the_event_is_refused() -> None:
    event = example("salt", "commissioning")  # produced 2025-03-18, recorded 2025-03-18T09:30:00+08:00
    event["tc:kde"]["production_date"] = "2025-03-19"
    message = message_at(problems(event), "$.tc:kde.production_date")
    assert "on or before the day of the event (2025-03-18" in message
    assert message.endswith("(生产日期)")


def test_the_day_of_the_event_is_the_day_where_it_happened() -> None:
    event = example("salt", "commissioning")
    # 2025-03-18T20:00Z is already 2025-03-19 in China, where the event happened.
    event["eventTime"] = "2025-03-18T20:00:00Z"
    event["tc:kde"]["production_date"] = "2025-03-19"
    Event.from_dict(event)
    event["eventTime"] = "2025-03-18T15:59:59Z"  # 23:59:59 on the 18th in China
    assert "2025-03-18" in message_at(problems(event), "$.tc:kde.production_date")


# -------------------------------------------------------------------------------------------------------------
# Contradictions a profile can see


def test_salt_that_is_not_iodised_states_no_iodine_content() -> None:
    event = example("salt", "commissioning")
    event["tc:kde"]["iodised"] = False
    message = message_at(problems(event), "$.tc:kde.iodine_content")
    assert "salt that is not iodised states no iodine content" in message
    assert message.endswith("(碘含量)")
    del event["tc:kde"]["iodine_content"]
    Event.from_dict(event)


@pytest.mark.parametrize("product", ["infant_formula", "edible_oil", "liquor", "salt", "vet_drug", "food"])
def test_a_conformant_result_lists_no_failed_items(product: str) -> None:
    event = example(product, "inspection")
    event["tc:kde"]["inspection_result"] = "conformant"
    event["disposition"] = "conformant"
    event["tc:kde"]["failed_items"] = ["菌落总数"]
    assert "a conformant result lists no failed items" in message_at(problems(event), "$.tc:kde.failed_items")


@pytest.mark.parametrize(
    ("disposition", "result"),
    [
        ("conformant", "non_conformant"),
        ("https://ref.gs1.org/cbv/Disp-conformant", "non_conformant"),
        ("non_conformant", "conformant"),
        ("urn:epcglobal:cbv:disp:non_conformant", "conformant"),
    ],
)
def test_the_disposition_and_the_inspection_result_agree(disposition: str, result: str) -> None:
    event = example("food", "inspection")
    event["disposition"] = disposition
    event["tc:kde"]["inspection_result"] = result
    event["tc:kde"].pop("failed_items", None)
    if result == "non_conformant":
        event["tc:kde"]["failed_items"] = ["菌落总数"]
    message = message_at(problems(event), "$.tc:kde.inspection_result")
    assert f"the disposition says {disposition.rsplit('-', 1)[-1].rsplit(':', 1)[-1]}" in message


def test_consistent_inspections_are_accepted() -> None:
    for product in ("food", "salt"):
        event = example(product, "inspection")
        Event.from_dict(event)
        broken = copy.deepcopy(event)
        broken["disposition"] = "in_progress"  # a disposition that says nothing of the result
        Event.from_dict(broken)


def test_the_limits_documented_are_the_limits_enforced() -> None:
    from tracechain import _schema

    text = (Path(__file__).resolve().parents[1] / "docs" / "products.md").read_text(encoding="utf-8")
    table = text[text.index("## Limits") : text.index("## Times")]
    stated = {
        "MAX_TEXT": f"{_schema.MAX_TEXT:,}",
        "MAX_LIST": f"{_schema.MAX_LIST:,}",
        "MAX_MEMBERS": f"{_schema.MAX_MEMBERS:,}",
        "MAX_DEPTH": f"{_schema.MAX_DEPTH} levels",
        "MAX_EVENT_BYTES": f"{_schema.MAX_EVENT_BYTES >> 20} MiB",
        "MAX_PROBLEMS": f"{_schema.MAX_PROBLEMS},",
    }
    for name, number in stated.items():
        (row,) = [line for line in table.splitlines() if line.endswith(f"{name}` |")]
        assert f"| {number}" in row, (name, row)
