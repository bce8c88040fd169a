"""What each entry shows the audit's streaming rules, read once: every entry of a span decoded and each event read into
the few fields the lot rules use (`Seen`), with the rules that need no state judged on the spot (`future_time`,
`cold_chain`, and `unmatched_receive`, whose lookups in the other audited ledgers need nothing from earlier entries).

The state the lot rules carry (quantities per lot, expiry dates, inspections, the key registry) lives in
`audits.stream`, which folds what this module reads in index order. So the reading — most of the pass's work —
splits into disjoint spans: a large ledger's spans are read by worker processes, each reopening the audited stores
from their locations (`spans`), while the fold runs in the calling process.

Entries below ``trusted`` are those the audit's own verify of the file found canonical, in a ledger where it found
nothing wrong at all: they are read without proving their canonical form a second time
(`encoding.decode_verified`), which gives the same values at a fraction of the cost. Any other entry is read with the
full check, and one that fails it is left to the integrity findings, as before.

An event whose fields the rules cannot read (a stored event of the wrong shape; verify reports it) is skipped whole.
"""

from __future__ import annotations

import functools
import os
import signal
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from tracechain import encoding
from tracechain.errors import TracechainError
from tracechain.events import Event, format_time
from tracechain.storage import ITEMS, LedgerStore, open_store
from tracechain.storage.projections import lot_pairs

__all__ = ["KINDS", "QUANTITIES", "Context", "Keyed", "Seen", "kind_of", "read_span", "spans"]

# An event's kind, as the item rules need it (one byte per entry in `stream.Facts`).
KINDS = {
    "none": 0,
    "other": 1,
    "commission": 2,
    "ship": 3,
    "receive": 4,
    "sell": 5,
    "destroy": 6,
    "decommission": 7,
    "transformation": 8,
    "pack": 9,
    "unpack": 10,
    "recall": 11,
}
QUANTITIES = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
"""The quantity lists of an event, in the order mass balance reads them (`Seen.quantities` names them by position)."""

_KEYED = frozenset({"genesis", "key", "revoke", "delegation", "seal"})
_UNREADABLE = (TracechainError, KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError)

# Entries per span, and the ledger size from which spans go to worker processes: below it, starting them costs more
# than they save. A span is a few MiB of what it shows, handed back whole; a few spans queued per worker keep them
# busy while the fold catches up, and memory flat.
_SPAN = 8_192
_PARALLEL_ENTRIES = 32_768
_SPANS_AHEAD = 2


def kind_of(data: Mapping[str, Any]) -> str:
    """The kind of an event's canonical model."""
    kind, step, disposition = data.get("type"), data.get("bizStep"), data.get("disposition")
    if kind == "TransformationEvent":
        return "transformation"
    if kind == "AggregationEvent":
        return "unpack" if data.get("action") == "DELETE" else "pack"
    if step == "destroying" or disposition == "destroyed":
        return "destroy"
    if step in ("retail_selling", "dispensing") or disposition in ("retail_sold", "dispensed"):
        return "sell"
    if step == "decommissioning" or (kind == "ObjectEvent" and data.get("action") == "DELETE"):
        return "decommission"
    if step == "shipping":
        return "ship"
    if step == "receiving":
        return "receive"
    if step == "commissioning" and data.get("action") == "ADD":
        return "commission"
    if disposition == "recalled":
        return "recall"
    return "other"


Limits = Mapping[str, tuple[float | None, float | None]]  # sensor type → (lowest, highest)


@dataclass(frozen=True, slots=True)
class Context:
    """What the reading needs besides the entries: the audit's time and future tolerance (microseconds), the sensor
    limits per product, and every audited ledger's location (receipts are matched across them)."""

    now: int
    tolerance: int
    cold_chain: Mapping[str, Limits]
    locations: tuple[str, ...]


class Seen(NamedTuple):
    """An event as the lot rules see it."""

    entry: int  # its index
    time: int  # eventTime, microseconds since the epoch
    kind: str  # `kind_of`
    lots: tuple[str, ...]  # the lot keys it claims (`lot_pairs`), each once, in first-seen order
    made: tuple[str, ...]  # the lots it brings into being: a commissioning's, a transformation's outputs'
    expiry: Any  # tc:kde.expiry_date as stored
    day: str  # its local date (YYYY-MM-DD) for a receipt or a sale; "" for other events
    failed: bool  # a non-conformant inspection or sampling
    handles: bool  # a recall or a destruction, which deals with a non-conformant lot
    by: str  # tc:kde.enterprise_uscc as text ("" when none)
    quantities: tuple[tuple[int, str, str, Any], ...]  # (`QUANTITIES` position, lot class, uom, amount)
    parent: str  # parentID as text
    empties: bool  # an unpacking that names no children: the container is emptied whole
    future: str | None  # the future_time finding, if any
    cold: str | None  # the cold_chain finding, if any
    unmatched: tuple[str, str | None] | None  # the unmatched_receive finding and its code, if any


class Keyed(NamedTuple):
    """A genesis, key, revocation, delegation or seal entry: for the key registry and the revoked_key rule."""

    entry: int  # its index
    kind: str
    body: Any


# --- one span --------------------------------------------------------------------------------------------------


def read_span(
    stores: Sequence[LedgerStore], at: int, start: int, end: int, trusted: int, context: Context
) -> list[Seen | Keyed]:
    """What entries ``start`` .. ``end - 1`` of ``stores[at]`` show, in index order; unreadable ones left out."""
    out: list[Seen | Keyed] = []
    verified, checked, from_canonical = encoding.decode_verified, encoding.decode_entry, Event.from_canonical
    for index, data in stores[at].iter_entries(start, end):
        try:
            if index < trusted:
                _, _, _, kind, body = verified(data, what="entry")
                if kind == "event":
                    out.append(_see(Event(verified(body, what="event"), body), index, context, stores, at))
                    continue
            else:
                _, _, _, kind, body = checked(bytes(data))
                if kind == "event":
                    out.append(_see(from_canonical(body), index, context, stores, at))
                    continue
            if kind in _KEYED:
                out.append(Keyed(index, kind, body))
        except _UNREADABLE:
            continue  # a damaged entry: verification reports it under integrity
    return out


def _see(event: Event, index: int, context: Context, stores: Sequence[LedgerStore], at: int) -> Seen:
    data = event.data
    time = int(data["eventTime"])
    kind = kind_of(data)
    offset = str(data.get("eventTimeZoneOffset", "+00:00"))
    # The local date is what the expiry rule compares; any other event only needs its offset to be one.
    day = format_time(time, offset)[:10] if kind in ("receive", "sell") else _offset_checked(offset)
    members = lot_pairs(event)  # every lot the event claims, not only where lots are assigned
    lots = tuple(dict.fromkeys(key for key, _ in members))
    kde = data.get("tc:kde") or {}
    if kind == "commission":
        made = lots
    elif kind == "transformation":
        made = tuple(dict.fromkeys(key for key, code in members if _is_output(data, code)))
    else:
        made = ()
    quantities = []
    for position, name in enumerate(QUANTITIES):
        for q in data.get(name, ()):
            code = q.get("epcClass")
            if isinstance(code, str) and "/10/" in code and "quantity" in q:
                quantities.append((position, code, str(q.get("uom") or "EA"), q["quantity"]))
    failed = data.get("bizStep") in ("inspecting", "sampling") and (
        kde.get("inspection_result") == "non_conformant" or data.get("disposition") == "non_conformant"
    )
    return Seen(
        index,
        time,
        kind,
        lots,
        made,
        kde.get("expiry_date"),
        day,
        failed,
        kind in ("destroy", "recall") or data.get("disposition") == "recalled",
        str(kde.get("enterprise_uscc", "")),
        tuple(quantities),
        str(data.get("parentID")),
        kind == "unpack" and not data.get("childEPCs") and not data.get("childQuantityList"),
        _future(data, time, context),
        _cold_chain(event, context.cold_chain),
        _unmatched(event, time, stores) if kind == "receive" and len(stores) > 1 else None,
    )


@functools.lru_cache(maxsize=64)
def _offset_checked(offset: str) -> str:
    """The empty day of an event that needs none, once its offset is one `format_time` can show a time at; raises
    as `format_time` would for any other offset, so such an event is skipped as it always was."""
    format_time(0, offset)
    return ""


def _is_output(data: Mapping[str, Any], code: str) -> bool:
    return code in data.get("outputEPCList", ()) or any(
        q.get("epcClass") == code for q in data.get("outputQuantityList", ())
    )


# --- the rules that need no state --------------------------------------------------------------------------------


def _future(data: Mapping[str, Any], time: int, context: Context) -> str | None:
    reference = data.get("recordTime")
    against = int(reference) if isinstance(reference, int) else context.now
    if time <= against + context.tolerance:
        return None
    what = "its recordTime" if isinstance(reference, int) else "the audit's time"
    offset = str(data.get("eventTimeZoneOffset", "+00:00"))
    return (
        f"event time {format_time(time, offset)} is {(time - against) / 3.6e9:.1f} h after {what}"
        f" ({format_time(against, offset)})"
    )


def _cold_chain(event: Event, limits_by_product: Mapping[str, Limits]) -> str | None:
    # A plain EPCIS event (no tc:product) has no product, so no product's range applies to it.
    limits = limits_by_product.get(event.product) if event.product is not None else None
    sensors = event.data.get("sensorElementList")
    if not limits or not isinstance(sensors, list):
        return None
    for element in sensors:
        for report in element.get("sensorReport") or () if isinstance(element, Mapping) else ():
            if not isinstance(report, Mapping):
                continue
            kind = str(report.get("type", "")).rsplit("/", 1)[-1].rsplit(":", 1)[-1]
            low, high = limits.get(kind, (None, None))
            for name in ("value", "minValue", "maxValue", "meanValue"):
                reading = _reading(report.get(name), kind, report.get("uom"))
                if reading is None:
                    continue
                if (low is not None and reading < low) or (high is not None and reading > high):
                    bounds = f"{'-∞' if low is None else low}..{'∞' if high is None else high}"
                    return f"{kind} {name} {reading:g} outside {event.product}'s range {bounds}"
    return None


def _reading(value: object, kind: str, uom: object) -> float | None:
    """A numeric reading, temperatures in °C (EPCIS uom CEL, FAH or KEL)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    number = float(value)
    if kind == "Temperature":
        if uom == "FAH":
            return (number - 32) * 5 / 9
        if uom == "KEL":
            return number - 273.15
    return number


def _unmatched(event: Event, time: int, stores: Sequence[LedgerStore]) -> tuple[str, str | None] | None:
    """The unmatched_receive finding, unless an audited ledger holds a shipment of one of the received codes to this
    enterprise, before the receipt."""
    codes = list(event.item_codes())
    by = (event.data.get("tc:kde") or {}).get("enterprise_uscc")
    for store in stores:
        for _, at in sorted(store.lookup_many(ITEMS, codes), key=lambda row: row[-1]):
            try:
                other = Event.from_canonical(encoding.decode_entry(store.entry(at) or b"")[4])
            except (TracechainError, IndexError, TypeError):
                continue
            data = other.data
            receiver = (data.get("tc:kde") or {}).get("receiver_uscc")
            if kind_of(data) == "ship" and int(data["eventTime"]) <= time and receiver in (None, by):
                return None
    message = (
        f"{by or 'an enterprise'} received {', '.join(codes[:3])}{' …' if len(codes) > 3 else ''}, which no"
        " audited ledger shows shipped to it before"
    )
    return message, codes[0] if codes else None


# --- spans, in this process or in workers ------------------------------------------------------------------------


_worker_stores: dict[str, LedgerStore] = {}  # in a worker process: its own read-only stores, opened on first use


def _quiet_worker() -> None:
    """Ctrl-C reaches the whole process group; only the parent answers it, workers finish what they hold."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _read_in_worker(at: int, start: int, end: int, trusted: int, context: Context) -> list[tuple[Any, ...]]:
    """`read_span` in a worker process; its records go back as plain tuples, which cross processes for a third of
    what named tuples cost (the fold reads them by position)."""
    stores = []
    for location in context.locations:
        store = _worker_stores.get(location)
        if store is None:
            store = _worker_stores[location] = open_store(location, readonly=True)
        stores.append(store)
    return [tuple(item) for item in read_span(stores, at, start, end, trusted, context)]


def spans(
    stores: Sequence[LedgerStore], at: int, trusted: int, context: Context, workers: int | None
) -> Iterator[tuple[int, Sequence[tuple[Any, ...]]]]:
    """(end, what entries up to ``end`` showed: `Seen` and `Keyed` records, or their plain tuples) for each span of
    ``stores[at]``, in order; read by worker processes when the ledger is large and more than one core may be used."""
    total = stores[at].size()
    starts = range(0, total, _SPAN)
    cores = workers or os.cpu_count() or 1
    if cores < 2 or total < _PARALLEL_ENTRIES:
        for start in starts:
            end = min(start + _SPAN, total)
            yield end, read_span(stores, at, start, end, trusted, context)
        return
    with ProcessPoolExecutor(max_workers=cores, initializer=_quiet_worker) as pool:
        queued: deque[tuple[int, Future[list[tuple[Any, ...]]]]] = deque()
        todo = iter(starts)
        try:
            while True:
                while len(queued) < _SPANS_AHEAD * cores and (first := next(todo, None)) is not None:
                    end = min(first + _SPAN, total)
                    queued.append((end, pool.submit(_read_in_worker, at, first, end, trusted, context)))
                if not queued:
                    return
                end, future = queued.popleft()
                yield end, future.result()
        finally:
            for _, future in queued:
                future.cancel()
