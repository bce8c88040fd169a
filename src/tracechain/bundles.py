"""Offline proof bundles: everything needed to check an item's history with verifier keys alone, no ledger.

A bundle holds the entries a scan verdict rests on (`tracechain.evidence`: the item's events, its containers',
its lot's, its ingredient lots'), and what makes each of them checkable: its inclusion proof against a signed
checkpoint, the seal of its batch (the writer's signature over the batch's Merkle root) with the proof that the
entry is one of the leaves under that root, and the key entries (and delegations) that say whose key signed.
Each entry's proof is a C2SP tlog-proof (``c2sp.org/tlog-proof@v1``) whose ``extra`` line carries the entry's
bytes, so any tlog-proof reader can check every entry against the checkpoint. The byte layout is docs/SPEC.md
§10; `write_bundle` makes one from a ledger, `parse_bundle` reads one strictly (one spelling: any other is
refused), `verify_bundle` checks one and returns a `BundleReport` whose `history` a verdict can use. A witness
policy (`verification.WitnessPolicy`: k of n named witnesses) makes a checkpoint without its cosignatures a problem.

The module is longer than most because the layout, its one-spelling reader and the checks are one specification
read together (as `tracechain.labels` is for label payloads); apart, each would restate the others' rules.

What a bundle cannot prove is completeness: that no event about the item was left out. It proves every event in
it is in the log the checkpoint commits to, was signed by the key its seal names, and that this key was registered
to that actor by the operator; a full ``tracechain verify`` of the ledger checks the rest (revocations among them).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final

from tracechain import identifiers
from tracechain.checkpoints import Checkpoint, open_checkpoint
from tracechain.entries import Entry, KeyRegistry, batch_message, speaks_for
from tracechain.errors import (
    BundleError,
    EncodingError,
    IdentifierError,
    ProofError,
    SignatureError,
    TracechainError,
)
from tracechain.events import Event
from tracechain.evidence import MemoryStore, RecordingStore, collect, genealogy_of
from tracechain.keys import VerifierKey
from tracechain.ledger import Ledger
from tracechain.notes import parse_note
from tracechain.proofs import InclusionProof
from tracechain.report import Report
from tracechain.storage.projections import DELEGATIONS
from tracechain.trace import Genealogy

if TYPE_CHECKING:  # loaded where a bundle is checked: `prove --bundle` and lookups need neither
    from tracechain.verification import WitnessPolicy
    from tracechain.witness import CosignerKey

__all__ = [
    "BUNDLE_HEADER",
    "MAX_BUNDLE_BYTES",
    "TLOG_PROOF_HEADER",
    "BatchPath",
    "Bundle",
    "BundleEntry",
    "BundleHistory",
    "BundleReport",
    "parse_bundle",
    "verify_bundle",
    "write_bundle",
]

BUNDLE_HEADER: Final = "tracechain/proof-bundle@v1"
"""The first line of every bundle."""
TLOG_PROOF_HEADER: Final = "c2sp.org/tlog-proof@v1"
"""The first line of each entry's C2SP tlog-proof."""
MAX_BUNDLE_BYTES: Final = 64 << 20
"""A bundle longer than this is refused unread (one item's history is kilobytes; a lot of 1,000 units
commissioned in one event makes that event about 80 KB)."""

_HASH_SIZE: Final = 32
_INDEX_RE: Final = re.compile(r"0|[1-9][0-9]{0,18}")
_SIGNATURE_PREFIX: Final = "\u2014 "


@dataclass(frozen=True, slots=True)
class BundleEntry:
    """One ledger entry in a bundle: its index, its exact bytes, and its audit path to the checkpoint's root."""

    index: int
    data: bytes
    path: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class BatchPath:
    """Where an entry sits in its batch: the seal that closes the batch, and the audit path from the entry's leaf
    (at ``index - first``) to the batch root the seal signs."""

    index: int
    seal: int
    path: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class Bundle:
    """A proof bundle as read: the item code, the signed checkpoint note, the entries (ascending) and the batch
    paths of every entry but the seals (ascending). `to_bytes` gives its one spelling."""

    code: str
    checkpoint: str
    entries: tuple[BundleEntry, ...]
    batches: tuple[BatchPath, ...]

    def to_bytes(self) -> bytes:
        lines = [BUNDLE_HEADER, f"code {self.code}"]
        for entry in self.entries:
            lines += [TLOG_PROOF_HEADER, f"extra {_b64(entry.data)}", f"index {entry.index}"]
            lines += [_b64(h) for h in entry.path]
            lines.append("")
            lines.append(self.checkpoint.removesuffix("\n"))
        for batch in self.batches:
            lines.append(f"batch {batch.index} {batch.seal}")
            lines += [_b64(h) for h in batch.path]
        body = ("\n".join(lines) + "\n").encode("utf-8")
        return body + f"sha256 {hashlib.sha256(body).hexdigest()}\n".encode("ascii")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# ----------------------------------------------------------------------------------------------------
# Writing


def write_bundle(ledger: Ledger, code: str) -> Bundle:
    """The proof bundle of the item ``code`` (any spelling) against the ledger's latest signed checkpoint.

    Raises `BundleError` when no event names the item, and `ProofError` when the ledger has no checkpoint or an
    entry the bundle needs is newer than it (sign a checkpoint first).
    """
    try:
        subject = identifiers.canonical_code(code)
    except IdentifierError as e:
        raise BundleError(f"item code: {e}") from e
    notes = ledger.checkpoints()
    if not notes:
        raise ProofError(f"{ledger.path} has no signed checkpoint to prove against; sign one first")
    note = notes[-1]
    cp = ledger.open_checkpoint(note)
    recording = RecordingStore(ledger.store)
    found = collect(genealogy_of([recording], [ledger.path]), subject)
    if not found.own():
        raise BundleError(f"no event in {ledger.path} names {subject}; there is nothing to bundle")
    wanted: set[int] = set()
    seals: dict[int, tuple[int, InclusionProof]] = {}
    keys = {k.public: k for k in ledger.keys()}  # noqa: SIM118 (Ledger.keys() is a list of KeyInfo)
    events = {r.index: r.event for r in found.related}
    # Every entry the genealogy read, not only the events it kept: the walk over the bundle must give the same answer.
    todo = recording.read | set(found.indexes)
    # Each entry needs its batch's seal; each seal the entry registering its key, back to the genesis; an event
    # recorded for another enterprise the delegation that let its signer do so.
    while todo:
        wanted |= todo
        batches = ledger.prove_in_batch(todo)
        seals.update(batches)
        following: set[int] = set()
        for index, (seal_index, _) in batches.items():
            body = ledger.entry(seal_index).body
            if not isinstance(body, dict):
                continue
            public = body.get("public")
            key = keys.get(public) if isinstance(public, bytes) else None
            if key is not None:
                following.add(key.registered)
            actor = body.get("actor")
            if index not in events and ledger.entry(index).kind == "event":
                events[index] = Event.from_canonical(ledger.entry(index).body)
            enterprise = speaks_for(events[index].data) if index in events else None
            if isinstance(actor, str) and enterprise is not None and enterprise != actor:
                following |= {
                    r[-1] for r in ledger.store.lookup(DELEGATIONS, actor) if r[1] == enterprise and r[-1] < index
                }
        seal_indexes = {s for s, _ in batches.values()}
        wanted |= seal_indexes
        todo = following - wanted - seal_indexes
    too_new = sorted(i for i in wanted if i >= cp.size)
    if too_new:
        raise ProofError(
            f"entry {too_new[0]} is newer than the latest checkpoint (size {cp.size}); sign a checkpoint"
            f" (tracechain checkpoint {ledger.path} --key OPERATOR_KEY) and make the bundle again"
        )
    entries = tuple(
        BundleEntry(i, _entry_bytes(ledger, i), ledger.prove_inclusion(i, cp.size).path) for i in sorted(wanted)
    )
    paths = tuple(BatchPath(i, seals[i][0], seals[i][1].path) for i in sorted(wanted) if i in seals)
    return Bundle(subject, note, entries, paths)


def _entry_bytes(ledger: Ledger, index: int) -> bytes:
    data = ledger.store.entry(index)
    if data is None:
        raise ProofError(f"{ledger.path}: entry {index} is missing")
    return bytes(data)


# ----------------------------------------------------------------------------------------------------
# Reading


class _Lines:
    """The bundle's lines with a cursor, for error messages that name the line."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.at = 0

    def peek(self) -> str | None:
        return self.lines[self.at] if self.at < len(self.lines) else None

    def take(self, what: str) -> str:
        line = self.peek()
        if line is None:
            raise BundleError(f"proof bundle ends at line {self.at + 1}; expected {what}")
        self.at += 1
        return line

    def fail(self, what: str, found: str) -> BundleError:
        shown = found if len(found) <= 60 else found[:60] + "..."
        return BundleError(f"proof bundle line {self.at}: expected {what}, found {shown!r}")


def _hash_line(lines: _Lines) -> bytes:
    line = lines.take("a base64 SHA-256 hash")
    try:
        value = base64.b64decode(line, validate=True)
    except binascii.Error:
        value = b""
    if len(value) != _HASH_SIZE:
        raise lines.fail("a base64 SHA-256 hash (44 characters)", line)
    return value


def _number(lines: _Lines, text: str, what: str) -> int:
    if _INDEX_RE.fullmatch(text) is None:
        raise lines.fail(f"{what} in decimal without leading zeros", text)
    return int(text)


def _read_block(lines: _Lines, note: str | None) -> tuple[BundleEntry, str]:
    extra = lines.take("an extra line with the entry's bytes")
    if not extra.startswith("extra "):
        raise lines.fail("'extra <base64 of the entry>'", extra)
    try:
        data = base64.b64decode(extra[6:], validate=True)
    except binascii.Error as e:
        raise lines.fail("the entry's bytes in standard base64", extra) from e
    index_line = lines.take("'index <n>'")
    if not index_line.startswith("index "):
        raise lines.fail("'index <n>'", index_line)
    index = _number(lines, index_line[6:], "the entry index")
    path = []
    while lines.peek() not in ("", None):
        path.append(_hash_line(lines))
    if lines.take("a blank line before the checkpoint") != "":
        raise lines.fail("a blank line", lines.lines[lines.at - 1])
    text = []
    while lines.peek() not in ("", None):
        text.append(lines.take("checkpoint text"))
    lines.take("a blank line between the checkpoint text and its signatures")
    signatures = []
    while (line := lines.peek()) is not None and line.startswith(_SIGNATURE_PREFIX):
        signatures.append(lines.take("a signature line"))
    block_note = "\n".join(text) + "\n\n" + "\n".join(signatures) + "\n"
    if note is not None and block_note != note:
        raise BundleError(f"proof bundle: the checkpoint of entry {index} differs from the first entry's")
    return BundleEntry(index, data, tuple(path)), block_note


def parse_bundle(data: bytes) -> Bundle:
    """Read a bundle strictly: `BundleError` (naming the line) for anything that is not exactly the one spelling
    `Bundle.to_bytes` writes, including a digest that does not match (damage) and a bundle cut short."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise BundleError(f"a proof bundle is bytes, found {type(data).__name__}")
    raw = bytes(data)
    if len(raw) > MAX_BUNDLE_BYTES:
        raise BundleError(f"proof bundle of {len(raw)} bytes: at most {MAX_BUNDLE_BYTES} are read")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BundleError(f"proof bundle: expected UTF-8 text, found byte 0x{raw[e.start]:02x} at {e.start}") from e
    if not text.startswith(BUNDLE_HEADER + "\n"):
        raise BundleError(f"not a proof bundle: the first line must be {BUNDLE_HEADER}")
    body, sep, last = text.rstrip("\n").rpartition("\n")
    expected = hashlib.sha256((body + "\n").encode("utf-8")).hexdigest()
    if not sep or last != f"sha256 {expected}" or not text.endswith("\n") or text.endswith("\n\n"):
        raise BundleError("proof bundle is damaged or cut short: its last line is not the sha256 of the lines before")
    lines = _Lines(body.split("\n"))
    lines.take("the header")
    code_line = lines.take("'code <item code>'")
    if not code_line.startswith("code "):
        raise lines.fail("'code <item code>'", code_line)
    code = code_line[5:]
    entries: list[BundleEntry] = []
    note: str | None = None
    while lines.peek() == TLOG_PROOF_HEADER:
        lines.take(TLOG_PROOF_HEADER)
        entry, note = _read_block(lines, note)
        entries.append(entry)
    if note is None:
        raise BundleError("proof bundle holds no entries")
    batches: list[BatchPath] = []
    while (line := lines.peek()) is not None:
        lines.take("a batch line")
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "batch":
            raise lines.fail("'batch <entry index> <seal index>' or the end", line)
        index, seal = _number(lines, parts[1], "the entry index"), _number(lines, parts[2], "the seal index")
        path = []
        while (following := lines.peek()) is not None and not following.startswith("batch "):
            path.append(_hash_line(lines))
        batches.append(BatchPath(index, seal, tuple(path)))
    bundle = Bundle(code, note, tuple(entries), tuple(batches))
    if bundle.to_bytes() != raw:
        raise BundleError("proof bundle is not in its one spelling (order, base64, numbers or line layout differ)")
    return bundle


# ----------------------------------------------------------------------------------------------------
# Verifying


@dataclass(slots=True)
class BundleReport(Report):
    """What checking a proof bundle found. True when every entry is proved in the checkpoint, every batch
    signature verifies under a key the bundle's key entries register, and the item is named by an event."""

    code: str = ""
    checkpoint: Checkpoint | None = None
    entries: int = 0
    events: int = 0
    signatures_checked: int = 0
    bundle: Bundle | None = None
    witnesses: WitnessPolicy | None = None
    cosigned_by: tuple[CosignerKey, ...] = ()
    _history: BundleHistory | None = field(default=None, repr=False)

    what: ClassVar[str] = "proof bundle fails verification"

    @property
    def history(self) -> BundleHistory:
        """The verified events, proofs and signers, for `tracechain.scan.verdict`; only for a bundle that passed."""
        if not self.ok or self._history is None:
            raise BundleError(f"{self.subject}: the bundle failed verification; its history cannot be used")
        return self._history

    def _where(self, problem: Any) -> str:
        return f"entry {problem.index}" if problem.index is not None else "the bundle"

    def to_dict(self) -> dict[str, Any]:
        cp = self.checkpoint
        return {
            "ok": self.ok,
            "code": self.code,
            "checkpoint": None if cp is None else {"origin": cp.origin, "size": cp.size, "root": cp.root.hex()},
            "entries": self.entries,
            "events": self.events,
            "signatures_checked": self.signatures_checked,
            "witnesses": _witnessing(self.witnesses, self.cosigned_by),
            "problems": [p.to_dict() for p in self.sorted_problems()],
        }


def _witnessing(policy: WitnessPolicy | None, cosigned: Sequence[CosignerKey]) -> dict[str, Any] | None:
    """The JSON of a witness policy and who met it: ``{"required", "named", "cosigned_by"}`` (key names), or None
    when no witness was asked for."""
    if policy is None:
        return None
    return {
        "required": policy.quorum,
        "named": [w.name for w in policy.witnesses],
        "cosigned_by": [w.name for w in cosigned],
    }


class BundleHistory:
    """A verified bundle as a verdict's history (`tracechain.scan.History`): trace's genealogy over its entries."""

    def __init__(
        self,
        checkpoint: Checkpoint,
        entries: Mapping[int, bytes],
        proofs: Mapping[int, InclusionProof],
        signers: Mapping[int, tuple[str, str]],
        name: str,
        note: str = "",
    ) -> None:
        self._checkpoint = checkpoint
        self._note = note
        self._genealogy = genealogy_of([MemoryStore(entries, name)], [name])
        self._proofs = dict(proofs)
        self._signers = dict(signers)

    @property
    def genealogy(self) -> Genealogy:
        return self._genealogy

    @property
    def checkpoint(self) -> Checkpoint | None:
        return self._checkpoint

    @property
    def note(self) -> str | None:
        """The bundle's signed checkpoint note, with every cosignature line it carries."""
        return self._note or None

    def proofs(self, indexes: Sequence[int]) -> dict[int, InclusionProof]:
        return {i: self._proofs[i] for i in indexes if i in self._proofs}

    def signer(self, index: int) -> tuple[str, str] | None:
        return self._signers.get(index)


def _open_strictly(
    note: str, verifiers: Sequence[VerifierKey], policy: WitnessPolicy | None, report: BundleReport
) -> Checkpoint | None:
    """The checkpoint, opened with the log's verifier keys. Without a witness policy every signature line must be
    checked: a line no verifier key can check is a problem here (in a bundle nothing may go unchecked), unlike
    C2SP's rule for notes in general. With one, the policy says which cosignatures count (`_check_quorum`), and
    lines by keys neither given nor named are passed over, as C2SP passes them over: a verifier who trusts one
    witness must not be made to name, and so count, every other witness the log asked."""
    try:
        _, signatures = parse_note(note)
        known = {(v.name, v.key_id) for v in verifiers}
        for s in signatures if policy is None else ():
            if (s.name, s.key_id) not in known:
                report.add(
                    None,
                    f"the checkpoint carries a signature by {s.name} ({s.key_id.hex()}), a key not given: without a"
                    " witness policy every signature on a bundle's checkpoint must be checked (name the witnesses"
                    " whose cosignatures count, and the others are passed over)",
                )
        return open_checkpoint(note, verifiers)
    except SignatureError as e:
        report.add(None, f"checkpoint: {e}")
        return None


def _check_quorum(note: str, cp: Checkpoint, policy: WitnessPolicy, report: BundleReport) -> None:
    """k of the n named witnesses must have cosigned the bundle's checkpoint: short of that, a problem saying how
    many of which cosigned and how many were required; a named witness's cosignature that fails, a problem too."""
    from tracechain.witness import quorum_shortfall, verified_cosigners

    try:
        found = verified_cosigners(note, policy.witnesses)
    except SignatureError as e:
        report.add(None, f"the checkpoint (size {cp.size}) carries a witness cosignature that fails: {e}")
        return
    report.cosigned_by = tuple(w for w in policy.witnesses if w in found)
    if len(found) < policy.quorum:
        shortfall = quorum_shortfall(policy.witnesses, report.cosigned_by, policy.quorum)
        report.add(None, f"the checkpoint (size {cp.size}) lacks its witness quorum ({policy}): {shortfall}")


def _check_entries(bundle: Bundle, cp: Checkpoint, report: BundleReport) -> dict[int, Entry]:
    entries: dict[int, Entry] = {}
    previous = -1
    for item in bundle.entries:
        if item.index <= previous:
            report.add(item.index, f"entries out of order: {item.index} after {previous}")
        previous = item.index
        try:
            entry = Entry.from_bytes(item.data, expected_index=item.index)
            InclusionProof(item.index, cp.size, entry.leaf_hash, cp.root, item.path).verify()
        except (EncodingError, ProofError) as e:
            report.add(item.index, f"not proved in the checkpoint: {e}")
            continue
        entries[item.index] = entry
    return entries


def _registry(entries: Mapping[int, Entry], report: BundleReport) -> KeyRegistry:
    registry = KeyRegistry()
    for index in sorted(entries):
        entry = entries[index]
        if entry.kind in ("genesis", "key", "revoke", "delegation"):
            try:
                registry.apply(index, entry.kind, entry.body)
            except (SignatureError, EncodingError) as e:
                report.add(index, f"{entry.kind} entry: {e}")
    return registry


def _check_seals(
    bundle: Bundle, entries: Mapping[int, Entry], registry: KeyRegistry, origin: str, report: BundleReport
) -> dict[int, tuple[str, str]]:
    """Every entry's batch: the seal is in the bundle and covers it, the path leads to the sealed root, the
    signature verifies, the key may sign such a batch, and events name only enterprises the signer speaks for."""
    paths = {b.index: b for b in bundle.batches}
    expected = sorted(i for i, e in entries.items() if e.kind != "seal")
    if sorted(paths) != expected:
        report.add(None, "the bundle's batch paths do not match its entries (one per entry that is not a seal)")
    signers: dict[int, tuple[str, str]] = {}
    checked: set[int] = set()
    for index in expected:
        batch = paths.get(index)
        seal = entries.get(batch.seal) if batch is not None else None
        if batch is None or seal is None or seal.kind != "seal":
            report.add(index, "the seal of its batch is not in the bundle")
            continue
        body = seal.body
        try:
            first, count, public, root, sig, actor = (
                body["first"],
                body["count"],
                body["public"],
                body["root"],
                body["sig"],
                body["actor"],
            )
            if not (type(first) is int and type(count) is int and first + count == seal.index):
                raise TypeError("the seal does not close the batch before it")
            if not first <= index < seal.index:
                raise TypeError(f"the seal covers entries {first}..{seal.index - 1}")
            InclusionProof(index - first, count, entries[index].leaf_hash, root, batch.path).verify()
        except (KeyError, TypeError, ProofError) as e:
            report.add(index, f"not in the batch sealed at entry {seal.index}: {e}")
            continue
        kinds = {entries[i].kind for i in range(first, seal.index) if i in entries}
        for problem in registry.signer_problems(public, first, kinds, actor):
            report.add(seal.index, problem)
        if seal.index not in checked:
            checked.add(seal.index)
            report.signatures_checked += 1
            if not isinstance(public, bytes) or not isinstance(sig, bytes) or not _verify(public, origin, body):
                report.add(seal.index, "batch signature does not verify")
        event = entries[index].event if entries[index].kind == "event" else None
        enterprise = None if event is None else speaks_for(event.data)
        if enterprise is not None and isinstance(actor, str) and not registry.may_speak_for(actor, enterprise, first):
            report.add(index, f"event recorded for {enterprise} in a batch signed by {actor}, with no delegation shown")
        key = registry.get(public)
        signers[index] = (str(actor), key.name if key is not None else "?")
    return signers


def _verify(public: bytes, origin: str, body: Mapping[str, Any]) -> bool:
    from tracechain.keys import verify_ed25519

    message = batch_message(origin, body["first"], body["count"], body["root"])
    return verify_ed25519(public, message, body["sig"])


def verify_bundle(
    data: bytes | Bundle,
    verifiers: Iterable[str | VerifierKey],
    *,
    subject: str = "bundle",
    witnesses: Sequence[CosignerKey | str] = (),
    quorum: int | None = None,
) -> BundleReport:
    """Check a proof bundle with the log's verifier keys and the witnesses' cosigner keys; never raises for a bad
    bundle.

    Steps: read it strictly (`parse_bundle`); open the checkpoint, every signature line by a given key (a log
    verifier key, or a named witness's cosigner key); with ``witnesses`` named, ``quorum`` of them (default: all)
    must have cosigned it; prove each entry in it; replay the key entries; check each entry's batch path, seal
    and signature; find the item among the events. Malformed key strings raise `SignatureError`, a witness
    policy that cannot be met `QuorumError`, before anything is read.
    """
    from tracechain.verification import WitnessPolicy

    keys = [v if isinstance(v, VerifierKey) else VerifierKey.parse(v) for v in verifiers]
    policy = WitnessPolicy.of(witnesses, quorum)
    report = BundleReport(subject, witnesses=policy)
    try:
        bundle = data if isinstance(data, Bundle) else parse_bundle(data)
    except BundleError as e:
        report.add(None, str(e))
        return report
    report.bundle, report.code = bundle, bundle.code
    if not keys:
        report.add(None, "no verifier key was given to check the checkpoint with")
        return report
    cp = _open_strictly(bundle.checkpoint, keys, policy, report)
    if cp is None:
        return report
    report.checkpoint = cp
    if policy is not None:
        _check_quorum(bundle.checkpoint, cp, policy, report)
    entries = _check_entries(bundle, cp, report)
    report.entries = len(entries)
    registry = _registry(entries, report)
    signers = _check_seals(bundle, entries, registry, cp.origin, report)
    events: dict[int, Event] = {}
    for index, entry in entries.items():
        if entry.kind == "event":
            try:
                event = entry.event
            except TracechainError as e:
                report.add(index, f"event: {e}")
                continue
            assert event is not None
            events[index] = event
    report.events = len(events)
    if not any(bundle.code in e.item_codes() for e in events.values()):
        report.add(None, f"no event in the bundle names its item {bundle.code}")
    if report.ok:
        proofs = {
            i: InclusionProof(
                i, cp.size, entries[i].leaf_hash, cp.root, next(b.path for b in bundle.entries if b.index == i)
            )
            for i in events
        }
        held = {e.index: e.data for e in bundle.entries if e.index in entries}
        report._history = BundleHistory(cp, held, proofs, signers, report.subject, bundle.checkpoint)
    return report
