"""Whole-ledger verification: every byte re-read, re-hashed and re-checked, in constant memory.

`verify` returns a `VerifyReport` (true when the ledger is intact); `check` raises `VerificationError` instead.
The steps, in the order `Verification.run` takes them, each in its own module:

1. the store's own check (`LedgerStore.self_check`: for SQLite, its integrity check and the table definitions);
2. scan and chain (`scan`): every entry read, hashed and chained in index order — contiguous indices, canonical
   bytes, the link to the previous leaf hash, events in canonical form — in spans, on all cores for a large
   ledger, joined in order by the walk (`walk`), which checks each kind's body: genesis first and only first,
   keys and revocations replayed into the key registry;
3. seals and signatures (`signatures`): each seal covers exactly the entries since the previous one, its root is
   theirs, the key registry lets its key sign that batch, and its signature verifies over `batch_message`;
4. tiles (`tiles`): the tree rebuilt leaf by leaf against every stored tile, so proofs served from tiles are sound;
5. checkpoint history (`history`): at the size of every stored and held checkpoint, the root and the operator's
   signature; truncation, rollback and forks, with both checkpoints as evidence;
6. projections (`projections`): every derived index, and the registered-keys table, against the entries (a
   published log keeps neither, so it has none to compare);
7. witnesses (`witnesses`), when a policy names them: k of n cosignatures on the newest stored checkpoint and on
   every held one.

The location may be a ledger file or a published log (a folder or URL, `storage.published`): the same steps run
over what it serves. The integrity-only pass (``contents=False``) takes steps 2–5 without decoding event bodies.
A damaged file gives problems in the report, never an exception other than tracechain's own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tracechain.entries import KeyRegistry
from tracechain.errors import StorageError, TracechainError
from tracechain.report import VerifyReport
from tracechain.storage import LedgerStore, open_store
from tracechain.verification import _projections as projections
from tracechain.verification._history import CheckpointHistory
from tracechain.verification._scan import scans
from tracechain.verification._signatures import SealChecker
from tracechain.verification._tiles import TileComparer
from tracechain.verification._walk import Walk
from tracechain.verification._witnesses import WitnessPolicy, check_quorum
from tracechain.witness import CosignerKey

__all__ = ["Progress", "check", "verify"]

Progress = Callable[[int, int], None]


def verify(
    location: str | os.PathLike[str],
    checkpoints: Iterable[str] = (),
    *,
    signatures: bool = True,
    contents: bool = True,
    workers: int | None = None,
    progress: Progress | None = None,
    witnesses: Sequence[CosignerKey | str] = (),
    quorum: int | None = None,
) -> VerifyReport:
    """Verify the whole ledger at ``location`` (a path, store location, or published folder or URL); see the module
    docstring for the steps.

    ``checkpoints`` are signed checkpoints held from earlier (outside the ledger): the ledger must extend each.
    ``signatures=False`` skips the Ed25519 checks of batch seals. ``contents=False`` is the integrity-only pass:
    every entry's bytes are still hashed and chained and the tree, tiles, seals and checkpoints all checked, but
    event bodies are not decoded, and the store's full consistency check and the projections are skipped; it finds
    any change to the hashed bytes, not a writer that stored well-hashed but malformed events; it reads and hashes
    the entries of a large ledger on all cores. ``workers`` caps the cores used for signatures and for the scan
    (default: all; 1 keeps everything in this process). ``progress(done, total)`` is called as entries are checked.
    ``witnesses`` (cosigner keys) and ``quorum`` (default: all of them) are a witness policy: k of those n must
    have cosigned the newest stored checkpoint and every held one; a policy that cannot be met raises
    `QuorumError` before anything is read.
    """
    policy = WitnessPolicy.of(witnesses, quorum)
    report = VerifyReport(os.fspath(location))
    try:
        store = open_store(location, readonly=True)
    except TracechainError as e:
        report.add(None, str(e))
        return report
    try:
        Verification(store, report, list(checkpoints), signatures, workers, progress, contents, policy).run()
    except StorageError as e:
        report.add(None, f"the file is damaged: {e}")
    finally:
        store.close()
    return report


def check(location: str | os.PathLike[str], checkpoints: Iterable[str] = (), **options: Any) -> VerifyReport:
    """As `verify`, but raises `VerificationError` (carrying the report) when anything is wrong."""
    report = verify(location, checkpoints, **options)
    report.raise_for_problems()
    return report


class Verification:
    """One run of the steps over one store; each step reports into the same report."""

    def __init__(
        self,
        store: LedgerStore,
        report: VerifyReport,
        held: list[str],
        signatures: bool,
        workers: int | None,
        progress: Progress | None,
        contents: bool,
        policy: WitnessPolicy | None = None,
    ) -> None:
        self.store = store
        self.report = report
        self.held = held
        self.signatures = signatures
        self.workers = workers
        self.progress = progress
        self.contents = contents
        self.policy = policy

    def run(self) -> None:
        store, report = self.store, self.report
        registry = KeyRegistry()
        with store.read():
            for message in store.self_check(thorough=self.contents):
                report.add(None, message)
            origin = store.meta("origin") or ""
            if not origin:
                report.add(None, "the ledger records no origin")
            total = store.size()
            stored_checkpoints = store.checkpoints()
            history = CheckpointHistory(report, registry, stored_checkpoints, self.held)
            history.plan(origin, total)
            seals = SealChecker(report, registry, origin, signatures=self.signatures, workers=self.workers)
            walk = Walk(report, origin, registry, history, TileComparer(store, report), seals, self.contents)
            built = store.built_projections()
            # A published log keeps no keys table and no projections: there is nothing derived to compare.
            stored = projections.Stored(store, built) if self.contents and store.keeps_derived else None
            complete = self._walk(walk, total, stored)
            history.report_mismatches()
            if complete:  # past a gap, the tables and later checkpoints cannot be compared
                history.check_beyond(report.size)
                if stored is not None:
                    projections.compare(report, walk.implied, stored, built)
                    projections.compare_keys(report, store, registry)
            if self.policy is not None:
                check_quorum(report, self.policy, stored_checkpoints, self.held)
        seals.flush()

    def _walk(self, walk: Walk, total: int, stored: projections.Stored | None) -> bool:
        """Scan and join every span; False when entries are missing, which ends the walk where they are."""
        walk.start()
        for span in scans(self.store, total, self.workers, self.contents):
            walk.join(span)
            if stored is not None:  # the stored projections are digested a share at a time, while workers scan
                stored.step(2 * (span.end - span.start))
            if self.progress is not None:
                self.progress(walk.expected, total)
            if span.failure is not None:  # what was read before the damage is reported, as in one pass
                raise StorageError(span.failure)
            if span.next_stored is not None:
                self.report.add(
                    walk.expected,
                    f"entries {walk.expected}..{span.next_stored - 1} are missing (next stored is {span.next_stored})",
                )
                return False
        walk.finish(total)
        if self.progress is not None:
            self.progress(walk.expected, total)
        return True
