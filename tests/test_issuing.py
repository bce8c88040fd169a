"""Issuing a lot: serials, signed payloads, commissioning events that validate, the print CSV and the images."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ACTOR_USCC
from tracechain import Ledger, labels, qr
from tracechain.errors import LabelError, ValidationError
from tracechain.events import Event
from tracechain.issuing import CSV_COLUMNS, IMAGES_DIR, caption, issue_lot
from tracechain.keys import SigningKey

EXAMPLES = Path(__file__).resolve().parent / "examples"
BRAND = SigningKey.from_seed("brand.example.cn", bytes(range(32)))
CHINA = timezone(timedelta(hours=8))
WHEN = datetime(2025, 3, 1, 9, 30, tzinfo=CHINA)
GS1_PRODUCTS = ["edible_oil", "food", "infant_formula", "liquor", "salt"]


def example(product: str) -> tuple[str, str, dict[str, Any], str]:
    """GTIN, lot, the other KDEs and the location of the product's commissioning example."""
    event = json.loads((EXAMPLES / product / "commissioning.json").read_text(encoding="utf-8"))
    kde = dict(event["tc:kde"])
    gtin, lot = kde.pop("gtin"), kde.pop("lot")
    for name in ("production_date", "expiry_date"):
        kde.pop(name, None)
    return gtin, lot, kde, event["readPoint"]["id"]


def issue(tmp_path: Path, product: str = "infant_formula", count: int = 5, **kw: Any) -> Any:
    gtin, lot, kde, location = example(product if product in GS1_PRODUCTS else "salt")
    args: dict[str, Any] = {
        "product": product,
        "kde": kde,
        "location": location,
        "out_dir": tmp_path / "lot",
        "when": WHEN,
        "production": date(2025, 3, 1),
        "expiry": date(2027, 2, 28),
        "resolver": "qr.example.cn",
    }
    args.update(kw)
    return issue_lot(gtin, lot, count, BRAND, **args)


@pytest.mark.parametrize("product", GS1_PRODUCTS)
def test_the_commissioning_events_validate_against_the_product_profile(tmp_path: Path, product: str) -> None:
    lot = issue(tmp_path, product, count=7, per_event=3)
    lines = lot.events_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == lot.events == 3  # 7 items, at most 3 per event
    events = [Event.from_dict(json.loads(line)) for line in lines]  # raises on any profile problem
    codes = [code for e in events for code in e.data["epcList"]]
    assert codes == [label.code for label in lot.labels]
    first = json.loads(lines[0])
    assert first["bizStep"] == "commissioning" and first["action"] == "ADD" and first["tc:product"] == product
    assert first["eventTime"] == "2025-03-01T09:30:00+08:00" and first["eventTimeZoneOffset"] == "+08:00"
    kde = first["tc:kde"]
    assert kde["lot"] == lot.lot and kde["gtin"] == lot.gtin
    assert kde["production_date"] == "2025-03-01" and kde["expiry_date"] == "2027-02-28"


def test_every_label_is_signed_unique_and_names_its_own_serial(tmp_path: Path) -> None:
    lot = issue(tmp_path, count=500)
    serials = [label.serial for label in lot.labels]
    assert len(set(serials)) == 500
    for label in lot.labels:
        parsed = labels.parse_label(label.payload)
        assert parsed.serial == label.serial and parsed.code == label.code
        assert parsed.lot == lot.lot and parsed.expiry == date(2027, 2, 28) and parsed.domain == "qr.example.cn"
        assert labels.verify_label(parsed, [BRAND.verifier])


def test_the_csv_is_utf8_with_bom_and_keeps_chinese(tmp_path: Path) -> None:
    lot = issue(tmp_path, count=4)
    raw = lot.csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\r\n") == 5
    with open(lot.csv_path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    by_serial = {label.serial: label for label in lot.labels}
    for row in rows[1:]:
        record = dict(zip(CSV_COLUMNS, row, strict=True))
        label = by_serial[record["serial"]]
        assert record["payload"] == label.payload and record["code"] == label.code
        assert record["product_name"] == "南岭金装较大婴儿配方奶粉（2段）800克"
        assert (record["gtin"], record["lot"], record["expiry"], record["image"]) == (
            "06903215123455",
            "NL250301A",
            "2027-02-28",
            "",
        )


def test_the_events_append_to_a_ledger_as_they_are(tmp_path: Path, ledger: Ledger, actor_key: SigningKey) -> None:
    gtin, lot_number, kde, location = example("infant_formula")
    kde["enterprise_uscc"] = ACTOR_USCC  # the ledger's registered actor commissions the lot
    lot = issue_lot(
        gtin, lot_number, 12, BRAND, product="infant_formula", kde=kde, location=location,
        out_dir=tmp_path / "lot", when=WHEN, production=date(2025, 3, 1), expiry=date(2027, 2, 28),
        per_event=5,
    )  # fmt: skip
    events = [json.loads(line) for line in lot.events_path.read_text(encoding="utf-8").splitlines()]
    ledger.append_many(events, actor_key)
    for label in lot.labels[:3]:
        (entry,) = ledger.entries(label.payload)  # the scanned payload finds the item's commissioning
        assert entry.event is not None and label.code in entry.event.data["epcList"]


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_images_are_written_for_every_label_and_decode(tmp_path: Path, fmt: str) -> None:
    lot = issue(tmp_path, count=6, image_format=fmt, scale=4)
    assert lot.images_dir == tmp_path / "lot" / IMAGES_DIR
    files = sorted(p.name for p in lot.images_dir.iterdir())
    assert files == sorted(f"{label.serial}.{fmt}" for label in lot.labels)
    with open(lot.csv_path, encoding="utf-8-sig", newline="") as f:
        images = {row["serial"]: row["image"] for row in csv.DictReader(f)}
    for label in lot.labels:
        assert images[label.serial] == f"images/{label.serial}.{fmt}"
        path = lot.images_dir / f"{label.serial}.{fmt}"
        if fmt == "png":
            assert [c.text for c in qr.decode_image(path)] == [label.payload]
        else:
            svg = path.read_text(encoding="utf-8")
            # SVG captions keep the Chinese product name; the viewer's fonts draw it.
            assert "南岭金装较大婴儿配方奶粉（2段）800克" in svg and f"SN {label.serial}" in svg
            symbol = qr.encode(label.payload)
            lines = caption("南岭金装较大婴儿配方奶粉（2段）800克", lot.gtin, lot.lot, label.serial, cjk_font=True)
            assert svg == qr.render_svg(symbol, lines)


def test_a_lot_large_enough_for_the_process_pool_decodes_in_full(tmp_path: Path) -> None:
    lot = issue(tmp_path, count=300, image_format="png", scale=3, workers=2)
    assert lot.images_dir is not None
    for label in lot.labels:
        assert [c.text for c in qr.decode_image(lot.images_dir / f"{label.serial}.png")] == [label.payload]


def test_captions_fall_back_to_the_gtin_without_a_cjk_font() -> None:
    assert caption("南岭奶粉", "06903215123455", "L1", "S1") == ("GTIN 06903215123455", "LOT L1", "SN S1")
    assert caption("南岭奶粉", "06903215123455", "L1", "S1", cjk_font=True)[0] == "南岭奶粉"
    assert caption("Nanling", "06903215123455", "L1", "S1")[0] == "Nanling"
    assert caption(None, "06903215123455", "L1", "S1")[0] == "GTIN 06903215123455"


def test_an_existing_lot_folder_is_never_overwritten(tmp_path: Path) -> None:
    first = issue(tmp_path, count=3)
    before = first.csv_path.read_bytes()
    with pytest.raises(LabelError, match="refusing to overwrite issued labels"):
        issue(tmp_path, count=3)
    assert first.csv_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lot"]  # no staging folder left behind
    (tmp_path / "empty").mkdir()
    assert issue(tmp_path, count=1, out_dir=tmp_path / "empty").csv_path.parent == tmp_path / "empty"


def test_invalid_key_data_elements_write_nothing_and_list_every_problem(tmp_path: Path) -> None:
    gtin, lot_number, kde, location = example("infant_formula")
    del kde["sc_licence"], kde["formula_registration_number"]
    with pytest.raises(ValidationError) as caught:
        issue_lot(
            gtin, lot_number, 3, BRAND, product="infant_formula", kde=kde, location=location,
            out_dir=tmp_path / "lot", when=WHEN, production=date(2025, 3, 1), expiry=date(2027, 2, 28),
        )  # fmt: skip
    text = " ".join(message for _, message in caught.value.problems)
    assert "sc_licence" in text and "formula_registration_number" in text
    assert list(tmp_path.iterdir()) == []


def test_conflicting_and_bad_arguments_are_typed_errors(tmp_path: Path) -> None:
    gtin, _, kde, _ = example("salt")
    with pytest.raises(ValidationError, match="lot is 'OTHER'"):
        issue(tmp_path, "salt", kde={**kde, "lot": "OTHER"})
    # The same GTIN written as GTIN-13 in the KDEs is no conflict.
    assert issue(tmp_path, "salt", kde={**kde, "gtin": gtin}, out_dir=tmp_path / "a").gtin == gtin.zfill(14)
    for bad, message in [
        ({"count": 0}, "1 to 1,000,000"),
        ({"count": True}, "whole number"),
        ({"product": "vet_drug"}, "24-digit trace code"),
        ({"image_format": "gif"}, "png, svg"),
        ({"when": datetime(2025, 3, 1)}, "time zone"),  # a naive time is the point
        ({"location": "https://id.gs1.org/414/6907345000014"}, "check digit"),
        ({"resolver": "Bad Domain"}, "resolver domain"),
        ({"per_event": 0}, "items per event"),
    ]:
        args: dict[str, Any] = {"kde": kde, "out_dir": tmp_path / "b", "product": "salt"}
        count = bad.pop("count", 2)
        args.update(bad)
        product = args.pop("product")
        with pytest.raises((LabelError, ValidationError), match=message):
            issue(tmp_path, product, count=count, **args)
    assert not (tmp_path / "b").exists()


def test_an_unwritable_place_is_a_label_error_and_leaves_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(LabelError, match="cannot create the lot's folder"):
        issue(tmp_path, out_dir=blocker / "lot")
    with pytest.raises(LabelError, match="not an empty folder"):
        issue(tmp_path, out_dir=blocker)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_a_failed_write_keeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from tracechain import issuing

    def disk_full(path: Path, write: object, encoding: str = "utf-8") -> None:
        path.write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(issuing, "_write_file", disk_full)
    with pytest.raises(LabelError, match="No space left on device"):
        issue(tmp_path, image_format="png", scale=2)
    assert list(tmp_path.iterdir()) == []  # neither the lot folder nor its staging folder
