"""Commands about events before they reach a ledger: validate them, show the schemas they are checked against.

Events are read by `tracechain.reading` (JSON Lines, a JSON array, pretty-printed events, an EPCIS document), as
`tracechain append` reads them: `checked_events` is the one way the CLI takes events from a file.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from tracechain.i18n import gettext as _
from tracechain.i18n import ngettext
from tracechain.words import PRODUCTS

from .common import InputFile, emit

if TYPE_CHECKING:
    from tracechain.reading import Checked

PRODUCT_CODES = sorted(PRODUCTS)  # vocabulary's table has every product tracechain.events knows (tests check)
EVENTS_HELP = (
    "The events: JSON Lines, a JSON array, one or more pretty-printed events, or an EPCIS document; - reads"
    " standard input."
)
ENCODING_HELP = "The input's encoding when it is not UTF-8, e.g. gb18030 or utf-16."


def codec(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """An --encoding value: a codec Python knows, else a usage error."""
    import codecs

    if value is not None:
        try:
            codecs.lookup(value)
        except LookupError:
            raise click.BadParameter(
                _("{codec}: not an encoding (for example gb18030, gbk, utf-16)").format(codec=value)
            ) from None
    return value


def checked_events(events: str, product: str | None, encoding: str | None) -> Iterator[Checked]:
    """The events of EVENTS (a path, or - for standard input) read and validated by `tracechain.reading`.

    Input that is not text in its encoding from its first line on (UTF-16 or GBK where UTF-8 was expected, binary
    data) is a usage error naming the file; a line further on that is not is that line's problem, and reading goes
    on, as for every other problem.
    """
    from tracechain.errors import InputEncodingError, ValidationError
    from tracechain.reading import check_events

    source = sys.stdin if events == "-" else events  # a text stream: tracechain.reading reads its bytes
    try:
        checked = check_events(source, encoding=encoding, product=product)
    except ValidationError as e:  # the file changed after InputFile looked at it
        raise click.BadParameter(str(e), param_hint="EVENTS") from e
    first = True
    for item in checked:
        if first and isinstance(item.record.error, InputEncodingError):
            raise click.BadParameter(
                _("{problem} (tracechain: --encoding CODEC reads another encoding)").format(problem=item.record.error),
                param_hint="EVENTS",
            )
        first = False
        yield item


def where(line: int, index: int | None) -> str:
    """``line 3``, or ``line 3, event [2]`` for an event in an array or an EPCIS document's event list."""
    if index is None:
        return _("line {line}").format(line=line)
    return _("line {line}, event [{index}]").format(line=line, index=index)


@click.command()
@click.argument("events", default="-", type=InputFile(allow_dash=True), help=EVENTS_HELP)
@click.option("--product", type=click.Choice(PRODUCT_CODES), help="Product for events that do not name one.")
@click.option("--encoding", metavar="CODEC", callback=codec, help=ENCODING_HELP)
@click.option("--json", "as_json", is_flag=True, help='Print one JSON object: {"ok", "events", "invalid", "problems"}.')
def validate(events: str, product: str | None, encoding: str | None, as_json: bool) -> int:
    """Check every event in EVENTS against the envelope and its product profile; writes nothing.

    Exits 1 if any event is invalid, listing each problem with its line number (and its place in an array or
    EPCIS document) and JSON path; a line that cannot be read is reported and the lines after it are checked.
    """
    name = _("standard input") if events == "-" else events
    problems: list[dict[str, Any]] = []
    count = invalid = 0
    for checked in checked_events(events, product, encoding):
        count += 1
        if checked.event is None:
            invalid += 1
            line, index = checked.record.line, checked.record.index
            problems += [
                {"line": line, "index": index, "path": path, "message": text} for path, text in checked.problems
            ]
    if not count:
        raise click.UsageError(
            _("{source}: no events in it (JSON Lines, a JSON array, pretty-printed events, an EPCIS document)").format(
                source=name
            )
        )
    if as_json:
        emit({"ok": not invalid, "events": count, "invalid": invalid, "problems": problems})
    elif invalid:
        click.echo(
            ngettext("{invalid} of {count} event invalid:", "{invalid} of {count} events invalid:", count).format(
                invalid=invalid, count=count
            ),
            err=True,
        )
        for p in problems:
            at = where(p["line"], p["index"])
            text = _("{where}: {path}: {message}").format(where=at, path=p["path"], message=p["message"])
            click.echo(f"  {text}", err=True)
    else:
        click.echo(ngettext("ok: {count} event valid", "ok: {count} events valid", count).format(count=count))
    return 1 if invalid else 0


@click.group()
def schema() -> None:
    """The JSON Schemas events are checked against (draft 2020-12, language-neutral)."""


@schema.command("list")
def schema_list() -> None:
    """List the schemas: the envelope and one profile per product."""
    from tracechain import profiles

    for name in profiles.schema_names():
        doc = profiles.load_schema(name)
        click.echo(f"{name:<28} {doc.get('title', '')}")


@schema.command("show")
@click.argument("name", help="A schema name as listed, or a product name such as salt.")
def schema_show(name: str) -> None:
    """Print the schema NAME (as listed by `tracechain schema list`, or a product name such as salt)."""
    from tracechain import profiles

    names = profiles.schema_names()
    if name not in names and f"profile-{name}" in names:
        name = f"profile-{name}"
    if name not in names:
        raise click.UsageError(_("no schema {name!r}; try: tracechain schema list").format(name=name))
    emit(profiles.load_schema(name))


COMMANDS = [validate, schema]
