"""The audit's streaming pass: every entry of a ledger read once, in order, with state per open lot only.

The reading — decoding each entry and each event's fields, and the rules that need no state — is `audits.observe`,
on worker processes over disjoint spans of a large ledger; this module folds what it read, in index order. Per event
it reports what one event shows (`future_time`, `cold_chain`, `unmatched_receive`, judged while reading), keeps the
lot-level state the lot rules need — each enterprise's loose quantity of each lot and unit of measure and the
quantities packed in each open container (`mass_balance`), lot expiry dates (`expired`), non-conformant inspections
and the recalls and destructions that deal with them (`unhandled_nonconformance`, judged in `audits.run` once every
ledger is read). Key entries are replayed so that a batch sealed by a revoked key is found (`revoked_key`). For the
item rules (`items`), it leaves each event's time and kind in two flat arrays indexed by entry, a few bytes per
entry.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from sys import intern
from typing import Any

from tracechain.audits.observe import KINDS, QUANTITIES, Context, Keyed, kind_of, spans
from tracechain.audits.rules import RULES, AuditOptions
from tracechain.entries import KeyRegistry
from tracechain.errors import TracechainError
from tracechain.report import AuditReport
from tracechain.storage import LedgerStore

__all__ = ["KINDS", "Facts", "LotState", "Moments", "StreamPass", "kind_of"]

_INDEXES_KEPT = 50  # entries named in one mass-balance finding, at most
_CHILD_QUANTITIES = QUANTITIES.index("childQuantityList")
_INPUT_QUANTITIES = QUANTITIES.index("inputQuantityList")
_OUTPUT_QUANTITIES = QUANTITIES.index("outputQuantityList")


@dataclass(slots=True)
class Facts:
    """Each entry's event time (microseconds) and kind (`KINDS`); zero for entries that are not readable events."""

    times: array[int]
    kinds: bytearray

    @classmethod
    def sized(cls, size: int) -> Facts:
        return cls(array("q", bytes(8 * size)), bytearray(size))


class Moments:
    """(time, ledger, index) triples, 24 bytes each: a lot's inspections, or its recalls and destructions, which grow
    with the ledger rather than with the lots (a tuple of three ints costs three times as much)."""

    __slots__ = ("_flat",)

    def __init__(self) -> None:
        self._flat = array("q")

    def append(self, moment: tuple[int, int, int]) -> None:
        self._flat.extend(moment)

    def __iter__(self) -> Iterator[tuple[int, int, int]]:
        flat = self._flat
        for i in range(0, len(flat), 3):
            yield flat[i], flat[i + 1], flat[i + 2]

    def __len__(self) -> int:
        return len(self._flat) // 3


@dataclass(slots=True)
class LotState:
    """What the lot rules carry across ledgers."""

    expiry: dict[str, str] = field(default_factory=dict)  # lot key → expiry date (YYYY-MM-DD)
    inspections: dict[str, Moments] = field(default_factory=dict)  # lot → non-conformant inspections
    handled: dict[str, Moments] = field(default_factory=dict)  # lot → recalls, destructions
    pending_expiry: dict[str, list[tuple[str, int, int, str]]] = field(default_factory=dict)
    lots: set[str] = field(default_factory=set)


class StreamPass:
    """The streaming pass over one ledger (``at`` is its position among the audited ledgers). ``trusted``: the
    entries below it were found canonical by this audit's verify (`audits.observe`)."""

    def __init__(
        self,
        report: AuditReport,
        options: AuditOptions,
        now: datetime,
        lots: LotState,
        stores: list[LedgerStore],
        names: list[str],
        at: int,
        trusted: int = 0,
    ) -> None:
        self.report, self.options, self.lots = report, options, lots
        self.stores, self.names, self.at = stores, names, at
        self.name = names[at]
        self.trusted = trusted
        self.context = Context(
            int(now.timestamp() * 1_000_000),
            int(options.future_tolerance.total_seconds() * 1_000_000),
            options.cold_chain,
            tuple(names),
        )
        self.registry = KeyRegistry()
        self.facts = Facts.sized(stores[at].size())
        self.loose: dict[tuple[str, str, str], int | Decimal] = {}  # (lot, enterprise, uom) → loose quantity
        self.trail: dict[tuple[str, str, str], list[int]] = {}
        self.unbalanced: set[tuple[str, str, str]] = set()
        self.contents: dict[str, dict[tuple[str, str], int | Decimal]] = {}  # open container → (lot, uom) → qty

    def find(self, rule: str, message: str, indexes: list[int] | tuple[int, ...], code: str | None = None) -> None:
        self.report.find(rule, RULES[rule].severity, message, indexes=indexes, ledger=self.name, code=code)

    # --- the pass ------------------------------------------------------------------------------------------

    def run(self, progress: Callable[[int], None] | None = None) -> None:
        for end, span in spans(self.stores, self.at, self.trusted, self.context, self.options.workers):
            for item in span:  # a `Seen` or a `Keyed`, or from a worker the plain tuple of one
                try:
                    if len(item) == len(Keyed._fields):
                        entry, kind, body = item
                        if kind == "seal":
                            self.seal(body, entry)
                        else:
                            self.registry.apply(entry, kind, body)
                    else:
                        self.event(*item)
                except (TracechainError, KeyError, TypeError, ValueError, AttributeError, IndexError):
                    continue  # a damaged entry: verification reports it under integrity
            if progress is not None:
                progress(end)

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

    def event(
        self,
        index: int,
        time: int,
        kind: str,
        lots: tuple[str, ...],
        made: tuple[str, ...],
        expiry: Any,
        day: str,
        failed: bool,
        handles: bool,
        by: str,
        quantities: tuple[tuple[int, str, str, Any], ...],
        parent: str,
        empties: bool,
        future: str | None,
        cold: str | None,
        unmatched: tuple[str, str | None] | None,
    ) -> None:
        """Fold one event (the fields of a `Seen`, in its order) into the state, and report what it shows."""
        self.facts.times[index] = time
        self.facts.kinds[index] = KINDS[kind]
        self.lots.lots.update(lots)
        if future is not None:
            self.find("future_time", future, [index])
        if cold is not None:
            self.find("cold_chain", cold, [index])
        for key in lots:
            if failed:
                self.lots.inspections.setdefault(key, Moments()).append((time, self.at, index))
            if handles:
                self.lots.handled.setdefault(key, Moments()).append((time, self.at, index))
        self._expiry(index, kind, lots, made, expiry, day)
        self._balance(index, kind, by, quantities, parent, empties)
        if unmatched is not None:
            self.find("unmatched_receive", unmatched[0], [index], unmatched[1])

    # --- the lot rules -------------------------------------------------------------------------------------

    def _expiry(
        self, index: int, kind: str, lots: tuple[str, ...], made: tuple[str, ...], expiry: Any, day: str
    ) -> None:
        if isinstance(expiry, str):
            for key in made:
                self.lots.expiry.setdefault(key, expiry)
        if kind not in ("receive", "sell"):
            return
        for key in set(lots):
            until = self.lots.expiry.get(key, expiry if isinstance(expiry, str) else None)
            if until is None:
                self.lots.pending_expiry.setdefault(key, []).append((day, self.at, index, kind))
            elif day > until:
                self.find("expired", f"lot {key} {_done(kind)} on {day}, after its expiry date {until}", [index], key)

    def _balance(
        self,
        index: int,
        kind: str,
        by: str,
        quantities: tuple[tuple[int, str, str, Any], ...],
        parent: str,
        empties: bool,
    ) -> None:
        moves: list[tuple[str, str, int | Decimal]] = []  # (lot, uom, signed quantity) of loose goods
        for position, code, uom, amount in quantities:
            if position == _CHILD_QUANTITIES:
                # Open containers are the state that grows with the ledger: their few lot codes and units are kept
                # once each rather than once per container (each record brings its own copies from a worker).
                slot = (intern(code), intern(uom))
                held = self.contents.setdefault(parent, {})
                if kind == "pack":
                    held[slot] = held.get(slot, 0) + amount
                    moves.append((code, uom, -amount))
                else:  # unpacked: back to loose goods
                    held[slot] = held.get(slot, 0) - amount
                    moves.append((code, uom, amount))
            elif position == _INPUT_QUANTITIES or kind in ("ship", "sell", "destroy", "decommission"):
                moves.append((code, uom, -amount))
            elif position == _OUTPUT_QUANTITIES or kind in ("commission", "receive"):
                moves.append((code, uom, amount))
        if empties:
            for (code, uom), amount in self.contents.pop(parent, {}).items():
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
