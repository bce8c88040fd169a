"""Every error tracechain raises, under one root.

Messages say where (entry index, JSON path, file), what was expected and what was found. The tree::

    TracechainError
    ├── EncodingError             bytes that are not tracechain's canonical msgpack
    ├── ValidationError           an event or document that breaks the envelope or a product profile
    │   ├── IdentifierError       a GTIN, SSCC, GLN, USCC, licence or trace code that is malformed
    │   ├── DocumentError         an input that cannot be read as an EPCIS document at all: not UTF-8 or JSON, a
    │   │                         key repeated in an object, not an EPCIS 2.0 document, a context it cannot read
    │   ├── InputEncodingError    input that is not text in the encoding it is read in: UTF-16, GBK or binary
    │   │                         data where UTF-8 was expected
    │   └── LabelError            a QR label payload or image that cannot be read: too long, not UTF-8, control
    │                             or bidi characters, unknown or non-canonical parts, an unreadable image file
    ├── StorageError              where a ledger is kept: a SQLite file missing, locked, not a ledger, damaged, used
    │   │                         after fork(); a published log's file missing or malformed
    │   ├── LedgerFormatError     a file that is not a ledger, or of a format version this code does not know
    │   ├── LedgerBusyError       a ledger another writer kept locked for longer than the wait allowed
    │   └── FetchError            a server (a published log, a witness) that cannot be reached over HTTP, or
    │                             answers with an error or with more bytes than the file can hold
    ├── KeyFileError              a key file: unreadable, too open, wrong password, not an Ed25519 key
    ├── SignatureError            a signature, signed note or verifier key string that does not verify or parse
    │   ├── CheckpointError       a checkpoint whose text is malformed or of another log
    │   ├── QuorumError           a checkpoint without the k-of-n witness cosignatures a policy requires
    │   └── LabelSignatureError   a label whose issuer signature is missing, by an unknown key, or does not verify
    ├── VerificationError         a ledger that fails verification (carries the report)
    │   ├── ProofError            an inclusion or consistency proof that does not verify
    │   ├── BundleError           a proof bundle that cannot be read: not one, damaged, cut short, or not in its
    │   │                         one spelling; or one that cannot be written for an item
    │   └── InconsistentLogError  a log whose checkpoint contradicts one already held: a fork or a rollback
    │                             (carries both signed checkpoints as evidence)
    ├── PublishError              a published log folder that cannot be written, or disagrees with the ledger
    ├── WitnessError              a witness's refusal, state file or configuration (carries an HTTP status)
    └── AppendInterruptedError    an append of a stream stopped part way (carries what landed)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "AppendInterruptedError",
    "BundleError",
    "CheckpointError",
    "DocumentError",
    "EncodingError",
    "FetchError",
    "IdentifierError",
    "InconsistentLogError",
    "InputEncodingError",
    "KeyFileError",
    "LabelError",
    "LabelSignatureError",
    "LedgerBusyError",
    "LedgerFormatError",
    "ProofError",
    "PublishError",
    "QuorumError",
    "SignatureError",
    "StorageError",
    "TracechainError",
    "ValidationError",
    "VerificationError",
    "WitnessError",
]


class TracechainError(Exception):
    """The root of every error tracechain raises on bad input or a failed check."""

    def diagnostics(self) -> str:
        """A multi-line explanation for a person; the CLI prints this."""
        return str(self)


class EncodingError(TracechainError):
    """Bytes that are not tracechain's canonical msgpack, or a value it cannot encode."""


class ValidationError(TracechainError):
    """An event that breaks the envelope or its product profile.

    ``problems`` holds every problem found, each as ``(json_path, message)``, so a caller can show them all.
    """

    def __init__(self, message: str, problems: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.problems: list[tuple[str, str]] = list(problems) or [("$", message)]

    def diagnostics(self) -> str:
        lines = [str(self)]
        if len(self.problems) > 1 or self.problems[0][1] != str(self):
            lines += [f"  {path}: {text}" for path, text in self.problems]
        return "\n".join(lines)


class DocumentError(ValidationError):
    """An input that cannot be read as an EPCIS document at all (as opposed to a document with an event that breaks
    the standard's rules): text that is not UTF-8 or JSON, a key repeated in one JSON object, a document that is not
    an EPCIS 2.0 ``EPCISDocument`` or ``EPCISQueryDocument``, a ``@context`` that would have to be fetched or
    redefines GS1's protected terms."""


class IdentifierError(ValidationError):
    """A malformed identifier: GTIN, SSCC, GLN, USCC, SC licence, trace code, Digital Link."""


class InputEncodingError(ValidationError):
    """Input that is not text in the encoding it is read in: UTF-16/32 or GBK/GB18030 where UTF-8 was expected,
    binary data, or bytes the codec named does not decode. The message names what was seen and how to convert it."""


class LabelError(ValidationError):
    """A QR label payload or image that cannot be read: over 2,953 bytes, not UTF-8, control or bidi characters,
    unknown parameters or a non-canonical spelling in the signed part, or an image file that is not PNG or JPEG."""


class StorageError(TracechainError):
    """The ledger's store cannot be used: a file missing, locked, damaged, or a connection used after fork(); a
    published log's file missing or malformed."""


class LedgerFormatError(StorageError):
    """A file that is not a tracechain ledger, or one of a format version this code does not know."""


class LedgerBusyError(StorageError):
    """A ledger another writer kept locked for longer than a write waits (a minute): try again later."""


class FetchError(StorageError):
    """A server that cannot be reached over HTTP, that answers with an error status, or that sends more bytes than
    the file asked for can hold; the message names the URL."""


class KeyFileError(TracechainError):
    """A key file that cannot be used: unreadable, readable by others, wrong password, not Ed25519."""


class SignatureError(TracechainError):
    """A signature, signed note or verifier key string that does not verify or does not parse."""


class CheckpointError(SignatureError):
    """A checkpoint whose text is malformed, or that belongs to another log."""


class QuorumError(SignatureError):
    """A checkpoint that lacks the witness cosignatures a policy requires (k of n named witnesses)."""


class LabelSignatureError(SignatureError):
    """A label whose issuer signature is missing, made by a key the verifier does not hold, or does not verify.

    ``check`` holds the :class:`tracechain.labels.LabelCheck` that failed, so a caller can tell the cases apart.
    """

    def __init__(self, message: str, check: object | None = None) -> None:
        super().__init__(message)
        self.check = check


class VerificationError(TracechainError):
    """A ledger that failed verification; ``report`` holds what was found."""

    def __init__(self, message: str, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report


class ProofError(VerificationError):
    """An inclusion or consistency proof that does not verify; the message gives expected and computed values."""


class BundleError(VerificationError):
    """A proof bundle that cannot be read (not a bundle, damaged, cut short, or not in its one spelling), or that
    cannot be made for an item (no event names it)."""


class InconsistentLogError(VerificationError):
    """A log whose checkpoint contradicts one already held — two roots at one size, a past that differs, or fewer
    entries than before. ``evidence`` holds both signed checkpoints: the log's operator signed two histories."""

    def __init__(self, message: str, evidence: Sequence[str]) -> None:
        super().__init__(message)
        self.evidence = tuple(evidence)

    def diagnostics(self) -> str:
        # Each note verbatim (it ends in a newline), so it can be cut out and checked with any C2SP tool.
        notes = "".join(f"\n--- signed checkpoint {i} ---\n{note}" for i, note in enumerate(self.evidence, 1))
        return f"{self}{notes}".removesuffix("\n")


class AppendInterruptedError(TracechainError):
    """An append of a stream stopped by an interruption; ``result`` says what landed before it (every batch either
    landed whole or not at all)."""

    def __init__(self, message: str, result: object) -> None:
        super().__init__(message)
        self.result = result


class PublishError(TracechainError):
    """A published log folder that cannot be written, holds another log, or is inconsistent with the ledger."""


class WitnessError(TracechainError):
    """A witness refusing a checkpoint, or a witness's state or configuration that cannot be used.

    ``status`` is the C2SP tlog-witness HTTP status the refusal maps to (400, 403, 404, 409, 422; 500 for the
    witness's own trouble), and ``size`` the witness's current tree size for a 409 conflict.
    """

    def __init__(self, message: str, status: int = 500, size: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.size = size
