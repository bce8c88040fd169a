"""Trace and audit lines at each size: an audit's time beside verify's, and a forward trace of a lot to 10,000 units.

- audit: ``tracechain.audit(path)`` (verify on all cores, then the streaming pass and the item pass) beside
  ``tracechain.verify(path)``, the integrity part alone, measured in the same rounds; the goal is a million-event
  audit in at most 60 s. Its peak memory is the ``memory.audit`` line of the memory suite (a child process).
- audit passes: the audit's own passes over a ledger its verify found intact — the streaming pass reading spans on
  worker processes (`audits.observe`) and folding them (`audits.stream`), then the item pass — beside the same
  passes in one process and the first straightforward streaming pass (tests/audit_reference.py: every entry decoded
  with the full canonical check and judged rule by rule, in one process) followed by the same item pass.
- trace: a lot of 10,000 serialised units (commissioned in ten events, packed 20 to a case and 20 cases to a
  pallet, the pallets shipped) is added to the growing ledger once, at the first size measured, so every later size
  holds it too; the line is a forward trace of the lot with where each unit is now (a fresh `Genealogy` each round,
  so nothing is cached) beside the same walk without custody and the baseline of looking up each unit's events
  through the item index. The goal is under 1 s on a 1M-entry ledger.
"""

from __future__ import annotations

from typing import Any

import tracechain
from benchmarks.harness import Line, Measure, Peer, Run, Stage, Target, interleaved, size_suite
from benchmarks.ledgers import ACTOR_USCC, Keys
from tracechain import Ledger
from tracechain.identifiers import gtin_check_digit
from tracechain.trace import Genealogy

LOT_UNITS = 10_000
_LOT = "TRACE10K"
_GTIN = "0690123450001" + str(gtin_check_digit("0690123450001"))
_PER_CASE, _PER_PALLET = 20, 20
_MILLION = 1_000_000


def _event(kind: str, when: str, **fields: Any) -> dict[str, Any]:
    kde = {"enterprise_uscc": ACTOR_USCC, "enterprise_name": "四川某某食品有限公司", "lot": _LOT}
    return {
        "type": kind,
        "eventTime": f"2025-06-01T{when}+08:00",
        "eventTimeZoneOffset": "+08:00",
        "tc:product": "food",
        "tc:kde": kde,
        **fields,
    }


def _sscc(n: int) -> str:
    body = f"069012345{n:08d}"
    return f"https://id.gs1.org/00/{body}{gtin_check_digit(body)}"


def plant_lot(path: Any) -> str:
    """Append the 10,000-unit lot to the ledger; returns its lot key."""
    units = [f"https://id.gs1.org/01/{_GTIN}/21/T{i:06d}" for i in range(LOT_UNITS)]
    master = {
        "sc_licence": "SC10651010200015",
        "product_name": "麻辣牛肉干 200克",
        "production_date": "2025-06-01",
        "expiry_date": "2026-06-01",
    }
    events = []
    for start in range(0, LOT_UNITS, 1000):
        made = _event(
            "ObjectEvent", "08:00:00", action="ADD", bizStep="commissioning", epcList=units[start : start + 1000]
        )
        made["tc:kde"] |= master
        events.append(made)
    cases = [_sscc(n) for n in range(LOT_UNITS // _PER_CASE)]
    for n, case in enumerate(cases):
        packed = _event(
            "AggregationEvent",
            "09:00:00",
            action="ADD",
            bizStep="packing",
            parentID=case,
            childEPCs=units[n * _PER_CASE : (n + 1) * _PER_CASE],
        )
        events.append(packed)
    for n in range(len(cases) // _PER_PALLET):
        pallet = _sscc(100_000 + n)
        events.append(
            _event(
                "AggregationEvent",
                "10:00:00",
                action="ADD",
                bizStep="packing",
                parentID=pallet,
                childEPCs=cases[n * _PER_PALLET : (n + 1) * _PER_PALLET],
            )
        )
        shipped = _event("ObjectEvent", "11:00:00", action="OBSERVE", bizStep="shipping", epcList=[pallet])
        shipped["tc:kde"] |= {"receiver_uscc": "91350100M000100Y43", "receiver_name": "福建某某商贸有限公司"}
        events.append(shipped)
    key = Keys().actor
    with Ledger.open(str(path)) as ledger:
        for start in range(0, len(events), 200):
            ledger.append_many(events[start : start + 200], key)
    return f"https://id.gs1.org/01/{_GTIN}/10/{_LOT}"


@size_suite("audit", "audit of the whole ledger beside verify")
def audit_suite(run: Run, stage: Stage) -> None:
    run.log(f"audit at {stage.size:,} entries ({run.plan.verify_repeats} rounds)")
    reports: list[tracechain.AuditReport] = []
    times = interleaved(
        {
            "audit": lambda r: reports.append(tracechain.audit(stage.path)),
            "verify": lambda r: tracechain.verify(stage.path),
        },
        run.plan.verify_repeats,
    )
    audited = Measure.of(
        "tracechain.audit(path): verify + streaming pass + item pass", times["audit"], stage.size, "entry"
    )
    line = Line(
        "audit.ledger",
        "trace",
        "audit of the whole ledger",
        size=stage.size,
        tracechain=audited,
        peers=[
            Peer(
                "reference",
                Measure.of("tracechain.verify(path): the integrity part alone", times["verify"], stage.size, "entry"),
            )
        ],
        notes=[f"findings on the benchmark ledger (synthetic events, unrelated codes): {reports[-1].counts()}"],
    )
    if stage.size >= _MILLION:
        line.targets = [Target("audit of 1M events ≤ 60 s", audited.value, 60.0, higher_is_better=False, unit="s")]
    run.record(line, lambda: tracechain.audit(stage.path))


def _passes(path: Any, workers: int | None, reference: bool = False) -> dict[str, int]:
    """The audit's streaming and item passes over ``path``, as `audit` runs them after a verify that found it intact;
    with ``reference`` the straightforward streaming pass instead. Returns the findings' counts."""
    from datetime import UTC, datetime

    from tests.audit_reference import ReferenceStreamPass
    from tracechain.audits.items import ItemPass
    from tracechain.audits.rules import AuditOptions
    from tracechain.audits.stream import LotState, StreamPass
    from tracechain.report import AuditReport
    from tracechain.storage import open_store

    location = str(path)
    store = open_store(location, readonly=True)
    try:
        report = AuditReport(location, ledgers=[location])
        options, now, size = AuditOptions(workers=workers), datetime.now(UTC), store.size()
        kind = ReferenceStreamPass if reference else StreamPass
        stream = kind(report, options, now, LotState(), [store], [location], 0, size)
        stream.run()
        ItemPass(report, [store], [location], [stream.facts]).run()
        return report.counts()
    finally:
        store.close()


@size_suite("audit-passes", "the audit's own passes beside the first straightforward ones")
def audit_passes_suite(run: Run, stage: Stage) -> None:
    run.log(f"audit passes at {stage.size:,} entries ({run.plan.verify_repeats} rounds)")
    counts: list[dict[str, int]] = []
    times = interleaved(
        {
            "fast": lambda r: counts.append(_passes(stage.path, None)),
            "one-core": lambda r: counts.append(_passes(stage.path, 1)),
            "reference": lambda r: counts.append(_passes(stage.path, 1, reference=True)),
        },
        run.plan.verify_repeats,
    )
    if any(c != counts[0] for c in counts):
        raise AssertionError(f"the passes found different things: {counts}")
    line = Line(
        "audit.passes",
        "trace",
        "the audit's streaming and item passes over a verified ledger",
        size=stage.size,
        tracechain=Measure.of(
            "streaming pass on all cores (spans read on workers, folded in order) + item pass",
            times["fast"],
            stage.size,
            "entry",
        ),
        peers=[
            Peer(
                "variant",
                Measure.of("the same passes in one process", times["one-core"], stage.size, "entry"),
            ),
            Peer(
                "reference",
                Measure.of(
                    "the first straightforward streaming pass (every entry decoded with the full check, one process)"
                    " + the same item pass",
                    times["reference"],
                    stage.size,
                    "entry",
                ),
            ),
        ],
        notes=[f"findings on the benchmark ledger: {counts[-1]}"],
    )
    run.record(line, lambda: _passes(stage.path, None))


@size_suite("trace", "forward trace of a lot to 10,000 units")
def trace_suite(run: Run, stage: Stage) -> None:
    lot = run.state.get("trace.lot")
    if lot is None:
        run.log(f"adding a lot of {LOT_UNITS:,} units to the growing ledger")
        lot = run.state["trace.lot"] = plant_lot(stage.path)
    found: list[int] = []

    def trace(custody: bool) -> None:
        with Genealogy([stage.path]) as genealogy:
            result = genealogy.trace(lot, custody=custody)
        found.append(sum("/21/" in code for code in result.codes))

    units = [f"https://id.gs1.org/01/{_GTIN}/21/T{i:06d}" for i in range(LOT_UNITS)]

    def lookups(r: int) -> None:
        with Ledger.open(str(stage.path), readonly=True) as ledger:
            for unit in units:
                list(ledger.entries(unit))

    times = interleaved({"trace": lambda r: trace(True), "walk": lambda r: trace(False), "entries": lookups}, 3)
    if set(found) != {LOT_UNITS}:
        raise AssertionError(f"the trace reached {sorted(set(found))} units, not {LOT_UNITS}")
    traced = Measure.of("trace(lot, forward) with where each unit is now", times["trace"], LOT_UNITS, "unit")
    line = Line(
        "trace.lot",
        "trace",
        f"forward trace of a lot to {LOT_UNITS:,} units",
        size=stage.size,
        tracechain=traced,
        peers=[
            Peer("variant", Measure.of("the same walk without custody", times["walk"], LOT_UNITS, "unit")),
            Peer(
                "reference",
                Measure.of(
                    "Ledger.entries(unit) for each unit: item-index lookups and decoding",
                    times["entries"],
                    LOT_UNITS,
                    "unit",
                ),
            ),
        ],
        notes=[
            f"the lot: {LOT_UNITS:,} units in {LOT_UNITS // _PER_CASE} cases on"
            f" {LOT_UNITS // _PER_CASE // _PER_PALLET} pallets, each pallet shipped"
        ],
    )
    if stage.size >= _MILLION:
        line.targets = [
            Target("forward trace to 10,000 units < 1 s", traced.value, 1.0, higher_is_better=False, unit="s")
        ]
    run.record(line, lambda: trace(True))
