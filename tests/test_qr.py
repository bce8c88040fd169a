"""QR symbols: encoding, PNG and SVG labels that decode, and reading codes from photos."""

from __future__ import annotations

import contextlib
import io
import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import biip
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFilter

from tracechain import labels, qr
from tracechain.errors import LabelError
from tracechain.keys import SigningKey

BRAND = SigningKey.from_seed("brand.example.cn", bytes(range(32)))
GTIN13 = "6903215123455"
DOMAIN = "qr.example.cn"
CAPTION = ("Nanling formula 800g", "LOT NL250301A", "SN 7KQ2M9XH3ZT4P")


def payload(serial: str | None = None) -> str:
    return labels.gs1_payload(
        GTIN13, serial or labels.new_serial(), BRAND, lot="NL250301A", expiry=date(2027, 2, 28), domain=DOMAIN
    )


def _finder_at(rows: tuple[bytes, ...], top: int, left: int) -> bool:
    """The 7×7 finder pattern of ISO/IEC 18004: a dark ring, a light ring, a dark 3×3 core."""
    for y in range(7):
        for x in range(7):
            ring = max(abs(y - 3), abs(x - 3))
            expected = 0 if ring == 2 else 1
            if rows[top + y][left + x] != expected:
                return False
    return True


def test_a_typical_signed_label_is_version_9_at_level_m() -> None:
    symbol = qr.encode(payload())
    assert (symbol.version, symbol.size, symbol.ec_level) == (9, 53, "M")
    assert all(len(row) == 53 and set(row) <= {0, 1} for row in symbol.rows)
    n = symbol.size
    assert _finder_at(symbol.rows, 0, 0) and _finder_at(symbol.rows, 0, n - 7) and _finder_at(symbol.rows, n - 7, 0)
    # Timing pattern: row 6 alternates dark and light between the finders.
    assert bytes(symbol.rows[6][8 : n - 8]) == bytes((1 - i % 2) for i in range(8, n - 8))
    assert qr.encode(payload(), ec_level="L").version == 8


def _png_grid(data: bytes, size: int, scale: int) -> list[list[int]]:
    """Module grid read back from a PNG by sampling each module's centre pixel."""
    image = Image.open(io.BytesIO(data)).convert("L")
    offset = qr.QUIET_ZONE * scale + scale // 2
    return [
        [1 if image.getpixel((offset + x * scale, offset + y * scale)) < 128 else 0 for x in range(size)]  # type: ignore[operator]
        for y in range(size)
    ]


def _svg_grid(svg: str, size: int) -> list[list[int]]:
    """Module grid read back from the SVG's path: each run is M x y h w v1 h-w z."""
    root = ET.fromstring(svg)
    path = root.find("{http://www.w3.org/2000/svg}path")
    assert path is not None
    grid = [[0] * size for _ in range(size)]
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path.get("d", "")):
        for dx in range(int(w)):
            grid[int(y) - qr.QUIET_ZONE][int(x) - qr.QUIET_ZONE + dx] = 1
    return grid


@pytest.mark.parametrize("scale", [1, 3, 4, 8, 11])
def test_png_is_a_valid_1_bit_png_whose_modules_are_the_matrix(scale: int) -> None:
    text = payload()
    symbol = qr.encode(text)
    data = qr.render_png(symbol, CAPTION, scale=scale)
    image = Image.open(io.BytesIO(data))
    image.load()  # Pillow checks the zlib stream and CRCs on load
    assert image.format == "PNG" and image.mode == "1"
    assert image.width == (symbol.size + 2 * qr.QUIET_ZONE) * scale
    assert image.height > image.width  # the caption below
    assert _png_grid(data, symbol.size, scale) == [list(row) for row in symbol.rows]
    if scale >= 3:
        assert [c.data for c in qr.decode_image(data)] == [text.encode()]


def test_the_svg_module_grid_equals_the_png_and_rasterised_it_decodes() -> None:
    text = payload()
    symbol = qr.encode(text)
    svg = qr.render_svg(symbol, ("南岭金装较大婴儿配方奶粉 800克", "LOT NL250301A", "SN X<&>"))
    root = ET.fromstring(svg)  # well-formed XML, the caption escaped
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["南岭金装较大婴儿配方奶粉 800克", "LOT NL250301A", "SN X<&>"]
    grid = _svg_grid(svg, symbol.size)
    assert grid == _png_grid(qr.render_png(symbol, scale=4), symbol.size, 4)
    # Draw the SVG's rectangles (an independent reading of the file) and decode that picture.
    scale, side = 6, symbol.size + 2 * qr.QUIET_ZONE
    picture = Image.new("L", (side * scale, side * scale), 255)
    for y, row in enumerate(grid):
        for x, dark in enumerate(row):
            if dark:
                left, top = (x + qr.QUIET_ZONE) * scale, (y + qr.QUIET_ZONE) * scale
                picture.paste(0, (left, top, left + scale, top + scale))
    out = io.BytesIO()
    picture.save(out, "PNG")
    assert [c.text for c in qr.decode_image(out.getvalue())] == [text]


def test_round_trip_png_zxing_biip_and_signature(tmp_path: Path) -> None:
    text = payload()
    path = tmp_path / "label.png"
    path.write_bytes(qr.render(text, CAPTION))
    (found,) = qr.decode_image(path)
    assert found.data == text.encode()
    parsed = biip.parse(found.text)
    assert parsed.gs1_digital_link_uri is not None and parsed.gtin is not None
    assert parsed.gtin.value == "0" + GTIN13 and parsed.gtin_error is None
    assert parsed.gtin.check_digit == int(GTIN13[-1])
    check = labels.verify_label(found.data, [BRAND.verifier])
    assert check and check.issuer == BRAND.verifier_key
    corners = found.position
    assert corners[0][0] < corners[1][0] and corners[0][1] < corners[3][1]  # upright: TL left of TR, above BL


def _sheet_photo(texts: list[str], angle: float, blur: float, quality: int) -> bytes:
    """A sheet of labels pasted in a grid, rotated, blurred and saved as a JPEG, as a phone might take it."""
    images = [qr.render(t, ("LABEL", f"SN {i}"), scale=4) for i, t in enumerate(texts)]
    tiles = [Image.open(io.BytesIO(data)).convert("L") for data in images]
    w, h = tiles[0].size
    columns = 3
    rows = (len(tiles) + columns - 1) // columns
    sheet = Image.new("L", (columns * (w + 40) + 40, rows * (h + 40) + 40), 235)
    for i, tile in enumerate(tiles):
        sheet.paste(tile, (40 + (i % columns) * (w + 40), 40 + (i // columns) * (h + 40)))
    photo = sheet.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=200)
    photo = photo.filter(ImageFilter.GaussianBlur(blur)).convert("RGB")
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=quality)
    return out.getvalue()


def test_every_label_on_a_rotated_blurred_jpeg_sheet_is_found(tmp_path: Path) -> None:
    texts = [payload() for _ in range(6)]
    path = tmp_path / "photo.jpg"
    path.write_bytes(_sheet_photo(texts, 30, 1.2, 70))
    found = qr.decode_image(path)
    assert sorted(c.text for c in found) == sorted(texts)
    for code in found:
        label = labels.parse_label(code.data)
        assert labels.verify_label(label, [BRAND.verifier])
        assert biip.parse(code.text).gtin is not None
    # Each code's corners lie inside the photo and the codes are at distinct places.
    with Image.open(path) as photo:
        width, height = photo.size
    assert all(0 <= x <= width and 0 <= y <= height for c in found for x, y in c.position)
    assert len({c.position[0] for c in found}) == len(texts)


def test_a_photo_without_codes_gives_an_empty_list() -> None:
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (120, 130, 140)).save(out, "JPEG")
    assert qr.decode_image(out.getvalue()) == []


def test_unreadable_images_are_label_errors_naming_the_file(tmp_path: Path) -> None:
    gif = tmp_path / "a.gif"
    Image.new("L", (10, 10)).save(gif, "GIF")
    with pytest.raises(LabelError, match=r"a\.gif: expected a PNG or JPEG image, found GIF"):
        qr.decode_image(gif)
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(LabelError, match=re.escape("junk.png: cannot be read")):
        qr.decode_image(junk)
    with pytest.raises(LabelError, match=re.escape("missing.png: cannot be read")):
        qr.decode_image(tmp_path / "missing.png")
    big = io.BytesIO()
    Image.new("1", (8000, 7000)).save(big, "PNG")
    with pytest.raises(LabelError, match="larger than 50,000,000"):
        qr.decode_image(big.getvalue())
    truncated = qr.render(payload())[:200]
    with pytest.raises(LabelError, match="cannot be read"):
        qr.decode_image(truncated)


def test_bad_rendering_options_are_label_errors() -> None:
    with pytest.raises(LabelError, match="1 to 64 pixels"):
        qr.render("x", scale=0)
    with pytest.raises(LabelError, match="png, svg"):
        qr.render("x", fmt="gif")
    with pytest.raises(LabelError, match="L, M, Q, H"):
        qr.encode("x", ec_level="X")
    with pytest.raises(LabelError, match=re.escape("font file /nonexistent.ttf")):
        qr.render("x", ("caption",), font="/nonexistent.ttf")
    with pytest.raises(LabelError, match="cannot be encoded"):
        qr.encode("x" * 3000, ec_level="H")


def test_long_captions_are_cut_to_the_label_width() -> None:
    symbol = qr.encode("short")
    data = qr.render_png(symbol, ("W" * 200,), scale=2)
    image = Image.open(io.BytesIO(data)).convert("L")
    # The caption strip's outermost pixel columns stay white: the line was cut, not drawn past the edges.
    strip_top = image.width
    columns = [image.getpixel((x, y)) for y in range(strip_top, image.height) for x in (0, image.width - 1)]
    assert min(columns) == 255  # type: ignore[type-var]


def test_render_files_on_two_processes_writes_images_that_all_decode(tmp_path: Path) -> None:
    texts = [payload() for _ in range(300)]  # above the in-process threshold, so the pool is used
    jobs = [qr.RenderJob(f"{i:03d}.png", t, ("x", f"SN {i}")) for i, t in enumerate(texts)]
    assert qr.render_files(jobs, tmp_path, scale=3, workers=2) == 300
    for i, text in enumerate(texts):
        assert [c.text for c in qr.decode_image(tmp_path / f"{i:03d}.png")] == [text]
    with pytest.raises(LabelError, match=re.escape("000.png: already exists")):
        qr.render_files(jobs[:1], tmp_path, scale=3)  # never overwrites an image already written


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_PNG = qr.render("https://qr.example.cn/01/06903215123455/21/A", ("x",), scale=2)
_JPEG = _sheet_photo(["https://qr.example.cn/01/06903215123455/21/A"], 0, 0.1, 80)


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes_as_an_image_give_label_errors_only(data: bytes) -> None:
    with contextlib.suppress(LabelError):
        assert qr.decode_image(data) == [] or data.startswith((b"\x89PNG", b"\xff\xd8"))


@FUZZ
@given(st.sampled_from([_PNG, _JPEG]), st.integers(0, 10_000), st.binary(min_size=1, max_size=8), st.booleans())
def test_damaged_png_and_jpeg_files_give_label_errors_or_codes(
    original: bytes, position: int, patch: bytes, truncate: bool
) -> None:
    position %= len(original)
    data = original[:position] if truncate else original[:position] + patch + original[position + len(patch) :]
    try:
        found = qr.decode_image(data)
    except LabelError:
        return
    assert all(isinstance(c.data, bytes) for c in found)
