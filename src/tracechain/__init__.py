"""tracechain: hash-chained, signed traceability events for key food and drug products.

Producer systems record EPCIS 2.0 events in a `Ledger`; anyone holding a checkpoint can prove an event is in it
and that it was never rewritten; auditors `verify` whole ledgers. See README.md, docs/ARCHITECTURE.md and
docs/SPEC.md.

The public names load on first use (PEP 562), so that a program importing one module of the package — the command
line answering a lookup, say — does not pay for the modules it does not use (cryptography, the verifier, …).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracechain.audits import AuditOptions, audit
    from tracechain.checkpoints import Checkpoint
    from tracechain.entries import Entry, KeyInfo
    from tracechain.errors import TracechainError
    from tracechain.events import Event
    from tracechain.keys import SigningKey, VerifierKey
    from tracechain.ledger import Ledger
    from tracechain.proofs import BatchReceipt, ConsistencyProof, InclusionProof
    from tracechain.report import AuditReport, Problem, Report, ValidationReport, VerifyReport
    from tracechain.verification import check, verify

__all__ = [
    "AuditOptions",
    "AuditReport",
    "BatchReceipt",
    "Checkpoint",
    "ConsistencyProof",
    "Entry",
    "Event",
    "InclusionProof",
    "KeyInfo",
    "Ledger",
    "Problem",
    "Report",
    "SigningKey",
    "TracechainError",
    "ValidationReport",
    "VerifierKey",
    "VerifyReport",
    "audit",
    "check",
    "verify",
]

__version__ = "0.1.0"

_HOMES = {
    "AuditOptions": "audits",
    "AuditReport": "report",
    "audit": "audits",
    "BatchReceipt": "proofs",
    "Checkpoint": "checkpoints",
    "ConsistencyProof": "proofs",
    "Entry": "entries",
    "Event": "events",
    "InclusionProof": "proofs",
    "KeyInfo": "entries",
    "Ledger": "ledger",
    "Problem": "report",
    "Report": "report",
    "SigningKey": "keys",
    "TracechainError": "errors",
    "ValidationReport": "report",
    "VerifierKey": "keys",
    "VerifyReport": "report",
    "check": "verification",
    "verify": "verification",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'tracechain' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"tracechain.{home}"), name)
    globals()[name] = value  # found once, then an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
