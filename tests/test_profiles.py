"""Event validation: the schemas, the product profiles, and every problem reported with a Chinese title."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tracechain import profiles
from tracechain.errors import ValidationError

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "schemas"
EXAMPLES = ROOT / "tests" / "examples"
STEPS = (
    "commissioning",
    "transformation",
    "packing",
    "shipping",
    "receiving",
    "inspection",
    "recall",
    "destruction",
    "retail",
)
EXAMPLE_FILES = sorted(EXAMPLES.glob("*/*.json"))
CJK = re.compile(r"[\u4e00-\u9fff]")

# What docs/products.md promises each step must record (at least); the schemas must agree.
BASE = {"enterprise_uscc", "enterprise_name"}
LOT_MASTER = {"product_name", "lot", "production_date"}
REQUIRED: dict[str, dict[str, set[str]]] = {
    product: {
        "commissioning": BASE | LOT_MASTER | attrs,
        "transformation": BASE | LOT_MASTER | attrs,
        "packing": BASE | ({"trace_code", "packaging_level"} if product == "vet_drug" else set()),
        "shipping": BASE
        | {"lot", "receiver_uscc", "receiver_name"}
        | ({"trace_code"} if product == "vet_drug" else set()),
        "receiving": BASE
        | {"lot", "supplier_uscc", "supplier_name"}
        | ({"trace_code"} if product == "vet_drug" else set()),
        "inspection": BASE | {"lot", "inspection_result", "testing_body", "report_number"},
        "recall": BASE | {"lot", "recall_reason"} | (set() if product == "vet_drug" else {"recall_level"}),
        "destruction": BASE | {"lot", "destruction_method"},
        "retail": BASE | {"lot"} | ({"trace_code", "buyer_name"} if product == "vet_drug" else set()),
    }
    for product, attrs in {
        "infant_formula": {"sc_licence", "formula_registration_number", "expiry_date"},
        "edible_oil": {"sc_licence", "expiry_date", "raw_material", "raw_material_origin", "process"},
        "liquor": {"sc_licence", "alcohol_content", "aroma_type"},
        "salt": {"sc_licence", "salt_producer_certificate", "iodised"},
        "vet_drug": {"approval_number", "expiry_date"},
        "food": {"sc_licence", "expiry_date"},
    }.items()
}
REQUIRED["vet_drug"]["commissioning"] |= {"trace_code", "packaging_level"}
REQUIRED["food"]["inspection"] |= {"failed_items"}  # the food example failed its sampling
REQUIRED["salt"]["commissioning"] |= {"iodine_content"}  # the salt example is iodised
REQUIRED["salt"]["transformation"] |= {"iodine_content"}


def load(path: Path) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return event


def example(product: str, step: str) -> dict[str, Any]:
    return load(EXAMPLES / product / f"{step}.json")


def schema_files() -> list[Path]:
    return sorted(SCHEMAS.glob("*.json"))


@cache
def schema_file(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    return schema


@cache
def reference_validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema_file(name))


@cache
def fast_validator(name: str) -> Callable[[Any], Any]:
    validator: Callable[[Any], Any] = fastjsonschema.compile(schema_file(name), use_formats=False)
    return validator


def schemas_for(event: dict[str, Any]) -> list[str]:
    product = event.get("tc:product")
    return ["event.schema"] + ([f"profile-{product}"] if product in profiles.PRODUCTS else [])


def jsonschema_errors(event: dict[str, Any]) -> list[str]:
    """The reference validator's verdict: the envelope plus the event's profile, formats as annotations."""
    return [e.message for name in schemas_for(event) for e in reference_validator(name).iter_errors(event)]


def fastjsonschema_valid(event: dict[str, Any]) -> bool:
    try:
        for name in schemas_for(event):
            fast_validator(name)(event)
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True


def paths(found: list[tuple[str, str]]) -> set[str]:
    return {path for path, _ in found}


def message_at(found: list[tuple[str, str]], path: str) -> str:
    messages = [text for at, text in found if at == path]
    assert messages, f"no problem at {path}; found {found}"
    return messages[0]


# -------------------------------------------------------------------------------------------------------------
# The schema files


def test_schema_names_list_the_envelope_and_one_profile_per_product() -> None:
    assert profiles.schema_names() == ["event.schema", *(f"profile-{p}" for p in sorted(profiles.PRODUCTS))]
    assert [p.stem for p in schema_files()] == profiles.schema_names()


@pytest.mark.parametrize("path", schema_files(), ids=lambda p: p.name)
def test_every_schema_file_is_a_valid_2020_12_schema(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert profiles.load_schema(path.stem) == schema
    assert profiles.load_schema(path.name) == schema


def test_load_schema_rejects_unknown_names() -> None:
    with pytest.raises(ValidationError, match="profile-tea"):
        profiles.load_schema("profile-tea")


def _subschemas(schema: Any) -> Iterator[dict[str, Any]]:
    """Every schema object inside ``schema`` (not the names under properties/$defs)."""
    if isinstance(schema, dict):
        yield schema
        for keyword, value in schema.items():
            if keyword in ("properties", "patternProperties", "$defs"):
                for sub in value.values():
                    yield from _subschemas(sub)
            elif keyword in ("allOf", "anyOf"):
                for sub in value:
                    yield from _subschemas(sub)
            elif keyword in ("items", "additionalProperties", "if", "then", "else"):
                yield from _subschemas(value)


@pytest.mark.parametrize("path", schema_files(), ids=lambda p: p.name)
def test_schemas_use_only_keywords_both_validators_treat_alike(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    for sub in _subschemas(schema):
        assert set(sub) <= profiles.SUPPORTED_KEYWORDS, set(sub) - profiles.SUPPORTED_KEYWORDS
        if "$ref" in sub:  # fastjsonschema ignores $ref's siblings: they may only annotate
            assert set(sub) - {"$ref"} <= {"title", "description", "$comment"}
        if "pattern" in sub:
            assert not re.search(r"\\[dDwWsS]", sub["pattern"]), "ECMA-262 and Python differ on \\d, \\w, \\s"


def _property_definitions(schema: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Property definitions, leaving out the conditions and requirements of if/then/else and anyOf."""
    if not isinstance(schema, dict):
        return
    for name, sub in {**schema.get("properties", {}), **schema.get("patternProperties", {})}.items():
        yield name, sub
        yield from _property_definitions(sub)
    for keyword in ("items", "additionalProperties"):
        yield from _property_definitions(schema.get(keyword))
    for sub in schema.get("$defs", {}).values():
        yield from _property_definitions(sub)


@pytest.mark.parametrize("path", schema_files(), ids=lambda p: p.name)
def test_every_property_has_a_chinese_title_and_an_english_description(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    definitions = list(_property_definitions(schema))
    assert definitions
    for name, sub in definitions:
        assert CJK.search(sub.get("title", "")), f"{name} has no Chinese title"
        assert re.search(r"[A-Za-z]{3}", sub.get("description", "")), f"{name} has no English description"


# -------------------------------------------------------------------------------------------------------------
# The examples


def test_there_is_one_example_per_product_and_step() -> None:
    assert {(p.parent.name, p.stem) for p in EXAMPLE_FILES} == {
        (product, step) for product in profiles.PRODUCTS for step in STEPS
    }


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_example_is_valid_for_tracechain_jsonschema_and_fastjsonschema(path: Path) -> None:
    event = load(path)
    assert profiles.problems(event) == []
    profiles.validate(event)
    assert jsonschema_errors(event) == []
    assert fastjsonschema_valid(event)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_example_uses_china_time_and_valid_gs1_china_codes(path: Path) -> None:
    event = load(path)
    assert event["eventTime"].endswith("+08:00")
    assert event["eventTimeZoneOffset"] == "+08:00"
    if "gtin" in event["tc:kde"]:
        assert event["tc:kde"]["gtin"][:3] in {f"69{d}" for d in range(10)}


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_removing_any_required_kde_is_reported_with_its_name_and_title(path: Path) -> None:
    event = load(path)
    product, step = path.parent.name, path.stem
    kde_titles = profiles.load_schema(f"profile-{product}")["properties"]["tc:kde"]["properties"]
    required_by_schema = set()
    for key in event["tc:kde"]:
        broken = copy.deepcopy(event)
        del broken["tc:kde"][key]
        found = profiles.problems(broken)
        assert bool(found) == bool(jsonschema_errors(broken)), key
        if found:
            required_by_schema.add(key)
            message = message_at(found, f"$.tc:kde.{key}")
            assert key in message
            assert message.endswith(f"({kde_titles[key]['title']})")
    assert required_by_schema == REQUIRED[product][step]


# -------------------------------------------------------------------------------------------------------------
# Problems the patterns cannot see


def test_impossible_dates_are_rejected_naming_the_field() -> None:
    event = example("infant_formula", "commissioning")
    event["tc:kde"]["production_date"] = "2025-02-30"
    event["eventTime"] = "2025-02-29T09:30:00+08:00"
    found = profiles.problems(event)
    assert "2025-02-30" in message_at(found, "$.tc:kde.production_date")
    assert message_at(found, "$.tc:kde.production_date").endswith("(生产日期)")
    assert "real calendar date" in message_at(found, "$.eventTime")
    assert message_at(found, "$.eventTime").endswith("(事件时间)")
    assert jsonschema_errors(event) == []  # only tracechain's date check sees it


def test_leap_day_is_a_real_date() -> None:
    event = example("food", "commissioning")
    event["tc:kde"]["production_date"] = "2024-02-29"
    event["tc:kde"]["expiry_date"] = "2024-08-29"
    assert profiles.problems(event) == []


def test_expiry_before_production_is_rejected() -> None:
    event = example("edible_oil", "commissioning")
    event["tc:kde"]["expiry_date"] = "2025-01-01"
    message = message_at(profiles.problems(event), "$.tc:kde.expiry_date")
    assert "on or after the production date 2025-03-15" in message
    assert message.endswith("(保质期至)")


def test_wrong_gtin_check_digit_in_kde_is_rejected() -> None:
    event = example("liquor", "commissioning")
    gtin = event["tc:kde"]["gtin"]
    event["tc:kde"]["gtin"] = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
    message = message_at(profiles.problems(event), "$.tc:kde.gtin")
    assert f"should be {gtin[-1]}" in message
    assert message.endswith("(商品条码)")


def test_wrong_uscc_check_character_is_rejected() -> None:
    event = example("salt", "shipping")
    uscc = event["tc:kde"]["receiver_uscc"]
    event["tc:kde"]["receiver_uscc"] = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")
    message = message_at(profiles.problems(event), "$.tc:kde.receiver_uscc")
    assert "check character should be" in message
    assert message.endswith("(收货方统一社会信用代码)")


def test_23_digit_vet_trace_code_is_rejected_saying_how_many_digits() -> None:
    event = example("vet_drug", "retail")
    event["tc:kde"]["trace_code"] = event["tc:kde"]["trace_code"][:23]
    found = profiles.problems(event)
    message = message_at(found, "$.tc:kde.trace_code")
    assert "expected exactly 24 digits, found 23" in message
    assert message.endswith("(兽药产品追溯码)")
    assert len([p for p in found if p[0] == "$.tc:kde.trace_code"]) == 1  # not also as a pattern failure


def test_bad_sc_licence_is_rejected() -> None:
    event = example("food", "transformation")
    event["tc:kde"]["sc_licence"] = "SC1114417210009"
    message = message_at(profiles.problems(event), "$.tc:kde.sc_licence")
    assert "found 13 digits after SC" in message
    assert message.endswith("(食品生产许可证编号)")


def test_bad_check_digit_in_an_item_code_is_rejected_at_its_path() -> None:
    event = example("infant_formula", "retail")
    event["epcList"] = [event["epcList"][0].replace("/01/06903215123455/", "/01/06903215123456/")]
    message = message_at(profiles.problems(event), "$.epcList[0]")
    assert "check digit should be 5, found 6" in message
    assert message.endswith("(物品代码)")


# -------------------------------------------------------------------------------------------------------------
# Step rules and the envelope


def test_every_problem_is_reported_at_once() -> None:
    event = example("edible_oil", "commissioning")
    del event["tc:kde"]["lot"]
    event["tc:kde"]["process"] = "cold"
    event["tc:kde"]["enterprise_uscc"] = "91441721MA52KT8C30"
    event["eventTimeZoneOffset"] = "8:00"
    found = profiles.problems(event)
    assert paths(found) == {
        "$.tc:kde.lot",
        "$.tc:kde.process",
        "$.tc:kde.enterprise_uscc",
        "$.eventTimeZoneOffset",
    }
    assert 'expected one of "pressed", "extracted", found "cold" (加工工艺)' in message_at(found, "$.tc:kde.process")
    with pytest.raises(ValidationError) as caught:
        profiles.validate(event)
    assert caught.value.problems == found
    assert "(and 3 more)" in str(caught.value)


def test_non_conformant_result_needs_failed_items() -> None:
    event = example("food", "inspection")
    del event["tc:kde"]["failed_items"]
    assert "failed_items" in message_at(profiles.problems(event), "$.tc:kde.failed_items")
    event["tc:kde"]["inspection_result"] = "conformant"
    event["disposition"] = "conformant"
    assert profiles.problems(event) == []


def test_iodised_salt_needs_its_iodine_content() -> None:
    event = example("salt", "commissioning")
    del event["tc:kde"]["iodine_content"]
    assert message_at(profiles.problems(event), "$.tc:kde.iodine_content").endswith("(碘含量)")
    event["tc:kde"]["iodised"] = False
    assert profiles.problems(event) == []


@pytest.mark.parametrize(
    "biz_step",
    [
        "https://ref.gs1.org/cbv/BizStep-shipping",
        "https://gs1.org/voc/BizStep-shipping",
        "urn:epcglobal:cbv:bizstep:shipping",
    ],
)
def test_cbv_uri_spellings_trigger_the_same_step_rules(biz_step: str) -> None:
    event = example("liquor", "shipping")
    event["bizStep"] = biz_step
    assert profiles.problems(event) == []
    del event["tc:kde"]["receiver_uscc"]
    assert paths(profiles.problems(event)) == {"$.tc:kde.receiver_uscc"}


def test_a_custom_biz_step_only_needs_the_enterprise() -> None:
    event = example("food", "shipping")
    event["bizStep"] = "https://example.cn/voc/cold-storage-check"
    event["tc:kde"] = {k: event["tc:kde"][k] for k in ("enterprise_uscc", "enterprise_name")}
    assert profiles.problems(event) == []


def test_transformation_event_has_no_action() -> None:
    event = example("liquor", "transformation")
    event["action"] = "ADD"
    assert "not allowed" in message_at(profiles.problems(event), "$.action")


def test_object_event_needs_items() -> None:
    event = example("salt", "retail")
    del event["quantityList"]
    message = message_at(profiles.problems(event), "$")
    assert "a non-empty epcList or a non-empty quantityList" in message


def test_unknown_fields_are_rejected_and_extensions_allowed() -> None:
    event = example("food", "receiving")
    event["example:temperatureLog"] = {"max": -18}
    assert profiles.problems(event) == []
    event["lotNumber"] = "X"
    event["tc:kde"]["lotnumber"] = "X"
    event["tc:extra"] = 1
    found = profiles.problems(event)
    assert paths(found) == {"$.lotNumber", '$["tc:extra"]', "$.tc:kde.lotnumber"} or paths(found) == {
        "$.lotNumber",
        "$.tc:extra",
        "$.tc:kde.lotnumber",
    }
    assert message_at(found, "$.tc:kde.lotnumber").endswith("(关键数据元素)")


def test_unknown_product_and_missing_envelope_fields() -> None:
    event = example("food", "commissioning")
    event["tc:product"] = "tea"
    del event["eventTimeZoneOffset"]
    found = profiles.problems(event)
    assert '"tea"' in message_at(found, "$.tc:product")
    assert message_at(found, "$.tc:product").endswith("(产品类别)")
    assert message_at(found, "$.eventTimeZoneOffset").endswith("(时区偏移)")


def test_wrong_types_say_what_was_expected_and_found() -> None:
    event = example("liquor", "commissioning")
    event["tc:kde"]["alcohol_content"] = "52%"
    event["quantityList"] = [{"epcClass": event["epcList"][0], "quantity": True}]
    found = profiles.problems(event)
    assert message_at(found, "$.tc:kde.alcohol_content") == 'expected a number, found "52%" (酒精度)'
    assert message_at(found, "$.quantityList[0].quantity") == "expected a number, found true (数量)"


@pytest.mark.parametrize("event", [None, [], "event", 3])
def test_non_objects_are_one_problem(event: Any) -> None:
    assert profiles.problems(event) == [("$", f"expected an event object, found {json.dumps(event)}")]


# -------------------------------------------------------------------------------------------------------------
# The all-problems walker agrees with the compiled validators


def _mutations(event: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in list(event):
        for replacement in (None, 0, "", [], {}, "x"):
            broken = copy.deepcopy(event)
            broken[key] = replacement
            yield broken
        broken = copy.deepcopy(event)
        del broken[key]
        yield broken
    for key in list(event["tc:kde"]):
        for replacement in (None, 7, "", ["x"]):
            broken = copy.deepcopy(event)
            broken["tc:kde"][key] = replacement
            yield broken


@pytest.mark.parametrize(
    "path", [EXAMPLES / p / f"{s}.json" for p in ("vet_drug", "salt") for s in STEPS], ids=lambda p: p.stem
)
def test_problems_agree_with_jsonschema_and_fastjsonschema_on_broken_events(path: Path) -> None:
    for broken in _mutations(load(path)):
        reference_valid = not jsonschema_errors(broken)
        assert fastjsonschema_valid(broken) == reference_valid, broken
        # A replacement that keeps the schema happy can still break a date or check digit rule; only then may
        # tracechain be stricter than the schema validators.
        found = profiles.problems(broken)
        if reference_valid:
            assert all("check" in text or "date" in text or "expected exactly" in text for _, text in found)
        else:
            assert found, broken


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(EXAMPLE_FILES),
    key=st.sampled_from(["type", "action", "bizStep", "epcList", "quantityList", "tc:kde", "readPoint", "eventTime"]),
    value=_json,
)
def test_problems_never_raises_and_always_returns_a_list_of_pairs(path: Path, key: str, value: Any) -> None:
    event = load(path)
    event[key] = value
    found = profiles.problems(event)
    assert isinstance(found, list)
    assert all(isinstance(p, str) and isinstance(m, str) and p.startswith("$") for p, m in found)
