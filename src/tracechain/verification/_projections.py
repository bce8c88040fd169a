"""Verification step: the derived tables against the entries — every projection and the registered-keys table.

For each projection the rows the event entries imply are counted and summed into an order-independent digest as
the walk goes (`Implied`, merged from the span workers); the stored rows are read in key order a share at a time
while the workers scan (`Stored`), so memory stays flat. A difference names the projection, which ``tracechain
reindex`` rebuilds from the entries.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from tracechain.entries import KeyRegistry
from tracechain.events import Event
from tracechain.report import Report
from tracechain.storage import PROJECTIONS, LedgerStore, Projection, Row
from tracechain.storage.projections import DIGEST_MODULUS, row_digest

__all__ = ["Implied", "Stored", "compare", "compare_keys"]


class Implied:
    """Row counts and digests of what the events imply, per projection (unreduced sums while a span builds)."""

    __slots__ = ("counts", "digests")

    def __init__(self) -> None:
        self.counts = [0] * len(PROJECTIONS)
        self.digests = [0] * len(PROJECTIONS)

    def add(self, kind: str, value: Event | Any, index: int) -> None:
        """Take in the rows one entry implies (``value`` is the `Event` of an event entry, else the body); raises
        what deriving them raises on a malformed entry."""
        for at, projection in enumerate(PROJECTIONS):
            if kind not in projection.kinds:
                continue
            rows = list(projection.derive(value, index))
            self.counts[at] += len(rows)
            self.digests[at] += sum(row_digest(row) for row in rows)

    def merge(self, other: Implied) -> None:
        for at in range(len(PROJECTIONS)):
            self.counts[at] += other.counts[at]
            self.digests[at] = (self.digests[at] + other.digests[at]) % DIGEST_MODULUS


class Stored:
    """The stored rows' counts and digests, per projection, read a share at a time in key order."""

    def __init__(self, store: LedgerStore, built: list[Projection]) -> None:
        self._rows: list[Iterator[Row]] = [store.iter_rows(p) if p in built else iter(()) for p in PROJECTIONS]
        self.counts = [0] * len(PROJECTIONS)
        self.digests = [0] * len(PROJECTIONS)

    def step(self, rows: int | None) -> None:
        """Take in up to ``rows`` more rows of each projection (None: all that are left)."""
        for at, source in enumerate(self._rows):
            total = self.digests[at]
            for row in itertools.islice(source, rows):
                total += row_digest(row)
                self.counts[at] += 1
            self.digests[at] = total % DIGEST_MODULUS


def compare(report: Report, implied: Implied, stored: Stored, built: list[Projection]) -> None:
    """Report each projection whose stored rows differ from the rows the entries imply.

    A projection the file has not built (written before it existed) has no rows to compare; the file's own
    check reports a built projection whose table is gone.
    """
    stored.step(None)
    for at, projection in enumerate(PROJECTIONS):
        if projection not in built:
            continue
        if stored.counts[at] != implied.counts[at]:
            report.add(
                None,
                f"the {projection.label} has {stored.counts[at]} rows, the events imply {implied.counts[at]}"
                f"{_rebuild(projection)}",
            )
        elif stored.digests[at] != implied.digests[at] % DIGEST_MODULUS:
            report.add(
                None, f"the {projection.label} does not match the events: rows were changed{_rebuild(projection)}"
            )


def _rebuild(projection: Projection) -> str:
    return f" (projection {projection.name}; tracechain reindex rebuilds it from the entries)"


def compare_keys(report: Report, store: LedgerStore, registry: KeyRegistry) -> None:
    """Report where the stored keys table differs from the keys the entries register and revoke."""
    stored_keys = {key.public: key for key in store.registered_keys()}
    for key in registry:
        row = stored_keys.pop(key.public, None)
        if row is None or (row.name, row.actor, row.role, row.registered) != (
            key.name,
            key.actor,
            key.role,
            key.registered,
        ):
            report.add(key.registered, "the keys table does not match the key entries for this key")
        elif row.revoked != key.revoked:
            at = min(i for i in (row.revoked, key.revoked) if isinstance(i, int))
            report.add(at, "the keys table does not match the key entries on when this key was revoked")
    for public in stored_keys:
        report.add(None, f"the keys table lists key {public.hex()} that no entry registered")
