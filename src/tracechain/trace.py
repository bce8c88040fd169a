"""Trace: forward and backward genealogy of an item or lot over one or more ledgers, with the events that link them.

A trace walks the `lots` and `links` projections (`storage.projections`), one lookup per ledger per level of the
walk, from a start code to every code it reaches:

- **forward** (downstream: where it went and what it went into): a lot to its items (``member``), an item to the
  container it was packed into (``packed_into``: unit → case → pallet), a transformation input to its hub
  (``input_to``) and the hub to each output (``output``);
- **backward** (upstream: where it came from and what it is made of): an item to its lot (``lot``), a container to
  its contents (``contains``), a transformation output to its hub (``output_of``) and the hub to each input
  (``input``).

Each code is reached once, by the first link found (levels in order, entries in order), so cyclic or malformed
genealogy ends the walk instead of looping; ``depth`` caps the links followed (a transformation, through its hub, is
one). Every code remembers the link that reached it — the ledger and entry index of the event that states it — so
the path from the start to any code is a chain of events each of which can be proved. The trace then gathers every
event naming a reached code (the `items` projection) and, for items (not lots or classes), where each is now
(`custody`): its own events and those of the containers it was in while it was in them, in time order.

Several ledgers (a producer's, a distributor's, a shop's) are traced together: the same code links across them.
(One module of about 450 lines: the walk, the histories it gathers and the custody timelines share one cache of
decoded events and one set of open stores.)
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from tracechain import identifiers
from tracechain.custody import Custody, Effect, Party, follow, parties_of
from tracechain.entries import Entry
from tracechain.errors import EncodingError, StorageError, TracechainError, ValidationError
from tracechain.events import Event
from tracechain.storage import ITEMS, LINKS, LOTS, LedgerStore, Projection, Row, open_store
from tracechain.storage.projections import HUB_PREFIX

__all__ = [
    "BACKWARD",
    "DIRECTIONS",
    "FORWARD",
    "Genealogy",
    "Step",
    "Trace",
    "TracedEvent",
    "is_instance",
    "trace",
]

FORWARD, BACKWARD = "forward", "backward"
DIRECTIONS = (FORWARD, BACKWARD)
_PACKED = frozenset({"aggregation_add", "aggregation_observe"})
_EVER, _NEVER = -(1 << 62), 1 << 62  # time bounds beyond any event time (microseconds)

Location = str | os.PathLike[str]


def _entry(row: Row) -> int:
    return int(row[-1])


def is_instance(code: str) -> bool:
    """True for a code naming one physical thing (a unit, case or pallet), not a lot, a product class or a hub."""
    if code.startswith(HUB_PREFIX):
        return False
    if code.startswith("https://id.gs1.org/01/"):
        return "/21/" in code
    return True


@dataclass(frozen=True, slots=True)
class Step:
    """How a code was reached: from ``via`` by ``relation``, stated by entry ``index`` of ledger ``ledger`` (its
    position in the traced list); the start codes have no ``via``. ``depth`` counts links from the start."""

    code: str
    via: str | None
    relation: str
    ledger: int | None
    index: int | None
    depth: int

    def to_dict(self, locations: Sequence[str]) -> dict[str, Any]:
        return {
            "code": self.code,
            "via": self.via,
            "relation": self.relation,
            "ledger": None if self.ledger is None else locations[self.ledger],
            "index": self.index,
            "depth": self.depth,
        }


@dataclass(frozen=True, slots=True, order=True)
class TracedEvent:
    """An event of a trace, with the ledger (position in the traced list) and entry index that prove it."""

    time: int
    ledger: int
    index: int
    event: Event = field(compare=False)

    def to_dict(self, locations: Sequence[str]) -> dict[str, Any]:
        return {"ledger": locations[self.ledger], "index": self.index, "event": self.event.to_dict()}


@dataclass(slots=True)
class Trace:
    """What a trace found: every code reached (with the step that reached it), the events naming them in time
    order, and for forward traces where each item is now."""

    start: str
    direction: str
    ledgers: list[str]
    roots: list[str]
    steps: dict[str, Step]
    events: list[TracedEvent]
    custody: dict[str, Custody] = field(default_factory=dict)

    @property
    def codes(self) -> list[str]:
        """Every code reached, the start's first, in the order reached (transformation hubs left out)."""
        return [code for code in self.steps if not code.startswith(HUB_PREFIX)]

    @property
    def found(self) -> bool:
        """Whether any event of any ledger names the start (or what it resolves to)."""
        return bool(self.events)

    def path(self, code: str) -> list[Step]:
        """The steps from a start code to ``code``, each naming the entry that links it to the one before."""
        out: list[Step] = []
        step: Step | None = self.steps[code]
        while step is not None:
            out.append(step)
            step = self.steps[step.via] if step.via is not None else None
        return out[::-1]

    def parties(self) -> list[tuple[str, Party]]:
        """Every (role, party) the trace's events name, each once, in the order first met."""
        seen: dict[tuple[str, Party], None] = {}
        for traced in self.events:
            seen.update(dict.fromkeys(parties_of(traced.event)))
        return list(seen)

    def to_dict(self) -> dict[str, Any]:
        locations = self.ledgers
        return {
            "start": self.start,
            "direction": self.direction,
            "ledgers": locations,
            "roots": self.roots,
            "codes": self.codes,
            "steps": [step.to_dict(locations) for step in self.steps.values()],
            "events": [traced.to_dict(locations) for traced in self.events],
            "holders": [{"code": code, **state.to_dict()} for code, state in self.custody.items()],
            "parties": [{"role": role, **party.to_dict()} for role, party in self.parties()],
        }


class Genealogy:
    """One or more ledgers opened read-only for tracing; keeps what it has read, so a second trace is cheaper."""

    def __init__(self, locations: Iterable[Location]) -> None:
        self.locations = [os.fspath(location) for location in locations]
        if not self.locations:
            raise ValidationError("a trace needs at least one ledger")
        self.stores: list[LedgerStore] = []
        self._owned = True
        try:
            for location in self.locations:
                store = open_store(location, readonly=True)
                self.stores.append(store)
                _check_built(store, location)
        except BaseException:
            self.close()
            raise
        self._forget()

    def _forget(self) -> None:
        """Start with nothing read: what a genealogy remembers between traces."""
        self._events: dict[tuple[int, int], TracedEvent] = {}
        self._histories: dict[str, list[TracedEvent]] = {}
        self._containment: dict[str, list[tuple[str, int, int]]] = {}
        self._timelines: dict[str, list[TracedEvent]] = {}
        self._building: set[str] = set()
        # By id() of an event this genealogy holds (and so keeps alive): the effect of each non-transformation.
        self._effects: dict[int, Effect] = {}

    @classmethod
    def of_stores(cls, stores: Sequence[LedgerStore], locations: Sequence[str]) -> Self:
        """A genealogy over stores that are already open and stay the caller's (`close` leaves them open): an
        open ledger's own store, or the in-memory store of a proof bundle's events (`tracechain.evidence`)."""
        if not stores or len(stores) != len(locations):
            raise ValidationError("a genealogy needs at least one store, and one location name per store")
        for store, location in zip(stores, locations, strict=True):
            _check_built(store, location)
        genealogy = cls.__new__(cls)
        genealogy.locations, genealogy.stores, genealogy._owned = list(locations), list(stores), False
        genealogy._forget()
        return genealogy

    def close(self) -> None:
        if self._owned:
            for store in self.stores:
                store.close()
        self.stores = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- lookups -------------------------------------------------------------------------------------------

    def _rows(self, projection: Projection, values: Sequence[str]) -> Iterator[tuple[int, Row]]:
        """(ledger, row) for every row keyed by one of ``values`` in every ledger, in ledger then entry order."""
        if not values:
            return
        for at, store in enumerate(self.stores):
            rows = store.lookup(projection, values[0]) if len(values) == 1 else store.lookup_many(projection, values)
            rows.sort()  # key order, then entry order: the first link found is the same in every run
            rows.sort(key=_entry)
            for row in rows:
                yield at, row

    def resolve(self, code: str) -> list[str]:
        """The codes a trace of ``code`` starts from: its canonical form, or for a lot number (批号) the key of
        every lot bearing it."""
        canonical = identifiers.canonical_code(code)
        keys = {row[2]: None for _, row in self._rows(LOTS, [canonical]) if row[1] == "number"}
        return list(keys) or [canonical]

    def event(self, ledger: int, index: int) -> TracedEvent:
        """The event entry ``index`` of ledger ``ledger``, decoded once."""
        found = self._events.get((ledger, index))
        if found is None:
            data = self.stores[ledger].entry(index)
            try:
                if data is None:
                    raise EncodingError("no such entry")
                entry = Entry.from_bytes(bytes(data), expected_index=index)
                event = entry.event
                if event is None:
                    raise EncodingError(f"a {entry.kind} entry, not an event")
                time = int(event.data["eventTime"])
            except (TracechainError, KeyError, TypeError, ValueError) as e:
                raise StorageError(
                    f"{self.locations[ledger]}: entry {index}, named by the indexes, cannot be read as an event"
                    f" ({e}); run tracechain verify"
                ) from e
            found = self._events[ledger, index] = TracedEvent(time, ledger, index, event)
        return found

    def lots_of(self, codes: Iterable[str]) -> dict[str, set[str]]:
        """The lot keys each item is of, from every ledger (an item named with two lots has both)."""
        wanted = list(dict.fromkeys(codes))
        out: dict[str, set[str]] = {code: set() for code in wanted}
        for start in range(0, len(wanted), 4096):
            for _, (code, relation, key, _index) in self._rows(LOTS, wanted[start : start + 4096]):
                if relation == "lot":
                    out[code].add(key)
        return out

    def histories(self, codes: Iterable[str]) -> dict[str, list[TracedEvent]]:
        """Every event naming each code, in time order, from every ledger."""
        wanted = [code for code in dict.fromkeys(codes) if code not in self._histories]
        found: dict[str, set[tuple[int, int]]] = {code: set() for code in wanted}
        for start in range(0, len(wanted), 4096):
            for at, row in self._rows(ITEMS, wanted[start : start + 4096]):
                found[row[0]].add((at, row[-1]))
        for code, refs in found.items():
            self._histories[code] = sorted(self.event(at, index) for at, index in refs)
        return {code: self._histories[code] for code in codes}

    # --- the walk ------------------------------------------------------------------------------------------

    def walk(self, roots: Sequence[str], direction: str, depth: int | None = None) -> dict[str, Step]:
        """Every code reachable from ``roots`` in ``direction`` within ``depth`` links, with the step reaching it."""
        if direction not in DIRECTIONS:
            raise ValidationError(f"direction must be one of {DIRECTIONS}, found {direction!r}")
        if depth is not None and depth < 0:
            raise ValidationError(f"depth must be 0 or more, found {depth}")
        steps = {code: Step(code, None, "start", None, None, 0) for code in roots}
        frontier = list(steps)
        level = 0
        while frontier and (depth is None or level < depth):
            level += 1
            following: list[str] = []
            pending = frontier
            while pending:  # hubs reached at this level are crossed at this level: input → output is one link
                hubs: list[str] = []
                for code, other, relation, at, index in self._edges(pending, direction):
                    if other in steps:
                        continue
                    steps[other] = Step(other, code, relation, at, index, level)
                    (hubs if other.startswith(HUB_PREFIX) else following).append(other)
                pending = hubs
            frontier = following
        return steps

    def _edges(self, codes: Sequence[str], direction: str) -> Iterator[tuple[str, str, str, int, int]]:
        """(from, to, relation, ledger, index) for each link leaving ``codes`` in ``direction``."""
        forward = direction == FORWARD
        for start in range(0, len(codes), 4096):
            chunk = codes[start : start + 4096]
            # Only a lot key has members (forward); only an item has a lot (backward): the other lookups find nothing.
            if forward:
                lots = [code for code in chunk if "/10/" in code and not code.startswith(HUB_PREFIX)]
            else:
                lots = [code for code in chunk if "/10/" not in code and not code.startswith(HUB_PREFIX)]
            for at, (key, relation, other, index) in self._rows(LOTS, lots):
                if forward and relation == "member" and other != key:
                    yield key, other, "member", at, index
                elif not forward and relation == "lot":
                    yield key, other, "lot", at, index
            for at, (code, toward, other, relation, index) in self._rows(LINKS, chunk):
                hub = code.startswith(HUB_PREFIX)
                if relation == "transformation":
                    if forward and toward == "child":
                        yield code, other, "output" if hub else "input_to", at, index
                    elif not forward and toward == "parent":
                        yield code, other, "input" if hub else "output_of", at, index
                elif relation in _PACKED and other:
                    if forward and toward == "parent":
                        yield code, other, "packed_into", at, index
                    elif not forward and toward == "child":
                        yield code, other, "contains", at, index

    # --- custody -------------------------------------------------------------------------------------------

    def containment(self, code: str) -> list[tuple[str, int, int]]:
        """(container, from, until) for each time the item was packed in a container, from the aggregation events
        naming it and the container's unpacking (an ADD into another container takes it out of the first)."""
        known = self._containment.get(code)
        if known is None:
            known = self._containment[code] = self._contained(code)
        return known

    def _contained(self, code: str) -> list[tuple[str, int, int]]:
        packed = [t for t in self.history(code) if t.event.data.get("type") == "AggregationEvent"]
        parents = {str(t.event.data["parentID"]) for t in packed if isinstance(t.event.data.get("parentID"), str)}
        parents.discard(code)
        if not parents:
            return []
        changes: dict[tuple[int, int], TracedEvent] = {(t.ledger, t.index): t for t in packed}
        for parent in parents:
            for t in self.history(parent):
                data = t.event.data
                if data.get("type") == "AggregationEvent" and data.get("parentID") == parent:
                    changes[t.ledger, t.index] = t
        out: list[tuple[str, int, int]] = []
        inside: tuple[str, int] | None = None
        for t in sorted(changes.values()):
            data = t.event.data
            if data.get("type") != "AggregationEvent" or data.get("parentID") not in parents:
                continue
            parent, children = str(data["parentID"]), data.get("childEPCs") or ()
            if data.get("action") in ("ADD", "OBSERVE") and code in children:
                if inside is not None and inside[0] != parent:
                    out.append((inside[0], inside[1], t.time))
                if inside is None or inside[0] != parent:
                    inside = (parent, t.time)
            elif (
                data.get("action") == "DELETE"
                and inside is not None
                and inside[0] == parent
                and (code in children or not (children or data.get("childQuantityList")))
            ):
                out.append((parent, inside[1], t.time))
                inside = None
        if inside is not None:
            out.append((inside[0], inside[1], _NEVER))
        return out

    def history(self, code: str) -> list[TracedEvent]:
        """Every event naming ``code``, in time order, from every ledger."""
        found = self._histories.get(code)
        return found if found is not None else self.histories([code])[code]

    def timeline(self, code: str, since: int = _EVER, until: int = _NEVER) -> list[TracedEvent]:
        """The events that moved or changed the item from ``since`` to before ``until``: its own, and its
        containers' while it was inside them (a pallet shipped ships its cases and their units).

        An item's whole timeline is made once and kept: a unit's takes a slice of its case's, which takes a slice
        of its pallet's, so the units of one case share the work. A container met again inside itself (cyclic
        data) adds nothing."""
        full = self._timelines.get(code)
        if full is None:
            full = self._timeline(code)
        if since == _EVER and until == _NEVER:
            return full
        times = [t.time for t in full]
        return full[bisect.bisect_left(times, since) : bisect.bisect_left(times, until)]

    def _timeline(self, code: str) -> list[TracedEvent]:
        self._building.add(code)
        cut = False  # a container met again inside itself: this timeline is partial, so it is not kept
        try:
            out = {(t.ledger, t.index): t for t in self.history(code)}
            for container, start, end in self.containment(code):
                if container in self._building:
                    cut = True
                    continue
                for t in self.timeline(container, start, end):
                    out[t.ledger, t.index] = t
        finally:
            self._building.discard(code)
        full = sorted(out.values())
        if not cut:
            self._timelines[code] = full
        return full

    def custody(self, code: str) -> Custody | None:
        """Where the item is now, by its timeline; None when no event names it."""
        events = self.timeline(code)
        if not events:
            return None
        return follow([(t.time, t.event) for t in events], code, self._effects)[-1]

    # --- the whole trace -----------------------------------------------------------------------------------

    def trace(self, code: str, direction: str = FORWARD, *, depth: int | None = None, custody: bool = True) -> Trace:
        """Trace ``code`` (any spelling of an item code or lot class, or a lot number); see the module docstring."""
        roots = self.resolve(code)
        steps = self.walk(roots, direction, depth)
        reached = [c for c in steps if not c.startswith(HUB_PREFIX)]
        histories = self.histories(reached)
        seen: dict[tuple[int, int], TracedEvent] = {}
        for events in histories.values():
            for t in events:
                seen[t.ledger, t.index] = t
        result = Trace(code, direction, list(self.locations), roots, steps, sorted(seen.values()))
        if custody and direction == FORWARD:
            for item in reached:
                if is_instance(item) and (state := self.custody(item)) is not None:
                    result.custody[item] = state
        return result


def _check_built(store: LedgerStore, location: str) -> None:
    missing = [p.name for p in (ITEMS, LOTS, LINKS) if p not in store.built_projections()]
    if missing:
        raise StorageError(
            f"{location}: the ledger was written before its {' and '.join(missing)} index existed; open"
            f" it for writing once (tracechain reindex {location}) to build it"
        )


def trace(
    ledgers: Location | Iterable[Location],
    code: str,
    direction: str = FORWARD,
    *,
    depth: int | None = None,
    custody: bool = True,
) -> Trace:
    """Trace ``code`` forward or backward through one ledger or several (a path or store location each).

    ``code`` is any spelling of an item code, a lot class (``(01)…(10)…``, a Digital Link, an EPC ``lgtin`` URN) or
    a lot number as printed (批号), which starts from every lot bearing it. ``depth`` caps the links followed.
    With ``custody`` a forward trace also says where each item is now. Raises `StorageError` for a ledger that
    cannot be read, `IdentifierError` for a code of a recognised kind that is malformed.
    """
    locations = [ledgers] if isinstance(ledgers, (str, os.PathLike)) else list(ledgers)
    with Genealogy(locations) as genealogy:
        return genealogy.trace(code, direction, depth=depth, custody=custody)
