"""The fast audit finds exactly what the straightforward one finds: on generated ledgers with every rule planted (one
verified intact, so its entries are read without re-proving their form; one with a revoked key's batch and a damaged
entry, so every entry is proved), alone and audited with the supply chain's ledgers, the report of the fast pass —
spans read on worker processes, in-process, or both — equals, finding for finding and figure for figure, the report
of the reference pass (tests/audit_reference.py: each entry decoded with the full check and judged rule by rule)."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests import supply_chain as sc
from tests.audit_reference import ReferenceStreamPass
from tests.conftest import ACTOR_USCC, GTIN14, OPERATOR_USCC, ORIGIN, make_event
from tests.test_audit import _formula_shipment, _inspection, _pack, _recall, _step, _unit
from tracechain import AuditOptions, Ledger, SigningKey, audit, encoding
from tracechain.audits import observe, run

NOW = datetime(2026, 3, 20, tzinfo=UTC)


def _planted(i: int) -> list[dict[str, Any]]:
    """Ordinary events for units from ``i`` with every rule's fault among them, as tests/test_audit.py plants each."""
    a, b = sc.sscc(900 + i), sc.sscc(901 + i)
    made = make_event(i + 90, quantityList=[{"epcClass": f"https://id.gs1.org/01/{GTIN14}/10/Q{i}", "quantity": 5}])
    del made["epcList"]
    shipped = _step(i + 91, "shipping", "2026-03-03T10:00:00+08:00")
    del shipped["epcList"]
    shipped["quantityList"] = [{"epcClass": made["quantityList"][0]["epcClass"], "quantity": 7}]
    lot_b = {**make_event()["tc:kde"], "lot": f"LB{i}"}
    return [
        *(make_event(i + n) for n in range(12)),
        made,
        shipped,  # mass_balance: 7 shipped of 5
        _step(i + 1, "retail_selling", "2026-03-02T10:00:00+08:00"),
        _step(i + 1, "shipping", "2026-03-03T10:00:00+08:00"),  # after_end_of_life
        make_event(i + 2, eventTime="2026-03-05T08:00:00+08:00"),  # duplicate_commission
        _pack(a, [_unit(i + 3), _unit(i + 4)], "2026-03-02T08:00:00+08:00"),
        _pack(b, [_unit(i + 3)], "2026-03-02T09:00:00+08:00"),  # double_aggregation
        _pack(a, [], "2026-03-02T10:00:00+08:00", action="DELETE"),
        _step(i + 5, "shipping", "2026-03-01T07:00:00+08:00"),  # time_backwards
        make_event(i + 60, eventTime="2026-03-22T10:00:00+08:00"),  # future_time
        make_event(i + 61, eventTime="2026-03-05T10:00:00+08:00", recordTime="2026-03-01T10:00:00+08:00"),
        make_event(i + 62, **{"tc:kde": lot_b}),
        _inspection(i + 62, "2026-03-05T10:00:00+08:00", "non_conformant", f"LB{i}"),  # unhandled_nonconformance
        _inspection(i + 6, "2026-03-05T10:00:00+08:00", "non_conformant"),
        _recall(i + 6, "2026-03-06T10:00:00+08:00", "L20260301"),
        _formula_shipment(38.5, "CEL"),  # cold_chain
        _formula_shipment(87.8, "FAH"),
        # expired (in the past: events may not be dated more than a day after the clock)
        make_event(i + 70, **{"tc:kde": {**make_event()["tc:kde"], "lot": f"LE{i}", "expiry_date": "2026-03-04"}}),
        _step(i + 70, "retail_selling", "2026-03-05T09:00:00+08:00", codes=[_unit(i + 70)], lot=f"LE{i}"),
    ]


def _ledger(path: Path, operator: SigningKey, actor: SigningKey, rounds: int) -> Ledger:
    led = Ledger.create(path, ORIGIN, operator, OPERATOR_USCC)
    led.register(actor.verifier, ACTOR_USCC, operator)
    for r in range(rounds):
        led.append_many(_planted(1000 * (r + 1)), actor)
    return led


@pytest.fixture(scope="module")
def ledgers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("audit-speed")
    operator, actor = SigningKey.generate(ORIGIN), SigningKey.generate("plant.example.cn")
    with _ledger(folder / "intact.db", operator, actor, 12):
        pass
    with _ledger(folder / "damaged.db", operator, actor, 6) as led:
        led.revoke(actor.verifier, operator)
        original = Ledger._signer
        try:  # an insider's writer that ignores revocations, as tests/test_audit.py plants revoked_key
            Ledger._signer = lambda self, registry, key, operator: registry.get(key.public_bytes)  # type: ignore
            led.append_many(_planted(50_000), actor)
        finally:
            Ledger._signer = original  # type: ignore[method-assign]
    con = sqlite3.connect(folder / "damaged.db")
    data = con.execute("SELECT data FROM entries WHERE idx = 40").fetchone()[0]
    con.execute("UPDATE entries SET data = ? WHERE idx = 40", (data.replace(b"U0", b"X0", 1),))
    con.commit()
    con.close()
    (folder / "chain").mkdir()
    chain = sc.build(folder / "chain")
    return {"intact": folder / "intact.db", "damaged": folder / "damaged.db", "chain": chain.paths}


class _CountingPool(ProcessPoolExecutor):
    made = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        type(self).made += 1
        super().__init__(*args, **kwargs)


@pytest.fixture
def small_spans(monkeypatch: pytest.MonkeyPatch) -> type[_CountingPool]:
    """Spans of 97 entries, read on worker processes from the first entry: the tests' ledgers split at odd places."""
    monkeypatch.setattr(observe, "_SPAN", 97)
    monkeypatch.setattr(observe, "_PARALLEL_ENTRIES", 0)
    monkeypatch.setattr(observe, "ProcessPoolExecutor", _CountingPool)
    _CountingPool.made = 0
    return _CountingPool


def _reference(paths: list[Path], options: AuditOptions, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    with monkeypatch.context() as m:
        m.setattr(run, "StreamPass", ReferenceStreamPass)
        return audit(paths, options=options).to_dict()


@pytest.mark.parametrize(
    "which",
    [["intact"], ["damaged"], ["intact", "damaged"], ["chain", "intact"], ["chain-without-farms", "damaged"]],
)
def test_the_fast_pass_finds_exactly_what_the_straightforward_one_finds(
    ledgers: dict[str, Any], which: list[str], small_spans: type[_CountingPool], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths: list[Path] = []
    for name in which:
        if name.startswith("chain"):
            paths += ledgers["chain"] if name == "chain" else ledgers["chain"][1:]
        else:
            paths.append(ledgers[name])
    options = AuditOptions(now=NOW, workers=2)
    expected = _reference(paths, options, monkeypatch)
    found = audit(paths, options=options).to_dict()
    assert small_spans.made == len(paths)  # every ledger's spans went to worker processes
    assert found == expected
    in_process = audit(paths, options=AuditOptions(now=NOW, workers=1)).to_dict()
    assert in_process == _reference(paths, AuditOptions(now=NOW, workers=1), monkeypatch)
    rules = {f["rule"] for f in found["findings"]}
    if "intact" in which:
        assert rules >= {
            "mass_balance",
            "after_end_of_life",
            "duplicate_commission",
            "double_aggregation",
            "time_backwards",
            "future_time",
            "unhandled_nonconformance",
            "cold_chain",
            "expired",
        }
    if "damaged" in which:
        assert {"revoked_key", "integrity"} <= rules
    if "chain-without-farms" in which:
        assert "unmatched_receive" in rules


def test_an_intact_ledger_is_read_without_re_proving_its_form_and_a_damaged_one_with_it(
    ledgers: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    trusted_decode, checked_decode = encoding.decode_verified, encoding.decode_entry

    def trusted(data: bytes, *, what: str = "value") -> Any:
        calls.append("trusted")
        return trusted_decode(data, what=what)

    def checked(data: bytes) -> Any:
        calls.append("checked")
        return checked_decode(data)

    monkeypatch.setattr(encoding, "decode_verified", trusted)
    monkeypatch.setattr(encoding, "decode_entry", checked)
    options = AuditOptions(now=NOW, workers=1)
    audit(ledgers["intact"], options=options)
    assert calls.count("trusted") > 0
    assert "checked" not in calls[calls.index("trusted") :]  # verify's own reads come first, with the check
    calls.clear()
    audit(ledgers["damaged"], options=options)
    assert "trusted" not in calls
