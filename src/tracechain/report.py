"""One report model for everything that checks: verification now, validation of inputs, audits and scan verdicts.

A `Problem` says where (an entry index, or an input position with a JSON path), what is wrong, and the evidence
(signed notes, say). A `Report` collects problems, is true when there are none, turns into JSON with `to_dict`,
and has a raise-instead twin, `raise_for_problems`, for callers that want an exception (``check`` beside
``verify``). Each kind of report adds the figures it counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from tracechain import merkle
from tracechain.errors import TracechainError, ValidationError, VerificationError

__all__ = ["SEVERITIES", "AuditReport", "Problem", "Report", "ValidationReport", "VerifyReport"]

SEVERITIES = ("error", "warning")
"""How bad an audit finding is: an error fails the audit (exit 1), a warning is for a person to look at."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing found wrong: where it is, what is wrong, and the evidence.

    ``index`` is the entry (for a ledger) or the input position (for validation) it concerns; None for the whole.
    ``until`` is set when the problem is known only to lie somewhere in ``index`` .. ``until - 1``: a checkpoint
    whose root the entries do not give shows that the ledger differs from it, not where. ``path`` is the JSON path
    inside an input event.

    Audit findings also carry the stable ``rule`` id that found them, a ``severity`` (`SEVERITIES`), every entry
    involved (``indexes``; ``index`` is the first), the ``ledger`` they are in and the item ``code`` they concern;
    `to_dict` names these keys only when they are set, so other reports' JSON is unchanged.
    """

    index: int | None
    message: str
    evidence: tuple[str, ...] = ()
    until: int | None = None
    path: str | None = None
    rule: str | None = None
    severity: str | None = None
    indexes: tuple[int, ...] = ()
    ledger: str | None = None
    code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "message": self.message}
        if self.rule is not None:
            out["rule"] = self.rule
        if self.severity is not None:
            out["severity"] = self.severity
        if self.indexes:
            out["indexes"] = list(self.indexes)
        if self.ledger is not None:
            out["ledger"] = self.ledger
        if self.code is not None:
            out["code"] = self.code
        if self.path is not None:
            out["path"] = self.path
        if self.until is not None:
            out["until"] = self.until
        if self.evidence:
            out["evidence"] = list(self.evidence)
        return out

    @property
    def sort_key(self) -> tuple[int, int]:
        """Whole-subject problems first, then by position."""
        return (0, -1) if self.index is None else (1, self.index)


@dataclass(slots=True)
class Report:
    """Problems found in one subject (a ledger file, an input). True when there are none."""

    subject: str
    problems: list[Problem] = field(default_factory=list)

    what: ClassVar[str] = "fails the check"

    @property
    def ok(self) -> bool:
        return not self.problems

    def __bool__(self) -> bool:
        return self.ok

    def add(
        self, index: int | None, message: str, *evidence: str, until: int | None = None, path: str | None = None
    ) -> None:
        self.problems.append(Problem(index, message, tuple(evidence), until, path))

    def sorted_problems(self) -> list[Problem]:
        return sorted(self.problems, key=lambda p: p.sort_key)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": [p.to_dict() for p in self.sorted_problems()]}

    def raise_for_problems(self) -> None:
        """Raise the report's error (carrying the report) when anything is wrong."""
        if self.problems:
            first = self.sorted_problems()[0]
            where = self._where(first)
            raise self._exception(f"{self.subject}: {self.what} at {where}: {first.message}")

    def _exception(self, message: str) -> TracechainError:
        return VerificationError(message, self)

    def _where(self, problem: Problem) -> str:
        return f"entry {problem.index}" if problem.index is not None else "the file"


@dataclass(slots=True)
class VerifyReport(Report):
    """What `tracechain.verify` found in a ledger. True when nothing is wrong."""

    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    events: int = 0
    batches: int = 0
    signatures_checked: int = 0
    checkpoints_checked: int = 0

    what: ClassVar[str] = "ledger fails verification"

    @property
    def path(self) -> str:
        return self.subject

    @property
    def first_bad_index(self) -> int | None:
        """The first entry found bad; None when nothing is wrong, 0 when only the file as a whole is.

        An entry that fails a check of its own is bad. A checkpoint the entries disagree with marks a range,
        from the first entry that no matching held checkpoint vouches for; the range counts only when no entry
        inside it fails a check of its own (an edit that breaks the chain is found exactly; a ledger rebuilt,
        re-hashed and re-signed is found to within the checkpoints held).
        """
        exact = [p.index for p in self.problems if p.index is not None and p.until is None]
        ranges = [
            p.index
            for p in self.problems
            if p.index is not None and p.until is not None and not any(p.index <= i < p.until for i in exact)
        ]
        if exact or ranges:
            return min(exact + ranges)
        return 0 if self.problems else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "path": self.path,
            "size": self.size,
            "root": self.root.hex(),
            "first_bad_index": self.first_bad_index,
            "events": self.events,
            "batches": self.batches,
            "signatures_checked": self.signatures_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "problems": [p.to_dict() for p in self.sorted_problems()],
        }


@dataclass(slots=True)
class ValidationReport(Report):
    """What validating a stream of input events found: each problem with its input position and JSON path."""

    events: int = 0
    invalid: int = 0

    what: ClassVar[str] = "invalid input"

    def _exception(self, message: str) -> TracechainError:
        return ValidationError(message, [(p.path or "$", p.message) for p in self.sorted_problems()])

    def _where(self, problem: Problem) -> str:
        return f"event {problem.index}" if problem.index is not None else "the input"

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "invalid": self.invalid} | super(ValidationReport, self).to_dict()


@dataclass(slots=True)
class AuditReport(Report):
    """What `tracechain.audit` found in one or more ledgers: findings by rule, and the figures the plan asks for.

    True (``ok``) when no finding is an error; warnings are listed but do not fail the audit.
    """

    ledgers: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    what: ClassVar[str] = "audit found errors"

    def find(
        self,
        rule: str,
        severity: str,
        message: str,
        *,
        indexes: tuple[int, ...] | list[int] = (),
        ledger: str | None = None,
        code: str | None = None,
        evidence: tuple[str, ...] = (),
    ) -> None:
        """Record a finding of ``rule``."""
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, found {severity!r}")
        found = tuple(sorted(set(indexes)))
        self.problems.append(
            Problem(found[0] if found else None, message, evidence, None, None, rule, severity, found, ledger, code)
        )

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def sorted_problems(self) -> list[Problem]:
        """Errors first, then by rule, ledger and entry."""
        order = {severity: at for at, severity in enumerate(SEVERITIES)}
        return sorted(
            self.problems,
            key=lambda p: (order.get(p.severity or "", 9), p.rule or "", p.ledger or "", p.sort_key, p.message),
        )

    def counts(self) -> dict[str, int]:
        """How many findings each rule made."""
        out: dict[str, int] = {}
        for p in self.problems:
            out[p.rule or "integrity"] = out.get(p.rule or "integrity", 0) + 1
        return dict(sorted(out.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "ledgers": self.ledgers,
            "figures": self.figures,
            "counts": self.counts(),
            "findings": [p.to_dict() for p in self.sorted_problems()],
        }

    def raise_for_problems(self) -> None:
        """Raise `VerificationError` (carrying the report) when a finding is an error."""
        if self.errors:
            first = self.sorted_problems()[0]
            where = f"{first.ledger or self.subject} entry {first.index}" if first.index is not None else self.subject
            raise self._exception(f"{self.subject}: {self.what} ({first.rule}) at {where}: {first.message}")
