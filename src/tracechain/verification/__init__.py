"""Verification of whole ledgers as named steps.

`verify` returns a `VerifyReport`; `check` raises `VerificationError` instead. Each step lives in its own private
module and reports into the shared report: `_scan` and `_walk` (entries, chain, kinds), `_signatures` (seals),
`_tiles`, `_history` (checkpoints), `_projections` (derived indexes and keys); `_run` lists them in order. Nothing
here imports the ledger.
"""

from tracechain.report import VerifyReport
from tracechain.verification._run import Progress, check, verify
from tracechain.verification._witnesses import WitnessPolicy

__all__ = ["Progress", "VerifyReport", "WitnessPolicy", "check", "verify"]
