"""Plain EPCIS events (issue 15 item 1, the event model): an event without tc:product is held to the envelope and
to EPCIS's own rules, marked by `Event.product` being None; ``product=`` reads it as an event of a product."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.conftest import SHARED, make_event
from tests.test_differential import _gs1_events, oracle
from tracechain import profiles
from tracechain.errors import ValidationError
from tracechain.events import Event
from tracechain.reading import read_events, validate_records


def plain(**overrides: Any) -> dict[str, Any]:
    """make_event's envelope without its product: a plain EPCIS event."""
    event = {k: v for k, v in make_event().items() if k not in ("tc:product", "tc:kde")}
    event.update(overrides)
    return event


def problems_of(event: dict[str, Any], **options: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        Event.from_dict(event, **options)
    return caught.value.problems


def test_an_event_without_a_product_is_a_plain_epcis_event() -> None:
    e = Event.from_dict(plain())
    assert e.product is None
    assert "tc:product" not in e.data
    assert Event.from_canonical(e.canonical_bytes()).product is None
    assert profiles.problems(plain()) == []
    assert oracle(plain()) == []  # jsonschema over the same envelope agrees


def test_the_product_of_a_tracechain_event_is_its_profile() -> None:
    assert Event.from_dict(make_event()).product == "food"


@pytest.mark.skipif(not (SHARED / "epcis").is_dir(), reason="../shared/epcis is not beside the checkout")
def test_gs1_example_events_are_plain_epcis_events_as_they_are() -> None:
    events = [{k: v for k, v in e.items() if k != "tc:product"} for e in _gs1_events()]
    assert len(events) >= 50
    for raw in events:
        e = Event.from_dict(raw, now=None)
        assert e.product is None
        assert Event.from_dict(e.to_dict()).canonical_bytes() == e.canonical_bytes()


@pytest.mark.parametrize(
    ("change", "path", "says"),
    [
        ({"bizStep": "cold_check"}, "$.bizStep", "a URI outside the CBV namespace"),
        ({"disposition": "quarantined"}, "$.disposition", "a URI outside the CBV namespace"),
        ({"temperature": 4}, "$.temperature", "namespaced extensions"),
        ({"ilmd": {"bestBefore": "2027-03-01"}}, "$.ilmd.bestBefore", "ILMD field named by a compact or full IRI"),
        ({"tc:kde": {"lot": "L1"}}, "$.tc:kde", "carries no tc:kde"),
    ],
)
def test_a_plain_event_keeps_the_rules_of_epcis(change: dict[str, Any], path: str, says: str) -> None:
    event = plain(**change)
    found = problems_of(event)
    assert any(p == path and says in text for p, text in found), found
    assert oracle(event) != []


def test_plain_events_may_carry_what_epcis_allows() -> None:
    event = plain(
        bizStep="https://example.cn/voc/cold-check",
        disposition="urn:example:disp:held",
        ilmd={"example:bestBefore": "2027-03-01", "https://example.cn/voc/grade": "A"},
        **{"example:temperature": {"value": 4.5}, "@context": [{"example": "https://example.cn/voc/"}]},
    )
    assert Event.from_dict(event).product is None
    assert oracle(event) == []


def test_tracechain_events_keep_their_ilmd_as_before() -> None:
    """Namespaced ILMD is EPCIS's rule for plain events; a product's events keep what they could always carry."""
    Event.from_dict(make_event(ilmd={"bestBefore": "2027-03-01"}), check_profile=False)


def test_product_reads_a_plain_event_as_an_event_of_that_product() -> None:
    with_kde = {k: v for k, v in make_event().items() if k != "tc:product"}
    refused = problems_of(with_kde)  # without a product, KDEs mean nothing
    assert [p for p, _ in refused] == ["$.tc:kde"]
    e = Event.from_dict(with_kde, product="food")
    assert e.product == "food"
    assert e.canonical_bytes() == Event.from_dict(make_event()).canonical_bytes()  # as if it had said so itself


def test_product_applies_the_profile_and_refuses_what_it_lacks() -> None:
    found = problems_of(plain(), product="salt")
    assert ("$.tc:kde", "expected a value for required field tc:kde, found nothing (关键数据元素)") in found
    lacking = {k: v for k, v in make_event().items() if k != "tc:product"}
    del lacking["tc:kde"]["lot"]
    assert "$.tc:kde.lot" in {p for p, _ in problems_of(lacking, product="food")}


def test_product_refuses_an_event_of_another_product_or_an_unknown_one() -> None:
    found = problems_of(make_event(), product="salt")
    assert found == [("$.tc:product", 'expected "salt" (the product this event is read as), found "food"')]
    with pytest.raises(ValidationError, match="tea"):
        Event.from_dict(plain(), product="tea")
    assert Event.from_dict(make_event(), product="food").product == "food"


def test_product_does_not_change_the_dict_it_is_given() -> None:
    event = plain()
    before = copy.deepcopy(event)
    Event.from_dict({**event, "tc:kde": make_event()["tc:kde"]}, product="food")
    assert event == before


def test_reading_with_a_product_reads_every_event_as_one_of_it() -> None:
    events = [{k: v for k, v in make_event(i).items() if k != "tc:product"} for i in range(3)]
    data = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events).encode()
    checked = [c for batch in validate_records(read_events(data), product="food") for c in batch]
    assert [c.event.product if c.event else c.problems for c in checked] == ["food"] * 3
    refused = [c for batch in validate_records(read_events(data)) for c in batch]
    assert all(c.event is None and c.problems[0][0] == "$.tc:kde" for c in refused)
