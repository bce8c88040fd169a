"""The HTML audit report: self-contained (ECharts inlined, nothing fetched), bilingual, with the summary, the findings
by severity and pictures of the findings' items; rendered in headless Chromium where it is installed."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests import supply_chain as sc
from tracechain import AuditOptions, AuditReport, audit
from tracechain.errors import StorageError
from tracechain.report_html import render_audit, write_audit

ASSETS = Path(__file__).resolve().parents[1] / "src" / "tracechain" / "report_assets"
ECHARTS_SHA256 = "b66b25aeb4df84e33199dc21694014d336d222cbd9deb0e5a7c14bd6aa0d0fd0"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> AuditReport:
    """The supply chain with a failed inspection of batch B3 nobody dealt with, and a can sold twice."""
    chain = sc.build(tmp_path_factory.mktemp("html"))
    failed = sc.event(
        "PLANT",
        "ObjectEvent",
        sc.time(8),
        kde={
            "lot": "B3",
            "inspection_result": "non_conformant",
            "failed_items": ["阪崎肠杆菌"],
            "testing_body": "阳江市食品检验所",
            "report_number": "JC-2026-0308",
        },
        action="OBSERVE",
        bizStep="sampling",
        disposition="non_conformant",
        epcList=[sc.can("B3", 4)],
    )
    chain.record("PLANT", [failed])
    chain.record("S1", [sc.sell("S1", sc.time(9), [sc.can("B1", 0)], "B1")])
    return audit(chain.paths, options=AuditOptions(now=datetime(2026, 3, 20, tzinfo=UTC)))


def test_the_vendored_echarts_is_the_released_file_with_its_licence() -> None:
    assert hashlib.sha256((ASSETS / "echarts.min.js").read_bytes()).hexdigest() == ECHARTS_SHA256
    assert "Apache License" in (ASSETS / "echarts-LICENSE.txt").read_text()
    assert "Apache ECharts" in (ASSETS / "echarts-NOTICE.txt").read_text()


def test_the_page_is_self_contained_and_holds_the_summary_and_every_finding(report: AuditReport) -> None:
    assert {p.rule for p in report.problems} == {"unhandled_nonconformance", "after_end_of_life"}
    page = render_audit(report)
    library = (ASSETS / "echarts.min.js").read_text(encoding="utf-8")
    assert library in page  # inlined whole
    ours = page.replace(library, "")
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", ours)  # nothing fetched
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", ours)
    assert "追溯审计报告 Traceability audit report" in page and "未通过 FAILED" in page
    assert "Share of non-conformant lots dealt with: <strong>0.0%</strong>" in page
    for p in report.problems:
        assert p.message.replace("'", "&#x27;") in page
    assert page.index('id="errors"') < page.index('id="warnings"')
    data = json.loads(re.search(r'<script id="report-data" type="application/json">(.*?)</script>', page, re.S)[1])
    assert data["counts"] == {"after_end_of_life": 1, "unhandled_nonconformance": 1}
    unit = data["items"][sc.can("B1", 0)]
    assert [e["step"] for e in unit["timeline"]][-2:] == ["retail_selling", "retail_selling"]
    graph = data["items"][sc.lot(sc.FORMULA_GTIN, "B3")]["graph"]
    ids = {node["id"] for node in graph["nodes"]}
    assert sc.raw_lot("RM4") in ids and sc.cans_of("B3") <= ids  # back to its raw lot, forward to its cans


def test_an_unwritable_page_is_a_storage_error(report: AuditReport, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="nowhere"):
        write_audit(report, tmp_path / "nowhere" / "r.html")


def _chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)")
def test_headless_chromium_draws_every_chart_offline(report: AuditReport, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    write_audit(report, page)
    done = _chromium("--virtual-time-budget=5000", "--dump-dom", page.as_uri(), tmp_path=tmp_path)
    dom = done.stdout
    pictured = len(re.findall(r'class="chart graph"', page.read_text()))
    assert pictured == 2
    assert f'data-charts="{1 + 2 * pictured}"' in dom, done.stderr[-2000:]
    assert dom.count("<canvas") >= 1 + 2 * pictured  # ECharts drew into each chart's box
    assert "终结后仍有事件" in dom and "不合格批次未处理" in dom
    shot = tmp_path / "report.png"
    _chromium(
        f"--screenshot={shot}",
        "--window-size=1200,2400",
        "--virtual-time-budget=5000",
        page.as_uri(),
        tmp_path=tmp_path,
    )
    assert shot.exists() and shot.stat().st_size > 50_000
    keep = Path("/tmp/tracechain-report-screenshot.png")
    shutil.copy(shot, keep)  # for a person to look at after the run
