"""Trace: on a generated supply chain across three ledgers, a raw lot forward to exactly the cans made from it, a can
back to exactly its raw lots, the events that link them, where each item is now, and no loops on cyclic data."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import pytest

from tests import supply_chain as sc
from tests.conftest import ACTOR_USCC, make_event
from tracechain import Ledger, SigningKey
from tracechain.errors import IdentifierError, StorageError, ValidationError
from tracechain.storage.projections import HUB_PREFIX
from tracechain.trace import BACKWARD, FORWARD, Genealogy, trace


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> sc.Chain:
    return sc.build(tmp_path_factory.mktemp("chain"))


def _cans(codes: list[str]) -> set[str]:
    return {code for code in codes if code.startswith(f"https://id.gs1.org/01/{sc.FORMULA_GTIN}/21/")}


def _raw_lots(codes: list[str]) -> set[str]:
    return {code for code in codes if "/10/" in code and sc.FORMULA_GTIN not in code}


ALL_RAW = [*sc.RAW_LOTS, "WP1"]


@pytest.mark.parametrize("raw", ALL_RAW)
def test_a_raw_lot_is_traced_forward_to_exactly_the_cans_made_from_it(chain: sc.Chain, raw: str) -> None:
    result = trace(chain.paths, sc.raw_lot(raw), FORWARD)
    batches = [batch for batch, inputs in sc.BATCH_INPUTS.items() if raw in inputs]
    assert batches  # every raw lot went into something
    assert _cans(result.codes) == set().union(*(sc.cans_of(b) for b in batches))
    # and the cases and pallets that held any of those cans, and no others
    cases = {case for case, cans in sc.CASES.items() if any(b in batches for b, _ in cans)}
    pallets = {pallet for pallet, held in sc.PALLETS.items() if set(held) & cases}
    containers = {sc.CONTAINERS[name] for name in cases | pallets}
    assert {code for code in result.codes if "/00/" in code} == containers


@pytest.mark.parametrize("batch", list(sc.BATCH_INPUTS))
def test_a_can_is_traced_back_to_exactly_its_raw_lots(chain: sc.Chain, batch: str) -> None:
    result = trace(chain.paths, sc.can(batch, 5), BACKWARD)
    assert _raw_lots(result.codes) == {sc.raw_lot(n) for n in sc.BATCH_INPUTS[batch]}
    assert _cans(result.codes) == {sc.can(batch, 5)}  # no sibling can, no container
    assert not any("/00/" in code for code in result.codes)


def test_a_mixed_case_is_traced_back_through_both_batches(chain: sc.Chain) -> None:
    result = trace(chain.paths, sc.CONTAINERS["C4"], BACKWARD)
    assert _cans(result.codes) == {sc.can(b, i) for b, i in sc.CASES["C4"]}
    assert _raw_lots(result.codes) == {sc.raw_lot(n) for n in ("RM2", "RM3", "RM4")}


def test_every_step_is_stated_by_the_entry_it_names(chain: sc.Chain) -> None:
    result = trace(chain.paths, sc.raw_lot("RM2"), FORWARD)
    ledgers = [Ledger.open(path, readonly=True) for path in chain.paths]
    try:
        for code in result.codes[1:]:
            path = result.path(code)
            assert path[0].code == sc.raw_lot("RM2") and path[0].relation == "start"
            assert path[-1].code == code
            for before, step in itertools.pairwise(path):
                assert step.via == before.code and step.depth >= before.depth
                assert step.ledger is not None and step.index is not None
                event = ledgers[step.ledger].entry(step.index).event
                assert event is not None
                named = set(event.item_codes())
                stated = {c for c in (step.code, step.via) if not c.startswith(HUB_PREFIX)}
                if step.relation == "member" and step.via not in named:  # the lot is the event's KDE lot
                    assert event.data["tc:kde"]["lot"] == step.via.rsplit("/10/", 1)[1], step
                    stated.discard(step.via)
                assert stated <= named, step
        # the hub of the split transformation joins the event with the inputs and the one with the outputs
        b2 = result.path(sc.lot(sc.FORMULA_GTIN, "B2"))
        assert [s.relation for s in b2] == ["start", "input_to", "output"]
        assert b2[1].code == HUB_PREFIX + "id:urn:uuid:6f1c2a80-formula-b2"
        assert b2[1].index != b2[2].index
    finally:
        for ledger in ledgers:
            ledger.close()


def test_the_events_are_those_naming_a_reached_code_in_time_order(chain: sc.Chain) -> None:
    result = trace(chain.paths, sc.can("B1", 0), BACKWARD)
    reached = set(result.codes)
    assert result.events
    for traced in result.events:
        assert set(traced.event.item_codes()) & reached
    times = [t.time for t in result.events]
    assert times == sorted(times)
    # the can's sale, recorded in the trade ledger, is among them
    steps = {(t.ledger, t.event.data.get("bizStep")) for t in result.events}
    assert (2, "retail_selling") in steps


def test_where_each_can_is_now_follows_its_cases_and_pallets(chain: sc.Chain) -> None:
    result = trace(chain.paths, sc.raw_lot("RM2"), FORWARD)
    now = result.custody
    s1, s2, s3, d1 = (sc.ACTORS[a] for a in ("S1", "S2", "S3", "D1"))
    assert (now[sc.can("B1", 0)].state, str(now[sc.can("B1", 0)].holder)) == ("sold", "consumer")
    held = now[sc.can("B1", 2)]  # in case C1: pallet to D1, unpacked there, case to S1, unpacked, on the shelf
    assert (held.state, held.holder and held.holder.uscc, held.location) == ("active", s1.uscc, s1.gln)
    moving = now[sc.can("B1", 5)]  # in case C2, shipped by D1 to S2 and not received yet
    assert (moving.state, moving.holder and moving.holder.uscc, moving.location) == ("in_transit", s2.uscc, s2.gln)
    stock = now[sc.can("B2", 1)]  # in case C3, left at D1 when pallet P1 was emptied
    assert (stock.state, stock.holder and stock.holder.uscc) == ("active", d1.uscc)
    assert now[sc.can("B2", 4)].state == "sold" and now[sc.can("B2", 6)].holder.uscc == s3.uscc  # type: ignore[union-attr]
    assert sc.lot(sc.FORMULA_GTIN, "B1") not in now  # a lot is not one thing with one holder


def test_with_the_plant_s_ledger_alone_the_cans_are_on_their_way_to_the_distributors(chain: sc.Chain) -> None:
    result = trace([chain.path("plant")], sc.lot(sc.FORMULA_GTIN, "B1"), FORWARD)
    state = result.custody[sc.can("B1", 0)]
    assert (state.state, state.holder and state.holder.uscc) == ("in_transit", sc.ACTORS["D1"].uscc)
    assert _cans(result.codes) == sc.cans_of("B1")


@pytest.mark.parametrize(
    "spelling",
    [
        "RM2",
        "(01)06903215000183(10)RM2",
        "urn:epc:class:lgtin:6903215.000018.RM2",
        "https://shop.example/01/06903215000183/10/RM2",
    ],
)
def test_a_lot_number_or_any_spelling_of_the_lot_starts_the_same_trace(chain: sc.Chain, spelling: str) -> None:
    result = trace(chain.paths, spelling, FORWARD)
    assert result.start == spelling
    assert result.roots == [sc.raw_lot("RM2")]
    assert result.codes == trace(chain.paths, sc.raw_lot("RM2"), FORWARD).codes


def test_depth_caps_the_links_followed_and_a_transformation_is_one(chain: sc.Chain) -> None:
    with Genealogy(chain.paths) as genealogy:
        assert genealogy.trace(sc.raw_lot("RM2"), depth=0).codes == [sc.raw_lot("RM2")]
        one = genealogy.trace(sc.raw_lot("RM2"), depth=1).codes
        assert one == [sc.raw_lot("RM2"), sc.lot(sc.FORMULA_GTIN, "B1"), sc.lot(sc.FORMULA_GTIN, "B2")]
        two = genealogy.trace(sc.raw_lot("RM2"), depth=2).codes
        assert _cans(two) == sc.cans_of("B1") | sc.cans_of("B2") and not any("/00/" in c for c in two)


def test_a_code_nothing_names_is_found_nowhere(chain: sc.Chain) -> None:
    result = trace(chain.paths, "https://id.gs1.org/01/06903215123455/21/NOSUCH", FORWARD)
    assert not result.found and result.codes == ["https://id.gs1.org/01/06903215123455/21/NOSUCH"]


def test_bad_requests_are_typed_errors(chain: sc.Chain, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="at least one ledger"):
        trace([], "x")
    with pytest.raises(ValidationError, match="direction"):
        trace(chain.paths, "x", "sideways")
    with pytest.raises(ValidationError, match="depth"):
        trace(chain.paths, "x", depth=-1)
    with pytest.raises(IdentifierError, match="check digit"):
        trace(chain.paths, "(01)06903215123456(21)X")
    with pytest.raises(StorageError, match=r"missing\.db"):
        trace([tmp_path / "missing.db"], "x")


def test_a_ledger_without_the_genealogy_indexes_is_named_with_the_way_to_build_them(
    ledger: Ledger, actor_key: SigningKey
) -> None:
    ledger.append(make_event(1), actor_key)
    path = ledger.path
    ledger.close()
    con = sqlite3.connect(path)
    con.executescript(
        "DROP TABLE links; UPDATE meta SET value = 'items,digests,delegations,batches,lots' WHERE key = 'projections'"
    )
    con.commit()
    con.close()
    with pytest.raises(StorageError, match=r"before its links index existed.*tracechain reindex"):
        trace(path, "x")


def _cyclic_events() -> list[dict[str, object]]:
    a, b = sc.CONTAINERS["C1"], sc.CONTAINERS["C2"]
    unit = make_event(1)["epcList"][0]
    kde = {"enterprise_uscc": ACTOR_USCC, "enterprise_name": "阳西县示例食品有限公司"}
    common = {"eventTimeZoneOffset": "+08:00", "tc:product": "food", "tc:kde": kde, "bizStep": "packing"}
    loop = make_event(2, type="TransformationEvent", inputEPCList=[unit], outputEPCList=[unit])
    del loop["action"], loop["epcList"]
    return [
        make_event(1),
        {
            "type": "AggregationEvent",
            "action": "ADD",
            "eventTime": "2026-03-02T08:00:00+08:00",
            "parentID": a,
            "childEPCs": [unit, b],
            **common,
        },
        {
            "type": "AggregationEvent",
            "action": "ADD",
            "eventTime": "2026-03-02T09:00:00+08:00",
            "parentID": b,
            "childEPCs": [a],
            **common,
        },
        loop,
    ]


def test_cyclic_genealogy_ends_the_walk_instead_of_looping(ledger: Ledger, actor_key: SigningKey) -> None:
    ledger.append_many(_cyclic_events(), actor_key)
    unit = make_event(1)["epcList"][0]
    a, b = sc.CONTAINERS["C1"], sc.CONTAINERS["C2"]
    forward = trace(ledger.path, unit, FORWARD)
    assert set(forward.codes) == {unit, a, b}
    backward = trace(ledger.path, a, BACKWARD)
    assert set(backward.codes) == {a, unit, b, "https://id.gs1.org/01/06901234567892/10/L20260301"}
    assert forward.custody[a].state == "active"  # a container inside itself does not hang the custody walk


def test_the_json_form_names_the_start_the_codes_and_each_event_with_its_ledger_and_index(chain: sc.Chain) -> None:
    result = trace(chain.paths, "RM5", FORWARD).to_dict()
    assert result["start"] == "RM5" and result["direction"] == "forward"
    assert result["codes"][0] == sc.raw_lot("RM5")
    assert _cans(result["codes"]) == sc.cans_of("B4")
    locations = [str(p) for p in chain.paths]
    assert {e["ledger"] for e in result["events"]} == set(locations)
    assert all(isinstance(e["index"], int) and e["event"]["type"] for e in result["events"])
    assert {h["code"] for h in result["holders"]} >= sc.cans_of("B4")
    assert {(p["role"], p["uscc"]) for p in result["parties"]} >= {("recorder", sc.ACTORS["F3"].uscc)}
