"""Keys and signatures: key files, passwords, secrets kept out of every text, domain separation, revocation
and rotation."""

from __future__ import annotations

import base64
import functools
import logging
import os
import pickle
import stat
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.exceptions import InternalError
from tracechain.cli import main

import tracechain
from tracechain import Ledger, SigningKey, keys
from tracechain.checkpoints import Checkpoint, open_checkpoint
from tracechain.entries import batch_message
from tracechain.errors import CheckpointError, KeyFileError, SignatureError, TracechainError
from tracechain.notes import NoteSignature, open_note

from .insider import Batch, read_batches, write_batches
from .support import ORIGIN, PLANT_USCC, Built, event

SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
PASSWORD = "Tr4ce-chain battery password 7"


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "log.key"
    SigningKey.from_seed(ORIGIN, SEED).save(path, PASSWORD)
    return path


def test_a_key_file_is_created_0600(key_file: Path) -> None:
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o606, 0o620, 0o602])
def test_a_key_file_that_group_or_others_may_read_or_write_is_refused(key_file: Path, mode: int) -> None:
    key_file.chmod(mode)
    with pytest.raises(KeyFileError, match=f"mode {mode:04o}"):
        SigningKey.load(key_file, PASSWORD)


def test_a_wrong_password_is_a_clear_error(key_file: Path) -> None:
    with pytest.raises(KeyFileError, match="wrong password"):
        SigningKey.load(key_file, PASSWORD + "!")
    assert SigningKey.load(key_file, PASSWORD).public_bytes == SigningKey.from_seed(ORIGIN, SEED).public_bytes


def test_a_hostile_key_file_cannot_make_loading_cost_gigabytes(key_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the battery: the file names its own scrypt cost, and up to 16 GiB with p=16 was accepted."""
    text = key_file.read_text()
    key_file.unlink()
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, text.replace("ln=15 r=8 p=1", "ln=22 r=32 p=16").encode())
    os.close(fd)

    def never(*args: object) -> bytes:
        raise AssertionError("scrypt was run with the file's parameters")

    monkeypatch.setattr(keys, "_stretch", never)
    with pytest.raises(KeyFileError, match="out of range"):
        SigningKey.load(key_file, PASSWORD)


def test_a_key_file_damaged_anywhere_in_its_encrypted_key_never_loads_as_another_key(
    key_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the battery: PKCS#8's AES-CBC has no integrity check, so about one damaged character in ten
    decrypted to another valid Ed25519 key and loaded silently; now the file's check value refuses it."""
    monkeypatch.setattr(keys, "_stretch", functools.cache(keys._stretch))  # one scrypt run, not one per file
    genuine = SigningKey.from_seed(ORIGIN, SEED).public_bytes
    text = key_file.read_text()
    body = text.index("-----\n", text.index("BEGIN")) + 6
    outcomes = set()
    for at in range(body, text.index("-----END")):
        if text[at] == "\n":
            continue
        damaged = tmp_path / f"damaged-{at}.key"
        fd = os.open(damaged, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, (text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]).encode())
        os.close(fd)
        try:
            outcomes.add(SigningKey.load(damaged, PASSWORD).public_bytes == genuine)
        except KeyFileError as e:
            outcomes.add(str(e).split(": ", 1)[-1][:20])
    assert False not in outcomes  # never another key


def test_an_openssl_failure_inside_on_a_damaged_key_is_a_key_file_error(
    key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the battery: one damaged key in some thousands made cryptography raise InternalError."""

    def internal_error(*args: object, **kwargs: object) -> object:
        raise InternalError("Unknown OpenSSL error.", [])

    # keys imports cryptography where it opens a key file, so the patch goes where it looks the function up.
    monkeypatch.setattr("cryptography.hazmat.primitives.serialization.load_pem_private_key", internal_error)
    with pytest.raises(KeyFileError, match="damaged"):
        SigningKey.load(key_file, PASSWORD)


def _secret_forms(key_file: Path) -> dict[str, str]:
    """Every spelling of a secret that could leak: the seed, the password and the scrypt-stretched password."""
    salt = base64.b64decode(key_file.read_text().split("salt=")[1].split("\n")[0])
    stretched = keys._stretch(PASSWORD.encode(), salt, 15, 8, 1).decode()
    return {
        "seed hex": SEED.hex(),
        "seed HEX": SEED.hex().upper(),
        "seed base64": base64.b64encode(SEED).decode(),
        "seed urlsafe base64": base64.urlsafe_b64encode(SEED).decode().rstrip("="),
        "seed bytes": SEED.decode("latin-1"),
        "seed repr": repr(SEED)[2:-1],
        "password": PASSWORD,
        "stretched password": stretched,
    }


def test_no_secret_reaches_a_log_line_a_repr_an_error_message_or_the_cli_output(
    key_file: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []

    def attempt(action: Callable[[], object]) -> None:
        try:
            texts.append(repr(action()))
        except BaseException as e:  # the whole chain, causes included, as a traceback would show it
            texts.append("".join(traceback.format_exception(e)))
            if isinstance(e, TracechainError):
                texts.append(e.diagnostics())

    key = SigningKey.from_seed(ORIGIN, SEED)
    texts += [repr(key), str(key), key.verifier, repr(key.verifier_key)]
    attempt(lambda: pickle.dumps(key))
    attempt(lambda: SigningKey.load(key_file, "wrong " + PASSWORD))
    attempt(lambda: SigningKey.load(key_file, PASSWORD.encode() + b"\xff"))
    attempt(lambda: SigningKey.load(key_file, PASSWORD))
    attempt(lambda: key.save(key_file, PASSWORD))  # refuses to overwrite
    key_file.chmod(0o644)
    attempt(lambda: SigningKey.load(key_file, PASSWORD))
    key_file.chmod(0o600)
    damaged = tmp_path / "damaged.key"
    fd = os.open(damaged, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, key_file.read_bytes()[:-40])
    os.close(fd)
    attempt(lambda: SigningKey.load(damaged, PASSWORD))
    ledger = str(tmp_path / "ledger.db")
    attempt(lambda: Ledger.create(ledger, ORIGIN, key, "91350100M000100Y43").checkpoint(key))
    attempt(lambda: Ledger.open(ledger).append(event(1), key))
    attempt(lambda: Ledger.open(ledger).register("not a key", PLANT_USCC, key))
    texts.append(str(tracechain.verify(ledger).to_dict()))
    monkeypatch.setenv("TRACECHAIN_PASSWORD", PASSWORD)
    codes = [
        main(["checkpoint", ledger, "--key", str(key_file)]),
        main(["keygen", "x.example", "--out", str(key_file)]),
    ]
    monkeypatch.setenv("TRACECHAIN_PASSWORD", "wrong " + PASSWORD)
    codes.append(main(["checkpoint", ledger, "--key", str(key_file)]))
    assert codes == [0, 2, 2]
    out = capfd.readouterr()
    texts += [out.out, out.err, caplog.text, *(r.getMessage() for r in caplog.records)]
    haystack = "\n".join(texts)
    assert "wrong password" in haystack and "refusing" in haystack  # the failures did happen
    leaked = [name for name, form in _secret_forms(key_file).items() if form in haystack]
    assert leaked == []


# --- domain separation ---------------------------------------------------------------------------------------


def _first_operator_seal(built: Built) -> tuple[bytes, bytes]:
    """The message and signature of the first batch the operator signed (a key registration)."""
    with Ledger.open(str(built.path)) as led:
        seal = next(e for e in led.entries() if e.kind == "seal" and e.index > 1)
    body = seal.body
    return batch_message(ORIGIN, body["first"], body["count"], body["root"]), body["sig"]


def test_a_batch_signature_never_verifies_as_a_checkpoint_signature(built: Built) -> None:
    message, signature = _first_operator_seal(built)
    op = next(k for k in built.signers.values() if k.name == ORIGIN)
    assert op.verifier_key.verify(message, signature)
    # The signed bytes cannot be the text of any note: the domain holds a NUL, which note text may never hold.
    assert b"\x00" in message
    line = NoteSignature(op.name, op.key_id, signature).to_line()
    with pytest.raises(SignatureError, match="control character"):
        open_note(message.decode("latin-1") + "\n\n" + line, [op.verifier])
    # Nor does the signature vouch for any checkpoint, e.g. the one of the tree it sealed.
    with Ledger.open(str(built.path)) as led:
        text = Checkpoint(ORIGIN, 4, led.root(4)).to_text()
    with pytest.raises(SignatureError, match="does not verify"):
        open_checkpoint(text + "\n" + line, [op.verifier], origin=ORIGIN)


def test_a_checkpoint_signature_never_verifies_as_a_batch_signature(built: Built) -> None:
    batches = read_batches(built.path)
    op_public = batches[1].public
    note = Checkpoint(ORIGIN, 2, bytes(32)).sign(built.signers[op_public])
    stolen = base64.b64decode(note.rsplit(" ", 1)[1])[4:]
    write_batches(built.path, batches, built.signers, lambda number, _message: stolen if number == 1 else None)
    report = tracechain.verify(built.path)
    assert [(p.index, p.message) for p in report.problems] == [(3, "batch signature does not verify")]


def test_a_batch_signature_does_not_verify_in_another_ledger(built: Built, tmp_path: Path) -> None:
    """The same actor signing the same events in a ledger of another origin: the signature is bound to its ledger."""
    other_origin = "other.tracechain.example/ledger"
    with Ledger.open(str(built.path)) as led:
        seal = next(e for e in led.entries() if e.kind == "seal" and led.entry(e.index - 1).kind == "event")
        events = [led.entry(i).body for i in range(seal.body["first"], seal.index)]
    actor = built.signers[seal.body["public"]]
    first, count, root, signature = (seal.body[k] for k in ("first", "count", "root", "sig"))
    assert actor.verifier_key.verify(batch_message(ORIGIN, first, count, root), signature)
    assert not actor.verifier_key.verify(batch_message(other_origin, first, count, root), signature)
    # Transplanted into a ledger of another origin where the same actor appended the same events, it fails there.
    path = tmp_path / "other.db"
    op = SigningKey.from_seed(other_origin, b"\x07" * 32)
    with Ledger.create(str(path), other_origin, op, "91350100M000100Y43") as led:
        led.register(actor.verifier, PLANT_USCC, op)
        led.append_many([tracechain.Event.from_canonical(body) for body in events], actor)
        last_seal = led.size - 1
    batches = read_batches(path)
    signers = {**built.signers, op.public_bytes: op}
    write_batches(path, batches, signers, lambda n, _m: signature if n == len(batches) - 1 else None, other_origin)
    report = tracechain.verify(path)
    assert [(p.index, p.message) for p in report.problems] == [(last_seal, "batch signature does not verify")]


# --- revocation and rotation ---------------------------------------------------------------------------------


def test_a_revoked_key_cannot_append_and_a_forged_later_batch_by_it_is_rejected(built: Built) -> None:
    with Ledger.open(str(built.path)) as led:
        registered = led.keys()
        revoked = next(k for k in registered if k.revoked is not None and k.role == "actor")
        size = led.size
        with pytest.raises(SignatureError, match="revoked"):
            led.append(event(5), built.signers[revoked.public])
        assert led.size == size
    batches = read_batches(built.path)
    batches.append(Batch(revoked.public, revoked.actor, [("event", event(6).canonical_bytes())]))
    write_batches(built.path, batches, built.signers)
    report = tracechain.verify(built.path)
    assert report.first_bad_index == size + 1  # the forged batch's seal
    assert any(f"revoked at entry {revoked.revoked}" in p.message for p in report.problems)


def test_rotation_keeps_every_old_entry_and_checkpoint_verifiable(built: Built) -> None:
    """The varied ledger rotated an actor key and the operator key; the old signatures still count."""
    with Ledger.open(str(built.path)) as led:
        registered = led.keys()
        revoked = [k for k in registered if k.revoked is not None]
        assert {k.role for k in revoked} == {"actor", "operator"}
        old_operator = next(k for k in revoked if k.role == "operator")
        first_note = built.held[0]  # signed by the operator key revoked since
        assert led.open_checkpoint(first_note).size == built.boundaries[0]
    assert old_operator.public in {s.public_bytes for s in built.signers.values()}
    report = tracechain.verify(built.path, built.held)
    assert report.ok and report.signatures_checked == report.batches == len(built.boundaries)
    with pytest.raises(CheckpointError):
        Ledger.open(str(built.path)).open_checkpoint(first_note.replace(ORIGIN, "x.example", 1))
