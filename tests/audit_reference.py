"""The audit's streaming pass as it was first written, one entry at a time in one process: the straightforward
reference the fast pass (`tracechain.audits.observe` reading spans on worker processes, `tracechain.audits.stream`
folding them) is held to by tests/test_audit_speed.py. Every entry is decoded with the full canonical check, every
event read and judged rule by rule as it comes. Kept as the tests' specification of what the rules find; the
library does not import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from tracechain import encoding
from tracechain.audits.rules import RULES, AuditOptions
from tracechain.audits.stream import Facts, LotState
from tracechain.entries import KeyRegistry
from tracechain.errors import TracechainError
from tracechain.events import Event, format_time
from tracechain.report import AuditReport
from tracechain.storage import ITEMS, LedgerStore
from tracechain.storage.projections import lot_pairs

__all__ = ["ReferenceStreamPass"]

# An event's kind, as the item rules need it (one byte per entry in `Facts`); the library's must be the same.
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
_QUANTITIES = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
_INDEXES_KEPT = 50  # entries named in one mass-balance finding, at most


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


class ReferenceStreamPass:
    """The streaming pass over one ledger (``at`` is its position among the audited ledgers)."""

    def __init__(
        self,
        report: AuditReport,
        options: AuditOptions,
        now: datetime,
        lots: LotState,
        stores: list[LedgerStore],
        names: list[str],
        at: int,
        trusted: int = 0,  # the fast pass's shortcut; the reference proves every entry's form
    ) -> None:
        self.report, self.options, self.lots = report, options, lots
        self.stores, self.names, self.at = stores, names, at
        self.name = names[at]
        self.now = int(now.timestamp() * 1_000_000)
        self.registry = KeyRegistry()
        self.facts = Facts.sized(stores[at].size())
        self.loose: dict[tuple[str, str, str], int | Decimal] = {}  # (lot, enterprise, uom) → loose quantity
        self.trail: dict[tuple[str, str, str], list[int]] = {}
        self.unbalanced: set[tuple[str, str, str]] = set()
        self.contents: dict[str, dict[tuple[str, str], int | Decimal]] = {}  # open container → (lot, uom) → qty

    def find(self, rule: str, message: str, indexes: list[int] | tuple[int, ...], code: str | None = None) -> None:
        self.report.find(rule, RULES[rule].severity, message, indexes=indexes, ledger=self.name, code=code)

    # --- the pass ------------------------------------------------------------------------------------------

    def run(self, progress: Any = None) -> None:
        store = self.stores[self.at]
        for index, data in store.iter_entries():
            try:
                _, _, _, kind, body = encoding.decode_entry(bytes(data))
                if kind == "event":
                    self.event(Event.from_canonical(body), index)
                elif kind == "seal":
                    self.seal(body, index)
                elif kind in ("genesis", "key", "revoke", "delegation"):
                    self.registry.apply(index, kind, body)
            except (TracechainError, KeyError, TypeError, ValueError, AttributeError, IndexError):
                continue  # a damaged entry: verification reports it under integrity
            if progress is not None and index % 4096 == 0:
                progress(index)

    def seal(self, body: Mapping[str, Any], index: int) -> None:
        key = self.registry.get(body.get("public"))
        first = int(body["first"])
        if key is not None and key.revoked is not None and first > key.revoked:
            self.find(
                "revoked_key",
                f"entries {first}..{index - 1} were sealed at entry {index} by key {key.name} of {key.actor},"
                f" revoked at entry {key.revoked}",
                [index, first],
            )

    def event(self, event: Event, index: int) -> None:
        data = event.data
        time = int(data["eventTime"])
        kind = kind_of(data)
        self.facts.times[index] = time
        self.facts.kinds[index] = KINDS[kind]
        offset = str(data.get("eventTimeZoneOffset", "+00:00"))
        day = format_time(time, offset)[:10]
        members = list(lot_pairs(event))  # every lot the event claims, not only where lots are assigned
        lots = {key for key, _ in members}
        self.lots.lots.update(lots)
        self._future(data, time, index)
        self._cold_chain(event, index)
        self._nonconformance(data, kind, lots, time, index)
        self._expiry(data, kind, members, day, index)
        self._balance(event, kind, index)
        if kind == "receive" and len(self.stores) > 1:
            self._matched(event, time, index)

    # --- one event at a time -------------------------------------------------------------------------------

    def _future(self, data: Mapping[str, Any], time: int, index: int) -> None:
        reference = data.get("recordTime")
        against = int(reference) if isinstance(reference, int) else self.now
        tolerance = int(self.options.future_tolerance.total_seconds() * 1_000_000)
        if time > against + tolerance:
            what = "its recordTime" if isinstance(reference, int) else "the audit's time"
            offset = str(data.get("eventTimeZoneOffset", "+00:00"))
            self.find(
                "future_time",
                f"event time {format_time(time, offset)} is {(time - against) / 3.6e9:.1f} h after {what}"
                f" ({format_time(against, offset)})",
                [index],
            )

    def _cold_chain(self, event: Event, index: int) -> None:
        limits = self.options.cold_chain.get(event.product)
        sensors = event.data.get("sensorElementList")
        if not limits or not isinstance(sensors, list):
            return
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
                        self.find(
                            "cold_chain",
                            f"{kind} {name} {reading:g} outside {event.product}'s range {bounds}",
                            [index],
                        )
                        return

    def _nonconformance(self, data: Mapping[str, Any], kind: str, lots: set[str], time: int, index: int) -> None:
        kde = data.get("tc:kde") or {}
        failed = data.get("bizStep") in ("inspecting", "sampling") and (
            kde.get("inspection_result") == "non_conformant" or data.get("disposition") == "non_conformant"
        )
        for key in lots:
            if failed:
                self.lots.inspections.setdefault(key, []).append((time, self.at, index))
            if kind in ("destroy", "recall") or data.get("disposition") == "recalled":
                self.lots.handled.setdefault(key, []).append((time, self.at, index))

    def _expiry(self, data: Mapping[str, Any], kind: str, members: list[tuple[str, str]], day: str, index: int) -> None:
        kde = data.get("tc:kde") or {}
        expiry = kde.get("expiry_date")
        made = {key for key, code in members if _is_output(data, code)} if kind == "transformation" else set()
        if kind == "commission":
            made = {key for key, _ in members}
        if isinstance(expiry, str):
            for key in made:
                self.lots.expiry.setdefault(key, expiry)
        if kind not in ("receive", "sell"):
            return
        for key in {key for key, _ in members}:
            until = self.lots.expiry.get(key, expiry if isinstance(expiry, str) else None)
            if until is None:
                self.lots.pending_expiry.setdefault(key, []).append((day, self.at, index, kind))
            elif day > until:
                self.find("expired", f"lot {key} {_done(kind)} on {day}, after its expiry date {until}", [index], key)

    def _balance(self, event: Event, kind: str, index: int) -> None:
        data = event.data
        by = str((data.get("tc:kde") or {}).get("enterprise_uscc", ""))
        moves: list[tuple[str, str, int | Decimal]] = []  # (lot, uom, signed quantity) of loose goods
        for field_name in _QUANTITIES:
            for q in data.get(field_name, ()):
                code = q.get("epcClass")
                if not (isinstance(code, str) and "/10/" in code and "quantity" in q):
                    continue
                uom, amount = str(q.get("uom") or "EA"), q["quantity"]
                if field_name == "childQuantityList":
                    parent = str(data.get("parentID"))
                    held = self.contents.setdefault(parent, {})
                    if kind == "pack":
                        held[code, uom] = held.get((code, uom), 0) + amount
                        moves.append((code, uom, -amount))
                    else:  # unpacked: back to loose goods
                        held[code, uom] = held.get((code, uom), 0) - amount
                        moves.append((code, uom, amount))
                elif field_name == "inputQuantityList" or kind in ("ship", "sell", "destroy", "decommission"):
                    moves.append((code, uom, -amount))
                elif field_name == "outputQuantityList" or kind in ("commission", "receive"):
                    moves.append((code, uom, amount))
        if kind == "unpack" and not data.get("childEPCs") and not data.get("childQuantityList"):
            for (code, uom), amount in self.contents.pop(str(data.get("parentID")), {}).items():
                moves.append((code, uom, amount))
        for code, uom, amount in moves:
            key = (code, by, uom)
            left = self.loose[key] = self.loose.get(key, 0) + amount
            trail = self.trail.setdefault(key, [])
            if len(trail) < _INDEXES_KEPT:
                trail.append(index)
            if left < 0 and key not in self.unbalanced:
                self.unbalanced.add(key)
                self.find(
                    "mass_balance",
                    f"{by or 'an enterprise'} {_done(kind)} {-amount} {uom} of lot {code} at entry {index}, leaving"
                    f" {left} {uom}: more than it commissioned, made or received",
                    trail,
                    code,
                )

    def _matched(self, event: Event, time: int, index: int) -> None:
        """Whether any audited ledger holds a shipment of one of the received codes to this enterprise, before."""
        codes = list(event.item_codes())
        by = (event.data.get("tc:kde") or {}).get("enterprise_uscc")
        for store in self.stores:
            for _, at in sorted(store.lookup_many(ITEMS, codes), key=lambda row: row[-1]):
                try:
                    other = Event.from_canonical(encoding.decode_entry(store.entry(at) or b"")[4])
                except (TracechainError, IndexError, TypeError):
                    continue
                data = other.data
                receiver = (data.get("tc:kde") or {}).get("receiver_uscc")
                if kind_of(data) == "ship" and int(data["eventTime"]) <= time and receiver in (None, by):
                    return
        self.find(
            "unmatched_receive",
            f"{by or 'an enterprise'} received {', '.join(codes[:3])}{' …' if len(codes) > 3 else ''}, which no"
            " audited ledger shows shipped to it before",
            [index],
            codes[0] if codes else None,
        )


def _is_output(data: Mapping[str, Any], code: str) -> bool:
    return code in data.get("outputEPCList", ()) or any(
        q.get("epcClass") == code for q in data.get("outputQuantityList", ())
    )


def _done(kind: str) -> str:
    return {
        "ship": "shipped",
        "sell": "sold",
        "destroy": "destroyed",
        "decommission": "decommissioned",
        "transformation": "used",
        "pack": "packed",
        "receive": "received",
    }.get(kind, kind)


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
