"""Verification step: seals and their signatures.

Each seal must cover exactly the entries since the previous seal, give their root, and be signed by a key the
key registry lets sign that batch (`KeyRegistry.signer_problems`). Signatures are collected and checked in
chunks, on all cores for a large ledger.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

from tracechain import merkle
from tracechain.entries import Entry, KeyRegistry, batch_message
from tracechain.keys import verify_ed25519
from tracechain.report import VerifyReport
from tracechain.verification._scan import quiet_worker

__all__ = ["SealChecker", "verify_signatures"]

_PARALLEL_SIGNATURES = 512  # below this many signatures a process pool costs more than it saves
_SIGNATURE_CHUNK = 256


@dataclass(slots=True)
class _Batch:
    seal_index: int
    public: bytes
    message: bytes
    signature: bytes


class SealChecker:
    """Checks each seal as the walk reaches it; signatures are verified in chunks (`flush`)."""

    def __init__(
        self, report: VerifyReport, registry: KeyRegistry, origin: str, *, signatures: bool, workers: int | None
    ) -> None:
        self.report = report
        self.registry = registry
        self.origin = origin
        self.signatures = signatures
        self.workers = workers
        self.pending: list[_Batch] = []

    def seal(self, entry: Entry, hashes: list[bytes], kinds: set[str], speakers: list[tuple[int, str]]) -> None:
        """Check the seal ``entry`` closing the batch of leaf ``hashes`` whose entries are of ``kinds``, and whose
        events name the enterprises ``speakers`` (index, USCC) they are recorded for."""
        index, body, report = entry.index, entry.body, self.report
        report.batches += 1
        try:
            first, count, public = body["first"], body["count"], body["public"]
            batch_root, signature, actor = body["root"], body["sig"], body["actor"]
        except (KeyError, TypeError):
            report.add(index, "malformed seal: expected actor, count, first, public, root and sig")
            return
        if type(first) is not int or type(count) is not int or not isinstance(public, bytes):
            report.add(index, "malformed seal: first and count must be integers and public bytes")
            return
        if not hashes:
            report.add(index, "a seal with no entries before it to cover")
            return
        if first != index - len(hashes) or count != len(hashes):
            report.add(
                index,
                f"seal covers entries {first}..{first + count - 1} but the batch is {index - len(hashes)}..{index - 1}",
            )
            return
        if batch_root != merkle.root(hashes):
            report.add(index, "seal's batch root does not match the entries it covers")
            return
        problems = self.registry.signer_problems(public, first, kinds, actor)
        for problem in problems:
            report.add(index, problem)
        for at, enterprise in speakers:
            if isinstance(actor, str) and not self.registry.may_speak_for(actor, enterprise, first):
                report.add(
                    at,
                    f"event recorded for enterprise {enterprise} in a batch signed by {actor}, which had no"
                    " delegation to record for it",
                )
        if problems and self.registry.get(public) is None:
            return
        if self.signatures:
            message = batch_message(self.origin, first, count, batch_root)
            self.pending.append(_Batch(index, public, message, signature if isinstance(signature, bytes) else b""))
            if len(self.pending) >= 8 * _SIGNATURE_CHUNK:
                self.flush()

    def flush(self) -> None:
        """Verify the signatures collected so far."""
        batches, self.pending = self.pending, []
        if not batches:
            return
        results = verify_signatures([(b.public, b.message, b.signature) for b in batches], self.workers)
        self.report.signatures_checked += len(batches)
        for batch, good in zip(batches, results, strict=True):
            if not good:
                self.report.add(batch.seal_index, "batch signature does not verify")


def _verify_chunk(items: list[tuple[bytes, bytes, bytes]]) -> list[bool]:
    return [verify_ed25519(public, message, sig) for public, message, sig in items]


def verify_signatures(items: list[tuple[bytes, bytes, bytes]], workers: int | None) -> list[bool]:
    """Whether each (public key, message, signature) verifies, on ``workers`` cores (default: all).

    On several cores the calling process verifies chunks too, from the far end of the list, while a pool of the
    other cores takes them from the front: the caller would otherwise only wait, and no chunk waits on the pool's
    start-up.
    """
    cores = workers or os.cpu_count() or 1
    if cores < 2 or len(items) < _PARALLEL_SIGNATURES:
        return _verify_chunk(items)
    chunks = [items[i : i + _SIGNATURE_CHUNK] for i in range(0, len(items), _SIGNATURE_CHUNK)]
    results: list[list[bool]] = [[] for _ in chunks]
    todo = deque(range(len(chunks)))
    running: dict[Future[list[bool]], int] = {}
    with ProcessPoolExecutor(max_workers=cores - 1, initializer=quiet_worker) as pool:

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
