"""tracechain: hash-chained, signed traceability events for key food and drug products.

Producer systems record EPCIS 2.0 events in a `Ledger`; anyone holding a checkpoint can prove an event is in it
and that it was never rewritten; auditors `verify` whole ledgers. See README.md, docs/ARCHITECTURE.md and
docs/SPEC.md.
"""

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
