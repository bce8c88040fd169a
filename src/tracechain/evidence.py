"""The events that bear on one item: its own, those of the cases and pallets it was in while it was in them, those of
its lot, and those of the lots it was made from.

A scan verdict and a proof bundle both start here, so that a verdict from a bundle sees exactly what a verdict from
the ledger saw. The genealogy is read through one narrow interface, `EventSource` — the projections' ``lookup``
and an event by index — which a ledger (`LedgerSource`) and a bundle's events (`MemorySource`, its rows made by
the same `Projection.derive` functions) both answer.

Genealogy here is read from the ``items`` projection alone: aggregation events name a child and its parent, so a
lookup of a child finds its containers and a lookup of a container the times children entered and left it;
transformation events name their inputs and outputs; a lot is found from the ``lot`` of the events that
commissioned the item and looked up by its class code (``…/01/{gtin}/10/{lot}``). This module's `genealogy`
function is the seam a dedicated genealogy projection plugs into: it is the only place that walks links.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

from tracechain import identifiers
from tracechain.errors import IdentifierError
from tracechain.events import Event
from tracechain.storage.projections import ITEMS, PROJECTIONS, Projection

if TYPE_CHECKING:
    from tracechain.ledger import Ledger
    from tracechain.storage.base import Row

__all__ = [
    "CONTAINER",
    "INPUT",
    "ITEM",
    "LOT",
    "VIA_ORDER",
    "EventSource",
    "Evidence",
    "Genealogy",
    "LedgerSource",
    "MemorySource",
    "Related",
    "collect",
    "genealogy",
    "lot_code",
]

ITEM: Final = "item"
"""An event naming the item itself."""
CONTAINER: Final = "container"
"""An event of a case or pallet while the item was in it (or the event that put that container in another)."""
LOT: Final = "lot"
"""An event naming the item's lot by its class code: it covers every unit of the lot."""
INPUT: Final = "input"
"""An event naming a lot or item the item's lot was made from (a transformation's input), at any depth."""
VIA_ORDER: Final = (ITEM, CONTAINER, LOT, INPUT)
"""How directly an event concerns the item, closest first; an event related in several ways keeps the closest."""

MAX_DEPTH: Final = 16
"""Levels of containers (unit → case → pallet …) and of transformations followed; deeper links are not read."""

_FOREVER: Final = (-(1 << 62), 1 << 62)


class EventSource(Protocol):
    """What the genealogy reads: a projection's rows by their first column, and an event by its entry index."""

    def lookup(self, projection: Projection, value: Any) -> list[Row]: ...

    def event(self, index: int) -> Event: ...


class LedgerSource:
    """An open ledger as an `EventSource`; events are decoded once per source."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._events: dict[int, Event] = {}

    def lookup(self, projection: Projection, value: Any) -> list[Row]:
        return self.ledger.store.lookup(projection, value)

    def event(self, index: int) -> Event:
        found = self._events.get(index)
        if found is None:
            event = self.ledger.entry(index).event
            if event is None:
                raise LookupError(f"entry {index} is not an event")
            found = self._events[index] = event
        return found


class MemorySource:
    """Events held in memory (a proof bundle's) as an `EventSource`, with each projection's rows made by the
    projection's own ``derive``: the same rows the ledger's tables hold for these events."""

    def __init__(self, events: Mapping[int, Event]) -> None:
        self._events = dict(events)
        self._rows: dict[str, dict[Any, list[Row]]] = {}
        for projection in PROJECTIONS:
            if "event" not in projection.kinds:
                continue
            table: dict[Any, list[Row]] = {}
            for index, event in self._events.items():
                for row in projection.derive(event, index):
                    table.setdefault(row[0], []).append(tuple(row))
            self._rows[projection.name] = {k: sorted(set(v)) for k, v in table.items()}

    def lookup(self, projection: Projection, value: Any) -> list[Row]:
        return list(self._rows.get(projection.name, {}).get(value, ()))

    def event(self, index: int) -> Event:
        try:
            return self._events[index]
        except KeyError:
            raise LookupError(f"entry {index} is not among the events held") from None


@dataclass(frozen=True, slots=True)
class Related:
    """One event that bears on the item: its entry ``index``, the ``event``, how it concerns the item (``via``:
    `ITEM`, `CONTAINER`, `LOT`, `INPUT`) and the code ``through`` which it does."""

    index: int
    event: Event
    via: str
    through: str

    @property
    def time(self) -> int:
        value = self.event.data.get("eventTime", 0)
        return value if type(value) is int else 0


@dataclass(slots=True)
class Genealogy:
    """Where an item sits: the containers it was in (code → the times it was inside, [start, end) in
    microseconds), its lots' class codes, and the codes it was made from."""

    code: str
    containers: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    lots: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Evidence:
    """Every event that bears on an item, oldest first, with the genealogy that found them."""

    genealogy: Genealogy
    related: list[Related]

    @property
    def code(self) -> str:
        return self.genealogy.code

    @property
    def indexes(self) -> list[int]:
        return sorted(r.index for r in self.related)

    def own(self) -> list[Related]:
        return [r for r in self.related if r.via == ITEM]


def lot_code(gtin: str, lot: str) -> str | None:
    """The canonical class code of a GTIN's lot (``https://id.gs1.org/01/{gtin14}/10/{lot}``), or None when the
    GTIN or lot is not valid."""
    try:
        return identifiers.canonical_code(identifiers.digital_link(gtin, lot=lot))
    except IdentifierError:
        return None


def _time(event: Event) -> int:
    value = event.data.get("eventTime", 0)
    return value if type(value) is int else 0


def _events(source: EventSource, code: str) -> list[tuple[int, Event]]:
    return [(row[-1], source.event(row[-1])) for row in source.lookup(ITEMS, code)]


def _gtin_of(code: str) -> str | None:
    prefix = f"https://{identifiers.CANONICAL_DOMAIN}/01/"
    return code[len(prefix) : len(prefix) + 14] if code.startswith(prefix) else None


def _lots_of(code: str, own: Sequence[tuple[int, Event]], hint: str | None) -> list[str]:
    """The lot class codes of an item: from the events that brought it into being (commissioning, or a
    transformation's output) and from the signed label's lot, when given."""
    gtin = _gtin_of(code)
    if gtin is None:
        return []
    names = [hint] if hint else []
    for _, event in own:
        data = event.data
        made = data.get("bizStep") == "commissioning" or (
            event.type == "TransformationEvent" and code in data.get("outputEPCList", ())
        )
        kde = data.get("tc:kde")
        lot = kde.get("lot") if isinstance(kde, Mapping) else None
        if made and isinstance(lot, str):
            names.append(lot)
    out: list[str] = []
    for name in names:
        found = lot_code(gtin, name)
        if found is not None and found not in out:
            out.append(found)
    return out


def _intervals(source: EventSource, child: str, parent: str, window: tuple[int, int]) -> list[tuple[int, int]]:
    """When ``child`` was inside ``parent``, clipped to ``window``: from each aggregation that adds (or observes)
    it to the next that removes it (naming it, or removing every child)."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    aggregations = [
        e
        for _, e in sorted(_events(source, parent), key=lambda p: (_time(p[1]), p[0]))
        if e.type == "AggregationEvent" and e.data.get("parentID") == parent
    ]
    for event in aggregations:
        children = event.data.get("childEPCs", ())
        action = event.data.get("action")
        if action in ("ADD", "OBSERVE") and child in children:
            if start is None:
                start = _time(event)
        elif action == "DELETE" and (child in children or not children) and start is not None:
            spans.append((start, _time(event)))
            start = None
    if start is not None:
        spans.append((start, _FOREVER[1]))
    lo, hi = window
    return [(max(a, lo), min(b, hi)) for a, b in spans if max(a, lo) < min(b, hi)]


def genealogy(source: EventSource, code: str, *, lot_hint: str | None = None) -> Genealogy:
    """The containers, lots and inputs of the item ``code`` (canonical), read through ``source``.

    ``lot_hint`` is a lot the item is known to belong to besides what the ledger says (a signed label's lot).
    """
    found = Genealogy(code)
    own = _events(source, code)
    # Containers, level by level: a case's pallet holds the unit only while the unit is in the case.
    frontier: list[tuple[str, tuple[int, int]]] = [(code, _FOREVER)]
    for _ in range(MAX_DEPTH):
        following: list[tuple[str, tuple[int, int]]] = []
        for child, window in frontier:
            parents = {
                e.data["parentID"]
                for _, e in _events(source, child)
                if e.type == "AggregationEvent" and child in e.data.get("childEPCs", ()) and "parentID" in e.data
            }
            for parent in sorted(parents):
                if parent == code:
                    continue
                spans = _intervals(source, child, parent, window)
                if spans:
                    found.containers.setdefault(parent, []).extend(spans)
                    following.extend((parent, span) for span in spans)
        if not following:
            break
        frontier = following
    found.lots = _lots_of(code, own, lot_hint)
    # Inputs: what the item, or its lot, was made from, and what those were made from.
    seen = {code, *found.lots}
    queue = [code, *found.lots]
    for _ in range(MAX_DEPTH):
        made_from: list[str] = []
        for output in queue:
            for _, event in _events(source, output):
                if event.type != "TransformationEvent" or output not in _outputs(event.data):
                    continue
                for item in _inputs(event.data):
                    if item not in seen:
                        seen.add(item)
                        made_from.append(item)
        if not made_from:
            break
        found.inputs.extend(made_from)
        queue = made_from + [lot for item in made_from for lot in _lots_of(item, _events(source, item), None)]
        for lot in queue:
            if lot not in seen:
                seen.add(lot)
                found.inputs.append(lot)
    return found


def _outputs(data: Mapping[str, Any]) -> list[str]:
    return [*data.get("outputEPCList", ()), *(q["epcClass"] for q in data.get("outputQuantityList", ()))]


def _inputs(data: Mapping[str, Any]) -> list[str]:
    return [*data.get("inputEPCList", ()), *(q["epcClass"] for q in data.get("inputQuantityList", ()))]


def _inside(time: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(a <= time < b for a, b in spans)


def collect(source: EventSource, code: str, *, lot_hint: str | None = None) -> Evidence:
    """Every event bearing on the item ``code`` (canonical): its own; its containers' while it was inside them
    (leaving out their aggregations of other children); its lots'; its inputs'. Oldest first."""
    tree = genealogy(source, code, lot_hint=lot_hint)
    chosen: dict[int, Related] = {}

    def take(index: int, event: Event, via: str, through: str) -> None:
        known = chosen.get(index)
        if known is None or VIA_ORDER.index(via) < VIA_ORDER.index(known.via):
            chosen[index] = Related(index, event, via, through)

    for index, event in _events(source, code):
        take(index, event, ITEM, code)
    for container, spans in tree.containers.items():
        for index, event in _events(source, container):
            foreign = event.type == "AggregationEvent" and event.data.get("parentID") == container
            if not foreign and _inside(_time(event), spans):
                take(index, event, CONTAINER, container)
    for lot in tree.lots:
        for index, event in _events(source, lot):
            take(index, event, LOT, lot)
    for item in tree.inputs:
        for index, event in _events(source, item):
            take(index, event, INPUT, item)
    related = sorted(chosen.values(), key=lambda r: (r.time, r.index))
    return Evidence(tree, related)
