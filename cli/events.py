"""Commands about events before they reach a ledger: validate them, show the schemas they are checked against.

`read_events` and `utf8_lines` read JSON Lines; they are the stand-ins for the input reader of
`tracechain.reading` (JSON Lines, arrays, single events and EPCIS documents, any UTF-8) once it lands.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import click

from tracechain.i18n import gettext as _
from tracechain.i18n import ngettext
from tracechain.words import PRODUCTS

from .common import InputFile, emit

PRODUCT_CODES = sorted(PRODUCTS)  # vocabulary's table has every product tracechain.events knows (tests check)


def utf8_lines(stream: Iterable[str], name: str) -> Iterator[str]:
    """The lines of a text stream, a file that is not UTF-8 text being a usage error that names it."""
    try:
        yield from stream
    except UnicodeDecodeError as e:
        raise click.BadParameter(
            _("{source}: not UTF-8 text ({reason} at byte {byte})").format(source=name, reason=e.reason, byte=e.start),
            param_hint="EVENTS",
        ) from e


def read_events(stream: Iterable[str], name: str) -> Iterator[tuple[int, Any]]:
    """(line number, event or the `ValidationError` of a line that is not JSON) for each non-blank line."""
    from tracechain.errors import ValidationError
    from tracechain.events import parse_json

    for number, line in enumerate(stream, 1):
        if line.strip():
            try:
                yield number, parse_json(line, source=f"{name} line {number}")
            except ValidationError as e:
                yield number, e


def with_product(records: Iterable[tuple[int, Any]], product: str | None) -> Iterator[tuple[int, Any]]:
    """The records, each event that names no product given ``product``, and one that names another refused."""
    from tracechain.errors import ValidationError

    for number, value in records:
        if product is not None and isinstance(value, dict) and value.setdefault("tc:product", product) != product:
            found = value["tc:product"]
            yield (
                number,
                ValidationError(
                    f"tc:product is {found!r} but --product is {product!r}",
                    [("$.tc:product", f"expected {product!r}, found {found!r}")],
                ),
            )
        else:
            yield number, value


@click.command()
@click.argument(
    "events", default="-", type=InputFile(allow_dash=True), help="The events file (JSON Lines); - reads standard input."
)
@click.option("--product", type=click.Choice(PRODUCT_CODES), help="Product for events that do not name one.")
@click.option("--json", "as_json", is_flag=True, help='Print one JSON object: {"ok", "events", "invalid", "problems"}.')
def validate(events: str, product: str | None, as_json: bool) -> int:
    """Check every event in EVENTS (JSON Lines) against the envelope and its product profile; writes nothing.

    Exits 1 if any event is invalid, listing each problem with its line number and JSON path.
    """
    from tracechain.errors import ValidationError
    from tracechain.events import Event

    name = _("standard input") if events == "-" else events
    problems: list[dict[str, Any]] = []
    count = invalid = 0
    with click.open_file(events, encoding="utf-8") as stream:
        for number, value in with_product(read_events(utf8_lines(stream, name), name), product):
            count += 1
            try:
                if isinstance(value, ValidationError):
                    raise value
                Event.from_dict(value)
            except ValidationError as e:
                invalid += 1
                problems += [{"line": number, "path": path, "message": text} for path, text in e.problems]
    if not count:
        raise click.UsageError(_("{source}: no events in it (one EPCIS 2.0 event per line)").format(source=name))
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
            click.echo(
                "  " + _("line {line}: {path}: {message}").format(line=p["line"], path=p["path"], message=p["message"]),
                err=True,
            )
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
