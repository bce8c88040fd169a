"""Verification of whole ledgers as named steps; `run` lists them in order.

`verify` returns a `VerifyReport`; `check` raises `VerificationError` instead. Each step lives in its own module
and reports into the shared report: `scan` and `walk` (entries, chain, kinds), `signatures` (seals), `tiles`,
`history` (checkpoints), `projections` (derived indexes and keys). Nothing here imports the ledger.
"""

from tracechain.report import VerifyReport
from tracechain.verification.run import Progress, check, verify

__all__ = ["Progress", "VerifyReport", "check", "verify"]
