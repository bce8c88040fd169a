"""Scan verdicts: what a scanned label is — genuine, unknown, forged, recalled, expired, out of circulation, or a
suspected copy — with the reasons, the item's history in Chinese and English, and a proof of each event.

`verdict` is the one call. Its steps, in order (each can decide the verdict; all that apply are reported):

1. read the payload (`labels.parse_label`, after dropping the newline a scanner may end it with);
2. check the issuer signature with the verifier keys the caller ties to the label's GS1 company prefix, GTIN or
   veterinary drug enterprise (`Issuers`): a brand's key vouches for that brand's codes only → ``FORGED``;
3. gather every event bearing on the item (`tracechain.evidence`: its own, its cases' and pallets', its lot's, its
   ingredient lots') → ``UNKNOWN_CODE`` when the item has none;
4. judge them: a recall or a non-conformant inspection of any of them → ``RECALLED``; destroyed, or sold longer
   ago than the policy's grace → ``DESTROYED_OR_SOLD``; past its expiry date → ``EXPIRED``;
5. compare the code's scans with where and when the ledger says it went (`tracechain.clones`) →
   ``SUSPECTED_CLONE``;
6. prove every event against the latest signed checkpoint and write the timeline;
7. with a witness policy (k of n named witnesses), require their cosignatures on that checkpoint →
   ``UNWITNESSED`` when it lacks them (checked right after the label, so every verdict says it).

The history comes from an open `Ledger` or from a verified proof bundle (`tracechain.bundles`); both give the same
verdict for the same events. The verdict and its parts are `tracechain.verdicts` (re-exported here): a
`report.Report`, true only when ``GENUINE``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Protocol

from tracechain import custody, identifiers, labels, vocabulary
from tracechain import events as event_model
from tracechain.checkpoints import Checkpoint, open_checkpoint
from tracechain.clones import DEFAULT_POLICY, ItemFacts, ScanPolicy, clone_reasons
from tracechain.errors import IdentifierError, ProofError, SignatureError, ValidationError
from tracechain.events import Event
from tracechain.evidence import CONTAINER, ITEM, LOT, Evidence, Related, collect, genealogy_of
from tracechain.keys import VerifierKey
from tracechain.labels import Label
from tracechain.ledger import Ledger
from tracechain.places import Place, region_of_uscc
from tracechain.proofs import InclusionProof
from tracechain.storage.projections import BATCHES
from tracechain.storage.scanlog import ScanRecord
from tracechain.trace import Genealogy
from tracechain.verdicts import (
    DESTROYED_OR_SOLD,
    EXPIRED,
    FORGED,
    GENUINE,
    RECALLED,
    SUSPECTED_CLONE,
    UNKNOWN_CODE,
    UNWITNESSED,
    VERDICTS,
    Issuers,
    Reason,
    TimelineEvent,
    Verdict,
)
from tracechain.verification import WitnessPolicy
from tracechain.witness import CosignerKey, quorum_shortfall, verified_cosigners

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
    "History",
    "Issuers",
    "LedgerHistory",
    "Reason",
    "ScanPolicy",
    "TimelineEvent",
    "Verdict",
    "new_scan",
    "read_payload",
    "verdict",
]

_GONE: Final = {"destroyed": "destroyed", "decommissioned": "taken out of use (decommissioned)"}
_INSPECTING_STEPS: Final = frozenset({"inspecting", "sampling"})


class History(Protocol):
    """Where a verdict's events come from, with the means to prove them: a ledger, or a verified proof bundle."""

    @property
    def genealogy(self) -> Genealogy:
        """Trace's genealogy over the history's events."""
        ...

    @property
    def checkpoint(self) -> Checkpoint | None:
        """The signed checkpoint the events are proved against (None when there is none)."""
        ...

    @property
    def note(self) -> str | None:
        """That checkpoint's signed note as held, with its witnesses' cosignature lines (None when there is none)."""
        ...

    def proofs(self, indexes: Sequence[int]) -> dict[int, InclusionProof]:
        """Inclusion proofs against `checkpoint` of those of ``indexes`` it covers."""
        ...

    def signer(self, index: int) -> tuple[str, str] | None:
        """The actor (USCC) and key name that signed the batch holding entry ``index``."""
        ...


class LedgerHistory:
    """An open ledger as a verdict's `History`: its latest checkpoint, opened with ``log_keys`` when given (the
    keys the caller trusts for this log) or else with the operator keys the ledger records.

    It remembers the events it decodes, so one `LedgerHistory` passed to many verdicts (a batch of scans) decodes
    a lot's commissioning event once; open a new one to see entries and checkpoints added since.
    """

    def __init__(self, ledger: Ledger, log_keys: Iterable[str | VerifierKey] = ()) -> None:
        self.ledger = ledger
        self._genealogy = genealogy_of([ledger.store], [ledger.path])
        keys = list(log_keys)
        notes = ledger.checkpoints()
        self._checkpoint: Checkpoint | None = None
        self._note = notes[-1] if notes else None
        self._names: dict[str, str] | None = None
        if notes:
            if keys:
                self._checkpoint = open_checkpoint(notes[-1], keys, origin=ledger.origin)
            else:
                self._checkpoint = ledger.open_checkpoint(notes[-1])
        elif keys:
            raise SignatureError(f"{ledger.path}: the ledger holds no signed checkpoint for the log keys given")

    @property
    def genealogy(self) -> Genealogy:
        return self._genealogy

    @property
    def checkpoint(self) -> Checkpoint | None:
        return self._checkpoint

    @property
    def note(self) -> str | None:
        return self._note

    def proofs(self, indexes: Sequence[int]) -> dict[int, InclusionProof]:
        cp = self._checkpoint
        if cp is None:
            return {}
        out = {}
        for index in indexes:
            if index < cp.size:
                proof = self.ledger.prove_inclusion(index, cp.size)
                if proof.root != cp.root:
                    raise ProofError(
                        f"{self.ledger.path}: the tree of {cp.size} entries has root {proof.root.hex()}, but the signed"
                        f" checkpoint says {cp.root.hex()}; the ledger differs from what its operator signed"
                    )
                out[index] = proof
        return out

    def signer(self, index: int) -> tuple[str, str] | None:
        # Ledger.signer reads the key table each time; a verdict asks for every event's signer.
        if self._names is None:
            self._names = {k.public.hex(): k.name for k in self.ledger.keys()}  # noqa: SIM118 (a list)
        row = self.ledger.store.lookup_floor(BATCHES, index)
        if row is None or row[-1] < index:
            return None
        return (str(row[1]), self._names.get(str(row[2]), "?"))


# ----------------------------------------------------------------------------------------------------
# The steps


def read_payload(payload: str | bytes) -> Label:
    """A scanner's text as a `Label`: the line end a scanner in keyboard mode sends (one trailing LF, CR LF or CR)
    is dropped first; everything else is read byte for byte (`labels.parse_label`)."""
    if isinstance(payload, (bytes, bytearray)):
        payload = bytes(payload).removesuffix(b"\n").removesuffix(b"\r")
    elif isinstance(payload, str):
        payload = payload.removesuffix("\n").removesuffix("\r")
    return labels.parse_label(payload)


def _check_issuer(result: Verdict, label: Label, issuers: Issuers) -> None:
    keys = issuers.keys_for(label)
    if label.kind == labels.VET_DRUG and not label.signed:
        result.reason(GENUINE, f"{label.trace_code} is a bare veterinary drug trace code: it carries no signature")
        return
    owner = (
        f"veterinary drug enterprise {(label.trace_code or '')[8:13]}"
        if label.kind == labels.VET_DRUG
        else (f"GTIN {label.gtin}")
    )
    if not label.signed:
        result.reason(FORGED, f"{label.code} carries no issuer signature; every tracechain GS1 label is signed")
        return
    if not keys:
        result.reason(FORGED, f"no issuer key is known for {owner}: the label's issuer is unknown")
        return
    check = labels.verify_label(label, keys)
    if check.status == labels.VALID:
        assert check.issuer is not None
        result.issuer = check.issuer
        result.reason(GENUINE, f"signed by {check.issuer.name}, the issuer of {owner}")
    elif check.status == labels.UNKNOWN_ISSUER:
        assert label.key_id is not None
        result.reason(FORGED, f"signed by key ID {label.key_id.hex()}, which is not an issuer key of {owner}")
    else:
        result.reason(FORGED, f"the issuer signature does not verify for this code, lot and expiry ({check.reason})")


def _kde(event: Event, name: str) -> Any:
    kde = event.data.get("tc:kde")
    return kde.get(name) if isinstance(kde, Mapping) else None


def _when(micros: int, zone: str) -> str:
    return event_model.format_time(micros, zone if re.fullmatch(r"[+-][0-9]{2}:[0-9]{2}", zone) else "+00:00")


def _local_date(micros: int, zone: str) -> date:
    return datetime.fromisoformat(_when(micros, zone)).date()


def _is_recall(event: Event) -> str | None:
    data = event.data
    if data.get("disposition") == "recalled":
        reason = _kde(event, "recall_reason")
        return "recalled" + (f" ({reason})" if isinstance(reason, str) else "")
    failed = data.get("disposition") == "non_conformant" or _kde(event, "inspection_result") == "non_conformant"
    if data.get("bizStep") in _INSPECTING_STEPS and failed:
        items = _kde(event, "failed_items")
        shown = f" (failed: {', '.join(map(str, items))})" if isinstance(items, list) and items else ""
        return "failed inspection" + shown
    return None


def _end(r: Related, code: str) -> str | None:
    """The end of life an event gives the item, by trace's custody rules (`custody.effect`): destroyed,
    decommissioned, sold, or consumed (used up as an ingredient, which only the item's own events can say)."""
    state = custody.effect(r.event, code if r.via == ITEM else r.through).state
    if state == "consumed" and r.via != ITEM:
        return None
    if state == "destroyed" or r.event.data.get("disposition") == "disposed":
        return "destroyed"
    return state if state in ("decommissioned", "sold", "consumed") else None


def _judge(
    result: Verdict,
    found: Evidence,
    label: Label | None,
    at: int,
    zone: str,
    scan: ScanRecord | None,
    policy: ScanPolicy,
) -> None:
    """Recalls, destruction, sale and expiry, from the events bearing on the item."""
    skew = int(policy.clock_skew.total_seconds() * 1_000_000)
    for r in found.related:
        why = _is_recall(r.event)
        if why is not None:
            through = "" if r.via == ITEM else f" through {vocabulary.word('via', r.via)} {r.through}"
            result.reason(RECALLED, f"{why} on {_when(r.time, zone)}{through}", r.index)
    held = [r for r in found.related if r.via in (ITEM, CONTAINER, LOT) and r.time <= at + skew]
    ends = [(r, _end(r, found.code)) for r in held]
    for r, end in ends:
        if end in _GONE or end == "consumed":
            through = "" if r.via == ITEM else f" ({vocabulary.word('via', r.via)} {r.through})"
            what = _GONE.get(end or "", "used up as an ingredient")
            result.reason(DESTROYED_OR_SOLD, f"recorded as {what} on {_when(r.time, zone)}{through}", r.index)
    sales = [r for r, end in ends if end == "sold" and r.via in (ITEM, CONTAINER)]
    if sales:
        sale = sales[0]
        who = _kde(sale.event, "enterprise_name") or _kde(sale.event, "enterprise_uscc") or "a shop"
        grace = int(policy.sold_grace.total_seconds() * 1_000_000)
        when = _when(sale.time, zone)
        if at - sale.time > grace:
            result.reason(
                DESTROYED_OR_SOLD,
                f"sold by {who} on {when}, more than {policy.sold_grace.days} days before"
                " this scan: the code should no longer be on sale",
                sale.index,
            )
        elif scan is not None and scan.first_sale and sale.time < at - skew:
            result.reason(
                DESTROYED_OR_SOLD, f"already sold by {who} on {when}, before this first-sale scan", sale.index
            )
        else:
            result.reason(GENUINE, f"sold by {who} on {when}; this scan is within {policy.sold_grace.days} days")
    expiries = [(label.expiry, "the label")] if label is not None and label.expiry is not None else []
    for r in found.related:
        text = _kde(r.event, "expiry_date")
        if r.via in (ITEM, LOT) and isinstance(text, str):
            try:
                expiries.append((date.fromisoformat(text), f"entry {r.index}"))
            except ValueError:
                continue
    if expiries:
        expiry, source = min(expiries)
        today = _local_date(at, zone)
        if today > expiry:
            result.reason(EXPIRED, f"expired on {expiry.isoformat()} (from {source}); scanned on {today.isoformat()}")


def _check_witnesses(result: Verdict, source: History, policy: WitnessPolicy) -> None:
    """The witness policy on the history's checkpoint: met, a `GENUINE` finding naming who cosigned; not met (or a
    named witness's cosignature that fails, or no checkpoint at all), an `UNWITNESSED` one saying how many of which
    witnesses cosigned and how many were required."""
    cp, note = source.checkpoint, source.note
    cosigned: list[CosignerKey] = []
    if cp is None or note is None:
        result.reason(UNWITNESSED, f"no signed checkpoint, so no witness has vouched for the history ({policy})")
    else:
        where = f"checkpoint {cp.origin} at size {cp.size}"
        try:
            found = verified_cosigners(note, policy.witnesses)
        except SignatureError as e:
            result.reason(UNWITNESSED, f"{where} carries a witness cosignature that fails: {e}")
        else:
            cosigned = [w for w in policy.witnesses if w in found]
            if len(cosigned) < policy.quorum:
                shortfall = quorum_shortfall(policy.witnesses, cosigned, policy.quorum)
                result.reason(UNWITNESSED, f"{where} lacks its witness quorum: {shortfall}")
            else:
                named = ", ".join(w.name for w in cosigned)
                result.reason(
                    GENUINE,
                    f"{where} cosigned by {len(cosigned)} of the {len(policy.witnesses)} named witnesses ({named});"
                    f" {policy.quorum} required",
                )
    result.witnesses = {
        "required": policy.quorum,
        "named": [w.name for w in policy.witnesses],
        "cosigned_by": [w.name for w in cosigned],
    }


def _facts(found: Evidence) -> ItemFacts:
    held = [r for r in found.related if r.via in (ITEM, CONTAINER, LOT)]
    shipped = [r.time for r in held if r.event.data.get("bizStep") == "shipping"]
    regions = set()
    for r in held:
        for name in ("enterprise_uscc", "receiver_uscc"):
            region = region_of_uscc(_kde(r.event, name))
            if region is not None:
                regions.add(region)
    return ItemFacts(min(shipped) if shipped else None, frozenset(regions))


def _location(event: Event, name: str) -> str | None:
    value = event.data.get(name)
    found = value.get("id") if isinstance(value, Mapping) else None
    return found if isinstance(found, str) else None


def _timeline(found: Evidence, history: History) -> list[TimelineEvent]:
    proofs = history.proofs([r.index for r in found.related])
    out = []
    for r in found.related:
        data = r.event.data
        zone = str(data.get("eventTimeZoneOffset", "+00:00"))
        enterprise = _kde(r.event, "enterprise_uscc")
        out.append(
            TimelineEvent(
                index=r.index,
                time=_when(r.time, zone),
                type=r.event.type,
                action=data.get("action"),
                step=data.get("bizStep"),
                disposition=data.get("disposition"),
                via=r.via,
                through=r.through,
                enterprise=enterprise if isinstance(enterprise, str) else None,
                enterprise_name=_kde(r.event, "enterprise_name"),
                signer=history.signer(r.index),
                read_point=_location(r.event, "readPoint"),
                biz_location=_location(r.event, "bizLocation"),
                region=region_of_uscc(enterprise),
                proof=proofs.get(r.index),
            )
        )
    return out


def new_scan(
    when: datetime,
    region: str,
    *,
    lat: float | None = None,
    lon: float | None = None,
    by: str = "",
    first_sale: bool = False,
    code: str = "",
) -> ScanRecord:
    """A scan to judge (and record): ``when`` with its time zone, a GB/T 2260 region, optional WGS 84 coordinates,
    who scanned and whether at the point of sale. Bad values raise `ValidationError` naming them."""
    if not isinstance(when, datetime) or when.utcoffset() is None:
        raise ValidationError(f"scan time: expected a date and time with a time zone, found {when!r}")
    Place(region, lat, lon)
    if not isinstance(by, str) or len(by) > 200 or any(not ch.isprintable() for ch in by):
        raise ValidationError(f"scanned by: expected up to 200 printable characters, found {by!r}")
    zone = _zone_of(when)
    micros = (when - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    return ScanRecord(code, micros, zone, region, lat, lon, by, bool(first_sale))


def verdict(
    scanned: str | bytes | Label | None,
    history: Ledger | History,
    *,
    issuers: Issuers | Mapping[str, str | VerifierKey | Iterable[str | VerifierKey]] | None = None,
    code: str | None = None,
    log_keys: Iterable[str | VerifierKey] = (),
    scan: ScanRecord | None = None,
    scans: Iterable[ScanRecord] = (),
    at: datetime | None = None,
    policy: ScanPolicy = DEFAULT_POLICY,
    witnesses: Sequence[CosignerKey | str] = (),
    quorum: int | None = None,
) -> Verdict:
    """The verdict on a scanned label (steps in the module docstring).

    ``scanned`` is what the scanner read (text or bytes) or a parsed `Label`; None judges ``code`` with no label
    (a proof bundle's item, say: no issuer signature is checked then). ``history`` is an open `Ledger` (its latest
    checkpoint opened with ``log_keys``, or with its own operator keys when none are given) or another `History`
    such as a verified bundle's. ``scan`` is this scan (`new_scan`): its time is the moment judged (else ``at``,
    else now), and it joins ``scans``, the code's earlier recorded scans, for clone detection (none: no clone
    check). ``witnesses`` (cosigner keys) and ``quorum`` (default: all of them) are a witness policy: that many of
    them must have cosigned the checkpoint the history is proved against, or the verdict is at best
    ``UNWITNESSED``. Bad input raises `tracechain.errors.TracechainError` subclasses (`QuorumError` for a policy
    that cannot be met); a failed check is a verdict.
    """
    witnessing = WitnessPolicy.of(witnesses, quorum)
    owners = issuers if isinstance(issuers, Issuers) else Issuers(issuers)
    label = None if scanned is None else scanned if isinstance(scanned, Label) else read_payload(scanned)
    if label is None:
        if code is None:
            raise ValidationError("a verdict needs a scanned label or an item code")
        try:
            subject = identifiers.canonical_code(code)
        except IdentifierError as e:
            raise ValidationError(f"item code: {e}") from e
    else:
        subject = label.code
    result = Verdict(subject, code=subject, label=label)
    source = LedgerHistory(history, log_keys) if isinstance(history, Ledger) else history
    result.checkpoint = source.checkpoint
    if label is not None:
        _check_issuer(result, label, owners)
        if result.verdict == FORGED:
            return result  # a forged label says nothing about the item whose code it copies
    else:
        result.reason(GENUINE, "no label was scanned: the issuer signature was not checked")
    if witnessing is not None:
        _check_witnesses(result, source, witnessing)
    found = collect(source.genealogy, subject, lot_hint=None if label is None else label.lot)
    if not found.own():
        result.reason(UNKNOWN_CODE, f"no event in the ledger names {subject}")
        return result
    if scan is not None:
        moment, zone = scan.time, scan.zone
    else:
        when = at or datetime.now(UTC)
        if when.utcoffset() is None:
            raise ValidationError(f"verdict time: expected a date and time with a time zone, found {when!r}")
        moment = (when - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
        zone = _zone_of(when)
    _judge(result, found, label, moment, zone, scan, policy)
    seen = [dataclasses.replace(s, code=subject) if not s.code else s for s in scans]
    if scan is not None and not any(s.id and s.id == scan.id for s in seen):
        seen.append(dataclasses.replace(scan, code=subject))
    for clone in clone_reasons([s for s in seen if s.code == subject], _facts(found), policy):
        result.reason(SUSPECTED_CLONE, clone.message)
    result.timeline = _timeline(found, source)
    proved = sum(1 for t in result.timeline if t.proof is not None)
    cp = source.checkpoint
    if cp is None:
        result.reason(GENUINE, f"{len(result.timeline)} events; no signed checkpoint, so none is proved")
    else:
        result.reason(
            GENUINE,
            f"{proved} of {len(result.timeline)} events proved in checkpoint {cp.origin} at size {cp.size}"
            + ("" if proved == len(result.timeline) else "; the others are newer than the checkpoint")
            + ("" if witnessing is None or proved == len(result.timeline) else ", which no witness has vouched for"),
        )
    return result


def _zone_of(when: datetime) -> str:
    offset = when.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
