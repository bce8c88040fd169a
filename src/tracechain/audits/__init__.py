"""Batch audits of whole ledgers: integrity (everything verify checks) and business rules, in an `AuditReport`.

`audit(paths)` runs the steps listed in `audits.run`; `audits.rules.RULES` names every rule, its severity and what it
finds; `AuditOptions` sets the audit's time, the non-conformance deadline, the future-time tolerance and the sensor
limits.
"""

from tracechain.audits.rules import COLD_CHAIN_LIMITS, RULES, AuditOptions, Rule
from tracechain.audits.run import audit

__all__ = ["COLD_CHAIN_LIMITS", "RULES", "AuditOptions", "Rule", "audit"]
