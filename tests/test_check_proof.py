"""Proofs people can check: `tracechain check-proof` checks what `prove --json` wrote against a checkpoint held,
without the ledger, and shows hashes in hex with the checkpoint's base64 beside them (issue 14.4)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from tracechain.cli import main

from tests.conftest import ACTOR_USCC, GTIN14, OPERATOR_USCC, ORIGIN, make_event
from tracechain import Ledger, SigningKey
from tracechain.errors import ProofError, SignatureError, ValidationError
from tracechain.proofcheck import check_proof
from tracechain.proofs import ConsistencyProof, InclusionProof

PASSWORD = "check proof password"


@pytest.fixture
def held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A ledger, a checkpoint taken after 10 events (old.txt) and one after 20 more (new.txt), and the operator's
    key and verifier file; proofs in JSON as `prove --json` writes them."""
    monkeypatch.setenv("TRACECHAIN_PASSWORD", PASSWORD)
    operator, plant = SigningKey.generate(ORIGIN), SigningKey.generate("plant.example.cn")
    operator.save(tmp_path / "op.key", PASSWORD)
    (tmp_path / "op.pub").write_text(operator.verifier + "\n")
    with Ledger.create(tmp_path / "l.db", ORIGIN, operator, OPERATOR_USCC) as led:
        led.register(plant.verifier, ACTOR_USCC, operator)
        led.append_many([make_event(i) for i in range(10)], plant)
        (tmp_path / "old.txt").write_text(led.checkpoint(operator))
        led.append_many([make_event(i) for i in range(10, 30)], plant)
        (tmp_path / "new.txt").write_text(led.checkpoint(operator))
    return {name: tmp_path / name for name in ("l.db", "op.key", "op.pub", "old.txt", "new.txt")} | {"dir": tmp_path}


def _prove(held: dict[str, Path], name: str, *args: str, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["prove", str(held["l.db"]), *args, "--json"]) == 0
    path = held["dir"] / name
    path.write_text(capsys.readouterr().out)
    return path


def _check(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["check-proof", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_an_inclusion_proof_checks_against_the_checkpoint_held(
    held: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    proof = _prove(held, "p.json", "--index", "7", capsys=capsys)
    code, out, err = _check(
        str(proof), "--checkpoint", str(held["new.txt"]), "--verifier", str(held["op.pub"]), capsys=capsys
    )
    assert code == 0, err
    assert out.startswith("ok: 1 inclusion proof verifies")
    note = held["new.txt"].read_text().splitlines()
    root_b64 = note[2]
    root_hex = base64.b64decode(root_b64).hex()
    assert f"root (hex)     {root_hex}" in out and f"root (base64)  {root_b64}" in out
    assert root_hex == json.loads(proof.read_text())["root"]  # the same hash, as prove shows it
    assert "warning" not in err
    # The key file serves as well as the verifier file, and JSON says the same.
    code, out, _ = _check(
        str(proof), "--checkpoint", str(held["new.txt"]), "--verifier", str(held["op.key"]), "--json", capsys=capsys
    )
    doc = json.loads(out)
    assert code == 0 and doc["ok"] and doc["signatures_checked"] and doc["checkpoints"][0]["root_base64"] == root_b64


def test_the_proofs_of_an_item_and_a_consistency_proof_check(
    held: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    item = _prove(held, "item.json", "--code", f"https://id.gs1.org/01/{GTIN14}/21/U000003", capsys=capsys)
    code, out, _ = _check(
        str(item), "--checkpoint", str(held["new.txt"]), "--verifier", str(held["op.pub"]), capsys=capsys
    )
    assert code == 0 and "ok: 1 inclusion proof verifies" in out
    old_size = held["old.txt"].read_text().splitlines()[1]
    grown = _prove(held, "c.json", "--consistency", old_size, capsys=capsys)
    both = ["--checkpoint", str(held["old.txt"]), "--checkpoint", str(held["new.txt"])]
    code, out, _ = _check(str(grown), *both, "--verifier", str(held["op.pub"]), capsys=capsys)
    assert code == 0 and "ok: the consistency proof verifies" in out


def test_without_a_verifier_the_signature_is_not_checked_and_it_says_so(
    held: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    proof = _prove(held, "p.json", "--index", "3", capsys=capsys)
    code, out, err = _check(str(proof), "--checkpoint", str(held["new.txt"]), capsys=capsys)
    assert code == 0 and "signed by      not checked" in out and "signature was not checked" in err


@pytest.mark.parametrize(
    ("damage", "complaint"),
    [
        ("size", "ask for the proof at the checkpoint's size"),
        ("path", "computes root"),
        ("root", "is not the one the checkpoint vouches for"),
        ("other key", "no known key"),
    ],
)
def test_a_proof_that_does_not_hold_exits_1_saying_why(
    held: dict[str, Path], damage: str, complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    proof = _prove(held, "p.json", "--index", "3", capsys=capsys)
    verifier = str(held["op.pub"])
    doc = json.loads(proof.read_text())
    if damage == "size":  # a proof at the old size, checked against the new checkpoint
        proof = _prove(
            held, "p.json", "--index", "3", "--size", held["old.txt"].read_text().splitlines()[1], capsys=capsys
        )
    elif damage == "path":
        doc["proof"][0] = "00" * 32
        proof.write_text(json.dumps(doc))
    elif damage == "root":
        doc["root"] = "11" * 32
        proof.write_text(json.dumps(doc))
    else:
        verifier = SigningKey.generate(ORIGIN).verifier  # the same name, another key: not the operator's
    code, out, err = _check(str(proof), "--checkpoint", str(held["new.txt"]), "--verifier", verifier, capsys=capsys)
    assert code == 1, (out, err)
    assert complaint in err and out == ""


@pytest.mark.parametrize(
    ("content", "argument"),
    [("not json", "PROOF"), ('{"index": 1}', "PROOF"), ("[]", "PROOF"), ("checkpoint", "--checkpoint")],
)
def test_files_that_are_not_proofs_or_checkpoints_are_usage_errors(
    held: dict[str, Path], content: str, argument: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = held["dir"] / "bad"
    bad.write_text(content)
    proof = _prove(held, "p.json", "--index", "3", capsys=capsys)
    args = [str(bad), "--checkpoint", str(held["new.txt"])]
    if argument == "--checkpoint":
        args = [str(proof), "--checkpoint", str(bad)]
    code, _, err = _check(*args, capsys=capsys)
    assert code == 2 and str(bad) in err and argument in err


def test_check_proof_as_a_library(held: dict[str, Path]) -> None:
    note = held["new.txt"].read_text()
    with Ledger.open(held["l.db"], readonly=True) as led:
        proof = led.prove_inclusion(5)
        grown = led.prove_consistency(12)
    assert InclusionProof.from_dict(proof.to_dict()) == proof
    assert ConsistencyProof.from_dict(grown.to_dict()) == grown
    verifier = held["op.pub"].read_text().strip()
    checked = check_proof(proof.to_dict(), [note], [verifier])
    assert checked.kind == "inclusion" and checked.signatures_checked and checked.proofs == (proof,)
    assert check_proof(grown.to_dict(), [note]).signed_by == ()
    old = held["old.txt"].read_text()
    with pytest.raises(ProofError, match=f"--consistency {old.split()[1]}"):  # neither end is the one held
        check_proof(grown.to_dict(), [old])
    with pytest.raises(SignatureError):
        check_proof(proof.to_dict(), [note], [SigningKey.generate(ORIGIN).verifier])
    with pytest.raises(ValidationError, match=r"\$\.leaf_hash"):
        check_proof({**proof.to_dict(), "leaf_hash": "zz"}, [note])
    with pytest.raises(ValidationError, match="none was given"):
        check_proof(proof.to_dict(), [])
