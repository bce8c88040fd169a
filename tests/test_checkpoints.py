"""Specification of tracechain.checkpoints: C2SP tlog-checkpoint text, signing and opening."""

from __future__ import annotations

import base64
import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracechain.checkpoints import MAX_TREE_SIZE, Checkpoint, open_checkpoint, parse_unverified
from tracechain.errors import CheckpointError, SignatureError
from tracechain.keys import SigningKey
from tracechain.notes import add_signature, sign_note

ORIGIN = "tracechain.example/log42"
# The RFC 9162 root of the eight reference leaves in FORMATS.md.
ROOT = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
ROOT_B64 = base64.b64encode(ROOT).decode()
URLSAFE_ROOT = base64.urlsafe_b64encode(bytes([0xFB]) * 32).decode()

LOG_KEY = SigningKey.from_seed(ORIGIN, b"\x11" * 32)
OTHER_LOG_KEY = SigningKey.from_seed("tracechain.example/log43", b"\x12" * 32)
WITNESS = SigningKey.from_seed("witness.example", b"\x13" * 32)

ORIGINS = st.from_regex(r"[A-Za-z0-9./:_-]{1,30}", fullmatch=True)
EXTENSION_LINES = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=30)
CHECKPOINTS = st.builds(
    Checkpoint,
    origin=ORIGINS,
    size=st.integers(min_value=0, max_value=MAX_TREE_SIZE),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(EXTENSION_LINES, max_size=3).map(tuple),
)


def _checkpoint(size: int = 8, extensions: tuple[str, ...] = ()) -> Checkpoint:
    return Checkpoint(ORIGIN, size, ROOT, extensions)


# --- the text form ---------------------------------------------------------------------------------------


def test_text_is_origin_size_and_base64_root_each_on_its_own_line() -> None:
    assert _checkpoint().to_text() == f"{ORIGIN}\n8\n{ROOT_B64}\n"


def test_extension_lines_follow_the_root() -> None:
    text = _checkpoint(extensions=("— grease", "timestamp 1700000000")).to_text()
    assert text == f"{ORIGIN}\n8\n{ROOT_B64}\n— grease\ntimestamp 1700000000\n"
    assert Checkpoint.from_text(text).extensions == ("— grease", "timestamp 1700000000")


@settings(max_examples=200, deadline=None)
@given(checkpoint=CHECKPOINTS)
def test_text_round_trips(checkpoint: Checkpoint) -> None:
    assert Checkpoint.from_text(checkpoint.to_text()) == checkpoint


@pytest.mark.parametrize("size", [0, 1, 10, MAX_TREE_SIZE])
def test_sizes_from_zero_to_two_to_the_63_minus_one_are_accepted(size: int) -> None:
    assert Checkpoint.from_text(f"{ORIGIN}\n{size}\n{ROOT_B64}\n").size == size


MALFORMED_TEXTS = {
    "empty": ("", "newline"),
    "no final newline": (f"{ORIGIN}\n8\n{ROOT_B64}", "newline"),
    "two lines": (f"{ORIGIN}\n8\n", "at least 3 lines.*found 2"),
    "empty origin": (f"\n8\n{ROOT_B64}\n", "line 1"),
    "space in origin": (f"log 42\n8\n{ROOT_B64}\n", "line 1.*no spaces"),
    "plus in origin": (f"log+42\n8\n{ROOT_B64}\n", "line 1.*'\\+'"),
    "tab in origin": (f"log\t42\n8\n{ROOT_B64}\n", "line 1"),
    "empty size": (f"{ORIGIN}\n\n{ROOT_B64}\n", "line 2"),
    "leading zero": (f"{ORIGIN}\n08\n{ROOT_B64}\n", "line 2.*'08'"),
    "double zero": (f"{ORIGIN}\n00\n{ROOT_B64}\n", "line 2"),
    "negative": (f"{ORIGIN}\n-1\n{ROOT_B64}\n", "line 2"),
    "plus sign": (f"{ORIGIN}\n+8\n{ROOT_B64}\n", "line 2"),
    "space": (f"{ORIGIN}\n 8\n{ROOT_B64}\n", "line 2"),
    "underscore": (f"{ORIGIN}\n1_000\n{ROOT_B64}\n", "line 2"),
    "hex": (f"{ORIGIN}\n0x8\n{ROOT_B64}\n", "line 2"),
    "arabic-indic digit": (f"{ORIGIN}\n\u0668\n{ROOT_B64}\n", "line 2"),
    "fullwidth digit": (f"{ORIGIN}\n\uff18\n{ROOT_B64}\n", "line 2"),
    "two to the 63": (f"{ORIGIN}\n{2**63}\n{ROOT_B64}\n", "line 2"),
    "very long number": (f"{ORIGIN}\n{'9' * 5000}\n{ROOT_B64}\n", "line 2"),
    "empty root": (f"{ORIGIN}\n8\n\n", "line 3"),
    "short root": (f"{ORIGIN}\n8\n{base64.b64encode(ROOT[:31]).decode()}\n", "line 3.*31 bytes"),
    "long root": (f"{ORIGIN}\n8\n{base64.b64encode(ROOT + b'x').decode()}\n", "line 3.*33 bytes"),
    "hex root": (f"{ORIGIN}\n8\n{ROOT.hex()}\n", "line 3"),
    "unpadded root": (f"{ORIGIN}\n8\n{ROOT_B64.rstrip('=')}\n", "line 3.*base64"),
    "url-safe root": (f"{ORIGIN}\n8\n{URLSAFE_ROOT}\n", "line 3.*base64"),
    "non-canonical root": (f"{ORIGIN}\n8\n{ROOT_B64[:-2]}9=\n", "line 3.*base64"),
    "root with space": (f"{ORIGIN}\n8\n {ROOT_B64}\n", "line 3.*base64"),
    "empty extension": (f"{ORIGIN}\n8\n{ROOT_B64}\n\n", "line 4.*non-empty"),
    "empty second extension": (f"{ORIGIN}\n8\n{ROOT_B64}\next\n\n", "line 5"),
    "control in extension": (f"{ORIGIN}\n8\n{ROOT_B64}\next\x07\n", "line 4"),
}


@pytest.mark.parametrize(("text", "complaint"), MALFORMED_TEXTS.values(), ids=MALFORMED_TEXTS.keys())
def test_malformed_text_is_rejected_naming_the_line_and_what_was_found(text: str, complaint: str) -> None:
    with pytest.raises(CheckpointError, match=complaint):
        Checkpoint.from_text(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_random_text_only_ever_raises_checkpoint_error(text: str) -> None:
    with contextlib.suppress(CheckpointError):
        Checkpoint.from_text(text)


# --- the model -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions"),
    [
        ("", 0, ROOT, ()),
        ("a b", 0, ROOT, ()),
        ("a+b", 0, ROOT, ()),
        (ORIGIN, -1, ROOT, ()),
        (ORIGIN, 2**63, ROOT, ()),
        (ORIGIN, True, ROOT, ()),
        (ORIGIN, 1.0, ROOT, ()),
        (ORIGIN, 0, ROOT[:31], ()),
        (ORIGIN, 0, ROOT.hex(), ()),
        (ORIGIN, 0, ROOT, ("",)),
        (ORIGIN, 0, ROOT, ("two\nlines",)),
        (ORIGIN, 0, ROOT, "not a tuple"),
    ],
)
def test_construction_refuses_what_the_text_form_cannot_hold(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...]
) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint(origin, size, root, extensions)


def test_extensions_given_as_a_list_are_stored_as_a_tuple() -> None:
    checkpoint = Checkpoint(ORIGIN, 1, ROOT, ["a", "b"])  # type: ignore[arg-type]
    assert checkpoint.extensions == ("a", "b")
    assert hash(checkpoint) == hash(Checkpoint(ORIGIN, 1, ROOT, ("a", "b")))


# --- signing and opening ---------------------------------------------------------------------------------


def test_signed_checkpoint_opens_to_the_same_checkpoint() -> None:
    checkpoint = _checkpoint(extensions=("ext",))
    note = checkpoint.sign(LOG_KEY)
    assert note.startswith(checkpoint.to_text() + "\n— " + ORIGIN + " ")
    assert open_checkpoint(note, [LOG_KEY.verifier]) == checkpoint
    assert open_checkpoint(note, [LOG_KEY.verifier_key], origin=ORIGIN) == checkpoint


def test_only_a_key_named_by_the_origin_may_sign() -> None:
    with pytest.raises(CheckpointError, match="named by the log's origin"):
        _checkpoint().sign(OTHER_LOG_KEY)


def test_a_checkpoint_of_another_log_is_rejected() -> None:
    note = Checkpoint(OTHER_LOG_KEY.name, 8, ROOT).sign(OTHER_LOG_KEY)
    with pytest.raises(CheckpointError, match=r"expected log 'tracechain\.example/log42'"):
        open_checkpoint(note, [OTHER_LOG_KEY.verifier, LOG_KEY.verifier], origin=ORIGIN)


def test_a_checkpoint_signed_by_an_unknown_key_is_rejected() -> None:
    with pytest.raises(SignatureError, match="no known key"):
        open_checkpoint(_checkpoint().sign(LOG_KEY), [OTHER_LOG_KEY.verifier])


@pytest.mark.parametrize(
    ("old", "new"),
    [("\n8\n", "\n9\n"), (ROOT_B64, base64.b64encode(bytes(32)).decode()), ("log42\n", "log4\n")],
)
def test_a_checkpoint_with_a_changed_claim_does_not_open(old: str, new: str) -> None:
    note = _checkpoint().sign(LOG_KEY)
    with pytest.raises(SignatureError):
        open_checkpoint(note.replace(old, new, 1), [LOG_KEY.verifier])


def test_a_cosigned_checkpoint_opens_with_the_log_key() -> None:
    note = add_signature(_checkpoint().sign(LOG_KEY), WITNESS)
    assert open_checkpoint(note, [LOG_KEY.verifier, WITNESS.verifier], origin=ORIGIN) == _checkpoint()
    assert open_checkpoint(note, [LOG_KEY.verifier]) == _checkpoint()


def test_a_cosigner_alone_does_not_vouch_for_a_log() -> None:
    note = add_signature(_checkpoint().sign(LOG_KEY), WITNESS)
    with pytest.raises(CheckpointError, match="no verified signature is by a key named by its origin"):
        open_checkpoint(note, [WITNESS.verifier])


def test_a_signed_note_that_is_not_a_checkpoint_is_a_checkpoint_error() -> None:
    note = sign_note("hello\n", LOG_KEY)
    with pytest.raises(CheckpointError, match="at least 3 lines"):
        open_checkpoint(note, [LOG_KEY.verifier])


def test_parse_unverified_reads_the_claim_without_any_key() -> None:
    note = _checkpoint(size=123).sign(LOG_KEY)
    forged = note.replace("\n123\n", "\n124\n", 1)
    # It proves nothing: the forged size is reported just as readily.
    assert parse_unverified(note).size == 123
    assert parse_unverified(forged).size == 124
    with pytest.raises(SignatureError):
        open_checkpoint(forged, [LOG_KEY.verifier])


def test_parse_unverified_of_a_malformed_note_is_a_signature_error() -> None:
    with pytest.raises(SignatureError):
        parse_unverified(_checkpoint().to_text())


@settings(max_examples=100, deadline=None)
@given(checkpoint=CHECKPOINTS)
def test_sign_then_open_round_trips(checkpoint: Checkpoint) -> None:
    key = SigningKey.from_seed(checkpoint.origin, b"\x21" * 32)
    assert open_checkpoint(checkpoint.sign(key), [key.verifier], origin=checkpoint.origin) == checkpoint


@settings(max_examples=200, deadline=None)
@given(garbage=st.text(max_size=300))
def test_random_notes_only_ever_raise_signature_errors(garbage: str) -> None:
    with pytest.raises(SignatureError):
        open_checkpoint(garbage, [LOG_KEY.verifier], origin=ORIGIN)
