"""Recall impact on the generated supply chain: every affected lot, unit, case and pallet, who holds each now, how
much was sold, what was recalled or destroyed, and the FSMA-style movement sheet as CSV and as an Excel workbook."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from tests import supply_chain as sc
from tracechain.errors import StorageError
from tracechain.recall import MOVEMENT_COLUMNS, RecallImpact, recall

B1, B2 = sc.lot(sc.FORMULA_GTIN, "B1"), sc.lot(sc.FORMULA_GTIN, "B2")


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> sc.Chain:
    """The supply chain, then: B1 recalled by the plant, one B2 can destroyed at the shop that holds it."""
    built = sc.build(tmp_path_factory.mktemp("recall"))
    recalled = sc.event(
        "PLANT",
        "ObjectEvent",
        sc.time(8),
        kde={"lot": "B1", "recall_reason": "原料生乳抽检不合格", "recall_level": "1", "recall_notice": "ZH-2026-B1"},
        action="OBSERVE",
        bizStep="holding",
        disposition="recalled",
        quantityList=[{"epcClass": B1, "quantity": 8}],
    )
    built.record("PLANT", [recalled])
    built.record("S3", [sc.destroy("S3", sc.time(8, 60), [sc.can("B2", 5)], "B2")])
    return built


@pytest.fixture(scope="module")
def impact(chain: sc.Chain) -> RecallImpact:
    return recall(chain.paths, "RM2")


def test_every_affected_lot_unit_case_and_pallet_is_listed_once(impact: RecallImpact) -> None:
    assert set(impact.lots) == {sc.raw_lot("RM2"), B1, B2}
    kinds: dict[str, set[str]] = {}
    for item in impact.items:
        kinds.setdefault(item.kind, set()).add(item.code)
    assert kinds["unit"] == sc.cans_of("B1") | sc.cans_of("B2")
    assert kinds["case"] == {sc.CONTAINERS[c] for c in ("C1", "C2", "C3", "C4")}
    assert kinds["pallet"] == {sc.CONTAINERS["P1"], sc.CONTAINERS["P2"]}
    assert len(impact.items) == sum(len(codes) for codes in kinds.values())
    by_code = {item.code: item for item in impact.items}
    assert by_code[sc.CONTAINERS["C4"]].lots == (B2,)  # the mixed case holds only B2 of the affected lots
    assert by_code[sc.CONTAINERS["P1"]].lots == (B1, B2)


def test_who_holds_what_now_and_how_much_was_sold_destroyed_or_recalled(impact: RecallImpact) -> None:
    figures = impact.figures()
    assert figures == {
        "lots": 3,
        "units": 16,
        "cases": 4,
        "pallets": 2,
        "in_stock": 8,  # D1: B2 C000-003; S1: B1 C002-003; S3: B2 C006-007
        "in_transit": 4,  # B1 C004-007 on their way to S2
        "sold": 3,
        "destroyed": 1,
        "consumed": 0,
        "decommissioned": 0,
        "unknown": 0,
        "recalled": 8,  # every B1 can: the plant recalled the lot
        "holders": 4,
    }
    holders = {(h.uscc if h else None, stock, moving) for h, _, stock, moving in impact.holders()}
    actors = sc.ACTORS
    assert holders == {
        (actors["D1"].uscc, 4, 0),
        (actors["S1"].uscc, 2, 0),
        (actors["S2"].uscc, 0, 4),
        (actors["S3"].uscc, 2, 0),
    }
    assert impact.recalled_lots == {B1}
    assert {i.code for i in impact.items if i.kind == "unit" and i.recalled} == sc.cans_of("B1")
    quantities = impact.quantities()
    assert quantities[B1]["sold"] == {"EA": "2"} and quantities[B2]["sold"] == {"EA": "1"}
    assert quantities[B2]["destroyed"] == {"EA": "1"}
    assert quantities[B1]["recalled"] == {"EA": "8"}
    assert quantities[sc.raw_lot("RM2")]["transformation_input"] == {"LTR": "5000"}


def test_a_container_s_movement_counts_the_affected_units_inside_it(impact: RecallImpact) -> None:
    shipped = Counter()
    for m in impact.movements:
        if m.step == "shipped" and m.lot in (B1, B2):
            assert m.ship_to is not None and m.unit == "EA"
            shipped[m.lot_code, m.ship_to.uscc, m.ship_from.uscc if m.ship_from else None] += m.quantity
    a = sc.ACTORS
    assert shipped == {
        ("B1", a["D1"].uscc, a["PLANT"].uscc): 8,  # pallet P1: cases C1 and C2
        ("B2", a["D1"].uscc, a["PLANT"].uscc): 4,  # and C3
        ("B2", a["D2"].uscc, a["PLANT"].uscc): 4,  # pallet P2: C4's B2 cans, not C5 nor C4's B3 cans
        ("B1", a["S1"].uscc, a["D1"].uscc): 4,
        ("B1", a["S2"].uscc, a["D1"].uscc): 4,
        ("B2", a["S3"].uscc, a["D2"].uscc): 4,
    }


def test_each_movement_names_the_entry_that_proves_it_and_its_fsma_fields(
    impact: RecallImpact, chain: sc.Chain
) -> None:
    from tracechain import Ledger

    for m in impact.movements:
        assert m.lot_code and m.gtin and m.product and m.quantity and m.date.endswith("+08:00")
        with Ledger.open(m.ledger, readonly=True) as ledger:
            event = ledger.entry(m.index).event
        assert event is not None
    recall_rows = [m for m in impact.movements if m.step == "recalled"]
    assert [(m.lot_code, m.reference_document) for m in recall_rows] == [("B1", "recall_notice:ZH-2026-B1")]
    received = next(m for m in impact.movements if m.step == "received" and m.lot_code == "RM2")
    assert received.ship_from is not None and received.ship_from.uscc == sc.ACTORS["F1"].uscc
    assert received.product == "生牛乳"
    times = [m.time for m in impact.movements]
    assert times == sorted(times)


def test_the_movements_csv_reads_back_row_for_row(impact: RecallImpact, tmp_path: Path) -> None:
    path = tmp_path / "movements.csv"
    impact.write_csv(path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # so a spreadsheet program takes it as UTF-8
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [name for name, _ in MOVEMENT_COLUMNS]
    assert rows[1:] == [[str(cell) for cell in m.row()] for m in impact.movements]
    assert any("南岭金装" in row[2] for row in rows[1:])


def test_the_workbook_has_a_sortable_movement_sheet_and_the_items_and_holders(
    impact: RecallImpact, tmp_path: Path
) -> None:
    path = tmp_path / "recall.xlsx"
    impact.write_xlsx(path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Summary 概要", "Movements 流向", "Items 产品", "Holders 持有方"]
    sheet = book["Movements 流向"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [label for _, label in MOVEMENT_COLUMNS]
    empty = None  # an empty text cell reads back as no value
    assert [list(r) for r in rows[1:]] == [[c if c != "" else empty for c in m.row()] for m in impact.movements]
    assert sheet.auto_filter.ref == f"A1:N{len(impact.movements) + 1}"
    assert sheet.freeze_panes == "A2"
    items = list(book["Items 产品"].iter_rows(values_only=True))[1:]
    assert {row[0] for row in items} == {item.code for item in impact.items}
    summary = dict(list(book["Summary 概要"].iter_rows(values_only=True))[1:])
    assert summary["sold"] == 3 and summary["units"] == 16


def test_an_unwritable_export_is_a_storage_error_naming_the_file(impact: RecallImpact, tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "x.csv"
    with pytest.raises(StorageError, match="no-such-folder"):
        impact.write_csv(target)
    with pytest.raises(StorageError, match="no-such-folder"):
        impact.write_xlsx(target.with_suffix(".xlsx"))


def test_the_json_form_holds_the_figures_lots_holders_items_and_movements(impact: RecallImpact) -> None:
    data = impact.to_dict()
    assert data["start"] == "RM2" and data["roots"] == [sc.raw_lot("RM2")]
    assert data["figures"]["units"] == 16
    assert {lot["lot"]: lot["recalled"] for lot in data["lots"]} == {sc.raw_lot("RM2"): False, B1: True, B2: False}
    assert len(data["movements"]) == len(impact.movements)
    assert all(set(m) >= {name for name, _ in MOVEMENT_COLUMNS} for m in data["movements"])
