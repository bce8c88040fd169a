"""Commands that exchange events with EPCIS systems: import an EPCIS 2.0 document into a ledger, export a ledger's
events as one (docs/epcis.md).

A document that cannot be read as EPCIS JSON-LD at all is a usage error (exit 2); a document with an event that
breaks the standard's rules, or a product's profile, is refused as invalid events are (exit 1). Either way nothing is
written, and the message names the event and the field.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING, Any

import click

from tracechain.i18n import gettext as _
from tracechain.i18n import ngettext

from .common import InputFile, emit, load_key, waiting_said
from .events import PRODUCT_CODES

if TYPE_CHECKING:
    from tracechain.epcis import ExportResult, ImportResult

_MAX_DOCUMENT = 1 << 30  # bytes read from standard input at most: a document is read whole before it is checked


@click.command("import")
@click.argument("ledger", type=InputFile(), help="The ledger file.")
@click.argument(
    "document",
    type=InputFile(allow_dash=True),
    help="The EPCIS 2.0 JSON-LD document (EPCISDocument, or EPCISQueryDocument); - reads standard input.",
)
@click.option("--key", "key_path", required=True, type=InputFile(), help="Actor key file that signs the batch.")
@click.option(
    "--product",
    type=click.Choice(PRODUCT_CODES),
    help="Record events that name no product as events of this one (its profile must be met); without it they"
    " are recorded as plain EPCIS events.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print one JSON object: {"source", "events", "appended", "skipped", "repeated", "first", "seal",'
    ' "existing", "event_ids"}.',
)
def import_(ledger: str, document: str, key_path: str, product: str | None, as_json: bool) -> int:
    """Import the events of an EPCIS 2.0 document into LEDGER as one signed batch.

    Every event is checked first, against the standard's rules (and --product's profile); if any is refused,
    nothing is written and the message names the event and the field. An event the ledger already holds under
    the same GS1 event hash ID (or one the document repeats) is skipped, so importing a document again adds
    nothing; the count of skipped events is said. Exits 2 when DOCUMENT is not EPCIS JSON-LD at all.
    """
    from tracechain import Ledger
    from tracechain.epcis import import_document

    name = _("standard input") if document == "-" else document
    data = _read(document, name)
    with waiting_said(), Ledger.open(ledger) as led:
        key = load_key(key_path)
        result = import_document(led, data, key, source=name, product=product)
        size = led.size
    if as_json:
        emit(result.to_dict())
    else:
        click.echo(_imported(result, size))
    return 0


def _read(path: str, name: str) -> bytes:
    if path != "-":
        with open(path, "rb") as f:
            return f.read()
    data = sys.stdin.buffer.read(_MAX_DOCUMENT + 1)
    if len(data) > _MAX_DOCUMENT:
        raise click.UsageError(
            _("{source}: more than {size} bytes; import the document from a file").format(
                source=name, size=_MAX_DOCUMENT
            )
        )
    return data


def _imported(result: ImportResult, size: int) -> str:
    text = ngettext(
        "imported {appended} of {count} event from {source}",
        "imported {appended} of {count} events from {source}",
        result.events,
    ).format(appended=result.appended, count=result.events, source=result.source)
    if result.appended and result.first is not None and result.seal is not None:
        text += " " + _("(entries {first}..{last}, sealed at {seal})").format(
            first=result.first, last=result.seal - 1, seal=result.seal
        )
    held = result.skipped - result.repeated
    if held:
        text += _(", ") + ngettext(
            "skipped {count} already in the ledger (same event hash ID)",
            "skipped {count} already in the ledger (same event hash ID)",
            held,
        ).format(count=held)
    if result.repeated:
        text += _(", ") + ngettext(
            "skipped {count} the document repeats (same event hash ID)",
            "skipped {count} the document repeats (same event hash ID)",
            result.repeated,
        ).format(count=result.repeated)
    return text + _("; ledger size {size}").format(size=size)


@click.command()
@click.argument("ledger", type=InputFile(), help="The ledger file.")
@click.option(
    "--format",
    "form",
    type=click.Choice(["epcis"]),
    default="epcis",
    show_default=True,
    help="The document format: epcis, an EPCIS 2.0 JSON-LD EPCISDocument.",
)
@click.option("--code", help="Only the events naming this item code (any spelling).")
@click.option("--from", "start", type=click.IntRange(0), help="Only the events from this entry index on.")
@click.option("--to", "end", type=click.IntRange(0), help="Only the events up to this entry index (included).")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the document to this file (replaced whole, or left as it was on failure); default standard output.",
)
def export(ledger: str, form: str, code: str | None, start: int | None, end: int | None, out_path: str | None) -> int:
    """Export LEDGER's events as an EPCIS 2.0 JSON-LD document: every event, those of --code, or --from/--to.

    Each event's eventID is its GS1 event hash ID; tc:ledgerIndex and tc:leafHash say where it is in the ledger,
    so its inclusion can be proved (tracechain prove --index). Exits 1 when no event is selected.
    """
    from tracechain import Ledger

    if code is not None and (start is not None or end is not None):
        raise click.UsageError(_("give --code or --from/--to, not both"))
    if start is not None and end is not None and start > end:
        raise click.BadParameter(_("--from {start} is after --to {end}").format(start=start, end=end))
    if code is not None and not code.strip():
        raise click.BadParameter(_("a value is needed, found an empty string"), param_hint="--code")
    with Ledger.open(ledger, readonly=True) as led:
        size = led.size
        for option, value in (("--from", start), ("--to", end)):
            if value is not None and value >= size:
                raise click.BadParameter(
                    _("entry {index} is beyond the ledger, which has {size} entries").format(index=value, size=size),
                    param_hint=option,
                )
        result = _export(led, out_path, code=code, start=start, end=end)
    if not result.events:
        click.echo(_("nothing in {ledger} to export: no event is selected").format(ledger=ledger), err=True)
        return 1
    if out_path is not None:
        click.echo(
            ngettext(
                "wrote {file}: {count} event (entries {first}..{last})",
                "wrote {file}: {count} events (entries {first}..{last})",
                result.events,
            ).format(file=out_path, count=result.events, first=result.first, last=result.last)
        )
    return 0


def _export(led: Any, out_path: str | None, **selection: Any) -> ExportResult:
    from tracechain.epcis import export_document

    if out_path is None:
        return export_document(led, sys.stdout, **selection)
    folder = os.path.dirname(os.path.abspath(out_path))
    staging = os.path.join(folder, f".{os.path.basename(out_path)}.{os.getpid()}.new")
    try:
        with open(staging, "x", encoding="utf-8") as f:
            result = export_document(led, f, **selection)
            f.flush()
            os.fsync(f.fileno())
        if result.events:
            os.replace(staging, out_path)  # the whole document, or the file as it was
    except OSError as e:
        raise click.BadParameter(
            _("{file}: cannot be written ({problem})").format(file=out_path, problem=e.strerror), param_hint="--out"
        ) from e
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staging)
    return result


COMMANDS = (import_, export)
