"""Commands that answer questions across ledgers: trace an item or lot, the impact of recalling a lot, and audits."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any

import click

import tracechain
from tracechain.errors import IdentifierError, TracechainError
from tracechain.i18n import N_, ngettext
from tracechain.i18n import gettext as _

from .common import InputFile, read_checkpoint

_SHOWN = 100  # findings printed; the JSON and HTML reports hold every one
# tracechain.trace's directions, written here so that the command line starts without loading trace (a test holds
# them equal).
FORWARD, BACKWARD = "forward", "backward"

# The words for the codes trace, recall and audit print; a code not listed is printed as it is.
_RELATIONS = {
    "member": N_("lot member"),
    "lot": N_("lot"),
    "output": N_("output"),
    "input": N_("input"),
    "input_to": N_("input to"),
    "output_of": N_("output of"),
    "packed_into": N_("packed into"),
    "contains": N_("contains"),
}
_STATES = {
    "active": N_("in stock"),
    "in_transit": N_("in transit"),
    "sold": N_("sold"),
    "destroyed": N_("destroyed"),
    "decommissioned": N_("decommissioned"),
    "consumed": N_("consumed"),
}
_FIGURES = {
    "lots": N_("lots"),
    "units": N_("units"),
    "cases": N_("cases"),
    "pallets": N_("pallets"),
    "in_stock": N_("in stock"),
    "in_transit": N_("in transit"),
    "sold": N_("sold"),
    "destroyed": N_("destroyed"),
    "consumed": N_("consumed"),
    "decommissioned": N_("decommissioned"),
    "unknown": N_("unknown"),
    "recalled": N_("recalled"),
    "holders": N_("holders"),
}
_SEVERITIES = {"error": N_("error"), "warning": N_("warning")}


def _word(table: dict[str, str], code: str) -> str:
    """The reader's word for ``code`` from ``table``, or the code itself."""
    return _(table[code]) if code in table else code


def _origins(ledgers: tuple[str, ...]) -> list[str]:
    """Each ledger's origin; a file that is not a ledger is a usage error naming it."""
    from tracechain.storage import open_store

    origins = []
    for ledger in ledgers:
        try:
            store = open_store(ledger, readonly=True)
        except TracechainError as e:
            raise click.BadParameter(str(e), param_hint="LEDGER") from e
        try:
            origins.append(store.meta("origin") or "")
        finally:
            store.close()
    return origins


def _code(value: str) -> str:
    if not value.strip():
        raise click.BadParameter(_("an item code, lot code or lot number is needed, found an empty string"))
    return value


def _out(value: Any) -> None:
    from tracechain.events import to_json

    click.echo(to_json(value, indent=2))


@click.command()
@click.argument("ledgers", metavar="LEDGER...", nargs=-1, required=True, type=InputFile())
@click.argument("code")
@click.option("--back", "direction", flag_value=BACKWARD, help="Trace upstream: inputs, contents, lots, suppliers.")
@click.option(
    "--forward",
    "direction",
    flag_value=FORWARD,
    default=True,
    help="Trace downstream: lot members, containers, outputs, customers, holders (the default).",
)
@click.option("--depth", type=click.IntRange(0), default=None, help="Follow at most N links (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def trace(ledgers: tuple[str, ...], code: str, direction: str, depth: int | None, as_json: bool) -> int:
    """Trace CODE (an item code, a lot code in any spelling, or a lot number) through one or more LEDGERs.

    JSON: {"start", "direction", "codes": [...], "events": [{"ledger", "index", "event"}], "steps": [...],
    "holders": [...], "parties": [...]}. Exits 1 when no event names CODE.
    """
    _origins(ledgers)
    try:
        from tracechain.trace import trace as trace_code

        result = trace_code(ledgers, _code(code), direction, depth=depth)
    except IdentifierError as e:
        raise click.BadParameter(str(e), param_hint="CODE") from e
    if as_json:
        _out(result.to_dict())
    else:
        heading = (
            _("forward trace of {code}: {codes}, {events}")
            if direction == FORWARD
            else _("backward trace of {code}: {codes}, {events}")
        )
        codes = ngettext("{count} code", "{count} codes", len(result.codes)).format(count=len(result.codes))
        events = ngettext("{count} event", "{count} events", len(result.events)).format(count=len(result.events))
        click.echo(heading.format(code=code, codes=codes, events=events))
        for step in result.steps.values():
            where = (
                ""
                if step.index is None
                else "  ("
                + _("{ledger} entry {index}").format(ledger=result.ledgers[step.ledger or 0], index=step.index)
                + ")"
            )
            relation = _word(_RELATIONS, step.relation)
            click.echo(f"  {'  ' * step.depth}{relation} {step.code}{where}")
        for item, now in result.custody.items():
            holder = _("unknown") if now.holder is None else str(now.holder)
            state = _word(_STATES, now.state)
            click.echo(
                "  "
                + _("now: {item}  {state}  {holder}  {place}").format(
                    item=item, state=state, holder=holder, place=now.location or ""
                )
            )
    if not result.found:
        click.echo(_("no event in the ledgers names {code}").format(code=code), err=True)
        return 1
    return 0


@click.command()
@click.argument("ledgers", metavar="LEDGER...", nargs=-1, required=True, type=InputFile())
@click.argument("lot")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False), help="Write the movements to FILE as CSV.")
@click.option("--xlsx", "xlsx_file", type=click.Path(dir_okay=False), help="Write an Excel workbook to FILE.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def recall(ledgers: tuple[str, ...], lot: str, csv_file: str | None, xlsx_file: str | None, as_json: bool) -> int:
    """What recalling LOT involves: every affected lot, unit, case and pallet downstream, who holds it now and
    where, how much was sold, what was already recalled or destroyed, and every movement (FSMA-style rows).

    JSON: {"figures", "lots", "quantities", "holders", "items", "movements", ...}. Exits 1 when no event names LOT.
    """
    from tracechain.recall import recall as recall_impact  # loaded by the command that needs it: a faster start

    _origins(ledgers)
    try:
        impact = recall_impact(list(ledgers), _code(lot))
    except IdentifierError as e:
        raise click.BadParameter(str(e), param_hint="LOT") from e
    if csv_file:
        impact.write_csv(csv_file)
    if xlsx_file:
        impact.write_xlsx(xlsx_file)
    if as_json:
        _out(impact.to_dict())
    else:
        figures = impact.figures()
        shown = ", ".join(f"{_word(_FIGURES, k)} {v}" for k, v in figures.items())
        click.echo(_("recall of {lot}: {figures}").format(lot=lot, figures=shown))
        for holder, where, stock, moving in impact.holders():
            click.echo(
                "  "
                + _("{holder} at {place}: {stock} in stock, {moving} in transit").format(
                    holder=holder or _("unknown"), place=where or "?", stock=stock, moving=moving
                )
            )
        moves = len(impact.movements)
        if csv_file:
            click.echo(
                ngettext(
                    "wrote the movements ({count} movement) to {file}",
                    "wrote the movements ({count} movements) to {file}",
                    moves,
                ).format(count=moves, file=csv_file)
            )
        if xlsx_file:
            click.echo(
                ngettext(
                    "wrote the workbook ({count} movement) to {file}",
                    "wrote the workbook ({count} movements) to {file}",
                    moves,
                ).format(count=moves, file=xlsx_file)
            )
    if not impact.trace.found:
        click.echo(_("no event in the ledgers names {code}").format(code=lot), err=True)
        return 1
    return 0


def _held(ledgers: tuple[str, ...], origins: list[str], paths: tuple[str, ...]) -> list[str]:
    notes = []
    for path in paths:
        note, held = read_checkpoint(path, "--checkpoint")
        if held.origin not in origins:
            raise click.BadParameter(
                _("{path}: a checkpoint of ledger {theirs!r}, none of the audited ledgers ({ledgers})").format(
                    path=path, theirs=held.origin, ledgers=", ".join(ledgers)
                ),
                param_hint="--checkpoint",
            )
        notes.append(note)
    return notes


@click.command()
@click.argument("ledgers", metavar="LEDGER...", nargs=-1, required=True, type=InputFile())
@click.option(
    "--checkpoint",
    "checkpoint_files",
    multiple=True,
    type=InputFile(),
    help="A checkpoint held from earlier of one of the ledgers; that ledger must extend it. Repeatable.",
)
@click.option("--json", "json_file", type=click.Path(dir_okay=False), help="Write the report as JSON to FILE.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Write the report as an HTML page to FILE.")
@click.option(
    "--deadline",
    type=click.FloatRange(min=0, min_open=True),
    default=72.0,
    show_default=True,
    help="Hours within which a non-conformant lot must be recalled or destroyed.",
)
def audit(
    ledgers: tuple[str, ...],
    checkpoint_files: tuple[str, ...],
    json_file: str | None,
    html_file: str | None,
    deadline: float,
) -> int:
    """Audit one or more LEDGERs together: everything verify checks, and the business rules (mass balance, end of
    life, duplicate commissioning, double aggregation, time, non-conformant lots, cold chain, expiry, revoked keys,
    receipts without shipments).

    Exits 1 when a finding is an error. JSON file: {"ok", "ledgers", "figures", "counts",
    "findings": [{"rule", "severity", "indexes", "message", "index", "ledger", "code"?}]}.
    """
    from tracechain.audits import AuditOptions  # loaded by the command that needs it: a faster start

    held = _held(ledgers, _origins(ledgers), checkpoint_files)
    bar = None
    progress = None
    if sys.stderr.isatty():
        bar = click.progressbar(length=1, label="auditing", file=sys.stderr)

        def progress(done: int, total: int) -> None:
            assert bar is not None
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

    report = tracechain.audit(
        list(ledgers), held, options=AuditOptions(deadline=timedelta(hours=deadline)), progress=progress
    )
    if bar is not None:
        bar.render_finish()
    if json_file:
        from tracechain.events import to_json

        try:
            with open(json_file, "w", encoding="utf-8") as f:
                f.write(to_json(report.to_dict(), indent=2) + "\n")
        except OSError as e:
            raise click.BadParameter(
                _("{file}: cannot be written ({problem})").format(file=json_file, problem=e.strerror),
                param_hint="--json",
            ) from e
    if html_file:
        from tracechain.report_html import write_audit

        write_audit(report, html_file)
    figures = report.figures
    share = figures.get("nonconformant_dealt_with_share")
    summary = _(
        "{verdict}: {ledgers} ledger(s), {events} events, {errors} errors, {warnings} warnings;"
        " non-conformant lots dealt with: {share} (target 100%)"
    )
    click.echo(
        summary.format(
            verdict=_("ok") if report.ok else _("FAILED"),
            ledgers=len(ledgers),
            events=figures.get("events", 0),
            errors=figures.get("errors", 0),
            warnings=figures.get("warnings", 0),
            share=_("none failed") if share is None else f"{share}%",
        )
    )
    found = report.sorted_problems()
    for p in found[:_SHOWN]:
        entries = ",".join(str(i) for i in p.indexes) or "-"
        severity = _word(_SEVERITIES, p.severity or "")
        click.echo(f"  {severity} {p.rule} [{p.ledger} {entries}]: {p.message}", err=not report.ok)
    if len(found) > _SHOWN:
        more = len(found) - _SHOWN
        click.echo(
            "  "
            + ngettext(
                "… and {count} more finding (--json FILE lists them all)",
                "… and {count} more findings (--json FILE lists them all)",
                more,
            ).format(count=more),
            err=not report.ok,
        )
    return 0 if report.ok else 1


COMMANDS = [trace, recall, audit]
