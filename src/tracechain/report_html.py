"""The audit report as one self-contained HTML page, for people: Chinese and English labels, no network needed.

The page holds the summary (the ledgers, what was read, the plan's figure — the share of non-conformant lots dealt
with, target 100% — and the findings by rule as a chart), then the findings grouped by severity, each with its rule's
explanation, and for the items findings name, the lot genealogy as a graph (a trace back and forward a few links
from the item) and a timeline of the item's events. The text is plain HTML, readable without scripts; the charts are
drawn by Apache ECharts, whose minified build (`report_assets/echarts.min.js`, Apache-2.0) is inlined into the page
with the figures as JSON, so the file can be mailed, archived and opened offline.
"""

from __future__ import annotations

import html
import json
import os
from importlib import resources
from typing import Any

from tracechain.audits.rules import RULES
from tracechain.errors import StorageError, TracechainError
from tracechain.events import format_time
from tracechain.report import SEVERITIES, AuditReport, Problem
from tracechain.storage.projections import HUB_PREFIX
from tracechain.trace import BACKWARD, FORWARD, Genealogy, is_instance

__all__ = ["ECHARTS_VERSION", "render_audit", "write_audit"]

ECHARTS_VERSION = "6.1.0"
_LISTED = 2000  # findings listed per severity; the JSON report has them all
_PICTURED = 12  # items pictured (genealogy and timeline), the first findings' items
_DEPTH = 3  # links followed each way for a genealogy picture
_NODES = 150  # nodes in one genealogy picture, at most
_SEVERITY_LABELS = {"error": "错误 Errors", "warning": "警告 Warnings"}
_FIGURES = (
    ("entries", "条目 Entries"),
    ("events", "事件 Events"),
    ("lots", "批次 Lots"),
    ("nonconformant_lots", "不合格批次 Non-conformant lots"),
    ("nonconformant_dealt_with", "已处理 Dealt with"),
    ("nonconformant_dealt_with_in_time", "按期处理 Dealt with in time"),
    ("errors", "错误 Errors"),
    ("warnings", "警告 Warnings"),
)


def _echarts() -> str:
    return resources.files("tracechain").joinpath("report_assets/echarts.min.js").read_text(encoding="utf-8")


def _kind(code: str) -> str:
    if code.startswith(HUB_PREFIX):
        return "transformation"
    if "/10/" in code:
        return "lot"
    if "/00/" in code:
        return "container"
    return "unit" if is_instance(code) else "class"


def _genealogy(genealogy: Genealogy, code: str) -> dict[str, Any]:
    """Nodes and links of the item's genealogy, ``_DEPTH`` links back and forward, arrows pointing downstream."""
    nodes: dict[str, dict[str, Any]] = {}
    links: list[dict[str, Any]] = []
    for direction in (BACKWARD, FORWARD):
        steps = genealogy.walk(genealogy.resolve(code), direction, _DEPTH)
        for step in steps.values():
            if len(nodes) >= _NODES:
                break
            nodes.setdefault(step.code, {"id": step.code, "kind": _kind(step.code), "start": step.via is None})
            if step.via is not None and step.via in nodes:
                source, target = (step.via, step.code) if direction == FORWARD else (step.code, step.via)
                links.append({"source": source, "target": target, "relation": step.relation, "index": step.index})
    return {"nodes": list(nodes.values()), "links": links}


def _timeline(genealogy: Genealogy, code: str) -> list[dict[str, Any]]:
    """The item's events in time order (for an item, its containers' too while it was inside them)."""
    events = genealogy.timeline(code) if is_instance(code) else genealogy.histories([code])[code]
    out = []
    for t in events[:500]:
        data = t.event.data
        out.append(
            {
                "time": t.time // 1000,
                "label": format_time(t.time, str(data.get("eventTimeZoneOffset", "+00:00"))),
                "step": str(data.get("bizStep") or data.get("type")),
                "disposition": str(data.get("disposition", "")),
                "ledger": genealogy.locations[t.ledger],
                "index": t.index,
            }
        )
    return out


def _pictures(report: AuditReport) -> dict[str, dict[str, Any]]:
    codes = list(dict.fromkeys(p.code for p in report.sorted_problems() if p.code))[:_PICTURED]
    if not codes:
        return {}
    readable = []
    for location in report.ledgers:
        try:
            with Genealogy([location]):
                readable.append(location)
        except TracechainError:
            continue  # the report lists why under integrity
    if not readable:
        return {}
    out = {}
    with Genealogy(readable) as genealogy:
        for code in codes:
            try:
                out[code] = {"graph": _genealogy(genealogy, code), "timeline": _timeline(genealogy, code)}
            except TracechainError as e:
                out[code] = {"error": str(e)}
    return out


def _finding(p: Problem, pictured: set[str]) -> str:
    rule = RULES.get(p.rule or "integrity", RULES["integrity"])
    where = html.escape(p.ledger or "")
    entries = ", ".join(str(i) for i in p.indexes) or "—"
    code = ""
    if p.code:
        anchor = f' <a href="#item-{_slug(p.code)}">图示 picture</a>' if p.code in pictured else ""
        code = f'<div class="code">{html.escape(p.code)}{anchor}</div>'
    return (
        f'<li class="finding {html.escape(p.severity or "error")}"><span class="rule">{html.escape(rule.title_zh)}'
        f" · {html.escape(rule.title_en)} <code>{html.escape(rule.id)}</code></span>"
        f'<div class="message">{html.escape(p.message)}</div>{code}'
        f'<div class="where">账本 ledger {where} · 条目 entries {entries}</div></li>'
    )


def _slug(code: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in code)[-80:]


def render_audit(report: AuditReport) -> str:
    """The report as an HTML page (a string); reads the audited ledgers again for the pictures of findings' items."""
    pictures = _pictures(report)
    figures = report.figures
    share = figures.get("nonconformant_dealt_with_share")
    share_text = "—（无不合格批次 no non-conformant lot）" if share is None else f"{share}%"
    cards = "".join(
        f'<div class="card"><div class="value">{html.escape(str(figures.get(key, 0)))}</div>'
        f'<div class="label">{html.escape(label)}</div></div>'
        for key, label in _FIGURES
    )
    sections = []
    for severity in SEVERITIES:
        found = [p for p in report.sorted_problems() if p.severity == severity]
        items = "".join(_finding(p, set(pictures)) for p in found[:_LISTED]) or "<li>无 none</li>"
        if len(found) > _LISTED:
            items += f"<li>… 另有 {len(found) - _LISTED} 项 and {len(found) - _LISTED} more: see the JSON report</li>"
        sections.append(
            f'<section id="{severity}s"><h2>{_SEVERITY_LABELS[severity]} ({len(found)})</h2><ol>{items}</ol></section>'
        )
    pictured = "".join(
        f'<section class="item" id="item-{_slug(code)}"><h3>{html.escape(code)}</h3>'
        + (
            f'<p class="error">{html.escape(data["error"])}</p>'
            if "error" in data
            else f'<div class="chart graph" data-code="{html.escape(code)}"></div>'
            f'<div class="chart timeline" data-code="{html.escape(code)}"></div>'
        )
        + "</section>"
        for code, data in pictures.items()
    )
    payload = {
        "counts": report.counts(),
        "rules": {r.id: f"{r.title_zh} {r.title_en}" for r in RULES.values()},
        "items": pictures,
    }
    data = json.dumps(payload, ensure_ascii=False).replace("</", "<\\/")
    verdict = "通过 PASSED" if report.ok else "未通过 FAILED"
    ledgers = "".join(f"<li>{html.escape(x)}</li>" for x in report.ledgers)
    return _PAGE.format(
        verdict=verdict,
        verdict_class="ok" if report.ok else "failed",
        ledgers=ledgers,
        cards=cards,
        share=html.escape(share_text),
        target=figures.get("nonconformant_dealt_with_target", 100),
        sections="".join(sections),
        pictured=pictured or "<p>无 none</p>",
        data=data,
        echarts=_echarts(),
        version=ECHARTS_VERSION,
        script=_SCRIPT,
    )


def write_audit(report: AuditReport, path: str | os.PathLike[str]) -> None:
    """Write the page to ``path``; `StorageError` naming the file when it cannot be written."""
    page = render_audit(report)
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(page)
    except OSError as e:
        raise StorageError(f"{os.fspath(path)}: cannot write the HTML report ({e.strerror})") from e


_SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var drawn = 0;
  var colours = {lot: '#c0392b', unit: '#2e86c1', container: '#7d3c98', transformation: '#d68910', class: '#7f8c8d'};
  var names = {lot: '批次 lot', unit: '单品 unit', container: '包装 case/pallet', transformation: '加工 transformation',
               class: '品类 class'};
  var counts = Object.keys(data.counts);
  if (counts.length) {
    echarts.init(document.getElementById('rules-chart')).setOption({
      animation: false, tooltip: {}, grid: {left: 220, right: 30, top: 10, bottom: 30},
      xAxis: {type: 'value', minInterval: 1}, yAxis: {type: 'category', data: counts.map(function (r) {
        return data.rules[r] || r; })},
      series: [{type: 'bar', data: counts.map(function (r) { return data.counts[r]; }), itemStyle: {color: '#c0392b'}}]
    });
    drawn++;
  }
  document.querySelectorAll('.chart.graph').forEach(function (el) {
    var g = data.items[el.dataset.code].graph;
    var kinds = Object.keys(names);
    echarts.init(el).setOption({
      animation: false, title: {text: '批次谱系 Lot genealogy', textStyle: {fontSize: 14}},
      tooltip: {formatter: function (p) { return p.dataType === 'edge' ?
        p.data.relation + ' (entry ' + p.data.index + ')' : p.data.id; }},
      legend: {data: kinds.map(function (k) { return names[k]; }), top: 24},
      series: [{type: 'graph', layout: 'force', roam: true, draggable: true, top: 60,
        force: {repulsion: 220, edgeLength: 70}, edgeSymbol: ['none', 'arrow'],
        categories: kinds.map(function (k) { return {name: names[k], itemStyle: {color: colours[k]}}; }),
        data: g.nodes.map(function (n) { return {id: n.id, name: n.kind === 'transformation' ?
          '加工 transformation' : n.id.split('/').slice(-2).join('/'),
          category: kinds.indexOf(n.kind), symbolSize: n.start ? 26 : 14, label: {show: true, fontSize: 9}}; }),
        links: g.links.map(function (l) { return {source: l.source, target: l.target, relation: l.relation,
          index: l.index}; })}]
    });
    drawn++;
  });
  document.querySelectorAll('.chart.timeline').forEach(function (el) {
    var t = data.items[el.dataset.code].timeline;
    var steps = [];
    t.forEach(function (e) { if (steps.indexOf(e.step) < 0) { steps.push(e.step); } });
    echarts.init(el).setOption({
      animation: false, title: {text: '事件时间线 Timeline', textStyle: {fontSize: 14}},
      grid: {left: 130, right: 30, top: 40, bottom: 40},
      tooltip: {formatter: function (p) { var e = t[p.dataIndex]; return e.label + '<br>' + e.step + ' ' +
        e.disposition + '<br>' + e.ledger + ' entry ' + e.index; }},
      xAxis: {type: 'time'}, yAxis: {type: 'category', data: steps},
      series: [{type: 'line', step: 'end', symbolSize: 9, data: t.map(function (e) {
        return [e.time, e.step]; })}]
    });
    drawn++;
  });
  document.body.dataset.charts = String(drawn);
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>追溯审计报告 Traceability audit report</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 2em auto; max-width: 1100px;
  color: #222; }}
h1 {{ margin-bottom: 0.2em; }}
.verdict {{ font-size: 1.3em; font-weight: bold; }}
.verdict.ok {{ color: #1e8449; }} .verdict.failed {{ color: #c0392b; }}
.cards {{ display: flex; flex-wrap: wrap; gap: 0.8em; margin: 1em 0; }}
.card {{ border: 1px solid #ccc; border-radius: 6px; padding: 0.6em 1em; min-width: 8em; }}
.card .value {{ font-size: 1.6em; font-weight: bold; }} .card .label {{ color: #555; font-size: 0.85em; }}
.plan {{ background: #fdf2e9; border-left: 4px solid #d68910; padding: 0.6em 1em; }}
.finding {{ margin: 0.6em 0; padding: 0.4em 0.8em; border-left: 4px solid #c0392b; background: #fbeeee; }}
.finding.warning {{ border-color: #d68910; background: #fef5e7; }}
.rule {{ font-weight: bold; }} .code {{ font-family: monospace; font-size: 0.85em; }}
.where {{ color: #555; font-size: 0.85em; }}
.chart {{ width: 100%; height: 420px; margin: 0.5em 0 1.5em; }}
.chart.timeline {{ height: 300px; }}
#rules-chart {{ height: 260px; }}
footer {{ color: #777; font-size: 0.8em; margin-top: 3em; }}
</style>
</head>
<body>
<h1>追溯审计报告 Traceability audit report</h1>
<p class="verdict {verdict_class}">{verdict}</p>
<h2>概要 Summary</h2>
<p>账本 Ledgers:</p><ul>{ledgers}</ul>
<div class="cards">{cards}</div>
<p class="plan">抽检不合格食品处理率 Share of non-conformant lots dealt with: <strong>{share}</strong>
（目标 target {target}%，县食品安全工作方案 四(二)）</p>
<div id="rules-chart" class="chart"></div>
{sections}
<h2>图示 Pictures of the findings' items</h2>
{pictured}
<footer>tracechain · charts by Apache ECharts {version} (Apache License 2.0), inlined.</footer>
<script id="report-data" type="application/json">{data}</script>
<script>{echarts}</script>
<script>{script}</script>
</body>
</html>
"""
