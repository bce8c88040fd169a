"""Keys you can find again: keygen labels what it prints, `key show` gives a key's name, ID and verifier back from
its file, and every option that takes a verifier takes a key file or a verifier file too (issue 14.3)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tracechain.cli import main

from tests.conftest import ACTOR_USCC, OPERATOR_USCC, ORIGIN
from tracechain import Ledger, SigningKey

PASSWORD = "key commands password"


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACECHAIN_PASSWORD", PASSWORD)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def _rows(out: str) -> dict[str, str]:
    """The labelled lines: a label, two or more spaces, the value."""
    return dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in out.splitlines())  # type: ignore[misc]


def test_keygen_labels_what_it_prints_and_can_write_the_verifier_to_hand_over(
    tmp_path: Path, password: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        ["keygen", "plant.example.cn", "--out", str(tmp_path / "k"), "--verifier-out", str(tmp_path / "k.pub")], capsys
    )
    assert code == 0
    key = SigningKey.load(tmp_path / "k", PASSWORD)
    rows = _rows(out)
    assert rows["name"] == "plant.example.cn"
    assert rows["key ID"] == key.key_id.hex()
    assert rows["verifier"] == key.verifier
    assert rows["verifier file"] == str(tmp_path / "k.pub")
    assert (tmp_path / "k.pub").read_text() == key.verifier + "\n"
    code, out, _ = _run(["keygen", "x.example.cn", "--out", str(tmp_path / "j"), "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["verifier"] == SigningKey.load(tmp_path / "j", PASSWORD).verifier
    assert doc["key_id"] == doc["verifier"].split("+")[1]
    # An existing verifier file is never overwritten, and then no key is made either.
    code, _, err = _run(
        ["keygen", "y", "--out", str(tmp_path / "y"), "--verifier-out", str(tmp_path / "k.pub")], capsys
    )
    assert code == 2 and "exists already" in err and not (tmp_path / "y").exists()


def test_keygen_speaks_chinese_too(tmp_path: Path, password: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["--lang", "zh", "keygen", "plant.example.cn", "--out", str(tmp_path / "k")], capsys)
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["密钥文件", "名称", "密钥", "验证密钥"]


def test_key_show_gives_a_key_back_from_its_file_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = SigningKey.generate("plant.example.cn")
    key.save(tmp_path / "k", PASSWORD)
    monkeypatch.delenv("TRACECHAIN_PASSWORD", raising=False)
    code, out, _ = _run(["key", "show", str(tmp_path / "k")], capsys)
    assert code == 0
    rows = _rows(out)
    assert (rows["key file"], rows["name"], rows["key ID"], rows["verifier"], rows["public key"]) == (
        str(tmp_path / "k"),
        key.name,
        key.key_id.hex(),
        key.verifier,
        key.public_bytes.hex(),
    )
    assert rows["checked"].startswith("no:")
    # --check opens the key, which needs its password: none and no terminal is a usage error.
    code, _, err = _run(["key", "show", str(tmp_path / "k"), "--check"], capsys)
    assert code == 2 and "TRACECHAIN_PASSWORD" in err
    monkeypatch.setenv("TRACECHAIN_PASSWORD", PASSWORD)
    code, out, _ = _run(["key", "show", str(tmp_path / "k"), "--check", "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["checked"] is True and doc["verifier"] == key.verifier and doc["kind"] == "key"
    monkeypatch.setenv("TRACECHAIN_PASSWORD", "not the password")
    code, _, err = _run(["key", "show", str(tmp_path / "k"), "--check"], capsys)
    assert code == 2 and "wrong password" in err


def test_key_show_reads_verifier_files_and_refuses_other_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = SigningKey.generate("plant.example.cn")
    (tmp_path / "k.pub").write_text(key.verifier + "\n")
    code, out, _ = _run(["key", "show", str(tmp_path / "k.pub"), "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and (doc["kind"], doc["verifier"], doc["checked"]) == ("verifier", key.verifier, False)
    (tmp_path / "notes.txt").write_text("shopping list\nmilk\n")
    code, _, err = _run(["key", "show", str(tmp_path / "notes.txt")], capsys)
    assert code == 2 and str(tmp_path / "notes.txt") in err and "verifier file" in err


@pytest.fixture
def ledger_and_keys(tmp_path: Path) -> dict[str, Path]:
    operator, plant = SigningKey.generate(ORIGIN), SigningKey.generate("plant.example.cn")
    operator.save(tmp_path / "op.key", PASSWORD)
    plant.save(tmp_path / "plant.key", PASSWORD)
    (tmp_path / "plant.pub").write_text(plant.verifier + "\n")
    with Ledger.create(tmp_path / "l.db", ORIGIN, operator, OPERATOR_USCC):
        pass
    return {
        "ledger": tmp_path / "l.db",
        "op": tmp_path / "op.key",
        "plant": tmp_path / "plant.key",
        "pub": tmp_path / "plant.pub",
    }


@pytest.mark.parametrize("form", ["string", "verifier file", "key file"])
def test_register_and_revoke_take_a_verifier_string_a_verifier_file_or_a_key_file(
    ledger_and_keys: dict[str, Path], form: str, password: None, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = ledger_and_keys
    plant = SigningKey.load(paths["plant"], PASSWORD)
    given = {"string": plant.verifier, "verifier file": str(paths["pub"]), "key file": str(paths["plant"])}[form]
    code, out, _ = _run(
        ["register", str(paths["ledger"]), given, "--key", str(paths["op"]), "--actor", ACTOR_USCC], capsys
    )
    assert code == 0 and f"registered {plant.name} ({plant.key_id.hex()}) for {ACTOR_USCC} at entry 2" in out
    with Ledger.open(paths["ledger"], readonly=True) as led:
        registered = led.keys()
        assert [k.public for k in registered if k.actor == ACTOR_USCC] == [plant.public_bytes]
    code, out, _ = _run(["revoke", str(paths["ledger"]), given, "--key", str(paths["op"])], capsys)
    assert code == 0 and "revoked plant.example.cn" in out
    with Ledger.open(paths["ledger"], readonly=True) as led:
        registered = led.keys()
        assert [k.revoked for k in registered if k.actor == ACTOR_USCC] == [4]


def test_a_verifier_that_is_neither_a_file_nor_a_verifier_is_a_usage_error(
    ledger_and_keys: dict[str, Path], password: None, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = ledger_and_keys
    code, _, err = _run(
        ["register", str(paths["ledger"]), "plant.key", "--key", str(paths["op"]), "--actor", ACTOR_USCC], capsys
    )
    assert code == 2 and "'plant.key' is neither a file nor a verifier key string" in err
