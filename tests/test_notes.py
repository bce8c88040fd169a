"""Specification of tracechain.notes: C2SP signed notes, signed, cosigned, parsed and opened."""

from __future__ import annotations

import base64
import contextlib
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tracechain.errors import SignatureError
from tracechain.keys import SigningKey, VerifierKey
from tracechain.notes import (
    MAX_NOTE_BYTES,
    MAX_SIGNATURES,
    NoteSignature,
    add_signature,
    open_note,
    open_note_with_signers,
    parse_note,
    sign_note,
)

# The example of the C2SP signed-note specification.
EXAMPLE_VERIFIER = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
EXAMPLE_TEXT = "This is an example message.\n"
EXAMPLE_LINE = (
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
EXAMPLE_NOTE = EXAMPLE_TEXT + "\n" + EXAMPLE_LINE

# A known-answer vector for signing, from the Go sumdb/note tests: this private key (type byte, then the
# RFC 8032 seed) signing this text must give exactly this line, since Ed25519 signatures are deterministic.
PETER_PRIVATE = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
PETER_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_LINE = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

VALID_TEXT = st.lists(
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40), min_size=1, max_size=6
).map(lambda lines: "\n".join(lines) + "\n")


def _key(name: str, n: int = 0) -> SigningKey:
    return SigningKey.from_seed(name, bytes([n]) * 32)


LOG = _key("log.example/a", 1)
WITNESS = _key("witness.example/w", 2)


def _raw_line(name: str, key_id: bytes, signature: bytes) -> str:
    return f"— {name} {base64.b64encode(key_id + signature).decode()}\n"


# --- the C2SP example and a known-answer signing vector --------------------------------------------------


def test_c2sp_example_note_opens_with_its_verifier_key() -> None:
    assert open_note(EXAMPLE_NOTE, [EXAMPLE_VERIFIER]) == EXAMPLE_TEXT
    assert open_note(EXAMPLE_NOTE, [VerifierKey.parse(EXAMPLE_VERIFIER)]) == EXAMPLE_TEXT


def test_c2sp_example_is_rejected_with_any_single_bit_of_its_signature_flipped() -> None:
    _text, [signature] = parse_note(EXAMPLE_NOTE)
    raw = bytearray(signature.key_id + signature.signature)
    for bit in range(len(raw) * 8):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << (bit % 8)
        note = EXAMPLE_TEXT + "\n" + _raw_line("example.com/foo", bytes(flipped[:4]), bytes(flipped[4:]))
        with pytest.raises(SignatureError):
            open_note(note, [EXAMPLE_VERIFIER])


def test_c2sp_example_is_rejected_with_any_character_of_its_text_changed() -> None:
    for i in range(len(EXAMPLE_TEXT) - 1):
        replacement = "x" if EXAMPLE_TEXT[i] != "x" else "y"
        text = EXAMPLE_TEXT[:i] + replacement + EXAMPLE_TEXT[i + 1 :]
        with pytest.raises(SignatureError, match="does not verify"):
            open_note(text + "\n" + EXAMPLE_LINE, [EXAMPLE_VERIFIER])


def test_signing_reproduces_the_go_known_answer_vector() -> None:
    key = SigningKey.from_seed("PeterNeumann", PETER_PRIVATE[1:])
    assert key.verifier == PETER_VERIFIER
    assert sign_note(PETER_TEXT, key) == PETER_TEXT + "\n" + PETER_LINE


# --- signing ---------------------------------------------------------------------------------------------


def test_signed_note_is_text_blank_line_and_one_em_dash_signature_line() -> None:
    note = sign_note("hello\n", LOG)
    text, signature_block = note.split("\n\n")
    assert text + "\n" == "hello\n"
    assert re.fullmatch(r"\u2014 log\.example/a [A-Za-z0-9+/]+=*\n", signature_block)
    raw = base64.b64decode(signature_block.split(" ")[2])
    assert raw[:4] == LOG.key_id
    assert LOG.verifier_key.verify(b"hello\n", raw[4:])


BAD_TEXTS = {
    "empty": ("", "empty"),
    "no final newline": ("hello", "end with a newline"),
    "tab": ("a\tb\n", "U\\+0009"),
    "carriage return": ("a\r\n", "U\\+000D"),
    "nul": ("\x00\n", "U\\+0000"),
    "escape on line 2": ("ok\n\x1b[31m\n", "line 2.*U\\+001B"),
    "lone surrogate": ("a\ud800\n", "U\\+D800"),
}


@pytest.mark.parametrize(("text", "complaint"), BAD_TEXTS.values(), ids=BAD_TEXTS.keys())
def test_sign_note_refuses_text_a_note_cannot_carry(text: str, complaint: str) -> None:
    with pytest.raises(SignatureError, match=complaint):
        sign_note(text, LOG)


def test_note_text_may_hold_del_c1_controls_and_format_characters_as_c2sp_allows() -> None:
    # C2SP forbids only the C0 controls but newline; tests/test_c2sp_notes.py holds the full table, checked with Go.
    text = "a\x7f \x85 \x9b \u00ad \u200b\n"
    assert open_note(sign_note(text, LOG), [LOG.verifier]) == text


def test_note_text_may_hold_blank_lines_and_unicode() -> None:
    text = "first\n\n— looks like a signature line\n\nčaj 茶 \u2014 ok\n"
    assert open_note(sign_note(text, LOG), [LOG.verifier]) == text


def test_note_text_may_be_a_single_newline() -> None:
    assert open_note(sign_note("\n", LOG), [LOG.verifier]) == "\n"


def test_sign_note_refuses_text_over_the_size_limit() -> None:
    with pytest.raises(SignatureError, match="longer than"):
        sign_note("a" * MAX_NOTE_BYTES + "\n", LOG)


# --- cosigning and opening -------------------------------------------------------------------------------


def test_add_signature_appends_a_cosignature_and_keeps_the_existing_line() -> None:
    note = sign_note("checkpoint\n", LOG)
    cosigned = add_signature(note, WITNESS)
    assert cosigned.startswith(note)
    _text, signatures = parse_note(cosigned)
    assert [s.name for s in signatures] == [LOG.name, WITNESS.name]
    assert open_note_with_signers(cosigned, [LOG.verifier, WITNESS.verifier])[1] == (
        LOG.verifier_key,
        WITNESS.verifier_key,
    )


def test_add_signature_refuses_a_key_that_already_signed() -> None:
    with pytest.raises(SignatureError, match="already signed"):
        add_signature(sign_note("x\n", LOG), LOG)


def test_signatures_from_unknown_keys_are_ignored() -> None:
    cosigned = add_signature(sign_note("text\n", LOG), WITNESS)
    assert open_note(cosigned, [LOG.verifier]) == "text\n"
    assert open_note(cosigned, [WITNESS.verifier]) == "text\n"
    assert open_note(cosigned, [WITNESS.verifier, _key("stranger", 9).verifier]) == "text\n"


def test_a_note_signed_by_no_known_key_is_rejected_listing_who_signed() -> None:
    with pytest.raises(SignatureError, match=r"no known key.*log\.example/a"):
        open_note(sign_note("text\n", LOG), [WITNESS.verifier])


def test_no_verifiers_means_no_note_opens() -> None:
    with pytest.raises(SignatureError, match="no known key"):
        open_note(sign_note("text\n", LOG), [])


def test_a_known_keys_bad_signature_is_fatal_even_beside_a_good_one() -> None:
    forged = _raw_line(WITNESS.name, WITNESS.key_id, WITNESS.sign(b"other text\n"))
    note = sign_note("text\n", LOG) + forged
    assert open_note(note, [LOG.verifier]) == "text\n"
    with pytest.raises(SignatureError, match=r"witness\.example/w.*does not verify"):
        open_note(note, [LOG.verifier, WITNESS.verifier])


def test_a_key_matches_only_by_both_name_and_key_id() -> None:
    note = sign_note("text\n", LOG)
    same_name_other_key = _key(LOG.name, 7)
    same_key_other_name = SigningKey.from_seed("log.example/b", bytes([1]) * 32)
    for verifier in (same_name_other_key.verifier, same_key_other_name.verifier):
        with pytest.raises(SignatureError, match="no known key"):
            open_note(note, [verifier])


def test_a_signature_under_a_known_name_and_key_id_but_made_by_another_key_fails() -> None:
    impostor = _key("elsewhere", 5)
    line = _raw_line(LOG.name, LOG.key_id, impostor.sign(b"text\n"))
    with pytest.raises(SignatureError, match="does not verify"):
        open_note("text\n\n" + line, [LOG.verifier])


def test_every_line_of_a_repeated_known_key_is_checked() -> None:
    good = sign_note("text\n", LOG)
    bad = _raw_line(LOG.name, LOG.key_id, LOG.sign(b"else\n"))
    assert open_note(good + good.split("\n\n")[1], [LOG.verifier]) == "text\n"
    with pytest.raises(SignatureError, match="does not verify"):
        open_note(good + bad, [LOG.verifier])


def test_verifiers_must_be_a_collection_not_one_string() -> None:
    with pytest.raises(SignatureError, match="single string"):
        open_note(sign_note("text\n", LOG), LOG.verifier)


def test_a_malformed_verifier_string_is_a_signature_error() -> None:
    with pytest.raises(SignatureError, match="three"):
        open_note(sign_note("text\n", LOG), ["not a verifier"])


def test_two_different_keys_behind_one_name_and_key_id_are_refused() -> None:
    # A 32-bit key ID collision is too slow to find here, so build the colliding key past its own checks.
    clash = object.__new__(VerifierKey)
    for field, value in (("name", LOG.name), ("key_id", LOG.key_id), ("public_bytes", WITNESS.public_bytes)):
        object.__setattr__(clash, field, value)
    with pytest.raises(SignatureError, match="share a name and key ID"):
        open_note(sign_note("text\n", LOG), [LOG.verifier_key, clash])


def test_sixteen_cosigners_are_accepted() -> None:
    note = sign_note("widely witnessed\n", LOG)
    witnesses = [_key(f"witness{i}.example", 10 + i) for i in range(16)]
    for witness in witnesses:
        note = add_signature(note, witness)
    assert len(parse_note(note)[1]) == 17
    assert open_note(note, [witnesses[-1].verifier]) == "widely witnessed\n"


def test_a_hundred_signature_lines_are_accepted_and_a_hundred_and_one_refused() -> None:
    note = sign_note("text\n", LOG)
    filler = _raw_line("unknown.example", b"\x00\x00\x00\x00", b"\x01" * 64)
    assert open_note(note + filler * (MAX_SIGNATURES - 1), [LOG.verifier]) == "text\n"
    with pytest.raises(SignatureError, match="101 signature lines"):
        parse_note(note + filler * MAX_SIGNATURES)
    with pytest.raises(SignatureError, match="at most"):
        add_signature(note + filler * (MAX_SIGNATURES - 1), WITNESS)


def test_a_note_over_the_size_limit_is_refused_unread() -> None:
    huge = "a\n" * (MAX_NOTE_BYTES // 2) + "\n" + _raw_line("x", b"\x00" * 4, b"\x01")
    with pytest.raises(SignatureError, match="longer than"):
        parse_note(huge)


# --- strict parsing --------------------------------------------------------------------------------------

SIG = base64.b64encode(b"\x00\x01\x02\x03" + b"\x07" * 64).decode()
MALFORMED_NOTES = {
    "no blank line": ("text\n— a " + SIG + "\n", "no blank line"),
    "nothing after blank line": ("text\n\n", "no signature lines"),
    "no final newline": ("text\n\n— a " + SIG, "line 3.*newline"),
    "hyphen for dash": ("text\n\n- a " + SIG + "\n", "line 3.*expected a signature line"),
    "en dash": ("text\n\n– a " + SIG + "\n", "line 3.*expected a signature line"),
    "no space after dash": ("text\n\n—a " + SIG + "\n", "line 3.*expected a signature line"),
    "no signature": ("text\n\n— a\n", "line 3.*separated by one space"),
    "two spaces": ("text\n\n— a  " + SIG + "\n", "line 3.*base64"),
    "trailing space": ("text\n\n— a " + SIG + " \n", "line 3.*base64"),
    "plus in name": ("text\n\n— a+b " + SIG + "\n", "line 3.*key name"),
    "bad base64": ("text\n\n— a AAAA!AAA\n", "line 3.*base64"),
    "unpadded base64": ("text\n\n— a " + SIG.rstrip("=") + "\n", "line 3.*base64"),
    "non-canonical base64": ("text\n\n— a " + SIG[:-2] + "B=\n", "line 3.*base64"),
    "key id only": ("text\n\n— a AAAAAA==\n", "line 3.*only 4 bytes"),
    "empty signature line": ("text\n\n— a " + SIG + "\n\n", "no signature lines"),
    "bad second line": ("one\ntwo\n\n— a " + SIG + "\n— b ???\n", "line 5"),
    "control in text": ("te\x01xt\n\n— a " + SIG + "\n", "text line 1.*U\\+0001"),
    "crlf": ("text\r\n\r\n— a " + SIG + "\r\n", "blank line"),
    "surrogate in text": ("\udcff\n\n— a " + SIG + "\n", "U\\+DCFF"),
}


@pytest.mark.parametrize(("note", "complaint"), MALFORMED_NOTES.values(), ids=MALFORMED_NOTES.keys())
def test_malformed_notes_are_rejected_naming_the_line_and_what_was_found(note: str, complaint: str) -> None:
    with pytest.raises(SignatureError, match=complaint):
        parse_note(note)
    with pytest.raises(SignatureError):
        open_note(note, [LOG.verifier])


def test_parse_note_returns_text_and_signatures_in_order() -> None:
    text, signatures = parse_note(EXAMPLE_NOTE + _raw_line("other", b"\x01\x02\x03\x04", b"\x05" * 72))
    assert text == EXAMPLE_TEXT
    assert [(s.name, s.key_id.hex(), len(s.signature)) for s in signatures] == [
        ("example.com/foo", "530d903a", 64),
        ("other", "01020304", 72),
    ]
    assert signatures[0].to_line() == EXAMPLE_LINE


def test_the_text_ends_at_the_last_blank_line() -> None:
    note = "a\n\n— x " + SIG + "\n\n— y " + SIG + "\n"
    text, signatures = parse_note(note)
    assert text == "a\n\n— x " + SIG + "\n"
    assert [s.name for s in signatures] == ["y"]


def test_note_signature_checks_its_fields() -> None:
    with pytest.raises(SignatureError):
        NoteSignature("a b", b"\x00" * 4, b"\x01")
    with pytest.raises(SignatureError):
        NoteSignature("a", b"\x00" * 3, b"\x01")
    with pytest.raises(SignatureError):
        NoteSignature("a", b"\x00" * 4, b"")


# --- raw signatures never become note signatures ---------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(message=st.binary(max_size=200), text=VALID_TEXT)
def test_a_batch_signature_over_other_bytes_never_opens_as_a_note(message: bytes, text: str) -> None:
    assume(message != text.encode("utf-8"))
    note = text + "\n" + _raw_line(LOG.name, LOG.key_id, LOG.sign(message))
    with pytest.raises(SignatureError):
        open_note(note, [LOG.verifier])


@pytest.mark.parametrize("prefix", [b"\x00", b"tracechain/batch\x00", b"\xff", b"x\x01"])
def test_bytes_with_a_control_byte_or_invalid_utf8_can_never_be_note_text(prefix: bytes) -> None:
    # A raw-signature format that starts with such bytes is domain-separated from notes by construction.
    text = (prefix + b"rest\n").decode("utf-8", "surrogateescape")
    with pytest.raises(SignatureError):
        sign_note(text, LOG)
    with pytest.raises(SignatureError):
        parse_note(text + "\n" + _raw_line(LOG.name, LOG.key_id, LOG.sign(prefix + b"rest\n")))


# --- properties ------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(text=VALID_TEXT)
def test_sign_then_open_returns_the_text(text: str) -> None:
    note = sign_note(text, LOG)
    assert open_note(note, [LOG.verifier]) == text
    parsed_text, [signature] = parse_note(note)
    assert parsed_text == text
    assert (signature.name, signature.key_id) == (LOG.name, LOG.key_id)


@settings(max_examples=200, deadline=None)
@given(garbage=st.one_of(st.text(), st.binary().map(lambda b: b.decode("latin-1"))))
def test_random_text_only_ever_raises_signature_error(garbage: str) -> None:
    with pytest.raises(SignatureError):
        open_note(garbage, [LOG.verifier, EXAMPLE_VERIFIER])
    with contextlib.suppress(SignatureError):
        parse_note(garbage)


@settings(max_examples=200, deadline=None)
@given(
    text=VALID_TEXT,
    position=st.integers(min_value=0),
    action=st.sampled_from(["delete", "insert", "replace"]),
    char=st.characters(),
)
def test_any_edit_to_a_signed_note_is_rejected_or_changes_nothing(
    text: str, position: int, action: str, char: str
) -> None:
    note = add_signature(sign_note(text, LOG), WITNESS)
    i = position % len(note)
    if action == "delete":
        edited = note[:i] + note[i + 1 :]
    elif action == "insert":
        edited = note[:i] + char + note[i:]
    else:
        edited = note[:i] + char + note[i + 1 :]
    try:
        opened = open_note(edited, [LOG.verifier, WITNESS.verifier])
    except SignatureError:
        return
    # Only an edit that leaves the text alone (and a verifying signature) may still open.
    assert opened == text
