"""C2SP tlog-checkpoint: the signed statement of a log's origin, tree size and root hash.

The checkpoint text is ``<origin>\\n<size>\\n<base64(root)>\\n`` followed by optional extension lines, each
ending in a newline; it travels as the text of a signed note (see :mod:`tracechain.notes`), signed by a key
named after the origin. :class:`Checkpoint` is the model and its one text form; :func:`open_checkpoint`
verifies and parses; :func:`parse_unverified` only parses.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Self

from tracechain.errors import CheckpointError, SignatureError
from tracechain.keys import SigningKey, VerifierKey, _b64decode_canonical, _shorten, validate_key_name
from tracechain.notes import open_note_with_signers, parse_note, sign_note

__all__ = ["MAX_TREE_SIZE", "Checkpoint", "open_checkpoint", "parse_unverified"]

MAX_TREE_SIZE = 2**63 - 1
"""The largest tree size a checkpoint may state; other implementations hold sizes in signed 64 bits."""

_ROOT_SIZE = 32
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
# C0 controls (newline included: an extension is one line) and lone surrogates: what a note cannot carry. DEL,
# C1 controls and format characters are allowed, as C2SP signed-note allows them.
_CONTROL = re.compile("[\x00-\x1f\ud800-\udfff]")


def _check_origin(origin: object) -> None:
    if not isinstance(origin, str):
        raise CheckpointError(f"checkpoint origin must be a string, found {type(origin).__name__}")
    try:
        validate_key_name(origin)
    except SignatureError as e:
        # The origin doubles as the log's key name (C2SP: the log's key name SHOULD match the origin; tracechain
        # requires it), so it obeys the key name rules, and a note must be able to carry it.
        raise CheckpointError(
            f"checkpoint origin must be a C2SP key name (non-empty, no spaces and no '+'), found {_shorten(origin)}"
        ) from e
    if _CONTROL.search(origin):
        raise CheckpointError(f"checkpoint origin must hold no control character, found {_shorten(origin)}")


@dataclass(frozen=True)
class Checkpoint:
    """A log's claim: the tree named ``origin`` has ``size`` leaves and RFC 9162 root hash ``root``.

    Construction validates every field (:class:`CheckpointError`); ``extensions`` are extra text lines.
    """

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_origin(self.origin)
        if isinstance(self.size, bool) or not isinstance(self.size, int) or not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointError(
                f"checkpoint {self.origin}: size must be an integer from 0 to 2**63-1, found {self.size!r}"
            )
        if not isinstance(self.root, bytes) or len(self.root) != _ROOT_SIZE:
            found = f"{len(self.root)} bytes" if isinstance(self.root, bytes) else type(self.root).__name__
            raise CheckpointError(f"checkpoint {self.origin}: root must be {_ROOT_SIZE} bytes, found {found}")
        if isinstance(self.extensions, str) or not isinstance(self.extensions, Iterable):
            raise CheckpointError(f"checkpoint {self.origin}: extensions must be a sequence of lines")
        # Accept any sequence but store a tuple, so the checkpoint stays hashable and immutable.
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for number, line in enumerate(self.extensions, start=1):
            if not isinstance(line, str) or not line or _CONTROL.search(line):
                raise CheckpointError(
                    f"checkpoint {self.origin}: extension {number} must be a non-empty line with no control "
                    f"characters, found {_shorten(line) if isinstance(line, str) else type(line).__name__}"
                )

    def to_text(self) -> str:
        """The checkpoint text, the exact string a log signs."""
        root = base64.b64encode(self.root).decode("ascii")
        return f"{self.origin}\n{self.size}\n{root}\n" + "".join(line + "\n" for line in self.extensions)

    @classmethod
    def from_text(cls, text: str) -> Self:
        """Parse checkpoint text strictly; :class:`CheckpointError` names the line and what was found."""
        if not isinstance(text, str):
            raise CheckpointError(f"checkpoint text must be a string, found {type(text).__name__}")
        if not text.endswith("\n"):
            raise CheckpointError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError(
                f"checkpoint text needs at least 3 lines (origin, size, root hash), found {len(lines)}"
            )
        origin, size_line, root_line = lines[:3]
        try:
            _check_origin(origin)
        except CheckpointError as e:
            raise CheckpointError(f"checkpoint line 1: {e}") from e
        # Bounding the length first keeps int() fast and inside Python's digit limit; the pattern is
        # ASCII-only, unlike int(), which also takes signs, underscores, spaces and non-ASCII digits.
        if len(size_line) > 19 or not _DECIMAL.fullmatch(size_line) or int(size_line) > MAX_TREE_SIZE:
            raise CheckpointError(
                "checkpoint line 2: expected the tree size in decimal without sign or leading zeros, "
                f"below 2**63, found {_shorten(size_line)}"
            )
        root = _b64decode_canonical(root_line)
        if root is None or len(root) != _ROOT_SIZE:
            what = "not standard padded base64" if root is None else f"{len(root)} bytes"
            raise CheckpointError(
                f"checkpoint line 3: expected the base64 of a {_ROOT_SIZE}-byte root hash, "
                f"found {_shorten(root_line)} ({what})"
            )
        for number, line in enumerate(lines[3:], start=4):
            if not line or _CONTROL.search(line):
                raise CheckpointError(
                    f"checkpoint line {number}: expected a non-empty extension line with no control "
                    f"characters, found {_shorten(line)}"
                )
        return cls(origin, int(size_line), root, tuple(lines[3:]))

    def sign(self, key: SigningKey) -> str:
        """This checkpoint as a signed note, signed by ``key``, whose name must equal the origin."""
        if key.name != self.origin:
            raise CheckpointError(
                f"key {key.name!r} cannot sign a checkpoint of origin {self.origin!r}: "
                "C2SP checkpoint keys are named by the log's origin"
            )
        return sign_note(self.to_text(), key)


def parse_unverified(note: str) -> Checkpoint:
    """The checkpoint a signed note claims, with no signature checked: it proves nothing.

    Use it to read the origin before choosing which keys to verify with, then call :func:`open_checkpoint`.
    Raises :class:`~tracechain.errors.SignatureError` for a malformed note and :class:`CheckpointError` for
    malformed checkpoint text.
    """
    text, _signatures = parse_note(note)
    return Checkpoint.from_text(text)


def open_checkpoint(note: str, verifiers: Iterable[str | VerifierKey], origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint and return it.

    Steps: parse the note and checkpoint text; if ``origin`` is given, require the checkpoint to be of that
    log; open the note with ``verifiers`` (:func:`tracechain.notes.open_note` rules: unknown keys ignored, any
    known key's bad signature fatal); require that a verified key is named by the checkpoint's origin, so a
    cosigner's key alone does not vouch for a log. Raises :class:`~tracechain.errors.SignatureError` or its
    subclass :class:`CheckpointError`.
    """
    claimed = parse_unverified(note)
    if origin is not None and claimed.origin != origin:
        raise CheckpointError(f"checkpoint is of log {_shorten(claimed.origin)}, expected log {_shorten(origin)}")
    _text, signers = open_note_with_signers(note, verifiers)
    if not any(signer.name == claimed.origin for signer in signers):
        names = ", ".join(repr(signer.name) for signer in signers)
        raise CheckpointError(
            f"checkpoint of {claimed.origin!r} is signed only by {names}; no verified signature is by a key "
            "named by its origin, as C2SP requires of the log's own key"
        )
    return claimed
