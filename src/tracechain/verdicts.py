"""The verdict model: the eight verdicts, the findings behind one, an item's history for people, and which issuer
keys may vouch for which codes — no I/O.

`Verdict` is a `report.Report`, true only when ``GENUINE``; `tracechain.scan.verdict` makes one. `Issuers` is the
caller's statement of which brand owns which codes (GS1 company prefixes, GTINs, veterinary drug enterprise
numbers), so that one brand's key never vouches for another's labels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from tracechain import identifiers, labels, vocabulary
from tracechain.checkpoints import Checkpoint
from tracechain.errors import IdentifierError, ValidationError
from tracechain.keys import VerifierKey
from tracechain.labels import Label
from tracechain.proofs import InclusionProof
from tracechain.report import Report

__all__ = [
    "DESTROYED_OR_SOLD",
    "EXPIRED",
    "FORGED",
    "GENUINE",
    "RECALLED",
    "SUSPECTED_CLONE",
    "UNKNOWN_CODE",
    "UNWITNESSED",
    "VERDICTS",
    "Issuers",
    "Reason",
    "TimelineEvent",
    "Verdict",
]

GENUINE: Final = "GENUINE"
UNKNOWN_CODE: Final = "UNKNOWN_CODE"
FORGED: Final = "FORGED"
RECALLED: Final = "RECALLED"
EXPIRED: Final = "EXPIRED"
DESTROYED_OR_SOLD: Final = "DESTROYED_OR_SOLD"
SUSPECTED_CLONE: Final = "SUSPECTED_CLONE"
UNWITNESSED: Final = "UNWITNESSED"

VERDICTS: Final = (
    FORGED,
    UNKNOWN_CODE,
    RECALLED,
    DESTROYED_OR_SOLD,
    SUSPECTED_CLONE,
    EXPIRED,
    UNWITNESSED,
    GENUINE,
)
"""Every verdict, the one that wins first: a forged or unknown label says nothing about an item; a recall is what
a person must hear before anything else; an item that should not exist outranks a copied code, which outranks an
old one. ``UNWITNESSED`` (the caller asked for k of n witnesses' cosignatures on the checkpoint, and it lacks
them) only stands between a history that says nothing against the item and ``GENUINE``: what the history says
against an item is worth hearing even unwitnessed (no operator hides a recall by recording one), but a clean
history that the witnesses asked for have not vouched for is not proof of a genuine item."""

_PREFIX_RE: Final = re.compile(r"[0-9]{4,12}")
_VET_ISSUER_RE: Final = re.compile(r"vd:([0-9]{5})")
_ITEM: Final = "item"  # evidence.ITEM: an event naming the item itself (the model does not import evidence)


class Issuers:
    """Which issuer keys may sign which labels: the caller's statement of which brand owns which codes.

    Keys of the mapping are GS1 company prefixes (4–12 digits, matched against the GTIN-13 inside a label's
    GTIN-14, as GS1 allocates them), whole GTIN-14s, or veterinary drug enterprise numbers written ``vd:`` + the
    5 digits (digits 9–13 of a trace code). Values are verifier keys (C2SP strings or `VerifierKey`), one or
    several (a brand rotating keys). A label is checked only against the keys of the entries that match it, so
    brand A's key never vouches for brand B's codes.
    """

    def __init__(self, mapping: Mapping[str, str | VerifierKey | Iterable[str | VerifierKey]] | None = None) -> None:
        self._gs1: dict[str, list[VerifierKey]] = {}
        self._vet: dict[str, list[VerifierKey]] = {}
        for key, value in (mapping or {}).items():
            self.add(key, value)

    def add(self, owner: str, keys: str | VerifierKey | Iterable[str | VerifierKey]) -> None:
        """Tie verifier ``keys`` to ``owner`` (a company prefix, a GTIN-14 or ``vd:`` + enterprise number)."""
        values = [keys] if isinstance(keys, (str, VerifierKey)) else list(keys)
        parsed = [k if isinstance(k, VerifierKey) else VerifierKey.parse(k) for k in values]
        if not isinstance(owner, str):
            raise ValidationError(f"issuer: expected a company prefix, GTIN or vd:NNNNN, found {type(owner).__name__}")
        if m := _VET_ISSUER_RE.fullmatch(owner):
            self._vet.setdefault(m[1], []).extend(parsed)
        elif _PREFIX_RE.fullmatch(owner):
            self._gs1.setdefault(owner, []).extend(parsed)
        elif len(owner) == 14 and owner.isascii() and owner.isdigit():
            try:
                self._gs1.setdefault("=" + identifiers.validate_gtin(owner), []).extend(parsed)
            except IdentifierError as e:
                raise ValidationError(f"issuer {owner}: {e}") from e
        else:
            raise ValidationError(
                f"issuer {owner!r}: expected a GS1 company prefix (4–12 digits), a GTIN-14 or vd: and a 5-digit"
                " veterinary drug enterprise number"
            )

    def keys_for(self, label: Label) -> list[VerifierKey]:
        """The keys that may sign ``label``: those of its GTIN and of every company prefix it starts with, or of
        its veterinary drug enterprise."""
        if label.kind == labels.VET_DRUG:
            return list(self._vet.get((label.trace_code or "")[8:13], ()))
        gtin = label.gtin or ""
        out = list(self._gs1.get("=" + gtin, ()))
        for length in range(4, 13):
            out.extend(self._gs1.get(gtin[1 : 1 + length], ()))
        return out

    def __bool__(self) -> bool:
        return bool(self._gs1 or self._vet)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why: the verdict this finding points to, a sentence, and the entry it rests on (if one)."""

    verdict: str
    message: str
    index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"verdict": self.verdict, "message": self.message}
        if self.index is not None:
            out["index"] = self.index
        return out


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One event of an item's history, for people: who, what, when and where, how it concerns the item, and its
    inclusion proof against the checkpoint (None for an event newer than the checkpoint)."""

    index: int
    time: str
    type: str
    action: str | None
    step: str | None
    disposition: str | None
    via: str
    through: str
    enterprise: str | None
    enterprise_name: str | None
    signer: tuple[str, str] | None
    read_point: str | None
    biz_location: str | None
    region: str | None
    proof: InclusionProof | None = None

    def what(self, language: str) -> str:
        """The step and disposition in ``language`` (``en`` or ``zh``): "shipped, in transit", "发货，运输中"."""
        words = [vocabulary.word("step", self.step, language)] if self.step else []
        if self.disposition:
            words.append(vocabulary.word("disposition", self.disposition, language))
        if not words:
            words.append(vocabulary.word("type", self.type, language))
        return ("，" if language == "zh" else ", ").join(words)

    def sentence(self, language: str) -> str:
        """One line: when, who, what, and through what (the case, the lot) when not the item itself."""
        who = self.enterprise_name or self.enterprise or (self.signer[0] if self.signer else "?")
        via = "" if self.via == _ITEM else f" [{vocabulary.word('via', self.via, language)} {self.through}]"
        if language == "zh":
            return f"{self.time} {who} {self.what('zh')}{via}"
        return f"{self.time} {self.what('en')} by {who}{via}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "time": self.time,
            "type": self.type,
            "action": self.action,
            "step": None if self.step is None else vocabulary.describe("step", self.step),
            "disposition": None if self.disposition is None else vocabulary.describe("disposition", self.disposition),
            "what": {language: self.what(language) for language in vocabulary.LANGUAGES},
            "via": vocabulary.describe("via", self.via) | {"through": self.through},
            "who": {
                "enterprise_uscc": self.enterprise,
                "enterprise_name": self.enterprise_name,
                "signer": None if self.signer is None else {"actor": self.signer[0], "key": self.signer[1]},
            },
            "where": {"read_point": self.read_point, "biz_location": self.biz_location, "region": self.region},
            "proof": None if self.proof is None else self.proof.to_dict(),
        }


@dataclass(slots=True)
class Verdict(Report):
    """The verdict on one scanned code. True only when it is ``GENUINE``; ``problems`` are the reasons that make
    it anything else."""

    code: str = ""
    label: Label | None = None
    issuer: VerifierKey | None = None
    reasons: list[Reason] = field(default_factory=list)
    timeline: list[TimelineEvent] = field(default_factory=list)
    checkpoint: Checkpoint | None = None
    witnesses: dict[str, Any] | None = None  # the witness policy asked for and who met it (None: none asked for)

    what: ClassVar[str] = "the scanned code is not genuine"

    @property
    def verdict(self) -> str:
        found = {r.verdict for r in self.reasons}
        return next(v for v in VERDICTS if v in found or v == GENUINE)

    def reason(self, kind: str, message: str, index: int | None = None) -> None:
        """Record a finding; one that points to anything but ``GENUINE`` is also a problem of the report."""
        self.reasons.append(Reason(kind, message, index))
        if kind != GENUINE:
            self.add(index, f"{kind}: {message}")

    def reasons_for(self, kind: str) -> list[Reason]:
        return [r for r in self.reasons if r.verdict == kind]

    def to_dict(self) -> dict[str, Any]:
        kind = self.verdict
        label = self.label
        return {
            "verdict": kind,
            "verdict_words": vocabulary.describe("verdict", kind),
            "code": self.code,
            "reasons": [r.message for r in self.reasons_for(kind)],
            "findings": [r.to_dict() for r in sorted(self.reasons, key=lambda r: VERDICTS.index(r.verdict))],
            "events": [t.to_dict() for t in self.timeline],
            "label": None
            if label is None
            else {
                "payload": label.payload,
                "kind": label.kind,
                "gtin": label.gtin,
                "lot": label.lot,
                "serial": label.serial,
                "expiry": None if label.expiry is None else label.expiry.isoformat(),
                "trace_code": label.trace_code,
                "issuer": None if self.issuer is None else str(self.issuer),
            },
            "checkpoint": None
            if self.checkpoint is None
            else {"origin": self.checkpoint.origin, "size": self.checkpoint.size, "root": self.checkpoint.root.hex()},
            "witnesses": self.witnesses,
        }
