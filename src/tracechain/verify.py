"""Whole-ledger verification: every byte re-read, re-hashed and re-checked, in constant memory.

`verify` returns a `VerifyReport` (true when the ledger is intact); `check` raises `VerificationError` instead.
The steps, in the order `_Verifier.run` takes them:

1. open the file read-only, run SQLite's own integrity check (indexes included) and compare the tables with
   those tracechain creates;
2. stream the entries in index order: contiguous indices, canonical bytes, the chain link to the previous leaf
   hash, each kind's body (genesis first and only first, events in canonical form, keys, revocations, seals);
3. for each seal: it covers exactly the entries since the previous seal, its root is the root of their leaf
   hashes, its key was registered (by the operator for operator batches) and not revoked before it, and its
   signature verifies over `batch_message` (signatures checked in batches, on all cores for large ledgers);
4. rebuild the tree leaf by leaf and compare it with every stored tile, so proofs served from tiles are sound;
5. compare the item index (every row) with the events, and the registered-keys table with the key entries;
6. at the size of every stored checkpoint and every checkpoint the caller holds, compare the root, check the
   signature against the operator keys, and report truncation, rollback or a fork (two different roots at one
   size) with both checkpoints as evidence.

Step 2 goes span by span: `_scan` reads, hashes and chains a span of entries and checks its event entries, in a
worker process for a large ledger; this process joins the spans in order (`_Verifier._join`) and does what carries
state from entry to entry (steps 3, 4 and 6, and the non-event entries of step 2). The integrity-only pass
(``contents=False``) takes steps 2–4 and 6 without decoding event bodies.

A damaged file gives problems in the report, never an exception other than tracechain's own.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tracechain import encoding, merkle
from tracechain.checkpoints import Checkpoint, open_checkpoint, parse_unverified
from tracechain.errors import EncodingError, StorageError, TracechainError, VerificationError
from tracechain.events import Event, item_codes
from tracechain.keys import VerifierKey, verify_ed25519
from tracechain.ledger import ENTRY_VERSION, ZERO_HASH, Entry, batch_message
from tracechain.notes import parse_note
from tracechain.store import Store
from tracechain.tiles import FULL_TILE_BYTES, TILE_WIDTH, TileEdge

__all__ = ["Problem", "VerifyReport", "check", "verify"]

_PARALLEL_SIGNATURES = 512  # below this many signatures a process pool costs more than it saves
_SIGNATURE_CHUNK = 256

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing found wrong: the entry it concerns (None for the file as a whole) and what is wrong.

    ``until`` is set when the problem is known only to lie somewhere in entries ``index`` .. ``until - 1``: a
    checkpoint whose root the entries do not give shows that the ledger differs from it, not where.
    """

    index: int | None
    message: str
    evidence: tuple[str, ...] = ()
    until: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "message": self.message}
        if self.until is not None:
            out["until"] = self.until
        if self.evidence:
            out["evidence"] = list(self.evidence)
        return out


@dataclass(slots=True)
class VerifyReport:
    """What `verify` found. True when nothing is wrong."""

    path: str
    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    problems: list[Problem] = field(default_factory=list)
    events: int = 0
    batches: int = 0
    signatures_checked: int = 0
    checkpoints_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def __bool__(self) -> bool:
        return self.ok

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
            "problems": [p.to_dict() for p in sorted(self.problems, key=_problem_order)],
        }

    def raise_for_problems(self) -> None:
        if self.problems:
            first = sorted(self.problems, key=_problem_order)[0]
            where = f"entry {first.index}" if first.index is not None else "the file"
            raise VerificationError(f"{self.path}: ledger fails verification at {where}: {first.message}", self)


def _problem_order(p: Problem) -> tuple[int, int]:
    return (0, -1) if p.index is None else (1, p.index)


def verify(
    path: str | os.PathLike[str],
    checkpoints: Iterable[str] = (),
    *,
    signatures: bool = True,
    contents: bool = True,
    workers: int | None = None,
    progress: Progress | None = None,
) -> VerifyReport:
    """Verify the whole ledger at ``path``; see the module docstring for the steps.

    ``checkpoints`` are signed checkpoints held from earlier (outside the ledger): the ledger must extend each.
    ``signatures=False`` skips the Ed25519 checks of batch seals. ``contents=False`` is the integrity-only pass:
    every entry's bytes are still hashed and chained and the tree, tiles, seals and checkpoints all checked, but
    event bodies are not decoded, and SQLite's b-tree check and the derived item index are skipped; it finds any
    change to the hashed bytes, not a writer that stored well-hashed but malformed events; it reads and hashes the
    entries of a large ledger on all cores. ``workers`` caps the cores used for signatures and for that pass
    (default: all; 1 keeps everything in this process). ``progress(done, total)`` is called as entries are checked.
    """
    report = VerifyReport(str(path))
    try:
        store = Store(path, readonly=True)
    except TracechainError as e:
        report.problems.append(Problem(None, str(e)))
        return report
    try:
        _Verifier(store, report, list(checkpoints), signatures, workers, progress, contents=contents).run()
    except StorageError as e:
        report.problems.append(Problem(None, f"the file is damaged: {e}"))
    finally:
        store.close()
    return report


def check(path: str | os.PathLike[str], checkpoints: Iterable[str] = (), **options: Any) -> VerifyReport:
    """As `verify`, but raises `VerificationError` (carrying the report) when anything is wrong."""
    report = verify(path, checkpoints, **options)
    report.raise_for_problems()
    return report


@dataclass(slots=True)
class _Key:
    public: bytes
    name: str
    actor: str
    role: str
    registered: int
    revoked: int | None = None


@dataclass(slots=True)
class _Batch:
    seal_index: int
    public: bytes
    message: bytes
    signature: bytes


class _Verifier:
    def __init__(
        self,
        store: Store,
        report: VerifyReport,
        held: list[str],
        signatures: bool,
        workers: int | None,
        progress: Progress | None,
        *,
        contents: bool = True,
    ) -> None:
        self.store = store
        self.report = report
        self.contents = contents
        self.held = held
        self.signatures = signatures
        self.workers = workers
        self.progress = progress
        self.origin = ""
        self.keys: dict[bytes, _Key] = {}
        self.item_rows = 0
        self.item_digest = 0
        self.stored_items = _StoredItems(store)
        self.complete = True
        self.pending: list[_Batch] = []
        self.stored: list[tuple[int, str]] = []
        self.held_sizes: list[tuple[int, str]] = []
        self.beyond: list[tuple[str, int, str]] = []
        self.held_match = 0  # the size of the largest held checkpoint whose root the entries give
        self.any_match = 0  # the same over held and stored checkpoints
        self.stored_match: list[tuple[int, str]] = []
        self.mismatches: list[tuple[int, int, str, str, bytes, bytes]] = []

    def problem(self, index: int | None, message: str, *evidence: str, until: int | None = None) -> None:
        self.report.problems.append(Problem(index, message, tuple(evidence), until))

    def run(self) -> None:
        store = self.store
        with store.read():
            for message in store.integrity_check()[:5] if self.contents else ():
                self.problem(None, f"SQLite finds the file damaged: {message}")
            for message in store.schema_problems()[:5]:
                self.problem(None, f"the file's tables are not a ledger's: {message}")
            self.origin = store.meta("origin") or ""
            if not self.origin:
                self.problem(None, "the ledger records no origin")
            total = store.size()
            targets = self._checkpoint_targets(total)
            self._walk(total, targets)
            self._check_mismatches()
            if self.complete:  # past a gap, the tables and later checkpoints cannot be compared
                self._check_beyond(self.report.size)
                if self.contents:
                    self._check_indexes()
        self._check_signatures()

    # --- checkpoints ---------------------------------------------------------------------------------------

    def _checkpoint_targets(self, total: int) -> dict[int, list[tuple[str, str]]]:
        """Sizes at which a root must be checked → (where the checkpoint came from, note).

        Checkpoints of more entries than the ledger holds are kept aside for `_check_beyond`.
        """
        targets: dict[int, list[tuple[str, str]]] = {}
        for size, note in self.store.checkpoints():
            self.stored.append((size, note))
            if size > total:
                self.beyond.append(("stored", size, note))
            else:
                targets.setdefault(size, []).append(("stored", note))
        for note in self.held:
            try:
                cp = parse_unverified(note)
            except TracechainError as e:
                self.problem(None, f"a checkpoint held is malformed: {e}")
                continue
            self.held_sizes.append((cp.size, note))
            if cp.size > total:
                self.beyond.append(("held", cp.size, note))
            else:
                targets.setdefault(cp.size, []).append(("held", note))
        return targets

    def _checkpoint_verifiers(self) -> list[VerifierKey]:
        verifiers = []
        for k in self.keys.values():
            if k.role == "operator" and k.name == self.origin:
                try:
                    verifiers.append(VerifierKey.from_public(k.name, k.public))
                except TracechainError:
                    continue  # a damaged key entry, reported where it is read
        return verifiers

    def _open(self, source: str, size: int, note: str, at: int) -> Checkpoint | None:
        """The checkpoint in ``note`` if an operator key signed it for this ledger at ``size``; else a problem."""
        self.report.checkpoints_checked += 1
        try:
            cp = open_checkpoint(note, self._checkpoint_verifiers(), origin=self.origin)
        except TracechainError as e:
            self.problem(at, f"{source} checkpoint at size {size} does not verify: {e}", note)
            return None
        if cp.size != size:
            self.problem(at, f"{source} checkpoint filed under size {size} is of size {cp.size}", note)
            return None
        return cp

    def _check_checkpoints(self, size: int, root: bytes, notes: list[tuple[str, str]]) -> None:
        at = max(size - 1, 0)
        # What matching checkpoints vouch for so far: a mismatch here lies in the entries after it.
        floors = {"held": self.held_match, "stored": self.any_match}
        seen: dict[bytes, str] = {}
        for source, note in notes:
            cp = self._open(source, size, note, at)
            if cp is None:
                continue
            for other_root, other_note in seen.items():
                if other_root != cp.root:
                    self.problem(
                        floors["held"],
                        f"two checkpoints of size {size} with different roots: a fork",
                        other_note,
                        note,
                        until=size,
                    )
            seen.setdefault(cp.root, note)
            if cp.root == root:
                self.any_match = size
                if source == "held":
                    self.held_match = size
                else:
                    self.stored_match.append((size, note))
            else:
                self.mismatches.append((floors[source], size, source, note, cp.root, root))

    def _check_mismatches(self) -> None:
        """Report the checkpoints the entries disagree with, each with the log's own signature on the other tree."""
        for floor, size, source, note, claimed, actual in self.mismatches:
            other = next((n for s, n in self.stored_match if s >= size), None)
            evidence = (note,) if other is None else (note, other)
            self.problem(
                floor,
                f"{source} checkpoint at size {size} has root {claimed.hex()} but the entries give {actual.hex()}:"
                f" the ledger was rewritten somewhere in entries {floor}..{size - 1}",
                *evidence,
                until=size,
            )

    def _check_beyond(self, total: int) -> None:
        """Checkpoints of more entries than the ledger holds: truncation or rollback, and forks among them.

        Their signatures are checked when the ledger still lists a key they are signed by; a truncation can
        remove the registration of a later operator key, and the checkpoint still proves what was there.
        """
        newest = max(self.stored, default=None)
        by_size: dict[int, dict[bytes, str]] = {}
        for source, size, note in sorted(self.beyond, key=lambda b: b[1]):
            cp = self._open_beyond(source, size, note, max(total - 1, 0))
            if cp is None:
                continue
            floor = self.held_match if source == "held" else self.any_match
            shown = f"; its newest checkpoint is of size {newest[0]}" if newest is not None else ""
            self.problem(
                floor,
                f"rollback: the ledger has {total} entries but a {source} checkpoint is of size {size}:"
                f" it was truncated or rolled back{shown}",
                *((note, newest[1]) if newest is not None and newest[1] != note else (note,)),
                until=size,
            )
            roots = by_size.setdefault(size, {})
            for other_root, other_note in roots.items():
                if other_root != cp.root:
                    self.problem(
                        floor,
                        f"two checkpoints of size {size} with different roots: a fork",
                        other_note,
                        note,
                        until=size,
                    )
            roots.setdefault(cp.root, note)
        seen = max(self.held_sizes, default=None, key=lambda h: h[0])
        if seen is not None and seen[0] <= total and (newest is None or newest[0] < seen[0]):
            self.problem(
                None,
                f"rollback: the newest checkpoint stored in the ledger is of size {newest[0] if newest else 0},"
                f" older than a checkpoint already seen of size {seen[0]}",
                *((newest[1], seen[1]) if newest is not None else (seen[1],)),
            )

    def _open_beyond(self, source: str, size: int, note: str, at: int) -> Checkpoint | None:
        verifiers = self._checkpoint_verifiers()
        known = {(v.name, v.key_id) for v in verifiers}
        try:
            _text, signatures = parse_note(note)
        except TracechainError as e:
            self.problem(at, f"{source} checkpoint of size {size} is malformed: {e}", note)
            return None
        if any((s.name, s.key_id) in known for s in signatures):
            return self._open(source, size, note, at)
        try:
            cp = parse_unverified(note)
        except TracechainError as e:
            self.problem(at, f"{source} checkpoint of size {size} is malformed: {e}", note)
            return None
        if cp.origin != self.origin or cp.size != size:
            self.problem(at, f"{source} checkpoint filed under size {size} is of {cp.origin} at size {cp.size}", note)
            return None
        return cp

    # --- the walk ------------------------------------------------------------------------------------------

    def _walk(self, total: int, targets: dict[int, list[tuple[str, str]]]) -> None:
        """Spans of entries read, hashed, chained and (with contents) checked by `_scan`, in worker processes for
        a large ledger, then joined here in index order, where the state lives: batches and seals, keys, the tree
        and its tiles, checkpoints. Only entries `_scan` could not take as plain event entries are decoded here."""
        if 0 in targets:
            self._check_checkpoints(0, merkle.EMPTY_ROOT, targets.pop(0))
        walk = _Join(TileEdge(), _TileComparer(self.store, self))
        for span in _scans(self.store, total, self.workers, self.contents):
            self._join(span, walk, targets)
            if self.contents:  # the stored item index is digested a share at a time, while workers scan
                self.stored_items.step(2 * (span.end - span.start))
            if self.progress is not None:
                self.progress(walk.expected, total)
            if span.failure is not None:  # what was read before the damage is reported, as in one pass
                raise StorageError(span.failure)
            if span.next_stored is not None:
                self._missing(walk.expected, span.next_stored)
                return
        self._finish_walk(walk.expected, total, walk.batch_hashes, walk.edge, walk.tiles)

    def _missing(self, expected: int, found: int) -> None:
        self.problem(expected, f"entries {expected}..{found - 1} are missing (next stored is {found})")
        self.complete = False

    def _finish_walk(
        self, expected: int, total: int, batch_hashes: list[bytes], edge: TileEdge, tiles: _TileComparer
    ) -> None:
        if batch_hashes:
            # A range: when an entry inside it fails a check of its own (one inserted before the seal, say, which
            # shifted the seal off its index), that entry is where the damage is.
            self.problem(
                expected - len(batch_hashes),
                f"entries {expected - len(batch_hashes)}..{expected - 1} are not covered by a batch signature",
                until=expected,
            )
        if expected == 0:
            self.problem(None, "the ledger has no entries, not even its genesis")
        for level, index, blob in edge.flush():
            tiles.compare(level, index, blob)
        tiles.finish()
        self.report.size = expected
        self.report.root = edge.root()
        if self.progress is not None:
            self.progress(expected, total)

    def _join(self, span: _Span, walk: _Join, targets: dict[int, list[tuple[str, str]]]) -> None:
        """Carry the walk through one span, stopping at each checkpoint size and at each entry to decode."""
        base, leaves = span.start, span.leaves
        if span.first_link is not None and span.first_link != walk.prev:
            self.problem(base, f"chain broken: links to {span.first_link.hex()}, previous leaf is {walk.prev.hex()}")
        for index, message in span.problems:
            self.problem(index, message)
        self.report.events += span.events
        self.item_rows += span.item_rows
        self.item_digest = (self.item_digest + span.item_digest) % _DIGEST_MODULUS
        # A checkpoint of size n is checked before entry n is taken in: only keys registered before n may sign it.
        stops = [(size, 0, b"") for size in targets if base < size <= span.end]
        stops += [(index, 1, data) for index, data in span.others]
        for at, kind, data in sorted(stops):
            walk.absorb(leaves[walk.expected - base : at - base])
            if kind == 0:
                self._check_checkpoints(at, walk.edge.root(), targets.pop(at))
                continue
            link = leaves[at - base - 1] if at > base else walk.prev
            self._entry(at, data, link, walk.batch_hashes, walk.batch_kinds)
            if not walk.batch_hashes:  # a seal closed the batch
                walk.batch_kinds.clear()
            walk.grow(leaves[at - base : at - base + 1])
        walk.absorb(leaves[walk.expected - base :])
        if leaves:
            walk.prev = leaves[-1]

    def _entry(self, index: int, data: bytes, prev: bytes, batch_hashes: list[bytes], batch_kinds: set[str]) -> None:
        """Decode and check one entry in full, as a member of the open batch. A seal empties ``batch_hashes``."""
        try:
            entry = Entry.from_bytes(data, expected_index=index)
        except EncodingError as e:
            self.problem(index, str(e))
            batch_hashes.append(merkle.leaf_hash(data))  # still a member of its batch, so a later seal must cover it
            return
        if entry.prev != prev:
            self.problem(index, f"chain broken: links to {entry.prev.hex()}, previous leaf is {prev.hex()}")
        if entry.kind == "seal":
            self._seal(entry, batch_hashes, batch_kinds)
            batch_hashes.clear()
        else:
            if self.contents or entry.kind != "event":
                self._content(entry)
            batch_hashes.append(entry.leaf_hash)
            batch_kinds.add(entry.kind)

    def _content(self, entry: Entry) -> None:
        kind, body, index = entry.kind, entry.body, entry.index
        try:
            if kind == "event":
                codes = _event_codes(body)
                self.item_rows += len(codes)
                self.item_digest = (self.item_digest + _codes_digest(codes, index)) % _DIGEST_MODULUS
                self.report.events += 1
            elif kind == "genesis":
                self._genesis(entry)
            elif kind == "key":
                self._key(index, body)
            elif kind == "revoke":
                self._revoke(index, body)
            else:
                self.problem(index, f"unknown entry kind {kind!r}")
            if kind != "genesis" and index == 0:
                self.problem(0, f"entry 0 must be the genesis entry, found {kind!r}")
        except EncodingError as e:
            self.problem(index, str(e))
        except (KeyError, TypeError, ValueError, AttributeError) as e:  # a body of the wrong shape
            self.problem(index, f"malformed {kind} entry: {e!r}")

    def _genesis(self, entry: Entry) -> None:
        body = entry.body
        if entry.index != 0:
            self.problem(entry.index, "a genesis entry may only be entry 0")
            return
        if body.get("origin") != self.origin:
            self.problem(0, f"genesis names origin {body.get('origin')!r}, the file says {self.origin!r}")
        if body.get("format") != ENTRY_VERSION:
            self.problem(0, f"genesis names format {body.get('format')!r}, expected {ENTRY_VERSION}")
        op = body["operator"]
        public = op["public"]
        if not isinstance(public, bytes) or len(public) != 32:
            self.problem(0, "the genesis entry's operator public key must be 32 bytes")
            return
        self.keys[public] = _Key(public, str(op["name"]), str(op["actor"]), "operator", 0)

    def _key(self, index: int, body: dict[str, Any]) -> None:
        public = body["public"]
        if not isinstance(public, bytes) or len(public) != 32:
            self.problem(index, "a key entry's public key must be 32 bytes")
            return
        if public in self.keys:
            self.problem(index, f"key {public.hex()} registered twice")
            return
        self.keys[public] = _Key(public, str(body["name"]), str(body["actor"]), str(body["role"]), index)

    def _revoke(self, index: int, body: dict[str, Any]) -> None:
        key = self.keys.get(body["public"])
        if key is None:
            self.problem(index, "revokes a key that was never registered")
        elif key.revoked is not None:
            self.problem(index, f"revokes a key already revoked at entry {key.revoked}")
        else:
            key.revoked = index

    def _seal(self, entry: Entry, hashes: list[bytes], kinds: set[str]) -> None:
        index, body = entry.index, entry.body
        self.report.batches += 1
        try:
            first, count, public = body["first"], body["count"], body["public"]
            batch_root, signature, actor = body["root"], body["sig"], body["actor"]
        except (KeyError, TypeError):
            self.problem(index, "malformed seal: expected actor, count, first, public, root and sig")
            return
        if type(first) is not int or type(count) is not int or not isinstance(public, bytes):
            self.problem(index, "malformed seal: first and count must be integers and public bytes")
            return
        if not hashes:
            self.problem(index, "a seal with no entries before it to cover")
            return
        if first != index - len(hashes) or count != len(hashes):
            self.problem(
                index,
                f"seal covers entries {first}..{first + count - 1} but the batch is {index - len(hashes)}..{index - 1}",
            )
            return
        if batch_root != merkle.root(hashes):
            self.problem(index, "seal's batch root does not match the entries it covers")
            return
        key = self.keys.get(public) if isinstance(public, bytes) else None
        if key is None:
            self.problem(index, "batch signed by a key that is not registered")
            return
        if key.registered >= first and "genesis" not in kinds:
            self.problem(index, f"batch signed by a key registered only at entry {key.registered}")
        if key.revoked is not None and key.revoked < index:
            self.problem(index, f"batch signed by a key revoked at entry {key.revoked}")
        if key.actor != actor:
            self.problem(index, f"seal names actor {actor!r} but the key belongs to {key.actor!r}")
        if kinds - {"event"} and key.role != "operator":
            self.problem(index, "keys registered or revoked in a batch not signed by the operator")
        if self.signatures:
            message = batch_message(self.origin, first, count, batch_root)
            self.pending.append(_Batch(index, public, message, signature))
            if len(self.pending) >= 8 * _SIGNATURE_CHUNK:
                self._check_signatures()

    def _check_signatures(self) -> None:
        batches, self.pending = self.pending, []
        if not batches:
            return
        results = _verify_signatures(batches, self.workers)
        self.report.signatures_checked += len(batches)
        for batch, good in zip(batches, results, strict=True):
            if not good:
                self.problem(batch.seal_index, "batch signature does not verify")

    def _check_indexes(self) -> None:
        stored = self.stored_items
        stored.step(None)
        if stored.rows != self.item_rows:
            self.problem(None, f"item index has {stored.rows} rows, the events name {self.item_rows} codes")
        elif stored.digest != self.item_digest:
            self.problem(None, "the item index does not match the events: rows were changed")
        stored_keys = {row[0]: row for row in self.store.key_rows()}
        for public, key in self.keys.items():
            row = stored_keys.pop(public, None)
            if row is None or row[1:5] != (key.name, key.actor, key.role, key.registered):
                self.problem(key.registered, "the keys table does not match the key entries for this key")
            elif row[5] != key.revoked:
                at = min(i for i in (row[5], key.revoked) if isinstance(i, int))
                self.problem(at, "the keys table does not match the key entries on when this key was revoked")
        for public in stored_keys:
            self.problem(None, f"the keys table lists key {public.hex()} that no entry registered")


class _StoredItems:
    """The stored item index's row count and digest, read a share at a time in key order."""

    def __init__(self, store: Store) -> None:
        self._rows = store.iter_items()
        self.rows = 0
        self.digest = 0

    def step(self, rows: int | None) -> None:
        """Take in up to ``rows`` more rows (None: all that are left)."""
        total = self.digest
        for code, index in itertools.islice(self._rows, rows):
            total += _item_digest(code, index)
            self.rows += 1
        self.digest = total % _DIGEST_MODULUS


@dataclass(slots=True)
class _Span:
    """What the integrity pass read in entries ``start`` .. ``end - 1`` (a contiguous run from ``start``)."""

    start: int
    end: int
    leaves: list[bytes]  # their leaf hashes
    first_link: bytes | None  # entry ``start``'s link when read by its header (the join checks it)
    others: list[tuple[int, bytes]]  # entries not read by their event header, to be decoded in full
    problems: list[tuple[int, str]]
    next_stored: int | None  # set when entries are missing from ``end``: the next index stored
    failure: str | None = None  # set when reading stopped at damage to the file: SQLite's error
    events: int = 0  # event entries whose contents were checked here, their item codes and those codes' digest
    item_rows: int = 0
    item_digest: int = 0


@dataclass(slots=True)
class _Join:
    """The integrity pass's state between spans: the tree being rebuilt, the open batch, the last leaf."""

    edge: TileEdge
    tiles: _TileComparer
    prev: bytes = ZERO_HASH
    expected: int = 0
    batch_hashes: list[bytes] = field(default_factory=list)
    batch_kinds: set[str] = field(default_factory=set)

    def absorb(self, run: list[bytes]) -> None:
        """Event entries read by their header: members of the open batch and leaves of the tree."""
        if run:
            self.batch_hashes.extend(run)
            self.batch_kinds.add("event")
            self.grow(run)

    def grow(self, run: list[bytes]) -> None:
        for done in self.edge.extend(run):
            self.tiles.compare(*done)
        self.expected += len(run)


# Entries per span, and the ledger size from which spans go to worker processes (below it, starting them costs
# more than they save): for the integrity pass, and for the full checks, which cost about ten times as much per
# entry. Spans are whole tiles and whole read chunks, so damage stops a span where it would stop one pass.
_SPAN = 16_384
_PARALLEL_ENTRIES = 65_536
_CONTENT_SPAN = 4_096
_PARALLEL_CONTENT_ENTRIES = 8_192
_SPANS_AHEAD = 2  # spans queued per worker: enough to keep them busy, few enough to keep memory flat


def _scan(store: Store, start: int, stop: int, contents: bool) -> _Span:
    """Read, hash and chain entries ``start`` .. ``stop - 1``, and with ``contents`` check their events: the
    per-entry work of verification, which needs nothing from outside the span.

    An event entry's index and link are read straight from its fixed layout: one expected prefix built and
    compared per entry (the span's first link is left to the join). Every other entry, and any event entry whose
    layout is not the canonical one, is handed back whole to be decoded where the walk's state is. In the
    integrity pass, `_event_header` names what is wrong with an event entry's index or link instead.
    """
    sha256, leaf_prefix = hashlib.sha256, merkle.LEAF_PREFIX
    span = _Span(start, start, [], None, [], [], None)
    hashes, others, problems = span.leaves, span.others, span.problems
    prev, expected = b"", start
    lead, width, band_end = _index_form(start)
    try:
        # iter_entries hands every value back as bytes (NULL or TEXT too), so no conversion is needed here.
        for index, data in store.iter_entries(start, stop):
            if index != expected:
                span.next_stored = index
                break
            leaf = sha256(leaf_prefix + data).digest()
            if index >= band_end:  # the index needs a wider msgpack integer from here on
                lead, width, band_end = _index_form(index)
            plain = data.startswith(lead + index.to_bytes(width, "big") + _LINK + prev + _EVENT_KIND)
            if not plain:
                header = _event_header(data)
                if header is None:
                    others.append((index, data))
                elif index == start and header[0] == index:
                    span.first_link, plain = header[1], True
                elif contents:
                    others.append((index, data))
                else:
                    if header[0] != index:
                        problems.append((index, f"entry stored at index {index} says it is entry {header[0]}"))
                    if index == start:
                        span.first_link = header[1]
                    elif header[1] != prev:
                        problems.append(
                            (index, f"chain broken: links to {header[1].hex()}, previous leaf is {prev.hex()}")
                        )
            if plain and contents:
                if index:
                    _check_event(span, index, data)
                else:  # entry 0 must be the genesis: said where the walk's state is
                    others.append((index, data))
            hashes.append(leaf)
            prev = leaf
            expected += 1
    except StorageError as e:
        span.failure = str(e)
    span.end = expected
    if span.next_stored is None and span.failure is None and expected < stop:
        following = store.next_index(expected)
        span.next_stored = stop if following is None else following
    return span


def _check_event(span: _Span, index: int, data: bytes) -> None:
    """The checks of an event entry whose index, link and kind its layout has shown: the entry's canonical form,
    the event's, and its item codes (counted, and summed into the digest the item index is compared with)."""
    try:
        codes = _event_codes(encoding.decode_entry(data)[4])
    except EncodingError as e:
        span.problems.append((index, str(e)))
        return
    except (KeyError, TypeError, ValueError, AttributeError) as e:  # a body of the wrong shape
        span.problems.append((index, f"malformed event entry: {e!r}"))
        return
    span.events += 1
    span.item_rows += len(codes)
    span.item_digest += _codes_digest(codes, index)


def _event_codes(body: Any) -> list[str]:
    """The item codes of an event entry's body; raises `EncodingError` for bytes that are not a canonical event,
    or a lookup or type error for an event of the wrong shape."""
    return item_codes(Event.from_canonical(body).data)


def _codes_digest(codes: list[str], index: int) -> int:
    """The item-index rows an event entry implies, summed into the digest (not yet reduced)."""
    return sum(_item_digest(code, index) for code in codes)


_LINK = b"\xc4\x20"  # msgpack bin 8 of 32 bytes: the previous leaf hash


def _index_form(index: int) -> tuple[bytes, int, int]:
    """How an event entry with this index begins: the bytes before the index (array, version, msgpack integer
    type), the index's width in bytes, and the first index that needs another form."""
    for lead, width, end in _INDEX_FORMS:
        if index < end:
            return lead, width, end
    raise EncodingError(f"entry index {index} is beyond msgpack's integers")


_INDEX_FORMS = (
    (b"\x95\x01", 1, 0x80),  # positive fixint: the index is the byte itself
    (b"\x95\x01\xcc", 1, 0x100),
    (b"\x95\x01\xcd", 2, 0x10000),
    (b"\x95\x01\xce", 4, 0x100000000),
    (b"\x95\x01\xcf", 8, 1 << 64),
)


_worker_stores: dict[str, Store] = {}  # in a worker process: its own read-only connection, opened on first use


def _scan_in_worker(path: str, start: int, stop: int, contents: bool) -> _Span:
    """`_scan` in a worker process."""
    store = _worker_stores.get(path)
    if store is None:
        store = _worker_stores[path] = Store(path, readonly=True)
    return _scan(store, start, stop, contents)


def _scans(store: Store, total: int, workers: int | None, contents: bool) -> Iterator[_Span]:
    """The spans of entries 0 .. ``total - 1`` in order; scanned by worker processes for a large ledger."""
    size, parallel_from = (_CONTENT_SPAN, _PARALLEL_CONTENT_ENTRIES) if contents else (_SPAN, _PARALLEL_ENTRIES)
    starts = range(0, total, size)
    cores = workers or os.cpu_count() or 1
    if cores < 2 or total < parallel_from:
        for start in starts:
            yield _scan(store, start, min(start + size, total), contents)
        return
    path = str(store.path)
    with ProcessPoolExecutor(max_workers=cores) as pool:
        queued: deque[Future[_Span]] = deque()
        todo = iter(starts)
        try:
            while True:
                while len(queued) < _SPANS_AHEAD * cores and (first := next(todo, None)) is not None:
                    queued.append(pool.submit(_scan_in_worker, path, first, min(first + size, total), contents))
                if not queued:
                    return
                yield queued.popleft().result()
        finally:
            for future in queued:
                future.cancel()


_INT_WIDTHS = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
_EVENT_KIND = b"\xa5event"


def _event_header(data: bytes) -> tuple[int, bytes] | None:
    """(index, previous leaf hash) of an event entry read from its bytes' fixed layout, or None for any other.

    An event entry starts ``95 01 <index> c4 20 <32-byte prev> a5 "event"`` (docs/SPEC.md §2–3), so the
    integrity pass needs no msgpack decode to follow the chain. Anything else takes the full decode.
    """
    if data[:2] != b"\x95\x01" or len(data) < 45:
        return None
    first = data[2]
    if first < 0x80:
        index, pos = first, 3
    else:
        width = _INT_WIDTHS.get(first)
        if width is None:
            return None
        index, pos = int.from_bytes(data[3 : 3 + width], "big"), 3 + width
    if data[pos : pos + 2] != b"\xc4\x20" or data[pos + 34 : pos + 40] != _EVENT_KIND:
        return None
    return index, data[pos + 2 : pos + 34]


def _item_digest(code: object, index: object) -> int:
    """One item-index row's share of an order-independent digest of the whole index, kept in constant memory.

    The digest is a sum of hashes (AdHash), so its width is what resists an insider who rewrites the index to
    match: Wagner's generalised-birthday attack finds k rows summing to a target in about k·2^(n/(1 + log₂ k))
    work for n-bit hashes, which for 256 bits and k = 2^15 crafted rows is about 2^31, within anyone's reach.
    SHAKE-256 stretched to 4,096 bits puts it beyond 2^128 for any number of rows a ledger can hold (the row
    counts must match too). ``repr`` keeps a row's types: a code stored as a number digests differently.
    """
    row = repr((code, index)).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.shake_256(row).digest(_DIGEST_BYTES), "big")


_DIGEST_BYTES = 512
_DIGEST_MODULUS = 1 << (8 * _DIGEST_BYTES)


class _TileComparer:
    """Checks stored tiles against the tree rebuilt from the entries."""

    def __init__(self, store: Store, verifier: _Verifier) -> None:
        self.store = store
        self.verifier = verifier
        self.reported: list[tuple[int, int]] = []
        self.seen = 0

    def compare(self, level: int, index: int, blob: bytes) -> None:
        self.seen += 1
        stored = self.store.tile(level, index)
        if stored is not None and bytes(stored) == blob:
            return
        width = TILE_WIDTH**level
        first_leaf = index * TILE_WIDTH * width
        stored_b = bytes(stored) if stored is not None else b""
        bottom = min(len(blob), TILE_WIDTH * 32)
        for i in range(0, bottom, 32):
            if stored_b[i : i + 32] != blob[i : i + 32]:
                start = first_leaf + (i // 32) * width
                break
        else:
            if len(blob) == FULL_TILE_BYTES and stored_b[:bottom] == blob[:bottom]:
                # The bottom row agrees: the damage is in a full tile's inner rows, which all its proofs rely on.
                start, width = first_leaf, TILE_WIDTH * width
            else:  # the stored tile holds more or fewer hashes than the entries make: they end where it differs
                start = first_leaf + len(blob) // 32 * width
        # A hash higher up that differs only because a leaf below it does says nothing new: report each
        # damaged range once, at the most precise level, which is compared first.
        if any(a < start + width and start < b for a, b in self.reported):
            return
        self.reported.append((start, start + width))
        self.verifier.problem(start, f"stored tile {level}/{index} does not match the entries")

    def finish(self) -> None:
        stored = self.store.tile_count()
        if stored != self.seen:
            self.verifier.problem(None, f"the file holds {stored} tiles, the entries make {self.seen}")


def _verify_chunk(items: list[tuple[bytes, bytes, bytes]]) -> list[bool]:
    return [verify_ed25519(public, message, sig) for public, message, sig in items]


def _verify_signatures(batches: list[_Batch], workers: int | None) -> list[bool]:
    """Whether each batch's signature verifies, on ``workers`` cores (default: all).

    On several cores the calling process verifies chunks too, from the far end of the list, while a pool of the
    other cores takes them from the front: the caller would otherwise only wait, and no chunk waits on the pool's
    start-up.
    """
    items = [
        (b.public, b.message, b.signature) if isinstance(b.signature, bytes) else (b.public, b.message, b"")
        for b in batches
    ]
    cores = workers or os.cpu_count() or 1
    if cores < 2 or len(items) < _PARALLEL_SIGNATURES:
        return _verify_chunk(items)
    chunks = [items[i : i + _SIGNATURE_CHUNK] for i in range(0, len(items), _SIGNATURE_CHUNK)]
    results: list[list[bool]] = [[] for _ in chunks]
    todo = deque(range(len(chunks)))
    running: dict[Future[list[bool]], int] = {}
    with ProcessPoolExecutor(max_workers=cores - 1) as pool:

        def top_up() -> None:
            for future in [f for f in running if f.done()]:
                results[running.pop(future)] = future.result()
            while todo and len(running) < 2 * (cores - 1):
                at = todo.popleft()
                running[pool.submit(_verify_chunk, chunks[at])] = at

        top_up()
        while todo:
            at = todo.pop()
            results[at] = _verify_chunk(chunks[at])
            top_up()
        for future, at in running.items():
            results[at] = future.result()
    return [ok for chunk in results for ok in chunk]
