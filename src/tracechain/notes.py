"""C2SP signed notes: signing, cosigning, strict parsing and opening with a set of verifier keys.

A note is UTF-8 text ending in a newline, then a blank line, then one signature line per signature:
``— <key name> <base64(key ID || signature)>``. The text is everything before the last blank line and is the exact
byte string each Ed25519 signature covers. The whole note, signature lines included, holds no C0 control other
than newline; everything else is allowed (DEL, C1 controls, format characters such as U+00AD and U+200B), exactly
as C2SP says and Go's ``golang.org/x/mod/sumdb/note`` does (tests/test_c2sp_notes.py holds the table of cases).

Parsing is also stricter than Go's in one way that no honest signer notices: base64 must be in its canonical
spelling (Go accepts non-zero trailing bits), so one signature line has one spelling.

Parsing is strict (every signature line must be well formed) and bounded
(at most :data:`MAX_SIGNATURES` lines, :data:`MAX_NOTE_BYTES` bytes). Opening ignores signatures from keys the
caller does not know, as C2SP requires for key rotation and cosigning, but fails if any signature from a
known key does not verify.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass

from tracechain.errors import SignatureError
from tracechain.keys import SigningKey, VerifierKey, _b64decode_canonical, _shorten, validate_key_name

__all__ = [
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "NoteSignature",
    "add_signature",
    "open_note",
    "open_note_with_signers",
    "parse_note",
    "sign_note",
]

MAX_NOTE_BYTES = 1_000_000
"""A note longer than this (in UTF-8 bytes) is refused unread; checkpoints are a few hundred bytes."""

MAX_SIGNATURES = 100
"""At most this many signature lines; C2SP asks verifiers to accept at least 16."""

_SIGNATURE_PREFIX = "\u2014 "  # EM DASH, then a space
_KEY_ID_SIZE = 4

# C2SP signed-note: "MUST be valid UTF-8 and MUST NOT contain any ASCII control characters (those below U+0020)
# other than newline". So C0 controls but newline, and lone surrogates (which have no UTF-8 form); not DEL or C1.
_FORBIDDEN_IN_NOTE = re.compile("[\x00-\x09\x0b-\x1f\ud800-\udfff]")


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note: the key name, the 4-byte key ID and the signature bytes.

    The signature bytes are opaque here: 64 bytes for Ed25519 (type 0x01), other lengths for other types.
    """

    name: str
    key_id: bytes
    signature: bytes

    def __post_init__(self) -> None:
        validate_key_name(self.name)
        bad = _FORBIDDEN_IN_NOTE.search(self.name)
        if bad is not None:
            raise SignatureError(
                f"signature by {_shorten(self.name)}: the key name holds U+{ord(bad.group()):04X},"
                " which no note may carry"
            )
        if not isinstance(self.key_id, bytes) or len(self.key_id) != _KEY_ID_SIZE:
            raise SignatureError(f"signature by {self.name!r}: key ID must be {_KEY_ID_SIZE} bytes")
        if not isinstance(self.signature, bytes) or not self.signature:
            raise SignatureError(f"signature by {self.name!r}: signature must be non-empty bytes")

    def to_line(self) -> str:
        """The signature line, with its trailing newline."""
        encoded = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{_SIGNATURE_PREFIX}{self.name} {encoded}\n"


def _check_text(text: str) -> None:
    """Raise :class:`SignatureError` unless ``text`` may be the text of a note."""
    if not isinstance(text, str):
        raise SignatureError(f"note text must be a string, found {type(text).__name__}")
    if not text:
        raise SignatureError("note text is empty; a note needs at least one line of text")
    if not text.endswith("\n"):
        raise SignatureError(f"note text must end with a newline, found ...{_shorten(text[-20:])} at its end")
    _check_characters(text, "note text line", 1)


def _check_characters(text: str, where: str, first_line_no: int) -> None:
    bad = _FORBIDDEN_IN_NOTE.search(text)
    if bad is not None:
        line_no = text.count("\n", 0, bad.start()) + first_line_no
        what = "a lone surrogate (not UTF-8)" if "\ud800" <= bad.group() <= "\udfff" else "control character"
        raise SignatureError(
            f"{where} {line_no}: {what} U+{ord(bad.group()):04X} is not allowed (of the C0 controls only newline is)"
        )


def _check_size(note: str) -> None:
    # Characters never outnumber UTF-8 bytes, so the cheap length test comes first and a huge string is
    # refused without being encoded.
    if len(note) > MAX_NOTE_BYTES or len(note.encode("utf-8", "surrogatepass")) > MAX_NOTE_BYTES:
        raise SignatureError(f"note is longer than {MAX_NOTE_BYTES} bytes; refusing to read it")


def _parse_signature_line(line: str, line_no: int) -> NoteSignature:
    expected = "'— <key name> <base64(key ID || signature)>'"
    if not line.startswith(_SIGNATURE_PREFIX):
        raise SignatureError(f"note line {line_no}: expected a signature line {expected}, found {_shorten(line)}")
    name, space, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    if not space:
        raise SignatureError(
            f"note line {line_no}: expected a key name and a signature separated by one space, found {_shorten(line)}"
        )
    try:
        validate_key_name(name)
    except SignatureError as e:
        raise SignatureError(f"note line {line_no}: {e}") from e
    raw = _b64decode_canonical(encoded)
    if raw is None:
        raise SignatureError(
            f"note line {line_no}: signature must be standard padded base64, found {_shorten(encoded)}"
        )
    if len(raw) <= _KEY_ID_SIZE:
        raise SignatureError(
            f"note line {line_no}: expected a {_KEY_ID_SIZE}-byte key ID followed by a signature, "
            f"found only {len(raw)} bytes"
        )
    return NoteSignature(name, raw[:_KEY_ID_SIZE], raw[_KEY_ID_SIZE:])


def parse_note(note: str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and its signature lines, verifying nothing.

    Raises :class:`SignatureError` naming the line and what was found if the note is malformed, has more than
    :data:`MAX_SIGNATURES` signature lines, or is longer than :data:`MAX_NOTE_BYTES`.
    """
    if not isinstance(note, str):
        raise SignatureError(f"note must be a string, found {type(note).__name__}")
    _check_size(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise SignatureError("note has no blank line separating its text from its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    _check_text(text)
    if not block:
        raise SignatureError("note has no signature lines after its last blank line")
    first_line_no = text.count("\n") + 2
    _check_characters(block, "note line", first_line_no)
    if not block.endswith("\n"):
        last_no = first_line_no + block.count("\n")
        raise SignatureError(f"note line {last_no}: the last signature line does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise SignatureError(f"note has {len(lines)} signature lines; at most {MAX_SIGNATURES} are accepted")
    signatures = [_parse_signature_line(line, first_line_no + i) for i, line in enumerate(lines)]
    return text, signatures


def _signature_line(text: str, key: SigningKey) -> str:
    signature = key.sign(text.encode("utf-8"))
    return NoteSignature(key.name, key.key_id, signature).to_line()


def sign_note(text: str, key: SigningKey) -> str:
    """The signed note of ``text`` with one Ed25519 signature by ``key``.

    ``text`` must be non-empty, end with a newline, and hold no control character other than newline; else
    :class:`SignatureError`.
    """
    _check_text(text)
    note = text + "\n" + _signature_line(text, key)
    _check_size(note)
    return note


def add_signature(note: str, key: SigningKey) -> str:
    """``note`` with one more signature line by ``key`` (a cosignature), existing lines kept byte for byte.

    The existing signatures are not verified here; a cosigner opens the note with the signer's key first.
    Raises :class:`SignatureError` if the note is malformed, ``key`` has already signed it, or the note would
    exceed :data:`MAX_SIGNATURES` or :data:`MAX_NOTE_BYTES`.
    """
    text, signatures = parse_note(note)
    if any(s.name == key.name and s.key_id == key.key_id for s in signatures):
        raise SignatureError(f"note is already signed by key {key.name!r} ({key.key_id.hex()})")
    if len(signatures) >= MAX_SIGNATURES:
        raise SignatureError(f"note already has {len(signatures)} signatures; at most {MAX_SIGNATURES} allowed")
    cosigned = note + _signature_line(text, key)
    _check_size(cosigned)
    return cosigned


def _index_verifiers(verifiers: Iterable[str | VerifierKey]) -> dict[tuple[str, bytes], VerifierKey]:
    if isinstance(verifiers, str):
        # A bare string is iterable too, and would be read one character at a time.
        raise SignatureError("verifiers must be a collection of verifier keys, found a single string")
    known: dict[tuple[str, bytes], VerifierKey] = {}
    for item in verifiers:
        if isinstance(item, str):
            verifier = VerifierKey.parse(item)
        elif isinstance(item, VerifierKey):
            verifier = item
        else:
            raise SignatureError(f"a verifier must be a verifier key string or VerifierKey, found {item!r}")
        slot = (verifier.name, verifier.key_id)
        other = known.setdefault(slot, verifier)
        if other.public_bytes != verifier.public_bytes:
            # Two different keys behind one name and key ID: there is no safe way to pick one.
            raise SignatureError(
                f"verifier keys {other} and {verifier} share a name and key ID; refusing the ambiguity"
            )
    return known


def open_note_with_signers(note: str, verifiers: Iterable[str | VerifierKey]) -> tuple[str, tuple[VerifierKey, ...]]:
    """Like :func:`open_note`, and also return the known keys whose signatures verified, in note order."""
    known = _index_verifiers(verifiers)
    text, signatures = parse_note(note)
    message = text.encode("utf-8")
    signers: list[VerifierKey] = []
    for signature in signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            continue
        if not verifier.verify(message, signature.signature):
            raise SignatureError(
                f"signature by known key {verifier.name!r} ({verifier.key_id.hex()}) does not verify over the note text"
            )
        if verifier not in signers:
            signers.append(verifier)
    if not signers:
        found = ", ".join(f"{_shorten(s.name, 40)} ({s.key_id.hex()})" for s in signatures[:5])
        more = f" and {len(signatures) - 5} more" if len(signatures) > 5 else ""
        raise SignatureError(f"note is signed by no known key; it carries signatures by {found}{more}")
    return text, tuple(signers)


def open_note(note: str, verifiers: Iterable[str | VerifierKey]) -> str:
    """The text of ``note`` if a known key signed it; raise :class:`SignatureError` otherwise.

    Steps: index the verifier keys (strings or :class:`VerifierKey`), parse the note strictly, skip signatures
    whose name and key ID match no known key, fail on any known key's signature that does not verify, and
    fail if no known key's signature remains.
    """
    text, _signers = open_note_with_signers(note, verifiers)
    return text
