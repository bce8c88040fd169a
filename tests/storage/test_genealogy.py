"""The genealogy projections: `lots` (lot ↔ its items, lot number → lot key) and `links` (parent ↔ child), their
rows for real events, their lookups in a ledger, their rebuild in an old ledger, and verify finding them edited."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tracechain
from tests.conftest import ACTOR_USCC, GTIN14, make_event
from tracechain import Event, Ledger, SigningKey
from tracechain.identifiers import GS1_CHARSET_82, canonical_code
from tracechain.storage import LINKS, LOTS, PROJECTIONS, open_store
from tracechain.storage.projections import HUB_PREFIX, lot_key

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FORMULA = "https://id.gs1.org/01/06903215123455"
LOT = f"{FORMULA}/10/NL250301A"
CASE = "https://id.gs1.org/00/069032150000000121"


def _example(product: str, step: str) -> Event:
    return Event.from_dict(json.loads((EXAMPLES / product / f"{step}.json").read_text(encoding="utf-8")))


def test_a_commissioning_makes_its_units_members_of_the_kde_lot_both_ways() -> None:
    rows = LOTS.derive(_example("infant_formula", "commissioning"), 7)
    units = [f"{FORMULA}/21/A0000017", f"{FORMULA}/21/A0000018"]
    assert sorted(rows) == sorted(
        [
            ("NL250301A", "number", LOT, 7),
            *((LOT, "member", unit, 7) for unit in units),
            *((unit, "lot", LOT, 7) for unit in units),
        ]
    )


def test_a_packing_links_the_case_and_its_units_both_ways_and_the_case_gets_no_lot() -> None:
    event = _example("infant_formula", "packing")
    units = [f"{FORMULA}/21/A0000017", f"{FORMULA}/21/A0000018"]
    assert sorted(LINKS.derive(event, 3)) == sorted(
        [
            *((CASE, "child", unit, "aggregation_add", 3) for unit in units),
            *((unit, "parent", CASE, "aggregation_add", 3) for unit in units),
        ]
    )
    # The packing's KDE lot is a claim, not where the cans got their lot: the index keeps what commissioning says.
    assert event.data["tc:kde"]["lot"] == "NL250301A"
    assert LOTS.derive(event, 3) == []


def test_a_transformation_joins_inputs_to_outputs_through_one_hub_and_the_kde_lot_is_the_outputs() -> None:
    event = _example("infant_formula", "transformation")
    milk, whey = "https://id.gs1.org/01/06903215000183/10/RM250226", "https://id.gs1.org/01/06903215000251/10/WP250220"
    rows = LINKS.derive(event, 9)
    hubs = {row[2] for row in rows if row[1] == "child" and row[0] == milk}
    assert len(hubs) == 1
    hub = hubs.pop()
    assert hub.startswith(HUB_PREFIX + "event:") and len(hub) == len(HUB_PREFIX + "event:") + 32
    assert sorted(rows) == sorted(
        [
            (milk, "child", hub, "transformation", 9),
            (hub, "parent", milk, "transformation", 9),
            (whey, "child", hub, "transformation", 9),
            (hub, "parent", whey, "transformation", 9),
            (hub, "child", LOT, "transformation", 9),
            (LOT, "parent", hub, "transformation", 9),
        ]
    )
    # Each lot class is its own lot; the KDE lot (the output's) is not given to the inputs.
    lots = LOTS.derive(event, 9)
    assert {(row[0], row[2]) for row in lots if row[1] == "member"} == {(milk, milk), (whey, whey), (LOT, LOT)}
    assert {row[0] for row in lots if row[1] == "number"} == {"RM250226", "WP250220", "NL250301A"}


def _serial_transformation(ident: str | None, inputs: list[str], outputs: list[str]) -> Event:
    event: dict[str, Any] = {
        "type": "TransformationEvent",
        "eventTime": "2026-03-02T08:00:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "bizStep": "commissioning",
        "tc:product": "food",
        "tc:kde": {**make_event()["tc:kde"], "lot": "OUT1"},
    }
    if inputs:
        event["inputEPCList"] = inputs
    if outputs:
        event["outputEPCList"] = outputs
    if ident is not None:
        event["transformationID"] = ident
    return Event.from_dict(event)


def test_events_sharing_a_transformation_id_share_one_hub() -> None:
    unit_in, unit_out = f"https://id.gs1.org/01/{GTIN14}/21/IN1", f"https://id.gs1.org/01/{GTIN14}/21/OUT1"
    inputs = LINKS.derive(_serial_transformation("urn:uuid:7f3e", [unit_in], []), 4)
    outputs = LINKS.derive(_serial_transformation("urn:uuid:7f3e", [], [unit_out]), 5)
    hub = HUB_PREFIX + "id:urn:uuid:7f3e"
    assert inputs == [(unit_in, "child", hub, "transformation", 4), (hub, "parent", unit_in, "transformation", 4)]
    assert outputs == [(hub, "child", unit_out, "transformation", 5), (unit_out, "parent", hub, "transformation", 5)]
    # Serialised inputs keep their own lot; only the outputs are of the KDE lot.
    lots = LOTS.derive(_serial_transformation(None, [unit_in], [unit_out]), 6)
    assert {row[0] for row in lots if row[1] == "lot"} == {unit_out}


def test_a_delete_naming_no_children_is_one_row_for_all_of_them() -> None:
    event = Event.from_dict(
        {
            "type": "AggregationEvent",
            "action": "DELETE",
            "bizStep": "unpacking",
            "parentID": CASE,
            "eventTime": "2026-03-05T08:00:00+08:00",
            "eventTimeZoneOffset": "+08:00",
            "tc:product": "food",
            "tc:kde": {"enterprise_uscc": ACTOR_USCC, "enterprise_name": "阳西县示例食品有限公司"},
        }
    )
    assert LINKS.derive(event, 12) == [(CASE, "child", "", "aggregation_delete", 12)]


def test_a_vet_drug_code_has_a_lot_only_when_the_event_names_its_gtin() -> None:
    event = _example("vet_drug", "commissioning")
    assert LOTS.derive(event, 1) == []
    data = json.loads((EXAMPLES / "vet_drug" / "commissioning.json").read_text(encoding="utf-8"))
    data["tc:kde"]["gtin"] = "06908899000016"
    key = "https://id.gs1.org/01/06908899000016/10/202503021"
    rows = LOTS.derive(Event.from_dict(data), 1)
    assert ("202503021", "number", key, 1) in rows
    assert (key, "member", "urn:tracechain:vetdrug:202503021023400000000157", 1) in rows


@given(st.text(alphabet=sorted(GS1_CHARSET_82), min_size=1, max_size=20))
def test_a_lot_key_is_the_canonical_code_of_every_spelling_of_the_lot_class(lot: str) -> None:
    key = lot_key("6903215123455", lot)  # a GTIN-13, widened to 14 digits in the key
    assert key is not None
    assert key == canonical_code(f"https://shop.example.cn/01/06903215123455/10/{quote(lot, safe='')}")
    assert canonical_code(key) == key
    rows = LOTS.derive(Event.from_dict(make_event(1, **{"tc:kde": {**make_event()["tc:kde"], "lot": lot}})), 0)
    expected = lot_key(GTIN14, lot)
    assert (lot, "number", expected, 0) in rows  # the number row gives back the lot as written


def test_a_lot_that_is_not_gs1_text_has_no_key() -> None:
    assert lot_key(GTIN14, "批号一") is None
    assert lot_key(GTIN14, "L" * 21) is None
    assert lot_key("06903215123456", "L1") is None  # wrong check digit


@pytest.fixture
def chain(ledger: Ledger, actor_key: SigningKey) -> Ledger:
    """Two lots of three units each, packed into one case, then the case emptied."""
    kde = make_event()["tc:kde"]
    events = [make_event(i, **{"tc:kde": {**kde, "lot": "LA" if i < 3 else "LB"}}) for i in range(6)]
    events.append(
        {
            **make_event(99),
            "type": "AggregationEvent",
            "bizStep": "packing",
            "parentID": CASE,
            "childEPCs": [e["epcList"][0] for e in events],
        }
    )
    del events[-1]["epcList"]
    events[-1]["tc:kde"] = {"enterprise_uscc": ACTOR_USCC, "enterprise_name": kde["enterprise_name"]}
    ledger.append_many(events, actor_key)
    return ledger


def _unit(i: int) -> str:
    return f"https://id.gs1.org/01/{GTIN14}/21/U{i:06d}"


def test_a_ledger_answers_lot_and_genealogy_lookups(chain: Ledger) -> None:
    store = chain._store
    key_a = lot_key(GTIN14, "LA")
    assert [row[2] for row in store.lookup(LOTS, "LA")] == [key_a] * 3  # one number row per event of the lot
    members = store.lookup(LOTS, key_a)
    assert {row[2] for row in members if row[1] == "member"} == {_unit(i) for i in range(3)}
    assert [row[2] for row in store.lookup(LOTS, _unit(4))] == [lot_key(GTIN14, "LB")]
    children = store.lookup(LINKS, CASE)
    assert {row[2] for row in children} == {_unit(i) for i in range(6)}
    assert {(row[1], row[3]) for row in children} == {("child", "aggregation_add")}
    assert store.lookup(LINKS, _unit(5)) == [(_unit(5), "parent", CASE, "aggregation_add", children[0][-1])]


def test_reindex_rebuilds_exactly_the_rows_written_with_the_entries(chain: Ledger) -> None:
    store = chain._store
    before = {p.name: list(store.iter_rows(p)) for p in (LOTS, LINKS)}
    assert all(before.values())
    counts = chain.reindex([LOTS, LINKS])
    after = {p.name: list(store.iter_rows(p)) for p in (LOTS, LINKS)}
    assert after == before
    assert counts == {name: len(rows) for name, rows in before.items()}


def test_a_ledger_written_before_the_genealogy_projections_gets_them_when_opened_for_writing(
    chain: Ledger,
) -> None:
    path = chain.path
    expected = {p.name: list(chain._store.iter_rows(p)) for p in (LOTS, LINKS)}
    chain.close()
    con = sqlite3.connect(path)
    con.executescript(
        "DROP TABLE lots; DROP TABLE links; DROP TABLE event_ids;"
        " UPDATE meta SET value = 'items,digests,delegations,batches' WHERE key = 'projections';"
    )
    con.commit()
    con.close()
    assert tracechain.verify(path, workers=1).ok  # an older file is sound without them
    with Ledger.open(path, readonly=True) as reader:
        assert LOTS not in reader._store.built_projections()
    with Ledger.open(path) as writer:
        assert writer._store.built_projections() == list(PROJECTIONS)
        assert {p.name: list(writer._store.iter_rows(p)) for p in (LOTS, LINKS)} == expected
    assert tracechain.verify(path, workers=1).ok


_EDITS = {
    "lots: a unit moved to another lot": (
        "lots",
        "UPDATE lots SET code = replace(code, '/10/LA', '/10/LB') WHERE relation = 'lot' AND key LIKE '%U000001'",
    ),
    "lots: a member row removed and another added": (
        "lots",
        "DELETE FROM lots WHERE relation = 'member' AND code LIKE '%U000002';"
        f" INSERT INTO lots VALUES ('https://id.gs1.org/01/{GTIN14}/10/LA', 'member', 'forged', 3)",
    ),
    "links: a child taken out of the case": (
        "links",
        "UPDATE links SET other = replace(other, 'U000004', 'U000040') WHERE toward = 'child'",
    ),
    "links: the relation rewritten": ("links", "UPDATE links SET relation = 'aggregation_delete'"),
    "links: a row's entry changed": ("links", "UPDATE links SET idx = idx - 1 WHERE other LIKE '%U000000'"),
}


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("edit", list(_EDITS))
def test_every_edit_of_the_genealogy_projections_is_found(chain: Ledger, edit: str, workers: int) -> None:
    from tests.battery.support import spanned

    path = chain.path
    chain.close()
    name, sql = _EDITS[edit]
    con = sqlite3.connect(path)
    con.executescript(sql)
    con.commit()
    con.close()
    label = {"lots": "lot index", "links": "genealogy index"}[name]
    for report in (tracechain.verify(path, workers=workers), spanned(path, [], span=3, workers=workers)):
        assert len(report.problems) == 1, report.problems
        message = report.problems[0].message
        assert message.startswith(f"the {label} ")
        assert f"(projection {name}; tracechain reindex rebuilds it from the entries)" in message
    with Ledger.open(path) as led:
        led.reindex([LOTS, LINKS])
    assert tracechain.verify(path, workers=workers).ok


def test_the_sqlite_store_makes_both_tables_with_every_column_in_the_key(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db", create=True)
    try:
        with store.write():
            store.insert_rows(LINKS, [("p", "child", "c", "aggregation_add", 1)] * 2)
            store.insert_rows(LOTS, [("k", "member", "u", 1), ("k", "member", "u", 2)])
        assert store.lookup(LINKS, "p") == [("p", "child", "c", "aggregation_add", 1)]
        assert store.row_count(LOTS) == 2
        assert LOTS in store.built_projections() and LINKS in store.built_projections()
    finally:
        store.close()
