"""The events that bear on one item: its own, those of the cases and pallets it was in while it was in them, those of
its lot, and those of the lots it was made from.

A scan verdict and a proof bundle both start here, so that a verdict from a bundle sees exactly what a verdict from
the ledger saw. The genealogy is trace's (`tracechain.trace.Genealogy` over the ``lots`` and ``links``
projections): the same walk, containment and lot membership that ``tracechain trace`` and recall use. Here it runs
over a ledger's own store, or over `MemoryStore`, the rows a bundle's events imply (made by the same
`Projection.derive` functions); `RecordingStore` notes every entry the walk reads, which is what a bundle must carry
for the walk to give the same answer without the ledger.

From the item: its own events; its containers' events while it was inside (trace's containment and timeline); the
lots it is of (trace's lot index, and the signed label's lot); and everything upstream of them and of the item
through transformations (the links index's transformation hubs, as trace's backward walk follows them). A
container's contents are not looked into.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from tracechain.entries import Entry
from tracechain.events import Event
from tracechain.storage.base import LedgerStore, Row
from tracechain.storage.projections import LINKS, PROJECTIONS, Projection, lot_key
from tracechain.trace import Genealogy, TracedEvent

__all__ = [
    "CONTAINER",
    "INPUT",
    "ITEM",
    "LOT",
    "VIA_ORDER",
    "Evidence",
    "MemoryStore",
    "RecordingStore",
    "Related",
    "collect",
    "genealogy_of",
]

ITEM: Final = "item"
"""An event naming the item itself."""
CONTAINER: Final = "container"
"""An event of a case or pallet while the item was in it."""
LOT: Final = "lot"
"""An event naming the item's lot by its class code: it covers every unit of the lot."""
INPUT: Final = "input"
"""An event naming something the item or its lot was made from (a transformation's input), at any depth."""
VIA_ORDER: Final = (ITEM, CONTAINER, LOT, INPUT)
"""How directly an event concerns the item, closest first; an event related in several ways keeps the closest."""
MAX_DEPTH: Final = 16
"""Transformations followed upstream; deeper ones are not read."""


class MemoryStore:
    """Entries held in memory (a proof bundle's) answering the reads a `Genealogy` makes: each projection's rows
    from the projection's own ``derive``, the entry bytes by index. Read-only; nothing to close."""

    def __init__(self, entries: Mapping[int, bytes], location: str = "bundle") -> None:
        self.location = location
        self.readonly = True
        self._entries = dict(entries)
        tables: dict[str, dict[Any, set[Row]]] = {p.name: {} for p in PROJECTIONS}
        for index, data in sorted(self._entries.items()):
            entry = Entry.from_bytes(data, expected_index=index)
            value = Event.from_canonical(entry.body) if entry.kind == "event" else entry.body
            for projection in PROJECTIONS:
                if entry.kind in projection.kinds:
                    for row in projection.derive(value, index):
                        tables[projection.name].setdefault(row[0], set()).add(tuple(row))
        self._rows = {name: {k: sorted(v) for k, v in table.items()} for name, table in tables.items()}

    def lookup(self, projection: Projection, value: Any) -> list[Row]:
        return list(self._rows.get(projection.name, {}).get(value, ()))

    def lookup_many(self, projection: Projection, values: Iterable[Any]) -> list[Row]:
        table = self._rows.get(projection.name, {})
        return [row for value in dict.fromkeys(values) for row in table.get(value, ())]

    def entry(self, index: int) -> bytes | None:
        return self._entries.get(index)

    def built_projections(self) -> list[Projection]:
        return list(PROJECTIONS)

    def close(self) -> None:
        return None


class RecordingStore:
    """A ledger store that notes the entry index of every row and entry read through it: the entries a walk's
    answer rests on, which a proof bundle must carry. Everything else passes through to ``store``."""

    def __init__(self, store: LedgerStore) -> None:
        self.store = store
        self.location = store.location
        self.read: set[int] = set()

    def lookup(self, projection: Projection, value: Any) -> list[Row]:
        return self._noted(self.store.lookup(projection, value))

    def lookup_many(self, projection: Projection, values: Iterable[Any]) -> list[Row]:
        return self._noted(self.store.lookup_many(projection, values))

    def _noted(self, rows: list[Row]) -> list[Row]:
        self.read.update(int(row[-1]) for row in rows)
        return rows

    def entry(self, index: int) -> bytes | None:
        self.read.add(index)
        return self.store.entry(index)

    def built_projections(self) -> list[Projection]:
        return self.store.built_projections()

    def close(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class Related:
    """One event that bears on the item: its entry ``index``, the ``event``, how it concerns the item (``via``:
    `ITEM`, `CONTAINER`, `LOT`, `INPUT`) and the code ``through`` which it does."""

    index: int
    event: Event
    via: str
    through: str
    time: int


@dataclass(slots=True)
class Evidence:
    """Every event that bears on an item, oldest first, with the genealogy that found them: the containers it was
    in (with the times, [start, end) in microseconds), its lots' class codes, and the codes upstream of it."""

    code: str
    related: list[Related]
    containers: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    lots: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)

    @property
    def indexes(self) -> list[int]:
        return sorted(r.index for r in self.related)

    def own(self) -> list[Related]:
        return [r for r in self.related if r.via == ITEM]


def _containers(genealogy: Genealogy, code: str) -> dict[str, list[tuple[int, int]]]:
    """Every container the item was in, at any level, with the times it was inside (trace's containment)."""
    out: dict[str, list[tuple[int, int]]] = {}
    stack = [(code, -(1 << 62), 1 << 62, frozenset([code]))]
    while stack:
        item, lo, hi, chain = stack.pop()
        for container, start, end in genealogy.containment(item):
            a, b = max(lo, start), min(hi, end)
            if container not in chain and a < b:
                out.setdefault(container, []).append((a, b))
                stack.append((container, a, b, chain | {container}))
    return out


def _transformed_from(genealogy: Genealogy, codes: Sequence[str]) -> list[str]:
    """What the transformations that made ``codes`` took in: the links index's parents by transformation, through
    each transformation's hub (trace's ``output_of`` then ``input`` steps)."""
    frontier = list(codes)
    for _ in range(2):  # output → hub, then hub → inputs
        rows = [row for store in genealogy.stores for row in (store.lookup_many(LINKS, frontier) if frontier else ())]
        parents = [r for r in sorted(rows, key=lambda r: r[-1]) if r[1] == "parent" and r[3] == "transformation"]
        frontier = list(dict.fromkeys(r[2] for r in parents))
    return frontier


def _upstream(genealogy: Genealogy, roots: Sequence[str]) -> list[str]:
    """Every code upstream of ``roots`` through transformations, and the lots of those, to `MAX_DEPTH` levels.

    This is trace's backward walk without its lot membership step, which reads every member row of a lot (as many
    as the lot has units) to find the few ``lot`` rows; an item's own lots come from `Genealogy.lots_of`."""
    seen = set(roots)
    out: list[str] = []
    frontier = list(roots)
    for _ in range(MAX_DEPTH):
        inputs = [c for c in _transformed_from(genealogy, frontier) if c not in seen]
        if not inputs:
            break
        lots = genealogy.lots_of(inputs)
        following = [*inputs, *(key for c in inputs for key in sorted(lots[c]) if key not in seen)]
        following = list(dict.fromkeys(following))
        seen.update(following)
        out.extend(following)
        frontier = following
    return out


def _gtin(code: str) -> str | None:
    prefix = "https://id.gs1.org/01/"
    return code[len(prefix) : len(prefix) + 14] if code.startswith(prefix) else None


def collect(genealogy: Genealogy, code: str, *, lot_hint: str | None = None) -> Evidence:
    """Every event bearing on the item ``code`` (canonical), oldest first (see the module docstring).

    ``lot_hint`` is a lot the item is known to belong to besides what the ledger says: a signed label's lot.
    """
    chosen: dict[tuple[int, int], Related] = {}

    def take(traced: TracedEvent, via: str, through: str) -> None:
        key = (traced.ledger, traced.index)
        known = chosen.get(key)
        if known is None or VIA_ORDER.index(via) < VIA_ORDER.index(known.via):
            chosen[key] = Related(traced.index, traced.event, via, through, traced.time)

    own = genealogy.histories([code])[code]
    for traced in own:
        take(traced, ITEM, code)
    containers = _containers(genealogy, code)
    if containers:
        for traced in genealogy.timeline(code):
            if (traced.ledger, traced.index) not in chosen:
                names = set(traced.event.item_codes())
                take(traced, CONTAINER, next((c for c in containers if c in names), code))
    lots = sorted(genealogy.lots_of([code])[code])
    gtin = _gtin(code)
    hinted = lot_key(gtin, lot_hint) if gtin is not None and lot_hint else None
    if hinted is not None and hinted not in lots:
        lots.append(hinted)
    upstream = _upstream(genealogy, [code, *lots])
    histories = genealogy.histories([*lots, *upstream])
    for lot in lots:
        for traced in histories[lot]:
            take(traced, LOT, lot)
    for item in upstream:
        for traced in histories[item]:
            take(traced, INPUT, item)
    related = sorted(chosen.values(), key=lambda r: (r.time, r.index))
    return Evidence(code, related, containers, lots, upstream)


def genealogy_of(stores: Sequence[LedgerStore | MemoryStore | RecordingStore], names: Sequence[str]) -> Genealogy:
    """A trace `Genealogy` over stores the caller keeps open. A genealogy reads only ``lookup``, ``lookup_many``,
    ``entry`` and ``built_projections``, which the memory and recording stores answer as a ledger store does."""
    return Genealogy.of_stores(stores, names)  # type: ignore[arg-type]  # the four reads above, not all of LedgerStore
