"""The scanning commands: `scan` from a photo, a scanner's text or a bundle, `prove --bundle`, `verify-bundle`; exit
0 only for GENUINE, 1 for any other verdict or a failed bundle, 2 for usage errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.scanchain import SHOP, START, Chain, build_chain
from tests.test_cli import run
from tests.test_qr import _sheet_photo
from tracechain.storage.scanlog import ScanLog

WHEN = (START + timedelta(days=6)).isoformat()


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Chain:
    made = build_chain(tmp_path_factory.mktemp("cli-scan"))
    (made.folder / "brand.pub").write_text(made.brand.verifier + "\n")
    (made.folder / "operator.pub").write_text(made.operator.verifier + "\n")
    return made


def scan_args(chain: Chain, *more: str) -> list[str]:
    return ["--ledger", str(chain.ledger), "--issuer", f"6903215={chain.brand.verifier}", *more]


def when(*more: str) -> list[str]:
    return ["--when", WHEN, "--region", "441721", *more]


def test_scan_text_gives_the_verdict_with_the_history_in_both_languages(chain: Chain) -> None:
    code = chain.units[chain.cases[0]][2]
    code_, out, err = run("scan", "--text", chain.payload(code), *scan_args(chain), *when(), "--json")
    assert code_ == 0, err
    result = json.loads(out)
    assert result["verdict"] == "GENUINE" and result["code"] == code
    assert result["reasons"] and [e["step"]["code"] for e in result["events"]][:3] == [
        "commissioning",
        "packing",
        "shipping",
    ]
    assert all(e["proof"]["root"] == result["checkpoint"]["root"] for e in result["events"])
    code_, out, _ = run("scan", "--text", chain.payload(code) + "\n", *scan_args(chain), *when())
    assert code_ == 0
    assert out.startswith(f"GENUINE  正品 / genuine  {code}\n")
    assert "发货，运输中" in out and "shipped, in transit" in out


def test_scan_an_image_of_several_labels_gives_one_object_per_label(chain: Chain, tmp_path: Path) -> None:
    codes = chain.codes()[2:6]
    photo = tmp_path / "sheet.jpg"
    photo.write_bytes(_sheet_photo([chain.payload(c) for c in codes], 30, 1.2, 70))
    # The issuer key given as a file holding it, as keygen prints it.
    issuer = f"6903215={chain.folder / 'brand.pub'}"
    code, out, err = run("scan", str(photo), "--ledger", str(chain.ledger), "--issuer", issuer, *when(), "--json")
    assert code == 0, err
    results = json.loads(out)
    assert isinstance(results, list) and sorted(r["code"] for r in results) == sorted(codes)
    assert {r["verdict"] for r in results} == {"GENUINE"}


def test_a_forged_label_exits_1_and_a_photo_without_labels_says_so(chain: Chain, tmp_path: Path) -> None:
    a, b = chain.codes()[2:4]
    forged = re.sub(r"/21/[^?]+", "/21/" + b.rsplit("/", 1)[1], chain.payload(a))
    code, out, _ = run("scan", "--text", forged, *scan_args(chain), *when(), "--json")
    assert code == 1 and json.loads(out)["verdict"] == "FORGED"
    code, _, err = run("scan", "--text", "not a label", *scan_args(chain))
    assert code == 1 and "expected a GS1 Digital Link" in err
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("L", (200, 200), 255).save(blank)
    code, _, err = run("scan", str(blank), *scan_args(chain))
    assert code == 1 and "no label found" in err


def test_recorded_scans_find_a_code_sold_twice(chain: Chain, tmp_path: Path) -> None:
    log = tmp_path / "scans.db"
    code = chain.units[chain.cases[0]][4]
    first = ["--record", str(log), "--by", SHOP["uscc"], "--first-sale", "--lat", "21.75", "--lon", "111.62"]
    result = run("scan", "--text", chain.payload(code), *scan_args(chain), *when(*first), "--json")
    assert result[0] == 0, result[2]
    later = (START + timedelta(days=8)).isoformat()
    second = ["--record", str(log), "--when", later, "--region", "441702", "--by", "another shop", "--first-sale"]
    code_, out, _ = run("scan", "--text", chain.payload(code), *scan_args(chain), *second, "--json")
    assert code_ == 1
    result = json.loads(out)
    assert result["verdict"] == "SUSPECTED_CLONE" and result["reasons"][0].startswith("scanned as a first sale 2 times")
    with ScanLog(log, readonly=True) as opened:
        scans = opened.scans(code)
    assert [(s.region, s.by, s.first_sale) for s in scans] == [
        ("441721", SHOP["uscc"], True),
        ("441702", "another shop", True),
    ]
    assert scans[0].lat == 21.75 and scans[0].zone == "+08:00"
    # A forged label's scan is not recorded as a sighting of the code it copies.
    forged = re.sub(r"/21/[^?]+", "/21/" + chain.codes()[5].rsplit("/", 1)[1], chain.payload(code))
    assert run("scan", "--text", forged, *scan_args(chain), *when("--record", str(log)))[0] == 1
    with ScanLog(log, readonly=True) as opened:
        assert opened.count() == 2


def test_prove_bundle_verify_bundle_and_scan_from_the_bundle(chain: Chain, tmp_path: Path) -> None:
    path = tmp_path / "can.bundle"
    code = chain.units[chain.cases[0]][1]
    result = run("prove", str(chain.ledger), "--code", code, "--bundle", str(path), "--json")
    assert result[0] == 0, result[2]
    summary = json.loads(result[1])
    assert summary["bundle"] == str(path) and summary["bytes"] == path.stat().st_size
    again = run("prove", str(chain.ledger), "--code", code, "--bundle", str(path))
    assert again[0] == 2 and "already exists" in again[2]
    operator = str(chain.folder / "operator.pub")
    ok, out, _ = run("verify-bundle", str(path), "--verifier", operator)
    assert ok == 0 and out.startswith(f"ok: {code}: ")
    report = json.loads(run("verify-bundle", str(path), "--verifier", chain.operator.verifier, "--json")[1])
    assert report["ok"] is True and report["events"] == 7
    from tracechain import SigningKey

    stranger = SigningKey.generate(chain.operator.name).verifier
    failed, _, err = run("verify-bundle", str(path), "--verifier", stranger)
    assert failed == 1 and "FAILED" in err
    code_, out, _ = run("scan", "--bundle", str(path), "--verifier", operator, *when(), "--json")
    assert code_ == 0 and json.loads(out)["code"] == code
    with_label = run(
        "scan", "--text", chain.payload(code), "--bundle", str(path), "--verifier", operator,
        "--issuer", f"6903215={chain.brand.verifier}", *when(), "--json",
    )  # fmt: skip
    assert with_label[0] == 0 and json.loads(with_label[1])["label"]["issuer"] == chain.brand.verifier
    other = run("scan", "--text", chain.payload(chain.codes()[5]), "--bundle", str(path), "--verifier", operator)
    assert other[0] == 1 and "is not the bundle's item" in other[2]
    damaged = tmp_path / "damaged.bundle"
    damaged.write_bytes(path.read_bytes().replace(b"index 1\n", b"index 2\n", 1))
    assert run("scan", "--bundle", str(damaged), "--verifier", operator, *when())[0] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["IMG", "--text", "x"], "not both"),
        (["--text", "x"], "exactly one of --ledger and --bundle"),
        (["--text", "x", "--ledger", "L", "--record", "s.db"], "--record needs --region"),
        (["--text", "x", "--ledger", "L", "--lat", "21"], "give its --region too"),
        (["--text", "x", "--ledger", "L", "--issuer", "6903215"], "PREFIX=KEY"),
        (["--text", "x", "--ledger", "L", "--issuer", "brand=KEYFILE"], "company prefix"),
        (["--text", "x", "--ledger", "L", "--when", "yesterday", "--region", "441721"], "ISO 8601"),
        (["--text", "x", "--ledger", "L", "--when", "2026-03-01T08:00:00", "--region", "441721"], "time zone"),
        (["--text", "x", "--ledger", "L", "--region", "4417"], "GB/T 2260"),
        (["--text", "x", "--ledger", "L", "--verifier", "nonsense"], "neither a file nor a verifier key"),
    ],
)
def test_usage_errors_exit_2(chain: Chain, args: list[str], message: str) -> None:
    substitute = {"IMG": str(chain.ledger), "L": str(chain.ledger), "KEYFILE": str(chain.folder / "brand.pub")}
    code, _, err = run("scan", *[substitute.get(a, a).replace("KEYFILE", substitute["KEYFILE"]) for a in args])
    assert code == 2, err
    assert message in err


def test_scan_bundle_needs_the_log_key(chain: Chain, tmp_path: Path) -> None:
    path = tmp_path / "b.bundle"
    assert run("prove", str(chain.ledger), "--code", chain.codes()[3], "--bundle", str(path))[0] == 0
    code, _, err = run("scan", "--bundle", str(path))
    assert code == 2 and "--verifier" in err


def test_the_scan_command_runs_in_a_real_process(chain: Chain) -> None:
    exe = Path(sys.executable).parent / "tracechain"
    code = chain.codes()[4]
    args = [str(exe), "scan", "--text", chain.payload(code), *scan_args(chain), *when(), "--json"]
    result = subprocess.run(args, capture_output=True, text=True, env=dict(os.environ), check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["verdict"] == "GENUINE"
