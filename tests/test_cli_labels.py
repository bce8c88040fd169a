"""The label commands: `tracechain labels` and `tracechain qr` over the library; errors exit 2 without a traceback."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ACTOR_USCC
from tests.test_cli import env, run, setup  # noqa: F401  (fixtures)
from tracechain import labels, qr
from tracechain.events import Event
from tracechain.keys import SigningKey

EXAMPLE = Path(__file__).resolve().parent / "examples" / "infant_formula" / "commissioning.json"
PASSWORD = "cli test password"


@pytest.fixture
def brand(tmp_path: Path, env: None) -> tuple[Path, str]:  # noqa: F811
    """An issuer key file and its verifier key string."""
    path = tmp_path / "brand.key"
    code, out, _ = run("keygen", "brand.example.cn", "--out", str(path), "--json")
    assert code == 0
    return path, json.loads(out)["verifier"]


def kde_file(tmp_path: Path, **changes: Any) -> Path:
    kde = json.loads(EXAMPLE.read_text(encoding="utf-8"))["tc:kde"]
    for name in ("gtin", "lot", "production_date", "expiry_date"):
        del kde[name]
    kde.update(changes)
    path = tmp_path / "kde.json"
    path.write_text(json.dumps(kde, ensure_ascii=False), encoding="utf-8")
    return path


def labels_args(tmp_path: Path, key: Path, *extra: str) -> list[str]:
    return [
        "labels",
        "--gtin", "6903215123455", "--lot", "NL250301A", "--count", "5", "--key", str(key),
        "--out", str(tmp_path / "lot"), "--kde", str(kde_file(tmp_path)),
        "--location", "https://id.gs1.org/414/6903215000015", "--product", "infant_formula",
        "--production", "2025-03-01", "--expiry", "2027-02-28", "--resolver", "qr.example.cn",
        "--when", "2025-03-01T09:30:00+08:00",
        *extra,
    ]  # fmt: skip


def test_labels_writes_events_csv_and_images_that_verify(tmp_path: Path, brand: tuple[Path, str]) -> None:
    key, verifier = brand
    code, out, err = run(*labels_args(tmp_path, key, "--format", "png", "--scale", "4"))
    assert code == 0, err
    assert "issued 5 labels for GTIN 06903215123455, lot NL250301A" in out
    folder = tmp_path / "lot"
    events = [Event.from_dict(json.loads(line)) for line in (folder / "commissioning.jsonl").read_text().splitlines()]
    assert len(events) == 1 and len(events[0].data["epcList"]) == 5
    with open(folder / "labels.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 5
    for row in rows:
        assert labels.verify_label(row["payload"], [verifier])
        assert [c.text for c in qr.decode_image(folder / row["image"])] == [row["payload"]]
    # The events validate on the command line too, as `tracechain append` will check them.
    code, out, _ = run("validate", str(folder / "commissioning.jsonl"), "--json")
    assert code == 0 and json.loads(out)["ok"] is True


def test_issued_events_append_through_the_cli(tmp_path: Path, setup: dict[str, Path]) -> None:  # noqa: F811
    brand_key = tmp_path / "brand.key"
    SigningKey.generate("brand.example.cn").save(brand_key, PASSWORD)
    args = labels_args(tmp_path, brand_key, "--json")
    kde = kde_file(tmp_path, enterprise_uscc=ACTOR_USCC)  # the ledger's registered actor commissions the lot
    args[args.index("--kde") + 1] = str(kde)
    code, out, err = run(*args)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["count"] == 5 and summary["events"] == 1 and summary["images_dir"] is None
    code, _, err = run("append", str(setup["ledger"]), summary["events_path"], "--key", str(setup["actor"]))
    assert code == 0, err
    with open(summary["csv_path"], encoding="utf-8-sig", newline="") as f:
        payload = next(csv.DictReader(f))["payload"]
    code, out, _ = run("log", str(setup["ledger"]), "--code", payload, "--json")
    assert code == 0 and len(json.loads(out)["entries"]) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("--gtin", "6903215123456"), "check digit should be 5"),
        (("--lot", "批号1"), "character set 82"),
        (("--resolver", "Bad Domain"), "resolver domain"),
        (("--location", "https://id.gs1.org/414/6903215000016"), "check digit"),
        (("--when", "2025-03-01T09:30:00"), "offset"),
        (("--count", "0"), "0 is not in the range"),
    ],
)
def test_labels_refuses_bad_options_with_exit_2(
    tmp_path: Path, brand: tuple[Path, str], change: tuple[str, str], message: str
) -> None:
    args = labels_args(tmp_path, brand[0])
    args[args.index(change[0]) + 1] = change[1]
    code, _, err = run(*args)
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "lot").exists()


def test_labels_lists_missing_key_data_elements_and_writes_nothing(tmp_path: Path, brand: tuple[Path, str]) -> None:
    args = labels_args(tmp_path, brand[0])
    kde = json.loads(Path(args[args.index("--kde") + 1]).read_text(encoding="utf-8"))
    del kde["sc_licence"]
    Path(args[args.index("--kde") + 1]).write_text(json.dumps(kde), encoding="utf-8")
    code, _, err = run(*args)
    assert code == 2 and "sc_licence" in err and "Traceback" not in err
    assert not (tmp_path / "lot").exists()
    Path(args[args.index("--kde") + 1]).write_text("[1, 2]", encoding="utf-8")
    code, _, err = run(*args)
    assert code == 2 and "expected a JSON object" in err


def test_labels_never_overwrites_a_lot(tmp_path: Path, brand: tuple[Path, str]) -> None:
    assert run(*labels_args(tmp_path, brand[0]))[0] == 0
    before = (tmp_path / "lot" / "labels.csv").read_bytes()
    code, _, err = run(*labels_args(tmp_path, brand[0]))
    assert code == 2 and "refusing to overwrite" in err
    assert (tmp_path / "lot" / "labels.csv").read_bytes() == before


def test_a_wrong_password_is_exit_2(tmp_path: Path, brand: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACECHAIN_PASSWORD", "not the password")
    code, _, err = run(*labels_args(tmp_path, brand[0]))
    assert code == 2 and "password" in err and "Traceback" not in err


def test_qr_prints_a_signed_payload_and_writes_images(tmp_path: Path, brand: tuple[Path, str]) -> None:
    key, verifier = brand
    item = "https://example.cn/01/6903215123455/10/NL250301A/21/SN0001?17=270228"
    code, out, err = run("qr", item, "--key", str(key), "--resolver", "qr.example.cn")
    assert code == 0, err
    payload = out.strip()
    label = labels.parse_label(payload)
    assert (label.serial, label.lot, label.domain) == ("SN0001", "NL250301A", "qr.example.cn")
    assert labels.verify_label(label, [verifier])
    png, svg = tmp_path / "one.png", tmp_path / "one.svg"
    code, out, _ = run("qr", item, "--key", str(key), "--resolver", "qr.example.cn", "--out", str(png))
    assert code == 0 and "QR version 9, level M" in out
    assert [c.text for c in qr.decode_image(png)] == [payload]  # Ed25519 is deterministic: the same payload
    code, _, _ = run("qr", item, "--key", str(key), "--out", str(svg), "--name", "南岭奶粉")
    assert code == 0 and "南岭奶粉" in svg.read_text(encoding="utf-8")
    code, _, err = run("qr", item, "--key", str(key), "--out", str(png))
    assert code == 2 and "already exists" in err


def test_qr_for_vet_drug_codes_bare_and_signed(tmp_path: Path, brand: tuple[Path, str]) -> None:
    key, verifier = brand
    code, out, _ = run("qr", "202503021023400000000157")
    assert code == 0 and out.strip() == "202503021023400000000157"
    urn = "urn:tracechain:vetdrug:202503021023400000000157"
    code, out, _ = run("qr", urn, "--key", str(key), "--resolver", "vd.cn")
    assert code == 0 and out.startswith("https://vd.cn/vd/202503021023400000000157?s=")
    assert labels.verify_label(out.strip(), [verifier])
    png = tmp_path / "vet.png"
    assert run("qr", "202503021023400000000157", "--out", str(png))[0] == 0
    assert [c.text for c in qr.decode_image(png)] == ["202503021023400000000157"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["https://example.cn/01/6903215123455/21/SN1"], "issuer key is needed"),
        (["https://example.cn/01/6903215123455/10/L1"], "a label is for one item"),
        (["not a code"], "expected a GS1 Digital Link or a 24-digit trace code"),
        (["20250302102340000000015"], "expected a GS1 Digital Link"),
    ],
)
def test_qr_refuses_bad_codes_with_exit_2(env: None, args: list[str], message: str) -> None:  # noqa: F811
    code, _, err = run("qr", *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_the_label_options_offer_what_the_label_library_takes() -> None:
    """The command line writes the choices out so as not to load the label library at start; they must agree."""
    from tracechain.cli import labels as command

    from tracechain import labels

    assert command.FORMATS == labels.FORMATS and command.EC_LEVELS == labels.EC_LEVELS
    assert command.MAX_LOT_COUNT == labels.MAX_LOT_COUNT and command.DEFAULT_RESOLVER == labels.DEFAULT_RESOLVER
