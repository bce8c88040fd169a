"""Recall impact: for a lot found non-conformant, everything downstream of it and where it is now.

`recall(ledgers, lot)` traces the lot forward (`trace`) and says, for every affected lot, unit, case and pallet, who
holds it now and where (or that it was sold, destroyed, used up), which were already recalled, and lists every
movement of the affected lots as one row each — the key data elements US FSMA 204 asks for in its sortable
spreadsheet (lot code, product, quantity and unit, ship-from, ship-to, date, reference document), with the ledger and
entry that prove the row. A movement of a container counts the affected units inside it at that moment; a movement
recorded for a lot class counts its quantity in the event's unit of measure.

The rows go out as CSV (`write_csv`, UTF-8 with a byte-order mark so spreadsheet programs read the Chinese) or as an
Excel workbook (`write_xlsx`, through `tracechain.spreadsheet`). (About 440 lines: the rows, how they are counted
and their two exports are one piece a reader follows end to end.)
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from tracechain.custody import Custody, Party, effect, location, receiver, recorder, supplier
from tracechain.errors import StorageError
from tracechain.events import Event, format_time
from tracechain.storage.projections import lot_key
from tracechain.trace import FORWARD, Genealogy, Trace, TracedEvent, is_instance

__all__ = ["MOVEMENT_COLUMNS", "AffectedItem", "Movement", "RecallImpact", "impact", "recall"]

MOVEMENT_COLUMNS = (
    ("lot_code", "批号 Lot code"),
    ("gtin", "商品条码 GTIN"),
    ("product", "产品名称 Product"),
    ("quantity", "数量 Quantity"),
    ("unit", "单位 Unit"),
    ("step", "环节 Step"),
    ("ship_from", "发货方 Ship-from"),
    ("ship_from_location", "发货地点 Ship-from location"),
    ("ship_to", "收货方 Ship-to"),
    ("ship_to_location", "收货地点 Ship-to location"),
    ("date", "日期 Date"),
    ("reference_document", "单据 Reference document"),
    ("ledger", "账本 Ledger"),
    ("index", "条目 Entry"),
)
"""The movement sheet's columns: the CSV header (first) and the workbook's bilingual header (second)."""

# What each custody step is called in a movement row; steps that move nothing (packing, inspecting) make no row.
_STEPS = {
    "commission": "commissioned",
    "produce": "transformation_output",
    "consume": "transformation_input",
    "ship": "shipped",
    "receive": "received",
    "sell": "sold",
    "destroy": "destroyed",
    "decommission": "decommissioned",
    "recall": "recalled",
}
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
_KINDS = ("unit", "case", "pallet")
_EACH = "EA"  # UN/ECE Recommendation 20: each, for counted units


@dataclass(frozen=True, slots=True)
class AffectedItem:
    """A unit, case or pallet downstream of the recalled lot, the affected lots it is of or holds, and its custody
    now (None when no event says where it is)."""

    code: str
    kind: str
    lots: tuple[str, ...]
    custody: Custody | None
    recalled: bool

    def to_dict(self) -> dict[str, Any]:
        now = self.custody
        return {
            "code": self.code,
            "kind": self.kind,
            "lots": list(self.lots),
            "state": None if now is None else now.state,
            "holder": None if now is None or now.holder is None else now.holder.to_dict(),
            "location": None if now is None else now.location,
            "recalled": self.recalled,
        }


@dataclass(frozen=True, slots=True)
class Movement:
    """One movement of one affected lot: a row of the FSMA-style sheet."""

    lot: str
    lot_code: str
    gtin: str
    product: str
    quantity: int | Decimal
    unit: str
    step: str
    ship_from: Party | None
    ship_from_location: str | None
    ship_to: Party | None
    ship_to_location: str | None
    time: int
    date: str
    reference_document: str
    ledger: str
    index: int

    def row(self) -> list[Any]:
        """The cells in `MOVEMENT_COLUMNS` order."""
        return [
            self.lot_code,
            self.gtin,
            self.product,
            self.quantity,
            self.unit,
            self.step,
            "" if self.ship_from is None else str(self.ship_from),
            self.ship_from_location or "",
            "" if self.ship_to is None else str(self.ship_to),
            self.ship_to_location or "",
            self.date,
            self.reference_document,
            self.ledger,
            self.index,
        ]

    def to_dict(self) -> dict[str, Any]:
        cells = dict(zip((name for name, _ in MOVEMENT_COLUMNS), self.row(), strict=True))
        cells["lot"] = self.lot
        cells["quantity"] = self.quantity if isinstance(self.quantity, int) else str(self.quantity)
        return cells


@dataclass(slots=True)
class RecallImpact:
    """What recalling a lot involves: the affected lots and items, where they are, and every movement."""

    trace: Trace
    lots: list[str]
    items: list[AffectedItem]
    movements: list[Movement]
    products: dict[str, str] = field(default_factory=dict)
    recalled_lots: set[str] = field(default_factory=set)

    def holders(self) -> list[tuple[Party | None, str | None, int, int]]:
        """(holder, location, units in stock, units in transit to it) for each party holding affected units."""
        counts: dict[tuple[Party | None, str | None], list[int]] = {}
        for item in self.items:
            now = item.custody
            if item.kind != "unit" or now is None or now.state not in ("active", "in_transit"):
                continue
            slot = counts.setdefault((now.holder, now.location), [0, 0])
            slot[0 if now.state == "active" else 1] += 1
        return [(holder, where, stock, moving) for (holder, where), (stock, moving) in counts.items()]

    def figures(self) -> dict[str, int]:
        """The counts a recall notice needs: lots, units, cases and pallets affected; units by where they are."""
        units = [item for item in self.items if item.kind == "unit"]
        states = Counter(item.custody.state if item.custody else "unknown" for item in units)
        out = {"lots": len(self.lots), **{f"{kind}s": sum(i.kind == kind for i in self.items) for kind in _KINDS}}
        out |= {
            "in_stock": states["active"],
            "in_transit": states["in_transit"],
            "sold": states["sold"],
            "destroyed": states["destroyed"],
            "consumed": states["consumed"],
            "decommissioned": states["decommissioned"],
            "unknown": states["unknown"],
            "recalled": sum(item.recalled for item in units),
            "holders": len({holder for holder, _, _, _ in self.holders()}),
        }
        return out

    def quantities(self) -> dict[str, dict[str, dict[str, str]]]:
        """Per lot, per step, per unit of measure: the quantity moved (``sold`` is how much was already sold).

        Steps: commissioned, transformation_output, transformation_input, shipped, received, sold, destroyed,
        decommissioned, recalled. A lot made by a transformation and then commissioned as units appears under both
        of its first two steps, each counting the same goods once."""
        out: dict[str, dict[str, Counter[str]]] = {}
        for m in self.movements:
            out.setdefault(m.lot, {}).setdefault(m.step, Counter())[m.unit] += m.quantity  # type: ignore[assignment]
        return {
            lot: {step: {u: str(q) for u, q in c.items()} for step, c in steps.items()} for lot, steps in out.items()
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.trace.start,
            "roots": self.trace.roots,
            "ledgers": self.trace.ledgers,
            "figures": self.figures(),
            "lots": [
                {"lot": lot, "product": self.products.get(lot, ""), "recalled": lot in self.recalled_lots}
                for lot in self.lots
            ],
            "quantities": self.quantities(),
            "holders": [
                {"holder": None if h is None else h.to_dict(), "location": where, "in_stock": s, "in_transit": t}
                for h, where, s, t in self.holders()
            ],
            "items": [item.to_dict() for item in self.items],
            "movements": [m.to_dict() for m in self.movements],
        }

    def write_csv(self, path: str | os.PathLike[str]) -> None:
        """The movements as CSV: a header of `MOVEMENT_COLUMNS` names, one row per movement, in time order."""
        try:
            with open(path, "w", encoding="utf-8-sig", newline="") as f:
                writer = csv.writer(f)
                writer.writerow([name for name, _ in MOVEMENT_COLUMNS])
                writer.writerows(m.row() for m in self.movements)
        except OSError as e:
            raise StorageError(f"{os.fspath(path)}: cannot write the CSV file ({e.strerror})") from e

    def write_xlsx(self, path: str | os.PathLike[str]) -> None:
        """An Excel workbook: a summary, the movements (sortable, filterable), the affected items and the holders."""
        from tracechain import spreadsheet  # openpyxl loads only when a workbook is written

        figures = self.figures()
        summary: list[list[Any]] = [["召回批次 Recalled lot", self.trace.start], *([k, v] for k, v in figures.items())]
        items = [
            [i.code, i.kind, ", ".join(i.lots), *_custody_cells(i.custody), "yes" if i.recalled else ""]
            for i in self.items
        ]
        holders = [["" if h is None else str(h), where or "", s, t] for h, where, s, t in self.holders()]
        spreadsheet.write_workbook(
            path,
            [
                spreadsheet.Sheet("Summary 概要", ["项目 Item", "数值 Value"], summary),
                spreadsheet.Sheet(
                    "Movements 流向", [label for _, label in MOVEMENT_COLUMNS], [m.row() for m in self.movements]
                ),
                spreadsheet.Sheet(
                    "Items 产品",
                    [
                        "代码 Code",
                        "类别 Kind",
                        "批次 Lots",
                        "状态 State",
                        "持有方 Holder",
                        "地点 Location",
                        "已召回 Recalled",
                    ],
                    items,
                ),
                spreadsheet.Sheet(
                    "Holders 持有方", ["持有方 Holder", "地点 Location", "库存 In stock", "在途 In transit"], holders
                ),
            ],
        )


def _custody_cells(now: Custody | None) -> list[str]:
    if now is None:
        return ["unknown", "", ""]
    return [now.state, "" if now.holder is None else str(now.holder), now.location or ""]


def recall(ledgers: Sequence[str | os.PathLike[str]] | str | os.PathLike[str], lot: str) -> RecallImpact:
    """The impact of recalling ``lot`` (a lot number, any spelling of a lot class, or an item code) over one ledger
    or several; see the module docstring."""
    locations = [ledgers] if isinstance(ledgers, (str, os.PathLike)) else list(ledgers)
    with Genealogy(locations) as genealogy:
        return impact(genealogy, genealogy.trace(lot, FORWARD))


def impact(genealogy: Genealogy, trace: Trace) -> RecallImpact:
    """The recall impact of a forward trace, reading what else it needs through ``genealogy``."""
    lots = [code for code in trace.codes if "/10/" in code and code.startswith("https://id.gs1.org/01/")]
    affected = set(lots)
    level: dict[str, int] = {}
    for code, reached in trace.steps.items():  # a container holding units is a case, one holding cases a pallet
        if is_instance(code):
            via = reached.via
            level[code] = level.get(via, 0) + 1 if reached.relation == "packed_into" and via else 0
    instances = list(level)
    item_lots = genealogy.lots_of(instances)
    recalled_lots = {
        key
        for t in trace.events
        if t.event.data.get("disposition") == "recalled"
        for key in _lots_named(t.event, affected, item_lots)
    }
    moved: dict[tuple[int, int], Counter[tuple[str, str]]] = {}  # event → (lot, custody step) → units
    contents: dict[str, set[str]] = {}  # container → the affected lots of the units packed in it
    for code in instances:
        if level[code]:
            continue
        own = item_lots.get(code, set()) & affected
        for t in genealogy.timeline(code):
            done = effect(t.event, code).step
            counter = moved.setdefault((t.ledger, t.index), Counter())
            for key in own:
                counter[key, done] += 1
        stack, seen = [code], {code}
        while stack:
            for container, _, _ in genealogy.containment(stack.pop()):
                if container not in seen:
                    seen.add(container)
                    contents.setdefault(container, set()).update(own)
                    stack.append(container)
    items = []
    for code in instances:
        lots_held = item_lots.get(code, set()) & affected if level[code] == 0 else contents.get(code, set())
        now = trace.custody.get(code)
        recalled = bool(now and now.recalled) or bool(lots_held & recalled_lots)
        items.append(AffectedItem(code, _KINDS[min(level[code], 2)], tuple(sorted(lots_held)), now, recalled))
    products = _products(trace.events, affected)
    movements = []
    for t in trace.events:
        movements.extend(_movements(genealogy, t, affected, moved.get((t.ledger, t.index), Counter()), products))
    return RecallImpact(trace, lots, items, movements, products, recalled_lots)


def _lots_named(event: Event, affected: set[str], item_lots: Mapping[str, set[str]]) -> set[str]:
    """The affected lots an event names: as lot classes, or through items of them."""
    out = set()
    for code in event.item_codes():
        if code in affected:
            out.add(code)
        out |= item_lots.get(code, set()) & affected
    return out


def _products(events: Iterable[TracedEvent], affected: set[str]) -> dict[str, str]:
    """Each affected lot's product name, from the master data of an event that records the lot."""
    out: dict[str, str] = {}
    for t in events:
        kde = t.event.data.get("tc:kde") or {}
        name, number = kde.get("product_name"), kde.get("lot")
        if not isinstance(name, str) or not isinstance(number, str):
            continue
        for code in t.event.item_codes():
            if code.startswith("https://id.gs1.org/01/"):
                key = lot_key(code[22:36], number)
                if key in affected:
                    out.setdefault(key, name)
    return out


def _movements(
    genealogy: Genealogy,
    t: TracedEvent,
    affected: set[str],
    units: Counter[tuple[str, str]],
    products: Mapping[str, str],
) -> list[Movement]:
    event = t.event
    data = event.data
    amounts: dict[tuple[str, str, str], int | Decimal] = {}  # (lot, unit of measure, custody step) → quantity
    for field_name in _QUANTITY_LISTS:
        for q in data.get(field_name, ()):
            code = q.get("epcClass")
            if code in affected and "quantity" in q:
                key = (code, str(q.get("uom") or _EACH), effect(event, code).step)
                amounts[key] = amounts.get(key, 0) + q["quantity"]
    for (lot_code, step), count in units.items():
        amounts[lot_code, _EACH, step] = amounts.get((lot_code, _EACH, step), 0) + count
    out = []
    for (lot_code, unit, step), quantity in amounts.items():
        if step not in _STEPS:
            continue
        named = _STEPS[step]
        ends = _ends(event, step)
        out.append(
            Movement(
                lot_code,
                _lot_number(lot_code),
                lot_code[22:36],
                products.get(lot_code, ""),
                quantity,
                unit,
                named,
                *ends,
                t.time,
                format_time(t.time, str(data.get("eventTimeZoneOffset", "+00:00"))),
                _references(event),
                genealogy.locations[t.ledger],
                t.index,
            )
        )
    return out


def _lot_number(key: str) -> str:
    return unquote(key.split("/10/", 1)[1])


def _ends(event: Event, step: str) -> tuple[Party | None, str | None, Party | None, str | None]:
    """(ship-from, its location, ship-to, its location) of a movement."""
    here = location(event)
    if step == "ship":
        where = next(
            (
                str(d["destination"])
                for d in event.data.get("destinationList") or ()
                if isinstance(d, Mapping) and d.get("type") == "location"
            ),
            None,
        )
        return recorder(event), here, receiver(event), where
    if step == "receive":
        source = next(
            (
                str(s["source"])
                for s in event.data.get("sourceList") or ()
                if isinstance(s, Mapping) and s.get("type") == "location"
            ),
            None,
        )
        return supplier(event), source, recorder(event), here
    if step == "sell":
        buyer = (event.data.get("tc:kde") or {}).get("buyer_name")
        return recorder(event), here, Party(None, buyer if isinstance(buyer, str) else "consumer"), None
    if step in ("commission", "produce"):
        return None, None, recorder(event), here
    return recorder(event), here, None, None


def _references(event: Event) -> str:
    """The event's reference documents: business transactions, delivery note, recall notice, test report."""
    refs = [
        f"{link.get('type', 'ref')}:{link.get('bizTransaction')}"
        for link in event.data.get("bizTransactionList") or ()
        if isinstance(link, Mapping)
    ]
    kde = event.data.get("tc:kde") or {}
    for key in ("delivery_note", "recall_notice", "report_number"):
        if isinstance(kde.get(key), str):
            refs.append(f"{key}:{kde[key]}")
    return "; ".join(refs)
