"""The audit's item pass: each serialised item's events, from every audited ledger at once, one item at a time.

The `items` and `links` projections are read in code order from every ledger and merged, so an item's events and
links arrive together and are forgotten when the next item starts: memory holds one item. Each event's time and
kind come from the streaming pass's `Facts`. Rules: `duplicate_commission` (made twice, in one ledger or across
ledgers), `after_end_of_life` (named after it was sold, destroyed, decommissioned or used up), `time_backwards`
(an event recorded after another of the item says it happened before it) and `double_aggregation` (packed into a
second container while still in the first).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from typing import Any

from tracechain.audits.rules import RULES
from tracechain.audits.stream import KINDS, Facts
from tracechain.events import format_time
from tracechain.report import AuditReport
from tracechain.storage import ITEMS, LINKS, LedgerStore
from tracechain.trace import is_instance

__all__ = ["ItemPass"]

_END = {KINDS["sell"]: "sold", KINDS["destroy"]: "destroyed", KINDS["decommission"]: "decommissioned"}
_PACKED = ("aggregation_add", "aggregation_observe")


def _rows(at: int, store: LedgerStore) -> Iterator[tuple[str, int, int, tuple[Any, ...]]]:
    for row in store.iter_rows(ITEMS):
        yield row[0], at, 0, row


def _links(at: int, store: LedgerStore) -> Iterator[tuple[str, int, int, tuple[Any, ...]]]:
    for row in store.iter_rows(LINKS):
        yield row[0], at, 1, row


class ItemPass:
    """The item rules over every audited ledger."""

    def __init__(self, report: AuditReport, stores: list[LedgerStore], names: list[str], facts: list[Facts]) -> None:
        self.report, self.stores, self.names, self.facts = report, stores, names, facts
        self.backwards: dict[tuple[int, int, int], list[str]] = {}

    def find(self, rule: str, message: str, at: int, indexes: list[int], code: str) -> None:
        self.report.find(rule, RULES[rule].severity, message, indexes=indexes, ledger=self.names[at], code=code)

    def run(self) -> None:
        streams = [_rows(at, store) for at, store in enumerate(self.stores)]
        streams += [_links(at, store) for at, store in enumerate(self.stores)]
        merged = heapq.merge(*streams, key=lambda item: item[0])
        for code, group in itertools.groupby(merged, key=lambda item: item[0]):
            if not is_instance(code):
                continue
            events: list[tuple[int, int, int, int]] = []  # (time, ledger, index, kind)
            links: list[tuple[int, tuple[Any, ...]]] = []
            for _, at, tag, row in group:
                if tag == 0:
                    index = row[-1]
                    facts = self.facts[at]
                    if 0 <= index < len(facts.kinds) and facts.kinds[index]:
                        events.append((facts.times[index], at, index, facts.kinds[index]))
                else:
                    links.append((at, row))
            if events:
                self.item(code, sorted(events), links)
        for (at, before, after), codes in self.backwards.items():
            facts = self.facts[at]
            self.find(
                "time_backwards",
                f"entry {after} ({format_time(facts.times[after])}) is recorded after entry {before}"
                f" ({format_time(facts.times[before])}) of the same item but says it happened before it"
                + (f"; {len(codes)} items" if len(codes) > 1 else ""),
                at,
                [before, after],
                codes[0],
            )

    def item(
        self, code: str, events: list[tuple[int, int, int, int]], links: list[tuple[int, tuple[Any, ...]]]
    ) -> None:
        inputs = {(at, row[-1]) for at, row in links if row[3] == "transformation" and row[1] == "child"}
        outputs = {(at, row[-1]) for at, row in links if row[3] == "transformation" and row[1] == "parent"}
        transformation = KINDS["transformation"]
        made = [e for e in events if e[3] == KINDS["commission"] or (e[3] == transformation and e[1:3] in outputs)]
        if len(made) > 1:
            where = ", ".join(f"{self.names[at]} entry {index}" for _, at, index, _ in made)
            self.find(
                "duplicate_commission",
                f"{code} was commissioned {len(made)} times: {where}",
                made[0][1],
                [index for _, _, index, _ in made],
                code,
            )
        self._end_of_life(code, events, inputs)
        self._backwards(code, events)
        self._aggregation(code, links)

    def _end_of_life(self, code: str, events: list[tuple[int, int, int, int]], inputs: set[tuple[int, int]]) -> None:
        transformation = KINDS["transformation"]
        end = next((e for e in events if e[3] in _END or (e[3] == transformation and e[1:3] in inputs)), None)
        if end is None:
            return
        later = [e for e in events if e[0] > end[0] and e[3] != KINDS["recall"]]
        if later:
            how = _END.get(end[3], "used up in a transformation")
            self.find(
                "after_end_of_life",
                f"{code} was {how} at entry {end[2]} ({format_time(end[0])}) but {len(later)} later event(s) name it,"
                f" the first at entry {later[0][2]} of {self.names[later[0][1]]}",
                end[1],
                [end[2], *(e[2] for e in later if e[1] == end[1])],
                code,
            )

    def _backwards(self, code: str, events: list[tuple[int, int, int, int]]) -> None:
        by_ledger: dict[int, list[tuple[int, int]]] = {}
        for time, at, index, _ in events:
            by_ledger.setdefault(at, []).append((index, time))
        for at, recorded in by_ledger.items():
            recorded.sort()
            for (before, t0), (after, t1) in itertools.pairwise(recorded):
                if t1 < t0:
                    self.backwards.setdefault((at, before, after), []).append(code)

    def _aggregation(self, code: str, links: list[tuple[int, tuple[Any, ...]]]) -> None:
        changes = []
        for at, (_, toward, parent, relation, index) in links:
            times = self.facts[at].times
            if toward == "parent" and relation.startswith("aggregation_") and 0 <= index < len(times):
                changes.append((times[index], at, index, parent, relation))
        inside: tuple[int, int, int, str] | None = None  # (time, ledger, index, parent)
        for time, at, index, parent, relation in sorted(changes):
            if relation == "aggregation_delete":
                if inside is not None and inside[3] == parent:
                    inside = None
                continue
            if inside is not None and inside[3] != parent and not self._emptied(inside, time):
                self.find(
                    "double_aggregation",
                    f"{code} was packed into {parent} at entry {index} while still in {inside[3]} (packed at entry"
                    f" {inside[2]} of {self.names[inside[1]]})",
                    at,
                    [inside[2], index] if inside[1] == at else [index],
                    code,
                )
            inside = (time, at, index, parent)

    def _emptied(self, inside: tuple[int, int, int, str], until: int) -> bool:
        """Whether the container was emptied whole (a DELETE naming no children) between packing and ``until``."""
        since, at, _, parent = inside
        facts = self.facts[at]
        return any(
            row[2] == ""
            and row[3] == "aggregation_delete"
            and 0 <= row[-1] < len(facts.times)
            and since <= facts.times[row[-1]] <= until
            for row in self.stores[at].lookup(LINKS, parent)
        )
