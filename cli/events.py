"""Commands about events before they reach a ledger: validate them, show the schemas they are checked against."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import click

from tracechain import profiles
from tracechain.errors import ValidationError
from tracechain.events import PRODUCTS, Event, parse_json

from .common import InputFile, emit


def utf8_lines(stream: Iterable[str], name: str) -> Iterator[str]:
    """The lines of a text stream, a file that is not UTF-8 text being a usage error that names it."""
    try:
        yield from stream
    except UnicodeDecodeError as e:
        raise click.BadParameter(f"{name}: not UTF-8 text ({e.reason} at byte {e.start})", param_hint="EVENTS") from e


def read_events(stream: Iterable[str], name: str) -> Iterator[tuple[int, Any]]:
    """(line number, event or the `ValidationError` of a line that is not JSON) for each non-blank line."""
    for number, line in enumerate(stream, 1):
        if line.strip():
            try:
                yield number, parse_json(line, source=f"{name} line {number}")
            except ValidationError as e:
                yield number, e


@click.command()
@click.argument("events", default="-", type=InputFile(allow_dash=True))
@click.option("--product", type=click.Choice(sorted(PRODUCTS)), help="Product for events that do not name one.")
@click.option("--json", "as_json", is_flag=True, help='Print one JSON object: {"ok", "events", "invalid", "problems"}.')
def validate(events: str, product: str | None, as_json: bool) -> int:
    """Check every event in EVENTS (JSON Lines) against the envelope and its product profile; writes nothing.

    Exits 1 if any event is invalid, listing each problem with its line number and JSON path.
    """
    name = "standard input" if events == "-" else events
    problems: list[dict[str, Any]] = []
    count = invalid = 0
    with click.open_file(events, encoding="utf-8") as stream:
        for number, value in read_events(utf8_lines(stream, name), name):
            count += 1
            try:
                if isinstance(value, ValidationError):
                    raise value
                if (
                    product is not None
                    and isinstance(value, dict)
                    and value.setdefault("tc:product", product) != product
                ):
                    raise ValidationError(
                        f"tc:product is {value['tc:product']!r} but --product is {product!r}",
                        [("$.tc:product", f"expected {product!r}, found {value['tc:product']!r}")],
                    )
                Event.from_dict(value)
            except ValidationError as e:
                invalid += 1
                problems += [{"line": number, "path": path, "message": text} for path, text in e.problems]
    if not count:
        raise click.UsageError(f"{name}: no events in it (one EPCIS 2.0 event per line)")
    if as_json:
        emit({"ok": not invalid, "events": count, "invalid": invalid, "problems": problems})
    elif invalid:
        click.echo(f"{invalid} of {count} events invalid:", err=True)
        for p in problems:
            click.echo(f"  line {p['line']}: {p['path']}: {p['message']}", err=True)
    else:
        click.echo(f"ok: {count} events valid")
    return 1 if invalid else 0


@click.group()
def schema() -> None:
    """The JSON Schemas events are checked against (draft 2020-12, language-neutral)."""


@schema.command("list")
def schema_list() -> None:
    """List the schemas: the envelope and one profile per product."""
    for name in profiles.schema_names():
        doc = profiles.load_schema(name)
        click.echo(f"{name:<28} {doc.get('title', '')}")


@schema.command("show")
@click.argument("name")
def schema_show(name: str) -> None:
    """Print the schema NAME (as listed by `tracechain schema list`, or a product name such as salt)."""
    names = profiles.schema_names()
    if name not in names and f"profile-{name}" in names:
        name = f"profile-{name}"
    if name not in names:
        raise click.UsageError(f"no schema {name!r}; try: tracechain schema list")
    emit(profiles.load_schema(name))


COMMANDS = [validate, schema]
