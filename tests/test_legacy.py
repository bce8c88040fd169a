"""A ledger written by tracechain 0.1.0, before the storage refactor: later releases open, verify and extend it."""

from __future__ import annotations

import shutil
from pathlib import Path

import tracechain
from tests.conftest import make_event
from tracechain import Ledger, SigningKey

LEGACY = Path(__file__).resolve().parent / "fixtures" / "legacy-v1"
PASSWORD = "legacy-fixture"


def _copy(tmp_path: Path) -> Path:
    for name in ("ledger.db", "operator.key", "plant.key"):
        shutil.copy(LEGACY / name, tmp_path / name)
        (tmp_path / name).chmod(0o600)
    return tmp_path / "ledger.db"


def _held() -> list[str]:
    return [(LEGACY / f"checkpoint-{n}.txt").read_text() for n in (1, 2)]


def test_the_first_release_s_ledger_verifies_against_its_checkpoints() -> None:
    report = tracechain.verify(LEGACY / "ledger.db", _held(), workers=1)
    assert report.ok, report.problems
    assert (report.size, report.events, report.batches) == (312, 300, 8)


def test_the_first_release_s_ledger_accepts_appends_and_checkpoints(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    plant = SigningKey.load(str(tmp_path / "plant.key"), PASSWORD)
    operator = SigningKey.load(str(tmp_path / "operator.key"), PASSWORD)
    with Ledger.open(str(path)) as led:
        receipt = led.append_many([make_event(i) for i in range(300, 340)], plant)
        assert receipt.first == 312
        note = led.checkpoint(operator)
        assert [e.index for e in led.entries(make_event(7)["epcList"][0])] == [11]
    report = tracechain.verify(path, [*_held(), note], workers=1)
    assert report.ok, report.problems
    assert report.size == 353


def test_the_first_release_s_ledger_opened_read_only_names_every_signer() -> None:
    """It has no batch index (a later projection) and a read-only open cannot build one: seals are found instead."""
    before = (LEGACY / "ledger.db").read_bytes()
    with Ledger.open(LEGACY / "ledger.db", readonly=True) as led:
        signers = {led.signer(i)[0] for i in (4, 123, 200, 311)}  # type: ignore[index]
        assert signers == {"91512081MA62K0260E"}
        assert led.signer(0) is not None and led.signer(0)[0] == "91350100M000100Y43"  # type: ignore[index]
    assert (LEGACY / "ledger.db").read_bytes() == before
