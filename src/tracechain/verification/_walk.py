"""Verification step: the walk — the scanned spans joined in index order, where state carries from entry to entry.

The walk rebuilds the tree leaf by leaf (handing each completed tile to the tile comparer), stops at each
checkpoint size (the checkpoint history), decodes and checks every entry the scan could not take as a plain event
entry (genesis, keys and revocations into the key registry, seals to the seal checker), and tracks the open batch.
"""

from __future__ import annotations

import contextlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tracechain import merkle
from tracechain._tiles import TileEdge
from tracechain.entries import ENTRY_VERSION, KEY_KINDS, ZERO_HASH, Entry, KeyRegistry
from tracechain.errors import EncodingError, SignatureError
from tracechain.report import VerifyReport
from tracechain.verification._history import CheckpointHistory
from tracechain.verification._projections import Implied
from tracechain.verification._scan import Span, check_event
from tracechain.verification._signatures import SealChecker
from tracechain.verification._tiles import TileComparer

__all__ = ["Walk"]


@dataclass(slots=True)
class Walk:
    """The state between spans: the tree being rebuilt, the open batch, the last leaf, what the events imply."""

    report: VerifyReport
    origin: str
    registry: KeyRegistry
    history: CheckpointHistory
    tiles: TileComparer
    seals: SealChecker
    contents: bool
    edge: TileEdge = field(default_factory=TileEdge)
    implied: Implied = field(default_factory=Implied)
    prev: bytes = ZERO_HASH
    expected: int = 0
    batch_hashes: list[bytes] = field(default_factory=list)
    batch_kinds: set[str] = field(default_factory=set)
    speakers: deque[tuple[int, str]] = field(default_factory=deque)  # of events not yet under a seal

    def start(self) -> None:
        if 0 in self.history.targets:
            self.history.check_at(0, merkle.EMPTY_ROOT)

    def join(self, span: Span) -> None:
        """Carry the walk through one span, stopping at each checkpoint size and at each entry to decode."""
        base, leaves, report = span.start, span.leaves, self.report
        if span.first_link is not None and span.first_link != self.prev:
            report.add(base, f"chain broken: links to {span.first_link.hex()}, previous leaf is {self.prev.hex()}")
        for index, message in span.problems:
            report.add(index, message)
        report.events += span.events
        self.implied.merge(span.implied)
        self.speakers.extend(span.speakers)
        # A checkpoint of size n is checked before entry n is taken in: only keys registered before n may sign it.
        stops = [(size, 0, b"") for size in self.history.sizes_in(base, span.end)]
        stops += [(index, 1, data) for index, data in span.others]
        for at, kind, data in sorted(stops):
            self._absorb(leaves[self.expected - base : at - base])
            if kind == 0:
                self.history.check_at(at, self.edge.root())
                continue
            link = leaves[at - base - 1] if at > base else self.prev
            self._entry(at, data, link)
            self._grow(leaves[at - base : at - base + 1])
        self._absorb(leaves[self.expected - base :])
        if leaves:
            self.prev = leaves[-1]

    def _absorb(self, run: list[bytes]) -> None:
        """Event entries read by their header: members of the open batch and leaves of the tree."""
        if run:
            self.batch_hashes.extend(run)
            self.batch_kinds.add("event")
            self._grow(run)

    def _grow(self, run: list[bytes]) -> None:
        for done in self.edge.extend(run):
            self.tiles.compare(*done)
        self.expected += len(run)

    def finish(self, total: int) -> None:
        """After the last span: an unsealed tail, the last partial tiles, the tree's size and root."""
        expected, batch_hashes = self.expected, self.batch_hashes
        if batch_hashes:
            # A range: when an entry inside it fails a check of its own (one inserted before the seal, say, which
            # shifted the seal off its index), that entry is where the damage is.
            self.report.add(
                expected - len(batch_hashes),
                f"entries {expected - len(batch_hashes)}..{expected - 1} are not covered by a batch signature",
                until=expected,
            )
        if expected == 0:
            self.report.add(None, "the ledger has no entries, not even its genesis")
        for level, index, blob in self.edge.flush():
            self.tiles.compare(level, index, blob)
        self.tiles.finish()
        self.report.size = expected
        self.report.root = self.edge.root()

    # --- entries decoded in full ---------------------------------------------------------------------------

    def _entry(self, index: int, data: bytes, prev: bytes) -> None:
        """Decode and check one entry in full, as a member of the open batch; a seal closes the batch."""
        try:
            entry = Entry.from_bytes(data, expected_index=index)
        except EncodingError as e:
            self.report.add(index, str(e))
            self.batch_hashes.append(merkle.leaf_hash(data))  # still in its batch, so a later seal must cover it
            return
        if entry.prev != prev:
            self.report.add(index, f"chain broken: links to {entry.prev.hex()}, previous leaf is {prev.hex()}")
        if entry.kind == "seal":
            speakers = []
            while self.speakers and self.speakers[0][0] < index:
                speakers.append(self.speakers.popleft())
            self.seals.seal(entry, self.batch_hashes, self.batch_kinds, speakers)
            self.batch_hashes.clear()
            self.batch_kinds.clear()
            if self.contents:
                with contextlib.suppress(KeyError, TypeError, ValueError):  # a malformed seal is reported above
                    self.implied.add("seal", entry.body, index)
            return
        if self.contents or entry.kind != "event":
            self._content(entry, data)
        self.batch_hashes.append(entry.leaf_hash)
        self.batch_kinds.add(entry.kind)

    def _content(self, entry: Entry, data: bytes) -> None:
        kind, index, report = entry.kind, entry.index, self.report
        if kind == "event":
            speakers: list[tuple[int, str]] = []
            problem = check_event(index, data, self.implied, speakers)
            self.speakers.extend(speakers)
            if problem is None:
                report.events += 1
            else:
                report.add(index, problem)
        elif kind in KEY_KINDS:
            if kind == "genesis" and not self._genesis(entry.index, entry.body):
                return
            try:
                self.registry.apply(index, kind, entry.body)
                self.implied.add(kind, entry.body, index)
            except SignatureError as e:
                report.add(index, str(e))
            except (EncodingError, KeyError, TypeError, ValueError) as e:
                report.add(index, f"malformed {kind} entry: {e}")
        else:
            report.add(index, f"unknown entry kind {kind!r}")
        if kind != "genesis" and index == 0:
            report.add(0, f"entry 0 must be the genesis entry, found {kind!r}")

    def _genesis(self, index: int, body: Any) -> bool:
        """The genesis entry's own rules; False when its key must not be taken in."""
        if index != 0:
            self.report.add(index, "a genesis entry may only be entry 0")
            return False
        if not isinstance(body, dict):
            self.report.add(0, f"malformed genesis entry: its body is a {type(body).__name__}, not a map")
            return False
        if body.get("origin") != self.origin:
            self.report.add(0, f"genesis names origin {body.get('origin')!r}, the file says {self.origin!r}")
        if body.get("format") != ENTRY_VERSION:
            self.report.add(0, f"genesis names format {body.get('format')!r}, expected {ENTRY_VERSION}")
        return True
