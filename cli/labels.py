"""The label commands: `tracechain labels` issues a lot, `tracechain qr` makes one label. Both exit 2 on any error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from tracechain.errors import TracechainError
from tracechain.i18n import gettext as _
from tracechain.i18n import ngettext
from tracechain.words import PRODUCTS

from .common import InputFile
from .common import emit as _emit
from .common import load_key as _load_key

__all__ = ["labels_command", "qr_command"]

T = TypeVar("T")
_GS1_PRODUCTS = sorted(p for p in PRODUCTS if p != "vet_drug")
# What the options offer, written here so that the command line starts without loading the label library;
# tests/test_cli_labels.py holds each equal to tracechain.labels'.
FORMATS = ("png", "svg")
EC_LEVELS = ("L", "M", "Q", "H")
MAX_LOT_COUNT = 1_000_000
DEFAULT_RESOLVER = "id.gs1.org"
_DATE = click.DateTime(formats=["%Y-%m-%d"])


class LabelCommandError(click.ClickException):
    """A library error shown as one message and exit code 2, as a usage problem is."""

    exit_code = 2


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except TracechainError as e:
        raise LabelCommandError(e.diagnostics()) from e


def _read_kde(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise LabelCommandError(
            _("{file}: cannot be read as UTF-8 text ({problem})").format(file=path, problem=e)
        ) from e
    from tracechain.events import parse_json

    value = _run(lambda: parse_json(text, source=path))
    if not isinstance(value, dict):
        raise LabelCommandError(
            _("{file}: expected a JSON object of key data elements, found {found}").format(
                file=path, found=type(value).__name__
            )
        )
    return value


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError as e:
        raise click.BadParameter(
            _("expected an ISO 8601 time with its offset, found {text!r}").format(text=text)
        ) from e
    if when.utcoffset() is None:
        raise click.BadParameter(
            _("expected an ISO 8601 time with its offset (e.g. +08:00), found {text!r}").format(text=text)
        )
    return when


def _day(value: datetime | None) -> date | None:
    return None if value is None else value.date()


@click.command("labels")
@click.option("--gtin", required=True, help="GTIN-8, -12, -13 or -14 of the product.")
@click.option("--lot", required=True, help="Batch or lot number (AI 10): 1-20 characters of GS1 set 82.")
@click.option("--count", required=True, type=click.IntRange(1, MAX_LOT_COUNT), help="How many labels to issue.")
@click.option(
    "--key",
    "key_path",
    required=True,
    type=InputFile(),
    help="The brand owner's issuer key file; every label is signed with it.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="New (or empty) folder for commissioning.jsonl, labels.csv and images/.",
)
@click.option(
    "--kde",
    "kde_path",
    required=True,
    type=InputFile(),
    help="JSON object of the commissioning key data elements (enterprise, product name, licence, ...).",
)
@click.option("--location", required=True, help="GLN or location code where the items are commissioned.")
@click.option(
    "--product",
    default="food",
    show_default=True,
    type=click.Choice(_GS1_PRODUCTS),
    help="Product profile the commissioning events follow.",
)
@click.option(
    "--resolver",
    default=DEFAULT_RESOLVER,
    show_default=True,
    help="Resolver domain of the Digital Links (lower-case host, optional :port and /path).",
)
@click.option("--production", type=_DATE, help="Production date YYYY-MM-DD (AI 11 in the events).")
@click.option("--expiry", type=_DATE, help="Expiry date YYYY-MM-DD, printed in the code as AI 17 and signed.")
@click.option("--when", "when_text", help="Commissioning time, ISO 8601 with offset (default: now).")
@click.option("--format", "image_format", type=click.Choice(FORMATS), help="Also write one image per label.")
@click.option("--scale", default=8, show_default=True, type=click.IntRange(1, 64), help="PNG pixels per module.")
@click.option(
    "--font",
    type=InputFile(),
    help="TrueType/OpenType font for PNG captions (one with CJK glyphs prints Chinese product names).",
)
@click.option("--ec-level", default="M", show_default=True, type=click.Choice(EC_LEVELS), help="QR error correction.")
@click.option("--workers", type=click.IntRange(1), help="Processes rendering images (default: every core).")
@click.option("--per-event", default=1000, show_default=True, type=click.IntRange(1, 100_000), help="Items per event.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object describing what was written.")
def labels_command(
    gtin: str,
    lot: str,
    count: int,
    key_path: str,
    out_dir: str,
    kde_path: str,
    location: str,
    product: str,
    resolver: str,
    production: datetime | None,
    expiry: datetime | None,
    when_text: str | None,
    image_format: str | None,
    scale: int,
    font: str | None,
    ec_level: str,
    workers: int | None,
    per_event: int,
    as_json: bool,
) -> None:
    """Issue COUNT signed labels for one GTIN and lot into a new folder.

    Writes commissioning.jsonl (the commissioning events, for `tracechain append`), labels.csv (UTF-8 with BOM,
    for label-printing software) and with --format one image per label in images/. Nothing is written unless
    every event validates against the product profile.
    """
    from tracechain import issuing

    kde = _read_kde(kde_path)
    when = _when(when_text)
    key = _run(lambda: _load_key(key_path))
    issued = _run(
        lambda: issuing.issue_lot(
            gtin,
            lot,
            count,
            key,
            product=product,
            kde=kde,
            location=location,
            out_dir=out_dir,
            when=when,
            production=_day(production),
            expiry=_day(expiry),
            resolver=resolver,
            image_format=image_format,
            scale=scale,
            font=font,
            ec_level=ec_level,
            workers=workers,
            per_event=per_event,
        )
    )
    summary = {
        "gtin": issued.gtin,
        "lot": issued.lot,
        "product": issued.product,
        "count": len(issued.labels),
        "events": issued.events,
        "events_path": str(issued.events_path),
        "csv_path": str(issued.csv_path),
        "images_dir": None if issued.images_dir is None else str(issued.images_dir),
    }
    if as_json:
        _emit(summary)
        return
    count = len(issued.labels)
    click.echo(
        ngettext(
            "issued {count} label for GTIN {gtin}, lot {lot}:",
            "issued {count} labels for GTIN {gtin}, lot {lot}:",
            count,
        ).format(count=count, gtin=issued.gtin, lot=issued.lot)
    )
    click.echo(
        "  "
        + ngettext(
            "{file} ({count} commissioning event)", "{file} ({count} commissioning events)", issued.events
        ).format(file=issued.events_path, count=issued.events)
    )
    click.echo(f"  {issued.csv_path}")
    if issued.images_dir is not None:
        click.echo(
            "  "
            + ngettext("{folder}/ ({count} {format} image)", "{folder}/ ({count} {format} images)", count).format(
                folder=issued.images_dir, count=count, format=image_format
            )
        )


@click.command("qr")
@click.argument("code")
@click.option(
    "--key",
    "key_path",
    type=InputFile(),
    help="Issuer key file. Required for GS1 codes; for a vet-drug trace code it selects the signed form.",
)
@click.option(
    "--resolver",
    default=DEFAULT_RESOLVER,
    show_default=True,
    help="Resolver domain of the payload (lower-case host, optional :port and /path).",
)
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="Image file to create (default: print).")
@click.option(
    "--format",
    "image_format",
    type=click.Choice(FORMATS),
    help="Image format (default: from the --out suffix, else png).",
)
@click.option("--name", help="Product name printed under the code (default: the GTIN).")
@click.option("--scale", default=8, show_default=True, type=click.IntRange(1, 64), help="PNG pixels per module.")
@click.option(
    "--font",
    type=InputFile(),
    help="TrueType/OpenType font for the PNG caption (one with CJK glyphs prints Chinese names).",
)
@click.option("--ec-level", default="M", show_default=True, type=click.Choice(EC_LEVELS), help="QR error correction.")
def qr_command(
    code: str,
    key_path: str | None,
    resolver: str,
    out_file: str | None,
    image_format: str | None,
    name: str | None,
    scale: int,
    font: str | None,
    ec_level: str,
) -> None:
    """Make the label of one item CODE: a GS1 Digital Link with a serial, or a 24-digit vet-drug trace code.

    Prints the payload, or with --out writes it as a PNG or SVG with the product, lot and serial under the code.
    """
    from tracechain import issuing, labels, qr

    key = None if key_path is None else _run(lambda: _load_key(key_path))
    payload = _run(lambda: labels.payload_for_code(code, key, domain=resolver))
    if out_file is None:
        click.echo(payload)
        return
    fmt = image_format or ("svg" if out_file.lower().endswith(".svg") else "png")
    label = _run(lambda: labels.parse_label(payload))
    cjk = font is not None or fmt == "svg"
    if label.kind == labels.GS1:
        lines = issuing.caption(name, label.gtin or "", label.lot or "-", label.serial or "", cjk_font=cjk)
    else:
        named = bool(name) and (cjk or (name or "").isascii())
        lines = ((name or "",) if named else ()) + (f"TRACE {label.trace_code}",)
    data = _run(lambda: qr.render(payload, lines, fmt=fmt, scale=scale, font=font, ec_level=ec_level))
    try:
        with open(out_file, "xb") as f:
            f.write(data)
    except FileExistsError as e:
        raise LabelCommandError(_("{file}: already exists; refusing to overwrite it").format(file=out_file)) from e
    except OSError as e:
        raise LabelCommandError(
            _("{file}: cannot be written ({problem})").format(file=out_file, problem=e.strerror)
        ) from e
    symbol = _run(lambda: qr.encode(payload, ec_level=ec_level))
    click.echo(
        _("wrote {file}: QR version {version}, level {level}, {size} bytes").format(
            file=out_file, version=symbol.version, level=ec_level, size=len(payload.encode())
        )
    )


COMMANDS = [labels_command, qr_command]
