"""Every error tracechain raises, under one root.

Messages say where (entry index, JSON path, file), what was expected and what was found. The tree::

    TracechainError
    ├── EncodingError             bytes that are not tracechain's canonical msgpack
    ├── ValidationError           an event or document that breaks the envelope or a product profile
    │   └── IdentifierError       a GTIN, SSCC, GLN, USCC, licence or trace code that is malformed
    ├── StorageError              the SQLite file: missing, locked, not a ledger, damaged, used after fork()
    │   ├── LedgerFormatError     a file that is not a ledger, or of a format version this code does not know
    │   └── LedgerBusyError       a ledger another writer kept locked for longer than the wait allowed
    ├── KeyFileError              a key file: unreadable, too open, wrong password, not an Ed25519 key
    ├── SignatureError            a signature, signed note or verifier key string that does not verify or parse
    │   └── CheckpointError       a checkpoint whose text is malformed or of another log
    ├── VerificationError         a ledger that fails verification (carries the report)
    │   └── ProofError            an inclusion or consistency proof that does not verify
    └── AppendInterruptedError    an append of a stream stopped part way (carries what landed)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "AppendInterruptedError",
    "CheckpointError",
    "EncodingError",
    "IdentifierError",
    "KeyFileError",
    "LedgerBusyError",
    "LedgerFormatError",
    "ProofError",
    "SignatureError",
    "StorageError",
    "TracechainError",
    "ValidationError",
    "VerificationError",
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


class IdentifierError(ValidationError):
    """A malformed identifier: GTIN, SSCC, GLN, USCC, SC licence, trace code, Digital Link."""


class StorageError(TracechainError):
    """The ledger file cannot be used: missing, locked, damaged, or a connection used after fork()."""


class LedgerFormatError(StorageError):
    """A file that is not a tracechain ledger, or one of a format version this code does not know."""


class LedgerBusyError(StorageError):
    """A ledger another writer kept locked for longer than a write waits (a minute): try again later."""


class KeyFileError(TracechainError):
    """A key file that cannot be used: unreadable, readable by others, wrong password, not Ed25519."""


class SignatureError(TracechainError):
    """A signature, signed note or verifier key string that does not verify or does not parse."""


class CheckpointError(SignatureError):
    """A checkpoint whose text is malformed, or that belongs to another log."""


class VerificationError(TracechainError):
    """A ledger that failed verification; ``report`` holds what was found."""

    def __init__(self, message: str, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report


class ProofError(VerificationError):
    """An inclusion or consistency proof that does not verify; the message gives expected and computed values."""


class AppendInterruptedError(TracechainError):
    """An append of a stream stopped by an interruption; ``result`` says what landed before it (every batch either
    landed whole or not at all)."""

    def __init__(self, message: str, result: object) -> None:
        super().__init__(message)
        self.result = result
