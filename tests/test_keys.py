"""Specification of tracechain.keys: key names, key IDs, verifier key strings and the encrypted key file."""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import os
import pickle
import re
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from tracechain.errors import KeyFileError, SignatureError, TracechainError
from tracechain.keys import (
    SigningKey,
    VerifierKey,
    key_id,
    read_key_file_header,
    validate_key_name,
    verifier_from_file,
    verify_ed25519,
)

# The example key of the C2SP signed-note specification.
EXAMPLE_VERIFIER = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
EXAMPLE_PUBLIC = base64.b64decode("AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")[1:]

SEED = bytes(range(32))
PASSWORD = "correct horse battery staple"
SRC = Path(__file__).resolve().parent.parent / "src" / "tracechain"


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.from_seed("tracechain.example/log", SEED)


@pytest.fixture
def saved(tmp_path: Path, key: SigningKey) -> Path:
    path = tmp_path / "log.key"
    key.save(path, PASSWORD)
    return path


def _private_seed_from_file(path: Path, password: str) -> bytes:
    """The raw private seed, recovered the only way tracechain allows: decrypting the saved file.

    The scrypt stretch is recomputed with the standard library's own scrypt, independently of keys.py.
    """
    _name_line, kdf_line, pem = path.read_text().split("\n", 2)
    params = dict(part.split("=", 1) for part in kdf_line.split()[2:])
    assert kdf_line.startswith("tracechain-key-kdf: scrypt ")
    assert int(params["ln"]) >= 15
    stretched = hashlib.scrypt(
        password.encode(),
        salt=base64.b64decode(params["salt"]),
        n=1 << int(params["ln"]),
        r=int(params["r"]),
        p=int(params["p"]),
        maxmem=1 << 26,
        dklen=32,
    )
    private = serialization.load_pem_private_key(pem.encode(), base64.b64encode(stretched))
    assert isinstance(private, Ed25519PrivateKey)
    return private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def _write_0600(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


# --- key names and key IDs -------------------------------------------------------------------------------


def test_key_id_is_first_four_bytes_of_sha256_of_name_newline_type_and_key() -> None:
    expected = hashlib.sha256(b"example.com/foo\n\x01" + EXAMPLE_PUBLIC).digest()[:4]
    assert key_id("example.com/foo", EXAMPLE_PUBLIC) == expected == bytes.fromhex("530d903a")


def test_key_id_depends_on_signature_type() -> None:
    assert key_id("example.com/foo", EXAMPLE_PUBLIC, 0x04) != key_id("example.com/foo", EXAMPLE_PUBLIC)


@pytest.mark.parametrize("sig_type", [-1, 256])
def test_key_id_rejects_a_type_that_is_not_one_byte(sig_type: int) -> None:
    with pytest.raises(SignatureError, match="one byte"):
        key_id("a", EXAMPLE_PUBLIC, sig_type)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a b",
        "a+b",
        "+",
        "a\tb",
        "a\nb",
        "trailing ",
        "a\u00a0b",
        "a\u2028b",
        "a\x00b",
        "a\u3000b",
    ],
)
def test_generate_rejects_names_that_are_not_c2sp_key_names(name: str) -> None:
    with pytest.raises(SignatureError, match="key name"):
        SigningKey.generate(name)


@pytest.mark.parametrize(
    "name", ["a", "example.com/log42", "sum.golang.org", "ключ/лог", "x-y_z.1:2", "a\x7fb", "a\u00adb", "a\u200bb"]
)
def test_valid_key_names_are_accepted(name: str) -> None:
    assert validate_key_name(name) == name
    assert SigningKey.generate(name).name == name


def test_generated_key_exposes_public_key_key_id_and_verifier() -> None:
    key = SigningKey.generate("example.org/log")
    assert len(key.public_bytes) == 32
    assert key.key_id == key_id("example.org/log", key.public_bytes)
    encoded = base64.b64encode(b"\x01" + key.public_bytes).decode()
    assert key.verifier == f"example.org/log+{key.key_id.hex()}+{encoded}"
    assert key.verifier_key == VerifierKey("example.org/log", key.key_id, key.public_bytes)


def test_two_generated_keys_differ() -> None:
    assert SigningKey.generate("a").public_bytes != SigningKey.generate("a").public_bytes


def test_from_seed_is_deterministic_and_seed_length_checked(key: SigningKey) -> None:
    assert SigningKey.from_seed(key.name, SEED).public_bytes == key.public_bytes
    with pytest.raises(SignatureError, match="32 bytes"):
        SigningKey.from_seed("a", SEED[:31])


# --- signing and verifying -------------------------------------------------------------------------------


def test_signature_verifies_only_for_its_message_and_key(key: SigningKey) -> None:
    signature = key.sign(b"batch 7")
    assert len(signature) == 64
    assert verify_ed25519(key.public_bytes, b"batch 7", signature)
    assert key.verifier_key.verify(b"batch 7", signature)
    assert not verify_ed25519(key.public_bytes, b"batch 8", signature)
    assert not verify_ed25519(SigningKey.generate("x").public_bytes, b"batch 7", signature)


def test_sign_refuses_a_message_that_is_not_bytes(key: SigningKey) -> None:
    with pytest.raises(SignatureError, match="bytes"):
        key.sign("text")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("public", "signature"),
    [
        (b"", b"\x00" * 64),
        (b"\x01" * 31, b"\x00" * 64),
        (b"\x01" * 33, b"\x00" * 64),
        (None, b"\x00" * 64),
        (EXAMPLE_PUBLIC, b""),
        (EXAMPLE_PUBLIC, b"\x00" * 63),
        (EXAMPLE_PUBLIC, b"\x00" * 65),
        (EXAMPLE_PUBLIC, b"\xff" * 64),
        (EXAMPLE_PUBLIC, "not bytes"),
        (b"\xff" * 32, b"\x00" * 64),
    ],
)
def test_verify_ed25519_returns_false_for_anything_malformed(public: object, signature: object) -> None:
    assert verify_ed25519(public, b"message", signature) is False  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(public=st.binary(max_size=40), message=st.binary(max_size=64), signature=st.binary(max_size=80))
def test_verify_ed25519_never_raises_on_random_bytes(public: bytes, message: bytes, signature: bytes) -> None:
    assert verify_ed25519(public, message, signature) is False


# --- verifier key strings --------------------------------------------------------------------------------


def test_c2sp_example_verifier_parses() -> None:
    verifier = VerifierKey.parse(EXAMPLE_VERIFIER)
    assert verifier.name == "example.com/foo"
    assert verifier.key_id == bytes.fromhex("530d903a")
    assert verifier.public_bytes == EXAMPLE_PUBLIC
    assert str(verifier) == EXAMPLE_VERIFIER


def test_verifier_from_public_computes_the_key_id() -> None:
    assert VerifierKey.from_public("example.com/foo", EXAMPLE_PUBLIC) == VerifierKey.parse(EXAMPLE_VERIFIER)


@settings(max_examples=50, deadline=None)
@given(name=st.from_regex(r"[A-Za-z0-9./:_-]{1,40}", fullmatch=True), seed=st.binary(min_size=32, max_size=32))
def test_verifier_string_round_trips(name: str, seed: bytes) -> None:
    key = SigningKey.from_seed(name, seed)
    parsed = VerifierKey.parse(key.verifier)
    assert parsed == key.verifier_key
    assert str(parsed) == key.verifier


def test_verifier_whose_base64_holds_a_plus_sign_round_trips() -> None:
    # '+' separates the parts, yet the base64 alphabet has it too; about half of all keys hit this.
    key = next(k for k in (SigningKey.from_seed("a", bytes([i]) * 32) for i in range(64)) if "+" in k.verifier[11:])
    assert VerifierKey.parse(key.verifier) == key.verifier_key


def test_verifier_accepts_an_uppercase_key_id_and_prints_it_lowercase() -> None:
    upper = EXAMPLE_VERIFIER.replace("530d903a", "530D903A")
    assert str(VerifierKey.parse(upper)) == EXAMPLE_VERIFIER


def _typed_key(type_byte: int, public: bytes = EXAMPLE_PUBLIC) -> str:
    return base64.b64encode(bytes([type_byte]) + public).decode()


MALFORMED_VERIFIERS = {
    "empty": ("", "three"),
    "two parts": ("example.com/foo+530d903a", "three"),
    "one part": ("example.com/foo", "three"),
    "extra part": (EXAMPLE_VERIFIER + "+extra", "base64"),
    "empty name": ("+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "key name"),
    "space in name": ("example com+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "key name"),
    "short key id": ("example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "8 hex"),
    "long key id": ("example.com/foo+530d903a0+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "8 hex"),
    "non-hex key id": ("example.com/foo+530d903g+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "8 hex"),
    "spaced key id": ("example.com/foo+530d 03a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "8 hex"),
    "signed key id": ("example.com/foo+-30d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "8 hex"),
    "wrong key id": (
        "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "does not match",
    ),
    "other name": ("example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "does not match"),
    "bad base64 char": ("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2!", "base64"),
    "unpadded": ("example.com/foo+530d903a+" + _typed_key(1).rstrip("=") + "A", "base64"),
    "url-safe alphabet": (
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k".replace("U2k", "U-k"),
        "base64",
    ),
    "altered key": (
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2l",
        "does not match",
    ),
    "padded key": ("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k=", "base64"),
    "empty key": ("example.com/foo+530d903a+", "33 bytes"),
    "short key": ("example.com/foo+530d903a+" + _typed_key(1, EXAMPLE_PUBLIC[:31]), "33 bytes"),
    "long key": ("example.com/foo+530d903a+" + _typed_key(1, EXAMPLE_PUBLIC + b"\x00"), "33 bytes"),
    "type 0x04": ("example.com/foo+530d903a+" + _typed_key(4), "0x04"),
    "type 0x00": ("example.com/foo+530d903a+" + _typed_key(0), "0x00"),
}


@pytest.mark.parametrize(("text", "complaint"), MALFORMED_VERIFIERS.values(), ids=MALFORMED_VERIFIERS.keys())
def test_malformed_verifier_strings_are_rejected_saying_what_was_wrong(text: str, complaint: str) -> None:
    with pytest.raises(SignatureError, match=complaint):
        VerifierKey.parse(text)


def test_verifier_key_construction_checks_key_id_and_length() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        VerifierKey("example.com/foo", b"\x00\x00\x00\x00", EXAMPLE_PUBLIC)
    with pytest.raises(SignatureError, match="32-byte"):
        VerifierKey.from_public("example.com/foo", EXAMPLE_PUBLIC[:16])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_parsing_random_text_only_ever_raises_signature_error(text: str) -> None:
    with contextlib.suppress(SignatureError):
        VerifierKey.parse(text)


# --- keeping the secret secret ---------------------------------------------------------------------------


def test_repr_shows_name_and_key_id_but_no_secret(key: SigningKey, saved: Path) -> None:
    seed = _private_seed_from_file(saved, PASSWORD)
    assert seed == SEED
    assert repr(key) == f"SigningKey(name='tracechain.example/log', key_id={key.key_id.hex()})"
    shown = repr(key) + str(key) + f"{key!r} {key}"
    for secret_form in (seed.hex(), seed.hex().upper(), base64.b64encode(seed).decode(), repr(seed)):
        assert secret_form not in shown
    # Nothing that long and random-looking at all, apart from what is public.
    assert not re.search(r"[0-9a-fA-F]{16,}|[A-Za-z0-9+/]{40,}", shown)


def test_signing_key_has_no_attribute_holding_raw_private_bytes(key: SigningKey) -> None:
    for attribute in dir(key):
        if attribute.startswith("__"):
            continue
        value = getattr(key, attribute)
        if isinstance(value, bytes):
            assert value in (key.public_bytes, key.key_id)


def test_signing_key_cannot_be_pickled_or_copied(key: SigningKey) -> None:
    with pytest.raises(TypeError, match="save"):
        pickle.dumps(key)
    with pytest.raises(TypeError):
        copy.copy(key)


# --- the key file ----------------------------------------------------------------------------------------


def test_save_then_load_gives_the_same_key(tmp_path: Path) -> None:
    key = SigningKey.generate("tracechain.example/log")
    path = tmp_path / "k"
    key.save(path, PASSWORD)
    loaded = SigningKey.load(path, PASSWORD)
    assert (loaded.name, loaded.public_bytes, loaded.key_id) == (key.name, key.public_bytes, key.key_id)
    assert key.verifier_key.verify(b"m", loaded.sign(b"m"))


def test_str_and_bytes_passwords_are_the_same_password(tmp_path: Path, key: SigningKey) -> None:
    key.save(tmp_path / "k", "pässword")
    assert SigningKey.load(str(tmp_path / "k"), "pässword".encode()).public_bytes == key.public_bytes


def test_key_file_is_a_name_line_then_an_encrypted_pkcs8_pem_block(saved: Path, key: SigningKey) -> None:
    lines = saved.read_text().splitlines()
    assert lines[0] == "tracechain-key-name: tracechain.example/log"
    assert lines[1].startswith("tracechain-key-kdf: scrypt ln=15 r=8 p=1 salt=")
    assert lines[2] == "tracechain-key-public: " + base64.b64encode(key.public_bytes).decode()
    assert lines[3] == "-----BEGIN ENCRYPTED PRIVATE KEY-----"
    assert lines[-1] == "-----END ENCRYPTED PRIVATE KEY-----"
    assert SEED.hex() not in saved.read_text()


def test_key_file_is_created_0600_without_a_later_chmod(
    tmp_path: Path, key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_chmod(*args: object, **kwargs: object) -> None:
        raise AssertionError("the mode must be set when the file is created, not changed afterwards")

    monkeypatch.setattr(os, "chmod", no_chmod)
    monkeypatch.setattr(os, "fchmod", no_chmod)
    # With no umask to narrow it, only the creation mode can keep group and others out.
    old_umask = os.umask(0)
    try:
        key.save(tmp_path / "k", PASSWORD)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(os.stat(tmp_path / "k").st_mode) == 0o600


def test_save_refuses_to_overwrite_an_existing_file(saved: Path) -> None:
    before = saved.read_bytes()
    with pytest.raises(KeyFileError, match=f"overwrite.*{re.escape(str(saved))}"):
        SigningKey.generate("other").save(saved, PASSWORD)
    assert saved.read_bytes() == before


@pytest.mark.parametrize("password", ["", b""])
def test_save_refuses_an_empty_password(tmp_path: Path, key: SigningKey, password: str | bytes) -> None:
    with pytest.raises(KeyFileError, match="empty password"):
        key.save(tmp_path / "k", password)
    assert not (tmp_path / "k").exists()


def test_save_into_a_missing_directory_is_a_key_file_error(tmp_path: Path, key: SigningKey) -> None:
    with pytest.raises(KeyFileError, match="cannot create"):
        key.save(tmp_path / "no" / "such" / "k", PASSWORD)


@pytest.mark.parametrize("mode", [0o640, 0o644, 0o604, 0o660, 0o666, 0o602, 0o620, 0o610, 0o601, 0o700 | 0o007])
def test_load_refuses_a_file_open_to_group_or_others(saved: Path, mode: int) -> None:
    os.chmod(saved, mode)
    with pytest.raises(KeyFileError, match=f"{re.escape(str(saved))} has mode {mode:04o}"):
        SigningKey.load(saved, PASSWORD)


@pytest.mark.parametrize("mode", [0o400, 0o600, 0o700])
def test_load_accepts_a_file_only_its_owner_can_use(saved: Path, mode: int, key: SigningKey) -> None:
    os.chmod(saved, mode)
    assert SigningKey.load(saved, PASSWORD).public_bytes == key.public_bytes


def test_load_with_the_wrong_password_says_so_without_echoing_it(saved: Path) -> None:
    with pytest.raises(KeyFileError, match="wrong password") as caught:
        SigningKey.load(saved, "hunter2")
    assert "hunter2" not in str(caught.value)
    assert str(saved) in str(caught.value)


def test_load_refuses_an_empty_password(saved: Path) -> None:
    with pytest.raises(KeyFileError, match="empty password"):
        SigningKey.load(saved, "")


def test_load_of_a_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist"):
        SigningKey.load(tmp_path / "absent.key", PASSWORD)


def test_load_of_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir(mode=0o700)
    with pytest.raises(KeyFileError, match="not a regular file"):
        SigningKey.load(tmp_path / "d", PASSWORD)


def test_every_truncation_of_a_key_file_is_refused(saved: Path, tmp_path: Path) -> None:
    data = saved.read_bytes()
    for cut in range(0, len(data) - 1, 7):
        path = tmp_path / f"cut{cut}"
        _write_0600(path, data[:cut])
        with pytest.raises(KeyFileError):
            SigningKey.load(path, PASSWORD)


def test_a_corrupted_byte_in_the_encrypted_key_is_refused(saved: Path, tmp_path: Path) -> None:
    text = saved.read_text()
    middle = text.index("-----\n") + 30
    flipped = text[:middle] + ("A" if text[middle] != "A" else "B") + text[middle + 1 :]
    _write_0600(tmp_path / "bad", flipped.encode())
    with pytest.raises(KeyFileError):
        SigningKey.load(tmp_path / "bad", PASSWORD)


KDF = b"tracechain-key-kdf: scrypt ln=15 r=8 p=1 salt=AAAAAAAAAAAAAAAAAAAAAA==\n"


def _stretched(password: str) -> bytes:
    """PASSWORD stretched as the KDF line above says, with the standard library's scrypt."""
    derived = hashlib.scrypt(password.encode(), salt=bytes(16), n=1 << 15, r=8, p=1, maxmem=1 << 26, dklen=32)
    return base64.b64encode(derived)


GARBAGE_FILES = {
    "empty": (b"", "first line"),
    "no name line": (b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n", "first line"),
    "bad name": (b"tracechain-key-name: a b\n-----BEGIN ENCRYPTED PRIVATE KEY-----\n", "key name"),
    "empty name": (b"tracechain-key-name: \n", "key name"),
    "name only": (b"tracechain-key-name: a\n", "scrypt"),
    "no pem": (b"tracechain-key-name: a\n" + KDF, "PEM block"),
    "weak kdf": (b"tracechain-key-name: a\n" + KDF.replace(b"ln=15", b"ln=4"), "out of range"),
    "other pem": (
        b"tracechain-key-name: a\n" + KDF + b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "line 3",
    ),
    "no end": (
        b"tracechain-key-name: a\n" + KDF + b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n",
        "last line",
    ),
    "bad base64": (
        b"tracechain-key-name: a\n" + KDF + b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n!!!!\n"
        b"-----END ENCRYPTED PRIVATE KEY-----\n",
        "base64",
    ),
    "not utf-8": (b"tracechain-key-name: \xff\xfe\n", "UTF-8"),
    "binary": (bytes(range(256)), "UTF-8"),
    "huge": (b"tracechain-key-name: a\n" + b"A" * 100_000, "larger"),
}


@pytest.mark.parametrize(("data", "complaint"), GARBAGE_FILES.values(), ids=GARBAGE_FILES.keys())
def test_files_that_are_not_key_files_are_refused_saying_what_was_found(
    tmp_path: Path, data: bytes, complaint: str
) -> None:
    path = tmp_path / "garbage.key"
    _write_0600(path, data)
    with pytest.raises(KeyFileError, match=complaint) as caught:
        SigningKey.load(path, PASSWORD)
    assert str(path) in str(caught.value)


def test_an_unencrypted_private_key_is_refused(tmp_path: Path) -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_0600(tmp_path / "plain", b"tracechain-key-name: a\n" + KDF + pem)
    with pytest.raises(KeyFileError, match="unencrypted"):
        SigningKey.load(tmp_path / "plain", PASSWORD)


def test_a_key_that_is_not_ed25519_is_refused(tmp_path: Path) -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_stretched(PASSWORD)),
    )
    _write_0600(tmp_path / "ec", b"tracechain-key-name: a\n" + KDF + pem)
    with pytest.raises(KeyFileError, match="Ed25519"):
        SigningKey.load(tmp_path / "ec", PASSWORD)


def test_a_renamed_key_no_longer_matches_its_published_verifier(saved: Path, key: SigningKey, tmp_path: Path) -> None:
    text = saved.read_text().replace("tracechain.example/log", "tracechain.example/other", 1)
    _write_0600(tmp_path / "renamed", text.encode())
    renamed = SigningKey.load(tmp_path / "renamed", PASSWORD)
    assert renamed.public_bytes == key.public_bytes
    assert renamed.verifier != key.verifier


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=600))
def test_random_key_file_contents_only_ever_raise_key_file_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("garbage") / "k"
    _write_0600(path, data)
    with pytest.raises(KeyFileError):
        SigningKey.load(path, PASSWORD)


def test_all_key_errors_are_tracechain_errors() -> None:
    assert issubclass(KeyFileError, TracechainError)
    assert issubclass(SignatureError, TracechainError)


def test_only_the_keys_module_imports_cryptography() -> None:
    importers = [
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if re.search(r"^\s*(from|import)\s+cryptography\b", path.read_text(encoding="utf-8"), re.MULTILINE)
    ]
    assert importers == ["keys.py"]


def test_the_verifier_is_read_from_a_key_file_without_its_password(saved: Path, key: SigningKey) -> None:
    assert read_key_file_header(saved) == (key.name, key.verifier_key)
    assert verifier_from_file(saved) == key.verifier_key


def test_a_key_file_whose_public_line_was_altered_is_refused_when_loaded(
    saved: Path, key: SigningKey, tmp_path: Path
) -> None:
    other = SigningKey.generate("x")
    stated = base64.b64encode(key.public_bytes).decode()
    text = saved.read_text().replace(stated, base64.b64encode(other.public_bytes).decode())
    _write_0600(tmp_path / "altered", text.encode())
    with pytest.raises(KeyFileError, match="damaged or altered"):
        SigningKey.load(tmp_path / "altered", PASSWORD)
    bad = saved.read_text().replace(stated, "not base64!")
    _write_0600(tmp_path / "bad", bad.encode())
    with pytest.raises(KeyFileError, match="line 3"):
        read_key_file_header(tmp_path / "bad")


def test_a_key_file_from_before_the_public_line_loads_and_needs_its_password_for_its_verifier(
    saved: Path, key: SigningKey, tmp_path: Path
) -> None:
    lines = saved.read_text().splitlines(keepends=True)
    _write_0600(tmp_path / "old.key", "".join(lines[:2] + lines[3:]).encode())
    assert SigningKey.load(tmp_path / "old.key", PASSWORD).verifier == key.verifier
    assert read_key_file_header(tmp_path / "old.key") == (key.name, None)
    with pytest.raises(KeyFileError, match="password is needed"):
        verifier_from_file(tmp_path / "old.key")
    assert verifier_from_file(tmp_path / "old.key", lambda: PASSWORD) == key.verifier_key


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("", "found 0 lines"),
        ("# a comment only\n", "found 0 lines"),
        ("a+b\n", "not a verifier file"),
        ("one\ntwo\n", "found 2 lines"),
    ],
)
def test_verifier_files(tmp_path: Path, key: SigningKey, content: str, complaint: str) -> None:
    good = tmp_path / "good.pub"
    good.write_text("\ufeff# the plant's key, sent by e-mail\n\n" + key.verifier + "\n", encoding="utf-8")
    assert verifier_from_file(good) == key.verifier_key
    bad = tmp_path / "bad.pub"
    bad.write_text(content)
    with pytest.raises(KeyFileError, match=complaint) as caught:
        verifier_from_file(bad)
    assert str(bad) in str(caught.value)
