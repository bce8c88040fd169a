"""`audit`: integrity and business rules over one or more ledgers, in one `AuditReport` that never raises.

The steps, in order:

1. integrity: `tracechain.verify` of each ledger (on all cores), every problem a finding of rule ``integrity``;
2. the streaming pass of each ledger (`audits.stream`, reading with `audits.observe` on all cores for a large
   ledger): lot rules, event rules, key revocations, receipts matched with shipments across the ledgers;
3. the item pass over all ledgers at once (`audits.items`): the rules about one serialised item's events;
4. what needs every ledger read: non-conformant lots not dealt with by the deadline (and the plan's figure, the
   share of non-conformant lots dealt with), receipts or sales of lots whose expiry date came from a later ledger.

A ledger that cannot be opened or read is reported under ``integrity`` and left out of the later steps.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from tracechain.audits.items import ItemPass
from tracechain.audits.rules import RULES, AuditOptions
from tracechain.audits.stream import LotState, StreamPass
from tracechain.checkpoints import parse_unverified
from tracechain.errors import TracechainError
from tracechain.events import format_time
from tracechain.report import AuditReport
from tracechain.storage import ITEMS, LINKS, LOTS, LedgerStore, open_store
from tracechain.verification import verify

__all__ = ["audit"]

Location = str | os.PathLike[str]
Progress = Callable[[int, int], None]


def audit(
    ledgers: Location | Iterable[Location],
    checkpoints: Iterable[str] = (),
    *,
    options: AuditOptions | None = None,
    progress: Progress | None = None,
) -> AuditReport:
    """Audit one ledger or several audited together (a producer's, a distributor's, a retailer's); see the module
    docstring for the steps and `audits.rules.RULES` for what each rule finds.

    ``checkpoints`` are signed checkpoints held from earlier, each checked against the ledger whose origin it names.
    ``progress(done, total)`` is called as entries are read (each ledger is read three times: verify, the
    streaming pass, the item pass). Bad data gives findings, never an exception.
    """
    options = options or AuditOptions()
    locations = [os.fspath(ledgers)] if isinstance(ledgers, (str, os.PathLike)) else [os.fspath(x) for x in ledgers]
    report = AuditReport(", ".join(locations), ledgers=locations)
    now = options.now or datetime.now(UTC)
    held = list(checkpoints)
    stores: list[LedgerStore] = []
    names: list[str] = []
    sizes = []
    trusted: list[int] = []
    done = 0
    try:
        for location in locations:
            mine = _held_for(location, held)
            integrity = verify(location, mine, signatures=options.signatures, workers=options.workers)
            for p in integrity.problems:
                indexes = [] if p.index is None else [p.index]
                report.find("integrity", "error", p.message, indexes=indexes, ledger=location, evidence=p.evidence)
            report.figures.setdefault("entries", 0)
            report.figures["entries"] += integrity.size
            report.figures["events"] = report.figures.get("events", 0) + integrity.events
            store = _open(report, location)
            if store is not None:
                stores.append(store)
                names.append(location)
                sizes.append(store.size())
                # Verified whole and found intact, its entries need not be proved canonical again (audits.observe).
                trusted.append(integrity.size if integrity.ok else 0)
        total = 2 * sum(sizes)
        lots = LotState()
        facts = []
        for at in range(len(stores)):
            passing = StreamPass(report, options, now, lots, stores, names, at, trusted[at])

            def step(index: int, base: int = done) -> None:
                if progress is not None:
                    progress(base + index, total)

            _guarded(report, names[at], lambda p=passing, s=step: p.run(s))  # type: ignore[misc]
            facts.append(passing.facts)
            done += sizes[at]
        _guarded(report, ", ".join(names), ItemPass(report, stores, names, facts).run)
        _finish(report, options, now, lots, names)
        if progress is not None:
            progress(total, total)
    finally:
        for store in stores:
            store.close()
    return report


def _held_for(location: str, held: list[str]) -> list[str]:
    """The held checkpoints of this ledger's origin (and any that cannot be read, for verify to report)."""
    try:
        store = open_store(location, readonly=True)
    except TracechainError:
        return held
    try:
        origin = store.meta("origin")
    finally:
        store.close()
    out = []
    for note in held:
        try:
            if parse_unverified(note).origin != origin:
                continue
        except TracechainError:
            pass
        out.append(note)
    return out


def _open(report: AuditReport, location: str) -> LedgerStore | None:
    try:
        store = open_store(location, readonly=True)
    except TracechainError:
        return None  # verify has reported why
    missing = [p.name for p in (ITEMS, LOTS, LINKS) if p not in store.built_projections()]
    if missing:
        report.find(
            "integrity",
            "error",
            f"the ledger lacks its {', '.join(missing)} index (written before it existed): the item rules cannot run;"
            f" tracechain reindex {location} builds it",
            ledger=location,
        )
        store.close()
        return None
    return store


def _guarded(report: AuditReport, where: str, run: Callable[[], Any]) -> None:
    """Run a pass; damage it meets (an unreadable page, an index row naming no entry) ends it with a finding."""
    try:
        run()
    except TracechainError as e:
        report.find("integrity", "error", f"the audit could not read on: {e}", ledger=where)
    except (IndexError, KeyError, TypeError, ValueError) as e:  # stored rows of the wrong shape or range
        report.find("integrity", "error", f"the audit could not read on: {e!r}", ledger=where)


def _finish(report: AuditReport, options: AuditOptions, now: datetime, lots: LotState, names: list[str]) -> None:
    deadline = int(options.deadline.total_seconds() * 1_000_000)
    moment = int(now.timestamp() * 1_000_000)
    failed = dealt = in_time = 0
    for lot, inspections in sorted(lots.inspections.items()):
        failed += 1
        first, at, index = min(inspections)
        handling = sorted(h for h in lots.handled.get(lot, ()) if h[0] >= first)
        if handling:
            dealt += 1
            when, h_at, h_index = handling[0]
            if when - first <= deadline:
                in_time += 1
                continue
            report.find(
                "unhandled_nonconformance",
                "warning",
                f"lot {lot} failed inspection at {format_time(first, '+08:00')} (entry {index}) and was dealt with"
                f" only at {format_time(when, '+08:00')} ({names[h_at]} entry {h_index}), after the"
                f" {options.deadline} deadline",
                indexes=[index, h_index] if h_at == at else [index],
                ledger=names[at],
                code=lot,
            )
        elif moment - first > deadline:
            report.find(
                "unhandled_nonconformance",
                RULES["unhandled_nonconformance"].severity,
                f"lot {lot} failed inspection at {format_time(first, '+08:00')} (entry {index}) and no audited ledger"
                f" records its recall or destruction within {options.deadline}",
                indexes=[i for _, a, i in inspections if a == at],
                ledger=names[at],
                code=lot,
            )
    report.figures["lots"] = len(lots.lots)
    report.figures["nonconformant_lots"] = failed
    report.figures["nonconformant_dealt_with"] = dealt
    report.figures["nonconformant_dealt_with_in_time"] = in_time
    report.figures["nonconformant_dealt_with_share"] = round(100 * dealt / failed, 1) if failed else None
    report.figures["nonconformant_dealt_with_target"] = 100
    for lot, pending in lots.pending_expiry.items():
        until = lots.expiry.get(lot)
        for day, at, index, kind in pending:
            if until is not None and day > until:
                done = "received" if kind == "receive" else "sold"
                report.find(
                    "expired",
                    RULES["expired"].severity,
                    f"lot {lot} {done} on {day}, after its expiry date {until}",
                    indexes=[index],
                    ledger=names[at],
                    code=lot,
                )
    severities = [p.severity for p in report.problems]
    report.figures["errors"] = severities.count("error")
    report.figures["warnings"] = severities.count("warning")
