"""Audits: each rule planted in a ledger and found at the right entries; a clean supply chain gives no findings; bad
data gives findings, never an exception."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import tracechain
from tests import supply_chain as sc
from tests.conftest import ACTOR_USCC, GTIN14, OPERATOR_USCC, ORIGIN, make_event
from tracechain import AuditOptions, AuditReport, Ledger, SigningKey, audit

NOW = datetime(2026, 3, 20, tzinfo=UTC)
LOT = f"https://id.gs1.org/01/{GTIN14}/10/L20260301"
OPTIONS = AuditOptions(now=NOW)


def _unit(i: int) -> str:
    return make_event(i)["epcList"][0]


def _step(i: int, step: str, when: str, codes: list[str] | None = None, **kde: Any) -> dict[str, Any]:
    """A food event of ``step`` for unit ``i`` (or ``codes``) at ``when``, with the KDEs the profile asks for."""
    extra: dict[str, Any] = {"lot": "L20260301", **kde}
    fields: dict[str, Any] = {"bizStep": step, "action": "OBSERVE", "eventTime": when}
    if step == "shipping":
        extra |= {"receiver_uscc": OPERATOR_USCC, "receiver_name": "阳西县示例批发有限公司"}
    if step == "receiving":
        extra |= {"supplier_uscc": OPERATOR_USCC, "supplier_name": "阳西县示例批发有限公司"}
    if step == "retail_selling":
        fields["disposition"] = "retail_sold"
    if step == "destroying":
        extra["destruction_method"] = "焚烧"
        fields |= {"action": "DELETE", "disposition": "destroyed"}
    base = make_event(i, **fields, epcList=codes or [_unit(i)])
    base["tc:kde"] = {"enterprise_uscc": ACTOR_USCC, "enterprise_name": base["tc:kde"]["enterprise_name"], **extra}
    return base


def _found(report: AuditReport, rule: str) -> list[tuple[tuple[int, ...], str | None]]:
    return [(p.indexes, p.code) for p in report.problems if p.rule == rule]


def _only(report: AuditReport, *rules: str) -> None:
    assert {p.rule for p in report.problems} == set(rules), [p.to_dict() for p in report.problems]


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> sc.Chain:
    return sc.build(tmp_path_factory.mktemp("audit"))


def test_a_clean_supply_chain_gives_no_findings(chain: sc.Chain) -> None:
    report = audit(chain.paths, options=OPTIONS)
    assert report.problems == [] and report.ok
    assert report.figures["events"] == sum(len(events) for events in chain.recorded.values())
    assert report.figures["lots"] == 10  # RM1-5, WP1, B1-4
    assert report.figures["nonconformant_lots"] == 0


def test_a_receipt_is_matched_only_with_a_shipment_in_an_audited_ledger(chain: sc.Chain) -> None:
    report = audit(chain.paths[1:], options=OPTIONS)  # the farms' ledger left out
    _only(report, "unmatched_receive")
    assert {code for _, code in _found(report, "unmatched_receive")} == {sc.raw_lot(n) for n in [*sc.RAW_LOTS, "WP1"]}
    assert all(p.severity == "warning" and p.ledger == str(chain.path("plant")) for p in report.problems)
    assert report.ok  # warnings do not fail an audit


def test_integrity_lists_every_problem_verify_finds(ledger: Ledger, actor_key: SigningKey, tmp_path: Path) -> None:
    ledger.append_many([make_event(i) for i in range(20)], actor_key)
    path = ledger.path
    ledger.close()
    con = sqlite3.connect(path)
    for index in (5, 9):
        data = con.execute("SELECT data FROM entries WHERE idx = ?", (index,)).fetchone()[0]
        con.execute("UPDATE entries SET data = ? WHERE idx = ?", (data.replace(b"U0000", b"X0000"), index))
    con.commit()
    con.close()
    report = audit(path, options=OPTIONS)
    assert not report.ok
    integrity = [p for p in report.problems if p.rule == "integrity"]
    verified = tracechain.verify(path).problems
    assert sorted((p.index or -1, p.message) for p in integrity) == sorted((p.index or -1, p.message) for p in verified)
    assert len(verified) > 2 and {p.index for p in verified} & {5, 6} and {p.index for p in verified} & {9, 10}


def test_mass_balance_finds_more_shipped_than_commissioned(ledger: Ledger, actor_key: SigningKey) -> None:
    made = make_event(1, quantityList=[{"epcClass": LOT, "quantity": 100}])
    del made["epcList"]
    shipped = [_step(2, "shipping", f"2026-03-0{d}T10:00:00+08:00") for d in (2, 3)]
    for event, quantity in zip(shipped, (60, 50), strict=True):
        del event["epcList"]
        event["quantityList"] = [{"epcClass": LOT, "quantity": quantity}]
    receipt = ledger.append_many([made, *shipped], actor_key)
    report = audit(ledger.path, options=OPTIONS)
    _only(report, "mass_balance")
    [(indexes, code)] = _found(report, "mass_balance")
    first = receipt.first
    assert indexes == (first, first + 1, first + 2) and code == LOT
    assert "leaving -10 EA" in report.problems[0].message


def test_events_after_a_sale_are_found(ledger: Ledger, actor_key: SigningKey) -> None:
    events = [
        make_event(1),
        _step(1, "retail_selling", "2026-03-02T10:00:00+08:00"),
        _step(1, "shipping", "2026-03-03T10:00:00+08:00"),
        _step(2, "retail_selling", "2026-03-02T10:00:00+08:00", codes=[_unit(2)]),
    ]
    first = ledger.append_many(events, actor_key).first
    report = audit(ledger.path, options=OPTIONS)
    _only(report, "after_end_of_life")
    assert _found(report, "after_end_of_life") == [((first + 1, first + 2), _unit(1))]


def test_a_serial_commissioned_twice_is_found_within_and_across_ledgers(
    ledger: Ledger, actor_key: SigningKey, operator_key: SigningKey, tmp_path: Path
) -> None:
    first = ledger.append_many([make_event(1), make_event(2)], actor_key).first
    again = make_event(1, eventTime="2026-03-05T08:00:00+08:00")
    second = ledger.append(again, actor_key)
    report = audit(ledger.path, options=OPTIONS)
    _only(report, "duplicate_commission")
    assert _found(report, "duplicate_commission") == [((first, second), _unit(1))]
    other = tmp_path / "other.db"
    with Ledger.create(other, ORIGIN, operator_key, OPERATOR_USCC) as led:
        led.register(actor_key.verifier, ACTOR_USCC, operator_key)
        copy = led.append(make_event(2, eventTime="2026-03-06T08:00:00+08:00"), actor_key)
    both = audit([ledger.path, other], options=OPTIONS)
    clones = [p for p in both.problems if p.rule == "duplicate_commission" and p.code == _unit(2)]
    assert len(clones) == 1 and f"{other} entry {copy}" in clones[0].message


def _pack(parent: str, children: list[str], when: str, action: str = "ADD") -> dict[str, Any]:
    event = make_event(0, type="AggregationEvent", action=action, bizStep="packing", eventTime=when)
    del event["epcList"]
    event |= {"parentID": parent}
    if children:
        event["childEPCs"] = children
    event["tc:kde"] = {"enterprise_uscc": ACTOR_USCC, "enterprise_name": "阳西县示例食品有限公司"}
    return event


def test_a_unit_in_two_cases_at_once_is_found_but_not_one_moved_after_unpacking(
    ledger: Ledger, actor_key: SigningKey
) -> None:
    a, b, c = (sc.CONTAINERS[n] for n in ("C1", "C2", "C3"))
    events = [
        make_event(1),
        make_event(2),
        _pack(a, [_unit(1), _unit(2)], "2026-03-02T08:00:00+08:00"),
        _pack(b, [_unit(1)], "2026-03-02T09:00:00+08:00"),  # unit 1 is still in a
        _pack(a, [], "2026-03-02T10:00:00+08:00", action="DELETE"),  # a emptied whole
        _pack(c, [_unit(2)], "2026-03-02T11:00:00+08:00"),  # fine: unit 2 left a with the rest
    ]
    first = ledger.append_many(events, actor_key).first
    report = audit(ledger.path, options=OPTIONS)
    _only(report, "double_aggregation")
    assert _found(report, "double_aggregation") == [((first + 2, first + 3), _unit(1))]


def test_an_event_recorded_later_that_happened_earlier_is_found(ledger: Ledger, actor_key: SigningKey) -> None:
    first = ledger.append(make_event(1, eventTime="2026-03-02T10:00:00+08:00"), actor_key)
    second = ledger.append(_step(1, "shipping", "2026-03-02T09:00:00+08:00"), actor_key)
    report = audit(ledger.path, options=OPTIONS)
    _only(report, "time_backwards")
    assert _found(report, "time_backwards") == [((first, second), _unit(1))]


def test_an_event_far_in_the_future_is_found(ledger: Ledger, actor_key: SigningKey) -> None:
    index = ledger.append(make_event(1, eventTime="2026-03-22T10:00:00+08:00"), actor_key)
    ledger.append(make_event(2, eventTime="2026-03-20T12:00:00+08:00"), actor_key)  # within a day: fine
    report = audit(ledger.path, options=OPTIONS)
    _only(report, "future_time")
    assert _found(report, "future_time") == [((index,), None)]
    stamped = make_event(3, eventTime="2026-03-05T10:00:00+08:00", recordTime="2026-03-01T10:00:00+08:00")
    late = ledger.append(stamped, actor_key)
    report = audit(ledger.path, options=OPTIONS)
    assert sorted(_found(report, "future_time")) == [((index,), None), ((late,), None)]


def _inspection(i: int, when: str, result: str, lot: str = "L20260301") -> dict[str, Any]:
    kde = {"inspection_result": result, "testing_body": "阳西县食品检验所", "report_number": f"JC-{i}", "lot": lot}
    if result == "non_conformant":
        kde["failed_items"] = ["黄曲霉毒素B1"]
    event = _step(i, "sampling", when, **kde)
    event["disposition"] = result
    return event


def _recall(i: int, when: str, lot: str) -> dict[str, Any]:
    event = _step(i, "holding", when, recall_reason="抽检不合格", recall_level="2", lot=lot)
    event["disposition"] = "recalled"
    return event


def test_non_conformant_lots_must_be_dealt_with_by_the_deadline(ledger: Ledger, actor_key: SigningKey) -> None:
    kde = make_event()["tc:kde"]
    lots = {name: [make_event(i, **{"tc:kde": {**kde, "lot": name}})] for i, name in enumerate(["LA", "LB", "LC"])}
    ledger.append_many([e for events in lots.values() for e in events], actor_key)
    failed_a = ledger.append(_inspection(0, "2026-03-05T10:00:00+08:00", "non_conformant", "LA"), actor_key)
    ledger.append(_recall(0, "2026-03-06T10:00:00+08:00", "LA"), actor_key)  # a day later: in time
    failed_b = ledger.append(_inspection(1, "2026-03-05T10:00:00+08:00", "non_conformant", "LB"), actor_key)
    failed_c = ledger.append(_inspection(2, "2026-03-05T10:00:00+08:00", "non_conformant", "LC"), actor_key)
    late = ledger.append(_step(2, "destroying", "2026-03-15T10:00:00+08:00", lot="LC"), actor_key)
    ledger.append(_inspection(0, "2026-03-07T10:00:00+08:00", "conformant", "LA"), actor_key)
    report = audit(ledger.path, options=OPTIONS)
    _only(report, "unhandled_nonconformance")
    found = {(p.code, p.severity, p.indexes) for p in report.problems}
    key = f"https://id.gs1.org/01/{GTIN14}/10/"
    assert found == {(key + "LB", "error", (failed_b,)), (key + "LC", "warning", (failed_c, late))}
    assert failed_a < failed_b
    figures = report.figures
    assert (figures["nonconformant_lots"], figures["nonconformant_dealt_with"]) == (3, 2)
    assert figures["nonconformant_dealt_with_share"] == 66.7 and figures["nonconformant_dealt_with_target"] == 100
    assert figures["nonconformant_dealt_with_in_time"] == 1
    longer = audit(ledger.path, options=AuditOptions(now=NOW, deadline=timedelta(days=30)))
    assert {p.code for p in longer.problems} == set()  # LB still within a 30-day deadline on 2026-03-20


def _formula_shipment(reading: float, uom: str) -> dict[str, Any]:
    event = sc.ship("PLANT", "D1", "2026-03-04T08:00:00+08:00", [sc.CONTAINERS["P1"]], "B1")
    event["tc:kde"]["enterprise_uscc"] = ACTOR_USCC
    event["sensorElementList"] = [{"sensorReport": [{"type": "gs1:Temperature", "value": reading, "uom": uom}]}]
    return event


def test_cold_chain_readings_outside_the_product_s_range_are_found(ledger: Ledger, actor_key: SigningKey) -> None:
    hot = ledger.append(_formula_shipment(38.5, "CEL"), actor_key)
    ledger.append(_formula_shipment(86.0, "FAH"), actor_key)  # 30 °C: the limit itself
    warm = ledger.append(_formula_shipment(87.8, "FAH"), actor_key)  # 31 °C
    ledger.append(_formula_shipment(300.0, "KEL"), actor_key)  # 26.85 °C
    report = audit(ledger.path, options=OPTIONS)
    _only(report, "cold_chain")
    assert sorted(_found(report, "cold_chain")) == [((hot,), None), ((warm,), None)]
    tighter = AuditOptions(now=NOW, cold_chain={"infant_formula": {"Temperature": (2.0, 8.0)}})
    assert len(_found(audit(ledger.path, options=tighter), "cold_chain")) == 4


def test_expired_goods_received_or_sold_are_found(ledger: Ledger, actor_key: SigningKey) -> None:
    # The lot expires in the past: events may not be dated more than a day after the clock (docs/products.md).
    commissioned = make_event(1)
    commissioned["tc:kde"]["expiry_date"] = "2026-06-01"
    ledger.append(commissioned, actor_key)  # lot L20260301 expires 2026-06-01
    ledger.append(_step(1, "retail_selling", "2026-06-01T20:00:00+08:00"), actor_key)  # the last day: fine
    sold = ledger.append(_step(2, "retail_selling", "2026-06-02T09:00:00+08:00", codes=[_unit(2)]), actor_key)
    report = audit(ledger.path, options=AuditOptions(now=datetime(2026, 6, 3, tzinfo=UTC)))
    _only(report, "expired")
    assert _found(report, "expired") == [((sold,), LOT)]


def test_a_batch_signed_by_a_revoked_key_is_found(
    ledger: Ledger, actor_key: SigningKey, operator_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.append(make_event(1), actor_key)
    ledger.revoke(actor_key.verifier, operator_key)
    original = Ledger._signer

    def lenient(self: Ledger, registry: Any, key: SigningKey, operator: bool) -> Any:
        info = registry.get(key.public_bytes)
        return info if info is not None and not operator else original(self, registry, key, operator)

    monkeypatch.setattr(Ledger, "_signer", lenient)  # an insider's writer that ignores revocations
    receipt = ledger.append_many([make_event(2)], actor_key)
    monkeypatch.undo()
    report = audit(ledger.path, options=OPTIONS)
    assert _found(report, "revoked_key") == [((receipt.first, receipt.seal_index), None)]
    assert _found(report, "integrity")  # verify refuses the batch's signature too
    assert not report.ok


def test_bad_data_gives_findings_never_an_exception(tmp_path: Path, ledger: Ledger, actor_key: SigningKey) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a ledger at all")
    report = audit([junk, tmp_path / "missing.db"], options=OPTIONS)
    assert not report.ok and {p.rule for p in report.problems} == {"integrity"}
    assert {p.ledger for p in report.problems} == {str(junk), str(tmp_path / "missing.db")}
    ledger.append_many([make_event(i) for i in range(5)], actor_key)
    copy = tmp_path / "copy.db"
    ledger.close()
    shutil.copy(ledger.path, copy)
    con = sqlite3.connect(copy)
    con.execute("UPDATE entries SET data = x'00ff' WHERE idx = 3")
    con.execute("DROP TABLE links")
    con.commit()
    con.close()
    damaged = audit(copy, options=OPTIONS)
    assert {p.rule for p in damaged.problems} == {"integrity"}
    assert any(3 in p.indexes for p in damaged.problems)


def test_the_json_form_lists_findings_with_rule_severity_indexes_and_message(
    ledger: Ledger, actor_key: SigningKey
) -> None:
    ledger.append_many([make_event(1), make_event(1, eventTime="2026-03-02T08:00:00+08:00")], actor_key)
    data = audit(ledger.path, options=OPTIONS).to_dict()
    assert data["ok"] is False
    assert set(data) >= {"ok", "ledgers", "figures", "counts", "findings"}
    [finding] = data["findings"]
    assert finding["rule"] == "duplicate_commission" and finding["severity"] == "error"
    assert finding["indexes"] == [finding["index"], finding["index"] + 1] and finding["message"]
    assert data["counts"] == {"duplicate_commission": 1}
    assert tracechain.Problem(3, "m").to_dict() == {"index": 3, "message": "m"}  # other reports' JSON unchanged
