"""The trace, recall and audit commands over the generated supply chain: exit codes, JSON shapes, files written."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from tests import supply_chain as sc
from tests.test_cli import run


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> sc.Chain:
    return sc.build(tmp_path_factory.mktemp("cli-chain"))


def _paths(chain: sc.Chain) -> list[str]:
    return [str(p) for p in chain.paths]


def test_trace_forward_and_back_as_json(chain: sc.Chain) -> None:
    code, out, _ = run("trace", *_paths(chain), "RM2", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["start"] == "RM2" and data["direction"] == "forward"
    assert {c for c in data["codes"] if "/21/" in c} == sc.cans_of("B1") | sc.cans_of("B2")
    assert all({"ledger", "index", "event"} <= set(e) for e in data["events"])
    code, out, _ = run("trace", *_paths(chain), sc.can("B4", 1), "--back", "--json")
    assert code == 0 and json.loads(out)["direction"] == "backward"
    raw = {c for c in json.loads(out)["codes"] if "/10/" in c and sc.FORMULA_GTIN not in c}
    assert raw == {sc.raw_lot("RM5"), sc.raw_lot("WP1")}


def test_trace_prints_each_step_with_its_entry_and_limits_depth(chain: sc.Chain) -> None:
    code, out, _ = run("trace", *_paths(chain), "RM2", "--depth", "1")
    assert code == 0
    assert "input to" in out and "output" in out and "/21/" not in out
    assert f"{chain.path('plant')} entry" in out


def test_trace_of_a_code_nobody_recorded_exits_1_and_a_malformed_one_2(chain: sc.Chain) -> None:
    code, _, err = run("trace", *_paths(chain), "(01)06903215123455(21)NOSUCH")
    assert code == 1 and "no event in the ledgers names" in err
    code, _, err = run("trace", *_paths(chain), "(01)06903215123456(21)X")
    assert code == 2 and "check digit" in err


def test_recall_writes_the_csv_and_the_workbook(chain: sc.Chain, tmp_path: Path) -> None:
    csv_file, xlsx_file = tmp_path / "m.csv", tmp_path / "m.xlsx"
    code, out, _ = run("recall", *_paths(chain), "B1", "--csv", str(csv_file), "--xlsx", str(xlsx_file))
    assert code == 0
    assert "units 8" in out and "sold 2" in out and "in transit 4" in out
    code, out, _ = run("--lang", "zh", "recall", *_paths(chain), "B1")
    assert code == 0 and "单品 8" in out and "已售 2" in out and "在途 4" in out
    lines = csv_file.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("lot_code,gtin,product,quantity,unit,step")
    sheet = openpyxl.load_workbook(xlsx_file)["Movements 流向"]
    assert sheet.max_row == len(lines)
    code, out, _ = run("recall", *_paths(chain), "B1", "--json")
    assert code == 0 and json.loads(out)["figures"]["units"] == 8


def test_audit_exits_0_on_the_clean_chain_and_1_with_an_error_finding(chain: sc.Chain, tmp_path: Path) -> None:
    code, out, _ = run("audit", *_paths(chain), "--json", str(tmp_path / "a.json"), "--html", str(tmp_path / "a.html"))
    assert code == 0 and out.startswith("ok:")
    data = json.loads((tmp_path / "a.json").read_text())
    assert data["ok"] is True and data["findings"] == []
    assert (
        "<canvas" not in (tmp_path / "a.html").read_text()[:2000] and "通过 PASSED" in (tmp_path / "a.html").read_text()
    )
    code, out, err = run("audit", *_paths(chain)[1:], "--json", str(tmp_path / "b.json"))
    assert code == 0  # receipts without shipments are warnings
    assert json.loads((tmp_path / "b.json").read_text())["counts"] == {"unmatched_receive": 6}
    chain.record("S1", [sc.sell("S1", sc.time(9), [sc.can("B1", 0)], "B1")])  # sold twice
    code, out, err = run("audit", *_paths(chain), "--json", str(tmp_path / "c.json"))
    assert code == 1 and out.startswith("FAILED") and "after_end_of_life" in err
    finding = json.loads((tmp_path / "c.json").read_text())["findings"][0]
    assert set(finding) >= {"rule", "severity", "indexes", "message"}


def test_audit_takes_each_ledger_s_checkpoint_and_refuses_another_s(chain: sc.Chain, tmp_path: Path) -> None:
    from tracechain import Ledger

    with Ledger.open(chain.path("plant")) as ledger:
        note = ledger.checkpoint(chain.operator["plant"])
    (tmp_path / "cp.txt").write_text(note)
    code, out, _ = run(
        "audit", str(chain.path("plant")), str(chain.path("farms")), "--checkpoint", str(tmp_path / "cp.txt")
    )
    assert "integrity" not in out
    code, _, err = run("audit", str(chain.path("farms")), "--checkpoint", str(tmp_path / "cp.txt"))
    assert code == 2 and "none of the audited ledgers" in err


def test_the_trace_directions_are_the_library_s() -> None:
    from tracechain.cli import tracing as command

    from tracechain import trace

    assert (command.FORWARD, command.BACKWARD) == (trace.FORWARD, trace.BACKWARD)
