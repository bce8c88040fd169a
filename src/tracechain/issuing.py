"""Issuing a lot of labels: random serials, signed payloads, and the files a producer and a print shop need.

:func:`issue_lot` makes N unguessable serials for one GTIN and lot, signs each label with the brand owner's key,
and writes into a new folder: the commissioning events as JSON Lines for ``tracechain append`` (checked against the
envelope and the product profile before anything is written), a CSV of payloads for label-printing software, and
on request one PNG or SVG per label, rendered on all cores. Everything is written into a new sibling folder that is
renamed to the output folder only when complete, so the output folder never holds part of a lot. The file layouts
are in ``docs/labels.md``.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

from tracechain import identifiers, labels, qr
from tracechain.errors import IdentifierError, LabelError, ValidationError
from tracechain.events import Event, to_json
from tracechain.keys import SigningKey
from tracechain.labels import MAX_LOT_COUNT
from tracechain.profiles import PRODUCTS

__all__ = [
    "CSV_COLUMNS",
    "CSV_FILE",
    "EVENTS_FILE",
    "IMAGES_DIR",
    "MAX_LOT_COUNT",
    "IssuedLabel",
    "IssuedLot",
    "caption",
    "issue_lot",
]

EVENTS_FILE: Final = "commissioning.jsonl"
"""The commissioning events, one EPCIS 2.0 event per line."""
CSV_FILE: Final = "labels.csv"
"""The print data: UTF-8 with a byte order mark, comma-separated, CRLF line ends, a header row."""
IMAGES_DIR: Final = "images"
"""The label images, one ``{serial}.png`` or ``{serial}.svg`` each."""
CSV_COLUMNS: Final = ("serial", "payload", "gtin", "lot", "expiry", "product_name", "code", "image")
"""The CSV header, in order (see docs/labels.md)."""

_GS1_PRODUCTS: Final = tuple(p for p in PRODUCTS if p != "vet_drug")
_KDE_FROM_ARGUMENTS: Final = ("gtin", "lot", "production_date", "expiry_date")


@dataclass(frozen=True, slots=True)
class IssuedLabel:
    """One issued label: its random serial, the payload the QR code carries and the canonical item code."""

    serial: str
    payload: str
    code: str


@dataclass(frozen=True, slots=True)
class IssuedLot:
    """What :func:`issue_lot` wrote: the labels in serial order of issue and the paths of the files."""

    gtin: str
    lot: str
    product: str
    labels: tuple[IssuedLabel, ...]
    events_path: Path
    csv_path: Path
    images_dir: Path | None
    events: int


def caption(product_name: str | None, gtin: str, lot: str, serial: str, *, cjk_font: bool = False) -> tuple[str, ...]:
    """The lines printed under a label's code: product, lot, serial.

    Pillow's built-in font has Latin glyphs only, so without a font file (``cjk_font``) a product name that is not
    ASCII is replaced by the GTIN rather than printed as empty boxes; the CSV keeps the name for the print shop.
    """
    if product_name and (cjk_font or (product_name.isascii() and product_name.isprintable())):
        first = product_name
    else:
        first = f"GTIN {gtin}"
    return (first, f"LOT {lot}", f"SN {serial}")


def _check_count(count: object) -> int:
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_LOT_COUNT:
        raise LabelError(f"label count: expected a whole number from 1 to {MAX_LOT_COUNT:,}, found {count!r}")
    return count


def _serials(count: int) -> list[str]:
    # 65 random bits each: a repeat within a lot is astronomically unlikely, but it is cheap to rule out.
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen[labels.new_serial()] = None
    return list(seen)


def _event_time(when: datetime) -> tuple[str, str]:
    if not isinstance(when, datetime) or when.utcoffset() is None:
        raise LabelError(f"commissioning time: expected a datetime with a time zone, found {when!r}")
    text = when.isoformat(timespec="seconds")
    offset = text[-6:] if text[-6] in "+-" else "+00:00"
    return text, offset


def _kde(kde: Mapping[str, Any], gtin: str, lot: str, production: date | None, expiry: date | None) -> dict[str, Any]:
    if not isinstance(kde, Mapping):
        raise ValidationError(f"key data elements: expected a JSON object, found {type(kde).__name__}")
    derived: dict[str, Any] = {"gtin": gtin, "lot": lot}
    if production is not None:
        derived["production_date"] = production.isoformat()
    if expiry is not None:
        derived["expiry_date"] = expiry.isoformat()
    merged = dict(kde)
    for name, value in derived.items():
        given = merged.get(name)
        # The GTIN may be written in the KDEs as GTIN-13; the same GTIN in another length is no conflict.
        same = given == value or (name == "gtin" and isinstance(given, str) and given.zfill(14) == value)
        if given is not None and not same:
            raise ValidationError(
                f"key data elements: {name} is {given!r}, but the lot is issued with {name} {value!r}",
                [(f"$['tc:kde'].{name}", f"expected {value!r} (from the lot's arguments), found {given!r}")],
            )
        merged.setdefault(name, value)
    return merged


def _commissioning_events(
    codes: Sequence[str],
    *,
    product: str,
    kde: Mapping[str, Any],
    location: str,
    when: datetime,
    per_event: int,
) -> list[Event]:
    time_text, offset = _event_time(when)
    events = []
    for start in range(0, len(codes), per_event):
        event = {
            "type": "ObjectEvent",
            "eventTime": time_text,
            "eventTimeZoneOffset": offset,
            "action": "ADD",
            "bizStep": "commissioning",
            "disposition": "active",
            "epcList": list(codes[start : start + per_event]),
            "readPoint": {"id": location},
            "bizLocation": {"id": location},
            "tc:product": product,
            "tc:kde": dict(kde),
        }
        events.append(Event.from_dict(event))
    return events


def _staging_folder(out_dir: Path) -> Path:
    """A new sibling folder to write into; renamed to ``out_dir`` only when every file in it is complete."""
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        # Issued serials must never be lost by overwriting an earlier lot's files.
        raise LabelError(f"{out_dir}: already exists and is not an empty folder; refusing to overwrite issued labels")
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    except OSError as e:
        raise LabelError(f"{out_dir}: cannot create the lot's folder ({e.strerror or e})") from e


def _write_file(path: Path, write: Any, encoding: str = "utf-8") -> None:
    with open(path, "x", encoding=encoding, newline="") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())


def issue_lot(
    gtin: str,
    lot: str,
    count: int,
    key: SigningKey,
    *,
    product: str,
    kde: Mapping[str, Any],
    location: str,
    out_dir: str | os.PathLike[str],
    when: datetime | None = None,
    production: date | None = None,
    expiry: date | None = None,
    resolver: str = labels.DEFAULT_RESOLVER,
    image_format: str | None = None,
    scale: int = 8,
    font: str | None = None,
    ec_level: str = "M",
    workers: int | None = None,
    per_event: int = 1000,
) -> IssuedLot:
    """Issue ``count`` signed labels for ``gtin`` and ``lot`` and write them into ``out_dir``.

    ``kde`` holds the product profile's key data elements for commissioning (enterprise, product name, licence,
    ...); ``gtin``, ``lot``, ``production_date`` and ``expiry_date`` are filled in from the arguments. ``location``
    is the GLN (or any location code) where the items are commissioned; ``when`` defaults to now, in local time.
    Events name at most ``per_event`` items each. Every event is validated before any file is written; a
    :class:`ValidationError` lists the problems.

    Images (``image_format`` ``"png"`` or ``"svg"``) are rendered on ``workers`` processes (default: all cores) at
    ``scale`` pixels per module, QR error correction ``ec_level``, the caption in ``font`` (a font file; see
    :func:`caption`). ``out_dir`` must not exist or be empty: the files are written into a new sibling folder that
    is renamed to ``out_dir`` when complete.
    """
    count = _check_count(count)
    if product not in _GS1_PRODUCTS:
        raise LabelError(
            f"product: expected one of {', '.join(_GS1_PRODUCTS)} (veterinary drugs are labelled with their "
            f"24-digit trace code), found {product!r}"
        )
    if not isinstance(per_event, int) or not 1 <= per_event <= 100_000:
        raise LabelError(f"items per event: expected 1 to 100,000, found {per_event!r}")
    try:
        gtin14 = identifiers.validate_gtin(gtin)
        location_code = identifiers.canonical_code(location)
    except IdentifierError as e:
        raise LabelError(f"lot {lot!r}: {e}") from e
    when = when if when is not None else datetime.now().astimezone()
    merged = _kde(kde, gtin14, lot, production, expiry)
    issued = [
        IssuedLabel(
            serial,
            labels.gs1_payload(gtin14, serial, key, lot=lot, expiry=expiry, domain=resolver),
            identifiers.canonical_code(f"https://{identifiers.CANONICAL_DOMAIN}/01/{gtin14}/21/{serial}"),
        )
        for serial in _serials(count)
    ]
    events = _commissioning_events(
        [label.code for label in issued],
        product=product,
        kde=merged,
        location=location_code,
        when=when,
        per_event=per_event,
    )
    if image_format is not None and image_format not in qr.FORMATS:
        raise LabelError(f"image format: expected one of {', '.join(qr.FORMATS)}, found {image_format!r}")
    folder = Path(out_dir)
    staging = _staging_folder(folder)
    try:
        _write_images(staging, issued, gtin14, lot, merged, image_format, (scale, font, ec_level), workers)
        _write_file(staging / EVENTS_FILE, lambda f: f.writelines(to_json(e.to_dict()) + "\n" for e in events))
        _write_file(
            staging / CSV_FILE,
            lambda f: _write_csv(f, issued, gtin14, lot, expiry, merged, image_format),
            encoding="utf-8-sig",  # the BOM makes Excel and BarTender read the file as UTF-8, Chinese intact
        )
        if folder.exists():
            folder.rmdir()  # empty, checked above
        staging.rename(folder)
    except OSError as e:
        shutil.rmtree(staging, ignore_errors=True)
        raise LabelError(f"{folder}: cannot write the lot's files ({e.strerror or e}); nothing was kept") from e
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    images_dir = folder / IMAGES_DIR if image_format is not None else None
    return IssuedLot(
        gtin14, lot, product, tuple(issued), folder / EVENTS_FILE, folder / CSV_FILE, images_dir, len(events)
    )


def _write_images(
    folder: Path,
    issued: Sequence[IssuedLabel],
    gtin: str,
    lot: str,
    kde: Mapping[str, Any],
    image_format: str | None,
    style: tuple[int, str | None, str],
    workers: int | None,
) -> None:
    if image_format is None:
        return
    name = kde.get("product_name")
    product_name = name if isinstance(name, str) else None
    jobs = [
        qr.RenderJob(
            f"{label.serial}.{image_format}",
            label.payload,
            caption(product_name, gtin, lot, label.serial, cjk_font=style[1] is not None or image_format == "svg"),
        )
        for label in issued
    ]
    directory = folder / IMAGES_DIR
    directory.mkdir()
    scale, font, ec_level = style
    qr.render_files(jobs, directory, fmt=image_format, scale=scale, font=font, ec_level=ec_level, workers=workers)


def _write_csv(
    f: Any,
    issued: Sequence[IssuedLabel],
    gtin: str,
    lot: str,
    expiry: date | None,
    kde: Mapping[str, Any],
    image_format: str | None,
) -> None:
    writer = csv.writer(f, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    name = kde.get("product_name", "")
    expiry_text = "" if expiry is None else expiry.isoformat()
    for label in issued:
        image = "" if image_format is None else f"{IMAGES_DIR}/{label.serial}.{image_format}"
        writer.writerow((label.serial, label.payload, gtin, lot, expiry_text, name, label.code, image))
