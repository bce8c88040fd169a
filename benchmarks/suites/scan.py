"""Scan verdict lines at each size: one label judged on the growing ledger, against the bare lookup and proofs.

At each size the suite appends one small supply chain to the growing ledger — a lot of 1,000 serialised units in
one commissioning event, packed into 10 cases, the cases shipped — and the operator signs a checkpoint (about 15
entries: nothing the other suites' figures notice, and this suite runs last). Then, for units of that lot it has not
judged before, each round times:

- tracechain: ``scan.verdict(payload, ledger, issuers=…, scan=…)`` on the open ledger, a new `LedgerHistory` each
  time (so no event is remembered from the previous verdict): the label parsed and its signature checked, the
  genealogy walked (the unit, its case, its lot), every event proved against the checkpoint, the clone rules run;
- reference: ``Ledger.entries(code)`` and ``Ledger.prove_item(code)`` — the item's own events decoded and proved,
  the least any answer with a history and a proof costs.

The target is the issue's: a verdict well under 100 ms on a 1M-entry ledger.
"""

from __future__ import annotations

import zlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

from benchmarks.harness import Line, Measure, Peer, Run, Stage, Target, interleaved, size_suite
from benchmarks.ledgers import ACTOR_USCC
from tracechain import Ledger, SigningKey, labels, scan
from tracechain.identifiers import gtin_check_digit, uscc_check_char

_UNITS = 1000
_PER_CASE = 100
_ROUNDS = 15
_GTIN = "690321599999"
_GTIN14 = "0" + _GTIN + str(gtin_check_digit(_GTIN))
_BRAND = SigningKey.from_seed("brand.bench.example", bytes(range(1, 33)))
_RECEIVER = "91441721MA5CTW2J" + "8"
_KDE = {
    "enterprise_uscc": ACTOR_USCC,
    "enterprise_name": "四川某某食品有限公司",
    "sc_licence": "SC10651010200015",
    "product_name": "麻辣牛肉干 200克",
    "production_date": "2026-03-01",
    "expiry_date": "2027-03-01",
}


def _receiver() -> str:
    return _RECEIVER[:17] + uscc_check_char(_RECEIVER[:17])


def _event(when: datetime, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "eventTime": when.isoformat(),
        "eventTimeZoneOffset": "+00:00",
        "readPoint": {"id": "https://id.gs1.org/414/6901234567892"},
        "tc:product": "food",
    }
    out.update(fields)
    return out


def _chain(lot: str) -> tuple[list[dict[str, Any]], list[str]]:
    """A lot's events: 1,000 units commissioned, packed into cases, the cases shipped."""
    start = datetime(2026, 3, 1, 8, tzinfo=UTC)
    units = [f"https://id.gs1.org/01/{_GTIN14}/21/{lot}U{n:05d}" for n in range(_UNITS)]
    cases = [f"https://id.gs1.org/00/{_sscc(lot, n)}" for n in range(_UNITS // _PER_CASE)]
    kde = dict(_KDE, lot=lot, gtin=_GTIN14)
    events = [
        _event(start, action="ADD", bizStep="commissioning", disposition="active", epcList=units, **{"tc:kde": kde})
    ]
    for n, case in enumerate(cases):
        children = units[n * _PER_CASE : (n + 1) * _PER_CASE]
        events.append(
            _event(
                start + timedelta(hours=1),
                type="AggregationEvent",
                action="ADD",
                bizStep="packing",
                disposition="in_progress",
                parentID=case,
                childEPCs=children,
                **{"tc:kde": {"enterprise_uscc": ACTOR_USCC, "enterprise_name": _KDE["enterprise_name"]}},
            )
        )
    shipped = dict(_KDE, lot=lot, receiver_uscc=_receiver(), receiver_name="阳西县惠民食品批发有限公司")
    events.append(
        _event(
            start + timedelta(days=1),
            bizStep="shipping",
            disposition="in_transit",
            epcList=cases,
            **{"tc:kde": shipped},
        )
    )
    return events, units


def _sscc(lot: str, n: int) -> str:
    body = f"0690321{zlib.crc32(lot.encode()) % 10**6:06d}{n:04d}"
    return body + str(gtin_check_digit(body))


@size_suite("scan", "a scan verdict on the growing ledger")
def scan_suite(run: Run, stage: Stage) -> None:
    keys = run.state.get("keys")
    if keys is None:
        run.pending("scan.verdict", "scan", "one scan verdict", "the run's keys were not shared with the suites")
        return
    lot = f"B{stage.label.upper()}"
    events, units = _chain(lot)
    with Ledger.open(str(stage.path)) as ledger:
        ledger.append_many(events, keys.actor)
        ledger.checkpoint(keys.operator)
        size = ledger.size
    issuers = {"6903215": _BRAND.verifier}
    payloads = [
        labels.gs1_payload(_GTIN14, unit.rsplit("/", 1)[1], _BRAND, lot=lot, expiry=date(2027, 3, 1))
        for unit in units[: 2 * (_ROUNDS + 1)]
    ]
    moment = scan.new_scan(datetime(2026, 3, 5, 10, tzinfo=UTC), "441721")
    with Ledger.open(str(stage.path), readonly=True) as ledger:
        verdicts: list[str] = []

        def ours(r: int) -> None:
            result = scan.verdict(payloads[2 * r], ledger, issuers=issuers, scan=moment)
            verdicts.append(result.verdict)

        def reference(r: int) -> None:
            code = units[2 * r + 1]
            list(ledger.entries(code))
            ledger.prove_item(code)

        times = interleaved({"ours": ours, "reference": reference}, _ROUNDS)
        if set(verdicts) != {scan.GENUINE}:
            raise AssertionError(f"the benchmark's labels should scan GENUINE, found {sorted(set(verdicts))}")
    line = Line(
        "scan.verdict",
        "scan",
        "one scan verdict: label, genealogy, proofs of every event, clone rules",
        size=size,
        tracechain=Measure.of("scan.verdict on the open ledger", times["ours"], 1, "verdict"),
        peers=[
            Peer(
                "reference",
                Measure.of(
                    "Ledger.entries(code) + prove_item(code): own events only", times["reference"], 1, "verdict"
                ),
            )
        ],
        notes=[
            f"a lot of {_UNITS:,} units in one commissioning event, {_UNITS // _PER_CASE} cases, shipped; each verdict"
            " covers 3 events (commissioning, packing, the case's shipment), each proved against the checkpoint",
        ],
    )
    assert line.tracechain is not None
    line.targets = [Target("well under 100 ms", line.tracechain.value * 1e3, 100.0, higher_is_better=False, unit="ms")]

    def again() -> None:
        with Ledger.open(str(stage.path), readonly=True) as ledger:
            scan.verdict(payloads[-1], ledger, issuers=issuers, scan=moment)

    run.record(line, again)
