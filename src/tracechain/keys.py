"""Ed25519 signing keys, C2SP verifier keys and the password-protected key file.

This is the only module that imports ``cryptography``, and it imports it in the functions that sign, verify or
open key files: parsing and showing verifier keys, which lookups do, needs none of it. Everything else speaks
:class:`SigningKey`, :class:`VerifierKey` and raw bytes. (It is longer than most modules because the key file
format — writing it, opening it, and reading its public half without the password — is kept in one place.)

Key names and verifier keys follow C2SP signed-note exactly: a name is non-empty UTF-8 with no Unicode space
and no ``+`` (a signing key's name also holds no C0 control, which no note could carry); the key ID is the first
four bytes of ``SHA-256(name || 0x0A || type || public key)``; a verifier key string is
``<name>+<key ID as 8 hex digits>+<base64(0x01 || public key)>``.

Key file format (UTF-8 text, created with mode 0600 and never overwritten)::

    tracechain-key-name: <key name>
    tracechain-key-kdf: scrypt ln=15 r=8 p=1 salt=<base64 of 16 random bytes> check=<8 hex digits>
    tracechain-key-public: <base64 of the 32-byte Ed25519 public key>
    -----BEGIN ENCRYPTED PRIVATE KEY-----
    <PKCS#8, encrypted by cryptography's BestAvailableEncryption under the stretched password>
    -----END ENCRYPTED PRIVATE KEY-----

The PKCS#8 encryption cryptography offers is PBES2 with only 2048 PBKDF2 iterations, cheap to brute-force. So
the password is first stretched with scrypt (N = 2**15, r = 8, p = 1: about 32 MiB and a tenth of a second per
guess) and the base64 of the 32-byte result is the PKCS#8 password. A PKCS#8 tool can open the block given
that derived value.

PKCS#8 encryption (AES-CBC) has no integrity check, so damage to the ciphertext can decrypt to another valid key;
the check value, the first 4 bytes of SHA-256 of the public key, refuses such a file. Files written before the
check value existed have none and load unchecked.

The public key line (written since the key file could be shown without its password: ``tracechain key show``)
lets anyone holding the file read its verifier key without the password, as an OpenSSH key file does; loading the
key checks that the line is the encrypted key's public key, so a file whose line was altered is refused when used.
Files written before it existed have no such line; their verifier needs the password (`verifier_from_file`).

The name line is outside the encryption, so it is not protected: renaming a key in its file changes the key
ID the key signs under, and verifiers holding the original verifier key then no longer recognise its
signatures, so such tampering fails closed. A key file is refused if group or others may read or write it.

Longer than most modules: key files, signing keys and C2SP verifier keys all sit on the one cryptography import
this module owns; splitting them would spread that dependency.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn, Self

from tracechain.errors import KeyFileError, SignatureError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = [
    "ED25519_TYPE",
    "SigningKey",
    "VerifierKey",
    "key_id",
    "read_key_file_header",
    "validate_key_name",
    "verifier_from_file",
    "verify_ed25519",
]

ED25519_TYPE = 0x01
"""The C2SP signature type byte of a plain Ed25519 signature over the note text."""

_PUBLIC_KEY_SIZE = 32
_SIGNATURE_SIZE = 64
_KEY_ID_SIZE = 4

_NAME_LINE_PREFIX = "tracechain-key-name: "
_PUBLIC_LINE_PREFIX = "tracechain-key-public: "
_KDF_LINE = re.compile(
    r"tracechain-key-kdf: scrypt ln=(\d{1,2}) r=(\d{1,2}) p=(\d{1,2}) salt=([A-Za-z0-9+/]{22}==)"
    r"(?: check=([0-9a-f]{8}))?\Z"
)
_SCRYPT_LN, _SCRYPT_R, _SCRYPT_P = 15, 8, 1
_SCRYPT_MAX_MEMORY = 256 << 20  # scrypt needs 128·r·2**ln bytes; the default takes 32 MiB
_PEM_BEGIN = "-----BEGIN ENCRYPTED PRIVATE KEY-----"
_PEM_END = "-----END ENCRYPTED PRIVATE KEY-----"
_PLAIN_PEM_BEGIN = "-----BEGIN PRIVATE KEY-----"
# A real key file is well under 1 KiB; the cap stops a mistaken path (a disk image) being read whole.
_MAX_KEY_FILE_SIZE = 64 * 1024

_HEX_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")

# Unicode's White_Space property (stable since Unicode 6.3; Go's unicode.IsSpace tests the same set), '+', and
# lone surrogates, which have no UTF-8 form. Not str.isspace(): it also counts U+001C..U+001F, which C2SP allows.
_NOT_IN_KEY_NAME = re.compile(
    "[+\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ud800-\udfff]"
)
# C0 controls other than newline: valid in a key name, but no signed note may contain one.
_NOTE_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")


def _shorten(value: str, limit: int = 60) -> str:
    """``repr`` of a found value, cut short so that a hostile input cannot flood an error message."""
    if len(value) <= limit:
        return repr(value)
    return repr(value[:limit]) + f"... ({len(value)} characters)"


def _b64decode_canonical(text: str) -> bytes | None:
    """Standard padded base64 in its one canonical spelling, or ``None``.

    Python's decoder accepts non-zero trailing bits, so two spellings would decode to the same bytes; a signed
    format must have one spelling per value, hence the re-encode check. Shared with the notes and checkpoint
    modules, which raise their own error class on ``None``.
    """
    if not text.isascii():
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        return None
    if base64.b64encode(raw).decode("ascii") != text:
        return None
    return raw


def validate_key_name(name: str) -> str:
    """Return ``name`` if it is a valid C2SP key name, else raise :class:`SignatureError`.

    Exactly C2SP signed-note's rule, as Go's ``golang.org/x/mod/sumdb/note`` applies it: non-empty, valid UTF-8
    (no lone surrogates), no Unicode space (the ``White_Space`` property) and no ``+``. Anything else is allowed,
    format characters such as U+00AD and U+200B, DEL and C1 controls included. A name with a C0 control other
    than those spaces is a valid name too, though no signed note can carry it (see :class:`SigningKey`).
    """
    if not isinstance(name, str) or not name:
        raise SignatureError(f"key name must be a non-empty string, found {name!r}")
    bad = _NOT_IN_KEY_NAME.search(name)
    if bad is not None:
        what = "'+'" if bad.group() == "+" else f"U+{ord(bad.group()):04X}"
        raise SignatureError(
            f"key name must hold no Unicode space, no '+' and only valid UTF-8, found {what} in {_shorten(name)}"
        )
    return name


def _signing_name(name: str) -> str:
    """``name`` if a signing key may bear it: a C2SP key name that a signed note can carry (no C0 control)."""
    validate_key_name(name)
    bad = _NOTE_CONTROL.search(name)
    if bad is not None:
        raise SignatureError(
            f"key name {_shorten(name)} holds control character U+{ord(bad.group()):04X}; it is a valid C2SP key"
            " name, but no signed note may contain it, so a key of that name could never sign one"
        )
    return name


def key_id(name: str, public_bytes: bytes, sig_type: int = ED25519_TYPE) -> bytes:
    """The 4-byte C2SP key ID: the first 4 bytes of ``SHA-256(name || 0x0A || sig_type || public_bytes)``."""
    validate_key_name(name)
    if not isinstance(sig_type, int) or not 0 <= sig_type <= 0xFF:
        raise SignatureError(f"signature type must be one byte (0..255), found {sig_type!r}")
    if not isinstance(public_bytes, bytes):
        raise SignatureError(f"public key must be bytes, found {type(public_bytes).__name__}")
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_bytes).digest()
    return digest[:_KEY_ID_SIZE]


def verify_ed25519(public_bytes: bytes, message: bytes, signature: bytes) -> bool:
    """True if ``signature`` is a valid Ed25519 signature of ``message``; False for anything invalid.

    A malformed public key or a signature of the wrong length means "does not verify", never an exception, so
    a caller holding untrusted bytes needs no ``try``.
    """
    if not (isinstance(public_bytes, bytes) and isinstance(message, bytes) and isinstance(signature, bytes)):
        return False
    if len(public_bytes) != _PUBLIC_KEY_SIZE or len(signature) != _SIGNATURE_SIZE:
        return False
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(public_bytes).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class VerifierKey:
    """A C2SP Ed25519 verifier key: a name, its key ID and the 32-byte public key.

    Construction checks that the key ID is the one the name and key produce, so every instance is coherent.
    """

    name: str
    key_id: bytes
    public_bytes: bytes

    def __post_init__(self) -> None:
        validate_key_name(self.name)
        if not isinstance(self.public_bytes, bytes) or len(self.public_bytes) != _PUBLIC_KEY_SIZE:
            raise SignatureError(
                f"verifier key {self.name!r}: expected a {_PUBLIC_KEY_SIZE}-byte Ed25519 public key, "
                f"found {_describe_length(self.public_bytes)}"
            )
        expected = key_id(self.name, self.public_bytes)
        if self.key_id != expected:
            found = self.key_id.hex() if isinstance(self.key_id, bytes) else repr(self.key_id)
            raise SignatureError(
                f"verifier key {self.name!r}: key ID {found} does not match the name and public key "
                f"(expected {expected.hex()})"
            )

    @classmethod
    def from_public(cls, name: str, public_bytes: bytes) -> Self:
        """The verifier key for ``name`` and a raw 32-byte Ed25519 public key; the key ID is computed."""
        # Construction re-checks the name and the key length, with the message naming the key.
        return cls(name, key_id(name, public_bytes), public_bytes)

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse a verifier key string ``<name>+<8 hex key ID>+<base64(0x01 || public key)>``.

        Raises :class:`SignatureError` saying what was expected and what was found.
        """
        if not isinstance(text, str):
            raise SignatureError(f"verifier key must be a string, found {type(text).__name__}")
        # Only the first two '+' separate: names and key IDs hold none, but base64 may.
        parts = text.split("+", 2)
        if len(parts) != 3:
            raise SignatureError(
                f"verifier key must be <name>+<key id>+<key>, three '+'-separated parts; "
                f"found {len(parts)} in {_shorten(text)}"
            )
        name, id_hex, key_b64 = parts
        try:
            validate_key_name(name)
        except SignatureError as e:
            raise SignatureError(f"verifier key {_shorten(text)}: {e}") from e
        if not _HEX_KEY_ID.fullmatch(id_hex):
            raise SignatureError(f"verifier key {name!r}: key ID must be 8 hex digits, found {_shorten(id_hex)}")
        raw = _b64decode_canonical(key_b64)
        if raw is None:
            raise SignatureError(
                f"verifier key {name!r}: key must be standard padded base64, found {_shorten(key_b64)}"
            )
        if len(raw) != 1 + _PUBLIC_KEY_SIZE:
            raise SignatureError(
                f"verifier key {name!r}: expected 33 bytes (type byte and Ed25519 public key), found {len(raw)}"
            )
        if raw[0] != ED25519_TYPE:
            raise SignatureError(f"verifier key {name!r}: expected key type 0x01 (Ed25519), found 0x{raw[0]:02x}")
        return cls(name, bytes.fromhex(id_hex), raw[1:])

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([ED25519_TYPE]) + self.public_bytes).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True if ``signature`` is this key's Ed25519 signature of ``message``; never raises on bad bytes."""
        return verify_ed25519(self.public_bytes, message, signature)


def _describe_length(value: object) -> str:
    if isinstance(value, bytes):
        return f"{len(value)} bytes"
    return type(value).__name__


def _password_bytes(password: str | bytes, path: str) -> bytes:
    if isinstance(password, str):
        try:
            password = password.encode("utf-8")
        except UnicodeEncodeError as e:
            # The message must not echo the password, so only its position is given.
            raise KeyFileError(
                f"password for key file {path} is not encodable as UTF-8 (at character {e.start})"
            ) from e
    if not isinstance(password, bytes):
        raise KeyFileError(f"password for key file {path} must be str or bytes, found {type(password).__name__}")
    if not password:
        raise KeyFileError(f"an empty password is refused for key file {path}")
    return password


class SigningKey:
    """An Ed25519 private key with its C2SP key name.

    The private key leaves this object only through :meth:`save`, encrypted; ``repr`` shows name and key ID.
    """

    __slots__ = ("_key_id", "_name", "_private", "_public")

    def __init__(self, name: str, private: Ed25519PrivateKey) -> None:
        """Wrap a ``cryptography`` key; callers outside this module use generate(), load() or from_seed()."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        self._name = _signing_name(name)
        if not isinstance(private, Ed25519PrivateKey):
            raise SignatureError(f"signing key {name!r} must be an Ed25519 private key")
        self._private = private
        self._public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self._key_id = key_id(name, self._public)

    @classmethod
    def generate(cls, name: str) -> Self:
        """A fresh random key named ``name``; raises :class:`SignatureError` for an invalid C2SP key name."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        _signing_name(name)
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Self:
        """The key whose RFC 8032 private seed is the 32-byte ``seed``; for fixed test vectors."""
        _signing_name(name)
        if not isinstance(seed, bytes) or len(seed) != 32:
            raise SignatureError(f"signing key {name!r}: seed must be 32 bytes, found {_describe_length(seed)}")
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def name(self) -> str:
        return self._name

    @property
    def public_bytes(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return self._public

    @property
    def key_id(self) -> bytes:
        """The 4-byte C2SP key ID of this name and public key."""
        return self._key_id

    @property
    def verifier_key(self) -> VerifierKey:
        return VerifierKey(self._name, self._key_id, self._public)

    @property
    def verifier(self) -> str:
        """The C2SP verifier key string to hand to whoever checks this key's signatures."""
        return str(self.verifier_key)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        if not isinstance(message, bytes):
            raise SignatureError(f"message to sign must be bytes, found {type(message).__name__}")
        return self._private.sign(message)

    def __repr__(self) -> str:
        return f"SigningKey(name={self._name!r}, key_id={self._key_id.hex()})"

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        # A pickle (or copy) would carry the secret in the clear wherever it goes; save() is the only way out.
        raise TypeError("SigningKey cannot be pickled or copied; use save() to store it encrypted")

    def save(self, path: str | os.PathLike[str], password: str | bytes) -> None:
        """Write this key to a new file at ``path``, encrypted with ``password`` (see the module docstring).

        The file is created with mode 0600 (never widened and later narrowed), written whole and fsynced. An
        existing file is never overwritten. Raises :class:`KeyFileError`.
        """
        from cryptography.hazmat.primitives import serialization

        where = os.fspath(path)
        salt = os.urandom(16)
        secret = _stretch(_password_bytes(password, where), salt, _SCRYPT_LN, _SCRYPT_R, _SCRYPT_P)
        pem = self._private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(secret),
        )
        kdf = (
            f"tracechain-key-kdf: scrypt ln={_SCRYPT_LN} r={_SCRYPT_R} p={_SCRYPT_P} salt={_b64(salt)}"
            f" check={_check_value(self._public)}"
        )
        public = _PUBLIC_LINE_PREFIX + _b64(self._public)
        data = (_NAME_LINE_PREFIX + self._name + "\n" + kdf + "\n" + public + "\n").encode("utf-8") + pem
        try:
            fd = os.open(where, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), 0o600)
        except FileExistsError as e:
            raise KeyFileError(f"refusing to overwrite existing file {where}") from e
        except OSError as e:
            raise KeyFileError(f"cannot create key file {where}: {e.strerror}") from e
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        except OSError as e:
            os.close(fd)
            # A half-written key file would later fail to load with a misleading message; remove it now.
            _unlink_quietly(where)
            raise KeyFileError(f"cannot write key file {where}: {e.strerror}") from e
        os.close(fd)
        _fsync_directory(os.path.dirname(os.path.abspath(where)))

    @classmethod
    def load(cls, path: str | os.PathLike[str], password: str | bytes) -> Self:
        """Read a key file written by :meth:`save`.

        Raises :class:`KeyFileError` if the file is missing, readable or writable by group or others, not a
        tracechain key file, not Ed25519, or the password is wrong.
        """
        where = os.fspath(path)
        secret = _password_bytes(password, where)
        text = _read_key_file(where)
        first, sep, rest = text.partition("\n")
        if not sep or not first.startswith(_NAME_LINE_PREFIX):
            expected = _NAME_LINE_PREFIX + "<name>"
            raise KeyFileError(f"key file {where}: expected a first line {expected!r}, found {_shorten(first)}")
        name = first.removeprefix(_NAME_LINE_PREFIX)
        try:
            _signing_name(name)
        except SignatureError as e:
            raise KeyFileError(f"key file {where}: {e}") from e
        kdf_line, _, rest = rest.partition("\n")
        kdf = _KDF_LINE.match(kdf_line)
        if kdf is None:
            raise KeyFileError(
                f"key file {where}: expected line 2 to name the scrypt parameters "
                f"('tracechain-key-kdf: scrypt ln=15 r=8 p=1 salt=…'), found {_shorten(kdf_line)}"
            )
        ln, r, p = (int(kdf.group(i)) for i in (1, 2, 3))
        # The file chooses the cost, so a hostile one must not make loading take gigabytes or minutes.
        if not (10 <= ln <= 22 and 1 <= r <= 32 and 1 <= p <= 4 and (128 * r << ln) <= _SCRYPT_MAX_MEMORY):
            raise KeyFileError(
                f"key file {where}: scrypt parameters ln={ln} r={r} p={p} are out of range"
                f" (at most {_SCRYPT_MAX_MEMORY >> 20} MiB and p=4)"
            )
        stated, rest = _public_line(rest, where)
        pem = _check_pem_block(rest, where)
        from cryptography.exceptions import InternalError, UnsupportedAlgorithm
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        secret = _stretch(secret, base64.b64decode(kdf.group(4)), ln, r, p)
        try:
            private = serialization.load_pem_private_key(pem.encode("ascii"), password=secret)
        except ValueError as e:
            raise KeyFileError(f"wrong password for key file {where} (or its encrypted key is damaged)") from e
        except (TypeError, UnsupportedAlgorithm) as e:
            raise KeyFileError(f"key file {where}: cannot read the encrypted key: {e}") from e
        except InternalError as e:  # OpenSSL failing inside on a damaged key, one of the wrong length say
            raise KeyFileError(f"key file {where}: the encrypted key is damaged") from e
        if not isinstance(private, Ed25519PrivateKey):
            raise KeyFileError(f"key file {where}: expected an Ed25519 private key, found {type(private).__name__}")
        loaded = cls(name, private)
        # PKCS#8 encryption (AES-CBC) has no integrity check: damage to the ciphertext over the key's bytes
        # decrypts to another valid key. The check value, a hash of the public key, catches that.
        check = kdf.group(5)
        if check is not None and check != _check_value(loaded.public_bytes):
            raise KeyFileError(f"key file {where} is damaged: its key does not match the check value it was saved with")
        if stated is not None and stated != loaded.public_bytes:
            raise KeyFileError(
                f"key file {where} is damaged or altered: its public key line is not the public key of the"
                " encrypted key"
            )
        return loaded


def _public_line(rest: str, where: str) -> tuple[bytes | None, str]:
    """The public key a key file states in the clear, if it has the line, and what follows the line."""
    if not rest.startswith(_PUBLIC_LINE_PREFIX):
        return None, rest
    line, _, after = rest.partition("\n")
    raw = _b64decode_canonical(line.removeprefix(_PUBLIC_LINE_PREFIX))
    if raw is None or len(raw) != _PUBLIC_KEY_SIZE:
        raise KeyFileError(
            f"key file {where}: expected line 3 to give the base64 of a {_PUBLIC_KEY_SIZE}-byte public key, found"
            f" {_shorten(line)}"
        )
    return raw, after


def read_key_file_header(path: str | os.PathLike[str]) -> tuple[str, VerifierKey | None]:
    """A key file's name and, when the file states its public key (files written since that line exists), its
    verifier key, read without the password. Raises `KeyFileError` as `SigningKey.load` does for the same file."""
    where = os.fspath(path)
    first, _, rest = _read_key_file(where).partition("\n")
    if not first.startswith(_NAME_LINE_PREFIX):
        raise KeyFileError(
            f"key file {where}: expected a first line {_NAME_LINE_PREFIX + '<name>'!r}, found {_shorten(first)}"
        )
    name = first.removeprefix(_NAME_LINE_PREFIX)
    try:
        validate_key_name(name)
    except SignatureError as e:
        raise KeyFileError(f"key file {where}: {e}") from e
    kdf_line, _, rest = rest.partition("\n")
    if _KDF_LINE.match(kdf_line) is None:
        raise KeyFileError(
            f"key file {where}: expected line 2 to name the scrypt parameters, found {_shorten(kdf_line)}"
        )
    public, _ = _public_line(rest, where)
    return name, None if public is None else VerifierKey.from_public(name, public)


def verifier_from_file(path: str | os.PathLike[str], password: Callable[[], str | bytes] | None = None) -> VerifierKey:
    """The verifier key a file gives: a verifier file (one verifier key string; blank lines and ``#`` comments
    aside), or a key file, from its public key line or, for a file without one, by loading it with ``password()``.

    Raises `KeyFileError` naming the file and saying what it found.
    """
    where = os.fspath(path)
    data = _read_public_file(where)
    if data.startswith(_NAME_LINE_PREFIX.encode()):
        name, verifier = read_key_file_header(where)
        if verifier is not None:
            return verifier
        if password is None:
            raise KeyFileError(f"key file {where} ({name}) does not state its public key; its password is needed")
        return SigningKey.load(where, password()).verifier_key
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise KeyFileError(f"{where}: not a verifier file (not UTF-8 text; bad byte at offset {e.start})") from e
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if len(lines) != 1:
        raise KeyFileError(
            f"{where}: a verifier file holds one verifier key (<name>+<key id>+<key>), found {len(lines)} lines"
        )
    try:
        return VerifierKey.parse(lines[0])
    except SignatureError as e:
        raise KeyFileError(f"{where}: not a verifier file: {e}") from e


def _read_public_file(where: str) -> bytes:
    """The bytes of a file that holds no secret (a verifier file, or a key file before its checks), bounded."""
    try:
        fd = os.open(where, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError as e:
        raise KeyFileError(f"{where} does not exist") from e
    except OSError as e:
        raise KeyFileError(f"cannot open {where}: {e.strerror}") from e
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise KeyFileError(f"{where} is not a regular file")
        data = os.read(fd, _MAX_KEY_FILE_SIZE + 1)
    except OSError as e:
        raise KeyFileError(f"cannot read {where}: {e.strerror}") from e
    finally:
        os.close(fd)
    if len(data) > _MAX_KEY_FILE_SIZE:
        raise KeyFileError(f"{where} is larger than {_MAX_KEY_FILE_SIZE} bytes; not a key or verifier file")
    return data


def _read_key_file(where: str) -> str:
    try:
        # O_NONBLOCK: a FIFO or device named as a key file must be refused, not waited on for a writer.
        fd = os.open(where, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError as e:
        raise KeyFileError(f"key file {where} does not exist") from e
    except OSError as e:
        raise KeyFileError(f"cannot open key file {where}: {e.strerror}") from e
    chunks: list[bytes] = []
    try:
        # fstat on the open descriptor, not stat on the path, so the mode checked is that of the file read.
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"key file {where} is not a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise KeyFileError(
                f"key file {where} has mode {mode:04o}, open to group or others; "
                f"refusing it (expected 0600: chmod 600 {where})"
            )
        total = 0
        while chunk := os.read(fd, 8192):
            chunks.append(chunk)
            total += len(chunk)
            if total > _MAX_KEY_FILE_SIZE:
                raise KeyFileError(f"key file {where} is larger than {_MAX_KEY_FILE_SIZE} bytes; not a key file")
    except OSError as e:
        raise KeyFileError(f"cannot read key file {where}: {e.strerror}") from e
    finally:
        os.close(fd)
    data = b"".join(chunks)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise KeyFileError(f"key file {where} is not UTF-8 text (bad byte at offset {e.start})") from e


def _check_pem_block(rest: str, where: str) -> str:
    """The encrypted PKCS#8 PEM block that must make up the rest of the file, checked before decryption.

    Checking the armour and base64 here keeps "wrong password" for what really is a decryption failure.
    """
    lines = rest.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise KeyFileError(f"key file {where}: expected a PEM block after the name line, found nothing")
    if lines[0] == _PLAIN_PEM_BEGIN:
        raise KeyFileError(f"key file {where} holds an unencrypted private key; refusing it")
    if lines[0] != _PEM_BEGIN:
        raise KeyFileError(f"key file {where}: expected line 3 to be {_PEM_BEGIN!r}, found {_shorten(lines[0])}")
    if len(lines) < 3 or lines[-1] != _PEM_END:
        found = lines[-1] if len(lines) > 1 else ""
        raise KeyFileError(f"key file {where}: expected a last line {_PEM_END!r}, found {_shorten(found)} (truncated?)")
    body = "".join(lines[1:-1])
    try:
        base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as e:
        raise KeyFileError(f"key file {where}: the PEM block is not valid base64") from e
    return "\n".join(lines) + "\n"


def _check_value(public: bytes) -> str:
    """The key file's check value: the first 4 bytes of SHA-256 of the public key, in hex."""
    return hashlib.sha256(public).digest()[:4].hex()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _stretch(password: bytes, salt: bytes, ln: int, r: int, p: int) -> bytes:
    """The PKCS#8 password: base64 of scrypt(password), so each guess costs memory and time."""
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    derived = Scrypt(salt=salt, length=32, n=1 << ln, r=r, p=p).derive(password)
    return _b64(derived).encode("ascii")


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _fsync_directory(directory: str) -> None:
    # Makes the new directory entry durable, not only the contents; some platforms cannot open a directory,
    # and the key itself is already on disk by then, so failure here is not worth failing the save.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
