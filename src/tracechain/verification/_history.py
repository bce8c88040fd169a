"""Verification step: the checkpoint history.

At the size of every stored checkpoint and every checkpoint the caller holds, the root the entries give is
compared with the signed one and the signature checked against the operator keys registered by then. What does
not match is reported as a rewrite within a range of entries (with the log's own signature on the other tree as
evidence), two roots at one size as a fork, and checkpoints of more entries than the ledger holds as truncation
or rollback.
"""

from __future__ import annotations

from tracechain.checkpoints import Checkpoint, open_checkpoint, parse_unverified
from tracechain.entries import KeyRegistry
from tracechain.errors import TracechainError
from tracechain.notes import parse_note
from tracechain.report import VerifyReport

__all__ = ["CheckpointHistory"]

Notes = list[tuple[str, str]]  # (where the checkpoint came from: "held" or "stored", signed note)


class CheckpointHistory:
    """Checkpoints to check as the walk passes their sizes, and what they showed."""

    def __init__(
        self, report: VerifyReport, registry: KeyRegistry, stored: list[tuple[int, str]], held: list[str]
    ) -> None:
        self.report = report
        self.registry = registry
        self.origin = ""
        self.stored = stored
        self.held = held
        self.targets: dict[int, Notes] = {}
        self.held_sizes: list[tuple[int, str]] = []
        self.beyond: list[tuple[str, int, str]] = []
        self.held_match = 0  # the size of the largest held checkpoint whose root the entries give
        self.any_match = 0  # the same over held and stored checkpoints
        self.stored_match: list[tuple[int, str]] = []
        self.mismatches: list[tuple[int, int, str, str, bytes, bytes]] = []

    def plan(self, origin: str, total: int) -> None:
        """Sort the checkpoints by size: those within the ledger's ``total`` entries become walk targets; those
        beyond it are kept for `check_beyond`."""
        self.origin = origin
        for size, note in self.stored:
            if size > total:
                self.beyond.append(("stored", size, note))
            else:
                self.targets.setdefault(size, []).append(("stored", note))
        for note in self.held:
            try:
                cp = parse_unverified(note)
            except TracechainError as e:
                self.report.add(None, f"a checkpoint held is malformed: {e}")
                continue
            self.held_sizes.append((cp.size, note))
            if cp.size > total:
                self.beyond.append(("held", cp.size, note))
            else:
                self.targets.setdefault(cp.size, []).append(("held", note))

    def sizes_in(self, start: int, end: int) -> list[int]:
        """The target sizes n with start < n <= end."""
        return [size for size in self.targets if start < size <= end]

    def _open(self, source: str, size: int, note: str, at: int) -> Checkpoint | None:
        """The checkpoint in ``note`` if an operator key signed it for this ledger at ``size``; else a problem."""
        self.report.checkpoints_checked += 1
        try:
            cp = open_checkpoint(note, self.registry.checkpoint_verifiers(self.origin), origin=self.origin)
        except TracechainError as e:
            self.report.add(at, f"{source} checkpoint at size {size} does not verify: {e}", note)
            return None
        if cp.size != size:
            self.report.add(at, f"{source} checkpoint filed under size {size} is of size {cp.size}", note)
            return None
        return cp

    def check_at(self, size: int, root: bytes) -> None:
        """Check the checkpoints of ``size`` against the root the entries give at that size.

        Called before entry ``size`` is taken in: only keys registered before it may have signed them.
        """
        notes = self.targets.pop(size, [])
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
                    self.report.add(
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

    def report_mismatches(self) -> None:
        """Report the checkpoints the entries disagree with, each with the log's own signature on the other tree."""
        for floor, size, source, note, claimed, actual in self.mismatches:
            other = next((n for s, n in self.stored_match if s >= size), None)
            evidence = (note,) if other is None else (note, other)
            self.report.add(
                floor,
                f"{source} checkpoint at size {size} has root {claimed.hex()} but the entries give {actual.hex()}:"
                f" the ledger was rewritten somewhere in entries {floor}..{size - 1}",
                *evidence,
                until=size,
            )

    def check_beyond(self, total: int) -> None:
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
            self.report.add(
                floor,
                f"rollback: the ledger has {total} entries but a {source} checkpoint is of size {size}:"
                f" it was truncated or rolled back{shown}",
                *((note, newest[1]) if newest is not None and newest[1] != note else (note,)),
                until=size,
            )
            roots = by_size.setdefault(size, {})
            for other_root, other_note in roots.items():
                if other_root != cp.root:
                    self.report.add(
                        floor,
                        f"two checkpoints of size {size} with different roots: a fork",
                        other_note,
                        note,
                        until=size,
                    )
            roots.setdefault(cp.root, note)
        seen = max(self.held_sizes, default=None, key=lambda h: h[0])
        if seen is not None and seen[0] <= total and (newest is None or newest[0] < seen[0]):
            self.report.add(
                None,
                f"rollback: the newest checkpoint stored in the ledger is of size {newest[0] if newest else 0},"
                f" older than a checkpoint already seen of size {seen[0]}",
                *((newest[1], seen[1]) if newest is not None else (seen[1],)),
            )

    def _open_beyond(self, source: str, size: int, note: str, at: int) -> Checkpoint | None:
        known = {(v.name, v.key_id) for v in self.registry.checkpoint_verifiers(self.origin)}
        try:
            _text, signatures = parse_note(note)
        except TracechainError as e:
            self.report.add(at, f"{source} checkpoint of size {size} is malformed: {e}", note)
            return None
        if any((s.name, s.key_id) in known for s in signatures):
            return self._open(source, size, note, at)
        try:
            cp = parse_unverified(note)
        except TracechainError as e:
            self.report.add(at, f"{source} checkpoint of size {size} is malformed: {e}", note)
            return None
        if cp.origin != self.origin or cp.size != size:
            self.report.add(
                at, f"{source} checkpoint filed under size {size} is of {cp.origin} at size {cp.size}", note
            )
            return None
        return cp
