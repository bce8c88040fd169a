"""QR symbols: payload → module matrix → PNG or SVG label for people, and image → decoded payloads.

The only module that imports ``zxingcpp`` (the zxing-cpp library: its Zint-based writer builds the matrix, with the
ISO/IEC 18004 mask choice, and its reader finds codes in photos) and ``PIL`` (Pillow: scaling, the caption text, PNG
writing and reading PNG/JPEG files). The qrcode library is not used at run time: its pure-Python mask search alone
takes ~75 % of ``qrcode.make(payload).save(file)`` for a signed label, which as a whole is 10–15× slower than
:func:`render` (``benchmarks/suites/labels.py``), so it is only the benchmark's peer. What a payload
*means* is ``tracechain.labels``' business; here a payload is text and a caption is lines of text.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
import zlib
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final
from xml.sax.saxutils import escape

import zxingcpp
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from tracechain.errors import LabelError
from tracechain.labels import EC_LEVELS, FORMATS

__all__ = [
    "EC_LEVELS",
    "FORMATS",
    "MAX_IMAGE_PIXELS",
    "QUIET_ZONE",
    "DecodedCode",
    "QRSymbol",
    "RenderJob",
    "decode_image",
    "encode",
    "render",
    "render_files",
    "render_png",
    "render_svg",
]


QUIET_ZONE: Final = 4
"""Light modules around the symbol, as ISO/IEC 18004 requires."""

MAX_IMAGE_PIXELS: Final = 50_000_000
"""A photo larger than this (50 megapixels) is refused before it is decoded into memory."""

_PARALLEL_FROM: Final = 256  # below this many labels, starting worker processes costs more than it saves
_CHUNK: Final = 200
_DARK_TABLE: Final = bytes(1 if value < 128 else 0 for value in range(256))


@dataclass(frozen=True, slots=True)
class QRSymbol:
    """A QR symbol's module matrix: ``rows[y][x]`` is 1 for a dark module, 0 for a light one (no quiet zone)."""

    payload: str
    version: int
    ec_level: str
    rows: tuple[bytes, ...]

    @property
    def size(self) -> int:
        """Modules per side: 17 + 4 × version."""
        return len(self.rows)


@dataclass(frozen=True, slots=True)
class DecodedCode:
    """One QR code found in an image: its raw bytes and the pixel corners (top-left, top-right, bottom-right,
    bottom-left, in the symbol's own orientation)."""

    data: bytes
    position: tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]

    @property
    def text(self) -> str:
        """The bytes as UTF-8, undecodable bytes replaced; ``labels.parse_label(data)`` is the strict reading."""
        return self.data.decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class RenderJob:
    """One label image to write: its file name inside the output folder, the payload and the caption lines."""

    name: str
    payload: str
    caption: tuple[str, ...] = ()


def encode(payload: str, *, ec_level: str = "M") -> QRSymbol:
    """The QR symbol of ``payload`` (UTF-8, the smallest version that holds it at ``ec_level``)."""
    if ec_level not in EC_LEVELS:
        raise LabelError(f"QR error correction level: expected one of {', '.join(EC_LEVELS)}, found {ec_level!r}")
    if not isinstance(payload, str) or not payload:
        raise LabelError(f"QR payload: expected non-empty text, found {type(payload).__name__}")
    try:
        barcode = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level=ec_level)
        image = barcode.to_image(scale=1, add_quiet_zones=False)
    except (ValueError, RuntimeError) as e:
        raise LabelError(f"QR payload of {len(payload.encode('utf-8'))} bytes cannot be encoded: {e}") from e
    raw = bytes(memoryview(image))  # type: ignore[arg-type]  # the Image has the buffer protocol; its stub omits it
    size = image.shape[0]
    dark = raw.translate(_DARK_TABLE)
    rows = tuple(dark[y * size : (y + 1) * size] for y in range(size))
    return QRSymbol(payload, (size - 17) // 4, ec_level, rows)


# ----------------------------------------------------------------------------------------------------
# Rendering


@lru_cache(maxsize=16)
def _font(size: int, path: str | None) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if path is None:
        return ImageFont.load_default(size)
    try:
        return ImageFont.truetype(path, size)
    except OSError as e:
        raise LabelError(f"font file {path}: cannot be loaded as a TrueType/OpenType font ({e})") from e


def _fitted(draw: ImageDraw.ImageDraw, line: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, room: int) -> str:
    """``line`` cut short with '...' so that it fits ``room`` pixels."""
    if draw.textlength(line, font=font) <= room:
        return line
    cut = line
    while cut and draw.textlength(cut + "...", font=font) > room:
        cut = cut[:-1]
    return cut + "..."


def render_png(symbol: QRSymbol, caption: Sequence[str] = (), *, scale: int = 8, font: str | None = None) -> bytes:
    """A 1-bit grayscale PNG: the symbol at ``scale`` pixels per module inside its quiet zone, the caption lines
    centred under it. ``font`` is a TrueType/OpenType file for the caption (one with CJK glyphs for Chinese names);
    without it Pillow's built-in font draws Latin text only, so callers pass ASCII captions then.

    The pixels are packed and compressed here rather than by Pillow: each module row is packed once and repeated
    ``scale`` times, and a caption line (the product and lot repeat across a lot) is drawn once and cached.
    """
    _check_scale(scale)
    n = symbol.size
    width = (n + 2 * QUIET_ZONE) * scale
    blank = _blank_row(width)
    rows = [blank] * (QUIET_ZONE * scale)
    for modules in symbol.rows:
        rows += [_packed_row(modules, scale)] * scale
    rows += [blank] * (QUIET_ZONE * scale)
    text_px = max(10, round(2.5 * scale))
    for line in caption:
        rows += _caption_rows(line, width, text_px, font)
    if caption:
        rows += [blank] * scale
    header = struct.pack(">IIBBBBB", width, len(rows), 1, 0, 0, 0, 0)  # bit depth 1, grayscale, no interlace
    return b"".join([_PNG_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", zlib.compress(b"".join(rows), 2)), _IEND])


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_IEND: Final = _chunk(b"IEND", b"")
_WHITE_BITS: Final = bytes(ord("0") if value else ord("1") for value in range(256))  # PNG: 0 black, 1 white


@lru_cache(maxsize=64)
def _scaled_bits(scale: int) -> dict[int, str]:
    return {ord("0"): "0" * scale, ord("1"): "1" * scale}


@lru_cache(maxsize=64)
def _blank_row(width: int) -> bytes:
    return b"\0" + b"\xff" * ((width + 7) // 8)


def _packed_row(modules: bytes, scale: int) -> bytes:
    """One pixel row of a module row: filter byte 0, then the pixels packed 8 to a byte, quiet zone included."""
    quiet = "1" * QUIET_ZONE
    bits = quiet + modules.translate(_WHITE_BITS).decode("ascii") + quiet
    scaled = bits.translate(_scaled_bits(scale))
    scaled += "1" * (-len(scaled) % 8)
    return b"\0" + int(scaled, 2).to_bytes(len(scaled) // 8, "big")


@lru_cache(maxsize=256)
def _caption_rows(line: str, width: int, text_px: int, font: str | None) -> tuple[bytes, ...]:
    """The pixel rows of one caption line, filter bytes included; drawn without anti-aliasing in 1-bit mode."""
    face = _font(text_px, font)
    strip = Image.new("1", (width, round(text_px * 1.3)), 1)
    draw = ImageDraw.Draw(strip)
    draw.text((width // 2, 0), _fitted(draw, line, face, width - 2 * text_px // 2), fill=0, font=face, anchor="mt")
    packed = strip.tobytes()
    stride = (width + 7) // 8
    return tuple(b"\0" + packed[i : i + stride] for i in range(0, len(packed), stride))


def render_svg(symbol: QRSymbol, caption: Sequence[str] = (), *, module_mm: float = 0.33) -> str:
    """An SVG: one path of the dark modules (1 user unit = 1 module, ``module_mm`` mm when printed at 100 %),
    inside the quiet zone, and the caption lines as text, which the viewer's fonts draw (Chinese included)."""
    if not 0.05 <= module_mm <= 10:
        raise LabelError(f"SVG module size: expected 0.05 to 10 mm, found {module_mm}")
    n = symbol.size
    width = n + 2 * QUIET_ZONE
    line_h = 3.25
    height = width + (len(caption) * line_h + 1 if caption else 0)
    runs: list[str] = []
    for y, row in enumerate(symbol.rows):
        x = 0
        while x < n:
            if row[x]:
                start = x
                while x < n and row[x]:
                    x += 1
                runs.append(f"M{start + QUIET_ZONE} {y + QUIET_ZONE}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:g}" '
        f'width="{width * module_mm:.2f}mm" height="{height * module_mm:.2f}mm" shape-rendering="crispEdges">\n',
        f'<rect width="{width}" height="{height:g}" fill="#fff"/>\n',
        f'<path fill="#000" d="{"".join(runs)}"/>\n',
    ]
    for i, line in enumerate(caption):
        parts.append(
            f'<text x="{width / 2:g}" y="{width + (i + 0.8) * line_h:g}" font-family="sans-serif" '
            f'font-size="2.5" text-anchor="middle">{escape(line)}</text>\n'
        )
    parts.append("</svg>\n")
    return "".join(parts)


def _check_scale(scale: int) -> None:
    if not isinstance(scale, int) or not 1 <= scale <= 64:
        raise LabelError(f"PNG scale: expected 1 to 64 pixels per module, found {scale!r}")


def render(
    payload: str,
    caption: Sequence[str] = (),
    *,
    fmt: str = "png",
    scale: int = 8,
    font: str | None = None,
    ec_level: str = "M",
) -> bytes:
    """The image file of one label, PNG (``scale`` pixels per module) or SVG (UTF-8, 0.33 mm modules), as bytes."""
    if fmt not in FORMATS:
        raise LabelError(f"image format: expected one of {', '.join(FORMATS)}, found {fmt!r}")
    symbol = encode(payload, ec_level=ec_level)
    if fmt == "svg":
        return render_svg(symbol, caption).encode("utf-8")
    return render_png(symbol, caption, scale=scale, font=font)


def _render_chunk(
    directory: str, jobs: Sequence[RenderJob], fmt: str, scale: int, font: str | None, ec_level: str
) -> int:
    """Write one chunk of label images; a worker process runs this. Files are created new, never overwritten."""
    for job in jobs:
        data = render(job.payload, job.caption, fmt=fmt, scale=scale, font=font, ec_level=ec_level)
        path = os.path.join(directory, job.name)
        try:
            with open(path, "xb") as f:
                f.write(data)
        except FileExistsError as e:
            raise LabelError(f"{path}: already exists; refusing to overwrite a label image") from e
        except OSError as e:
            raise LabelError(f"{path}: cannot be written ({e.strerror})") from e
    return len(jobs)


def render_files(
    jobs: Sequence[RenderJob],
    directory: str | os.PathLike[str],
    *,
    fmt: str = "png",
    scale: int = 8,
    font: str | None = None,
    ec_level: str = "M",
    workers: int | None = None,
) -> int:
    """Write every job's image into ``directory`` (which must exist), on all cores for a large lot.

    ``workers`` caps the processes (default: every core). Returns how many images were written. Rendering is
    checked once in this process first, so a bad format, scale or font fails before any worker starts.
    """
    if fmt not in FORMATS:
        raise LabelError(f"image format: expected one of {', '.join(FORMATS)}, found {fmt!r}")
    _check_scale(scale)
    if ec_level not in EC_LEVELS:
        raise LabelError(f"QR error correction level: expected one of {', '.join(EC_LEVELS)}, found {ec_level!r}")
    if font is not None:
        _font(10, font)
    where = os.fspath(directory)
    cores = workers if workers is not None else (os.cpu_count() or 1)
    if cores <= 1 or len(jobs) < _PARALLEL_FROM:
        return _render_chunk(where, jobs, fmt, scale, font, ec_level)
    chunks = [jobs[i : i + _CHUNK] for i in range(0, len(jobs), _CHUNK)]
    with ProcessPoolExecutor(max_workers=cores) as pool:
        futures = [pool.submit(_render_chunk, where, chunk, fmt, scale, font, ec_level) for chunk in chunks]
        return sum(f.result() for f in futures)


# ----------------------------------------------------------------------------------------------------
# Reading


def decode_image(source: str | os.PathLike[str] | bytes) -> list[DecodedCode]:
    """Every QR code zxing-cpp finds in a PNG or JPEG (a file path, or the file's bytes), in any orientation.

    Raises :class:`LabelError` naming the file when it cannot be read, is neither PNG nor JPEG, or is larger than
    :data:`MAX_IMAGE_PIXELS`. An image with no code in it gives an empty list.
    """
    name = "image bytes" if isinstance(source, bytes) else os.fspath(source)
    try:
        with warnings.catch_warnings():
            # The pixel count is checked below, against a lower limit than Pillow's own warning.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(source) if isinstance(source, bytes) else Path(source))
        with opened as image:
            if image.format not in ("PNG", "JPEG"):
                raise LabelError(f"{name}: expected a PNG or JPEG image, found {image.format or 'another format'}")
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise LabelError(
                    f"{name}: image of {image.width}×{image.height} pixels is larger than {MAX_IMAGE_PIXELS:,}"
                )
            gray = image.convert("L")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError) as e:
        raise LabelError(f"{name}: cannot be read as a PNG or JPEG image ({e})") from e
    try:
        found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    except (ValueError, RuntimeError) as e:
        raise LabelError(f"{name}: the QR decoder failed ({e})") from e
    codes = []
    for barcode in found:
        if not barcode.valid:
            continue
        p = barcode.position
        corners = tuple((int(c.x), int(c.y)) for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left))
        codes.append(DecodedCode(bytes(barcode.bytes), corners))  # type: ignore[arg-type]
    return codes
