"""C2SP-exact key names and note text: one table of edge cases, judged by tracechain and by Go's sumdb/note.

C2SP signed-note allows in a key name anything but Unicode spaces (the White_Space property) and '+', and in a
note anything that is valid UTF-8 without C0 controls other than newline. Go's golang.org/x/mod/sumdb/note is the
reference for edge cases: every row below is also run through tests/go/notecheck where Go is installed, and both
must give the row's verdict.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.golang import build_go_program
from tracechain.checkpoints import Checkpoint, open_checkpoint
from tracechain.errors import SignatureError
from tracechain.keys import SigningKey, VerifierKey, validate_key_name
from tracechain.notes import NoteSignature, add_signature, open_note, sign_note

SEED = bytes(range(32))
PUBLIC = SigningKey.from_seed("seed", SEED).public_bytes


@dataclass(frozen=True)
class Case:
    """One row: what is judged (a verifier key or a signed note), its raw bytes, and the verdict both must give."""

    id: str
    kind: str  # "vkey" or "note"
    data: bytes
    ok: bool
    verifier: bytes = b""
    go_ok: bool | None = None  # Go's verdict where it deliberately differs (see DIVERGENT); else ``ok``


def _text(data: bytes) -> str:
    # Bytes that are not UTF-8 become lone surrogates, which tracechain's str API must refuse as Go refuses the bytes.
    return data.decode("utf-8", "surrogateescape")


def _vkey(name: bytes) -> bytes:
    # Built by hand, not with VerifierKey, so that names tracechain refuses can still be put to Go.
    key_id = hashlib.sha256(name + b"\n\x01" + PUBLIC).digest()[:4]
    return name + b"+" + key_id.hex().encode() + b"+" + base64.b64encode(b"\x01" + PUBLIC)


def _signed(text: bytes, name: bytes) -> bytes:
    """A note of ``text`` signed under ``name`` by the seed's key, built by hand past tracechain's own checks."""
    signer = SigningKey.from_seed("seed", SEED)
    key_id = hashlib.sha256(name + b"\n\x01" + PUBLIC).digest()[:4]
    signature = base64.b64encode(key_id + signer.sign(text))
    return text + b"\n\xe2\x80\x94 " + name + b" " + signature + b"\n"


# Names C2SP allows: no White_Space, no '+'. Format characters, DEL, C1 controls (but NEL, a space), private use,
# unassigned code points, and the separators Python's str.isspace() counts but White_Space does not (U+001C-1F).
VALID_NAMES = {
    "plain": b"a",
    "url": b"example.com/log42",
    "cyrillic": "ключ/лог".encode(),
    "soft hyphen U+00AD": "a\u00adb".encode(),
    "zero width space U+200B": "a\u200bb".encode(),
    "zero width joiner U+200D": "a\u200db".encode(),
    "word joiner U+2060": "a\u2060b".encode(),
    "byte order mark U+FEFF": "a\ufeffb".encode(),
    "mongolian vowel separator U+180E": "a\u180eb".encode(),
    "DEL U+007F": b"a\x7fb",
    "C1 control U+0080": "a\u0080b".encode(),
    "C1 control U+009F": "a\u009fb".encode(),
    "information separator U+001C": b"a\x1cb",
    "unit separator U+001F": b"a\x1fb",
    "NUL": b"a\x00b",
    "escape": b"a\x1bb",
    "private use U+E000": "a\ue000b".encode(),
    "unassigned U+0378": "a\u0378b".encode(),
    "last code point U+10FFFF": "a\U0010ffffb".encode(),
    "em dash": "—".encode(),
    "replacement character": "a\ufffdb".encode(),
}
INVALID_NAMES = {
    "empty": b"",
    "space": b"a b",
    "plus": b"a+b",
    "tab": b"a\tb",
    "newline": b"a\nb",
    "vertical tab": b"a\x0bb",
    "form feed": b"a\x0cb",
    "carriage return": b"a\rb",
    "next line U+0085": "a\u0085b".encode(),
    "no-break space U+00A0": "a\u00a0b".encode(),
    "ogham space U+1680": "a\u1680b".encode(),
    "en quad U+2000": "a\u2000b".encode(),
    "hair space U+200A": "a\u200ab".encode(),
    "line separator U+2028": "a\u2028b".encode(),
    "paragraph separator U+2029": "a\u2029b".encode(),
    "narrow no-break space U+202F": "a\u202fb".encode(),
    "medium mathematical space U+205F": "a\u205fb".encode(),
    "ideographic space U+3000": "a\u3000b".encode(),
    "invalid UTF-8": b"a\xffb",
    "UTF-8 of a surrogate": b"a\xed\xa0\x80b",
}
# C0 controls cannot appear in any note, so a name holding one is a valid name that can sign nothing.
C0_NAMES = {"NUL", "escape", "information separator U+001C", "unit separator U+001F"}

VALID_TEXTS = {
    "DEL": b"a\x7f\n",
    "C1 control U+0085": "a\u0085\n".encode(),
    "C1 control U+009B": "a\u009b[31m\n".encode(),
    "soft hyphen": "a\u00ad\n".encode(),
    "zero width space": "a\u200b\n".encode(),
    "byte order mark first": "\ufeffa\n".encode(),
    "line separator U+2028": "a\u2028b\n".encode(),
    "replacement character": "\ufffd\n".encode(),
    "blank lines inside": b"a\n\nb\n",
    "only a newline": b"\n",
}
INVALID_TEXTS = {
    "NUL": b"a\x00\n",
    "tab": b"a\tb\n",
    "carriage return": b"a\r\n",
    "escape": b"\x1b[31m\n",
    "unit separator U+001F": b"a\x1f\n",
    "invalid UTF-8": b"a\xff\n",
    "UTF-8 of a surrogate": b"a\xed\xb3\xbf\n",
    "overlong UTF-8": b"a\xc0\xaf\n",
}


def _cases() -> list[Case]:
    cases: list[Case] = []
    for label, name in VALID_NAMES.items():
        cases.append(Case(f"vkey name {label}", "vkey", _vkey(name), True))
        signable = label not in C0_NAMES
        cases.append(Case(f"note signed by {label}", "note", _signed(b"text\n", name), signable, _vkey(name)))
    for label, name in INVALID_NAMES.items():
        cases.append(Case(f"vkey name {label}", "vkey", _vkey(name), False))
        cases.append(Case(f"note signed by {label}", "note", _signed(b"text\n", name), False, _vkey(name)))
    for label, text in VALID_TEXTS.items():
        cases.append(Case(f"note text {label}", "note", _signed(text, b"log"), True, _vkey(b"log")))
    for label, text in INVALID_TEXTS.items():
        cases.append(Case(f"note text {label}", "note", _signed(text, b"log"), False, _vkey(b"log")))
    return cases + DIVERGENT


def _noncanonical(spelling: bytes) -> bytes:
    """``spelling`` (base64 ending in one '=') with the unused low bits of its last character set."""
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(spelling[-2:-1])
    return spelling[:-2] + alphabet[last | 0b11 : (last | 0b11) + 1] + b"="


_NOTE = _signed(b"text\n", b"log")
_SPELLING = _NOTE.rsplit(b" ", 1)[1][:-1]
_VKEY = _vkey(b"log")
# The one deliberate difference: tracechain takes base64 only in its canonical spelling (one spelling per value);
# Go's decoder also accepts the unused trailing bits set. No honest signer writes such a spelling. (An Ed25519
# verifier key, 33 bytes, is 44 base64 characters with no padding and so has only one spelling anyway.)
DIVERGENT = [
    Case(
        "note signature in non-canonical base64",
        "note",
        _NOTE.replace(_SPELLING, _noncanonical(_SPELLING)),
        False,
        _VKEY,
        go_ok=True,
    ),
]


CASES = _cases()


def tracechain_verdict(case: Case) -> bool:
    """Whether tracechain accepts the row: parses the verifier key, or opens the note with the row's key."""
    try:
        if case.kind == "vkey":
            VerifierKey.parse(_text(case.data))
        else:
            open_note(_text(case.data), [_text(case.verifier)])
    except SignatureError:
        return False
    return True


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_tracechain_gives_the_c2sp_verdict(case: Case) -> None:
    assert tracechain_verdict(case) is case.ok


def test_go_sumdb_note_gives_the_same_verdict_on_every_row(tmp_path: Path) -> None:
    binary = build_go_program("notecheck", tmp_path)
    table = [
        {
            "id": c.id,
            "kind": c.kind,
            "input": base64.b64encode(c.data).decode(),
            "verifier": base64.b64encode(c.verifier).decode(),
        }
        for c in CASES
    ]
    result = subprocess.run(
        [str(binary)], input=json.dumps(table), capture_output=True, text=True, timeout=120, check=True
    )
    verdicts = json.loads(result.stdout)
    disagreements = [
        f"{c.id}: Go {'accepts' if verdicts[c.id]['ok'] else 'refuses'} ({verdicts[c.id]['error']}), table says {c.ok}"
        for c in CASES
        if verdicts[c.id]["ok"] is not (c.ok if c.go_ok is None else c.go_ok)
    ]
    assert not disagreements, "\n".join(disagreements)
    assert len(verdicts) == len(CASES)


# --- the same rules through the rest of the API ------------------------------------------------------------


@pytest.mark.parametrize("label", sorted(set(VALID_NAMES) - C0_NAMES))
def test_a_key_with_any_signable_c2sp_name_signs_cosigns_and_checkpoints(label: str) -> None:
    name = _text(VALID_NAMES[label])
    assert validate_key_name(name) == name
    key = SigningKey.from_seed(name, SEED)
    assert VerifierKey.parse(key.verifier) == key.verifier_key
    note = sign_note("text\n", key)
    assert open_note(note, [key.verifier]) == "text\n"
    other = SigningKey.from_seed("log.example", b"\x05" * 32)
    assert open_note(add_signature(sign_note("x\n", other), key), [key.verifier]) == "x\n"
    checkpoint = Checkpoint(name, 3, b"\x07" * 32)
    assert open_checkpoint(checkpoint.sign(key), [key.verifier_key], origin=name) == checkpoint


@pytest.mark.parametrize("label", sorted(INVALID_NAMES))
def test_names_c2sp_refuses_are_refused_everywhere(label: str) -> None:
    name = _text(INVALID_NAMES[label])
    with pytest.raises(SignatureError, match="key name"):
        validate_key_name(name)
    with pytest.raises(SignatureError, match="key name"):
        SigningKey.from_seed(name, SEED)
    with pytest.raises(SignatureError):
        Checkpoint(name, 0, b"\x07" * 32)


@pytest.mark.parametrize("label", sorted(C0_NAMES))
def test_a_name_with_a_c0_control_is_valid_but_no_key_may_sign_under_it(label: str) -> None:
    name = _text(VALID_NAMES[label])
    assert validate_key_name(name) == name
    assert VerifierKey.parse(_text(_vkey(VALID_NAMES[label]))).name == name
    with pytest.raises(SignatureError, match="no signed note may contain it"):
        SigningKey.from_seed(name, SEED)
    with pytest.raises(SignatureError, match="no note may carry"):
        NoteSignature(name, b"\x00" * 4, b"\x01" * 64)


@pytest.mark.parametrize("label", sorted(VALID_TEXTS))
def test_every_text_c2sp_allows_can_be_signed_and_checkpoint_extensions_may_hold_it(label: str) -> None:
    text = _text(VALID_TEXTS[label])
    key = SigningKey.from_seed("log", SEED)
    assert open_note(sign_note(text, key), [key.verifier]) == text
    line = text.rstrip("\n").replace("\n", "")
    if line:
        checkpoint = Checkpoint("log", 1, b"\x07" * 32, (line,))
        assert Checkpoint.from_text(checkpoint.to_text()) == checkpoint


@pytest.mark.parametrize("label", sorted(INVALID_TEXTS))
def test_every_text_c2sp_refuses_cannot_be_signed(label: str) -> None:
    with pytest.raises(SignatureError, match="not allowed"):
        sign_note(_text(INVALID_TEXTS[label]), SigningKey.from_seed("log", SEED))
