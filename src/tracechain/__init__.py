"""tracechain: hash-chained, signed traceability events for key food and drug products.

Producer systems record EPCIS 2.0 events in a `Ledger`; anyone holding a checkpoint can prove an event is in it
and that it was never rewritten; auditors `verify` whole ledgers. See README.md and docs/SPEC.md.
"""

from tracechain.errors import TracechainError
from tracechain.events import Event
from tracechain.keys import SigningKey, VerifierKey
from tracechain.ledger import BatchReceipt, ConsistencyProof, Entry, InclusionProof, Ledger
from tracechain.verify import Problem, VerifyReport, check, verify

__all__ = [
    "BatchReceipt",
    "ConsistencyProof",
    "Entry",
    "Event",
    "InclusionProof",
    "Ledger",
    "Problem",
    "SigningKey",
    "TracechainError",
    "VerifierKey",
    "VerifyReport",
    "check",
    "verify",
]

__version__ = "0.1.0"
