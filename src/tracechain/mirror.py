"""Mirroring a published log into a local ledger, and keeping it up to date.

`mirror(source, ledger)` copies the log at ``source`` (a published folder or URL, or another ledger file) up to its
checkpoint into the SQLite ledger at ``ledger`` — made if missing — and on later runs appends what is new. The
mirror's entries are the source's bytes, byte for byte; its tiles, keys table and projections are rebuilt from them
exactly as a ledger writes its own, so the mirror is an ordinary ledger: `tracechain verify`, ``log``, ``prove``
take it, and it can be published again.

Steps (one write transaction: the mirror moves to the source's new checkpoint whole, or not at all):

1. the source's checkpoint is read, and the mirror's newest checkpoint (the last one mirrored) found; the mirror
   must hold exactly the entries that checkpoint covers (nothing written to it since) and be of the same origin;
2. consistency: the source must not be smaller than the mirror, and its tree at the mirror's size must have the
   root the mirror's checkpoint states — proven with a consistency proof read from the source's tiles and checked
   against both signed roots. A source that fails is refused with `InconsistentLogError` carrying both checkpoints
   (a rollback, a fork or a rewritten past: the operator signed two histories); one whose tiles do not even match
   its own checkpoint is refused as damaged;
3. the new entries are read and checked as they are copied: each decodes as an entry of its index and links to the
   one before; its leaf extends the tree; key, revocation and delegation entries are replayed by the key rules;
   projection rows are derived (event entries decoded);
4. the rebuilt root must be the source checkpoint's root and the checkpoint must verify with the operator keys the
   entries register; then it is stored and the transaction commits.

Seal signatures and event profiles are not checked here: verify the mirror (or the source) for that.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracechain import merkle
from tracechain._tiles import TileEdge, TileReader
from tracechain.checkpoints import Checkpoint, open_checkpoint, parse_unverified
from tracechain.entries import KEY_KINDS, ZERO_HASH, Entry, KeyRegistry
from tracechain.errors import (
    InconsistentLogError,
    ProofError,
    StorageError,
    TracechainError,
    VerificationError,
)
from tracechain.events import Event
from tracechain.storage import DELEGATIONS, PROJECTIONS, LedgerStore, Row, open_store

__all__ = ["MirrorResult", "mirror"]

_FLUSH = 4096  # entries written per round of inserts: memory stays flat however many are new


@dataclass(frozen=True)
class MirrorResult:
    """What one mirror run did: the size mirrored now, the size mirrored before (0 for a new mirror), how many
    entries it appended, and the checkpoint now held."""

    size: int
    previous_size: int
    appended: int
    checkpoint: str


def mirror(source: str | os.PathLike[str], ledger: str | os.PathLike[str]) -> MirrorResult:
    """Copy the log at ``source`` into the ledger at ``ledger`` up to the source's checkpoint; see the module
    docstring for the steps. Raises `InconsistentLogError` for a source that contradicts the mirror,
    `VerificationError` for a source that is damaged, `StorageError` for one that cannot be read."""
    target = os.fspath(ledger)
    created = not os.path.lexists(target)
    src = open_store(source, readonly=True)
    try:
        stored = src.checkpoints()
        if not stored:
            raise StorageError(f"{src.location} holds no checkpoint to mirror")
        note = stored[-1][1]
        checkpoint = parse_unverified(note)
        store = open_store(target, create=created)
        try:
            with store.write():
                if created:
                    store.set_meta("origin", checkpoint.origin)
                previous = _check_consistent(src, store, note, checkpoint)
                _copy(src, store, previous, checkpoint)
                verifiers = _registry(store).checkpoint_verifiers(checkpoint.origin)
                try:
                    open_checkpoint(note, verifiers, origin=checkpoint.origin)
                except TracechainError as e:
                    raise VerificationError(
                        f"{src.location}: its checkpoint of size {checkpoint.size} does not verify with the operator"
                        f" keys its entries register: {e}"
                    ) from e
                if checkpoint.size > previous or note != _newest(store)[1]:
                    store.add_checkpoint(checkpoint.size, note)
        finally:
            store.close()
    except BaseException:
        if created:
            _remove(target)
        raise
    finally:
        src.close()
    return MirrorResult(checkpoint.size, previous, checkpoint.size - previous, note)


def _newest(store: LedgerStore) -> tuple[int, str]:
    stored = store.checkpoints()
    return stored[-1] if stored else (0, "")


def _check_consistent(src: LedgerStore, store: LedgerStore, note: str, checkpoint: Checkpoint) -> int:
    """The size the mirror holds, once the source is shown to extend it; see step 2 of the module docstring."""
    origin = store.meta("origin")
    if origin != checkpoint.origin:
        raise StorageError(
            f"{store.location} is a ledger of log {origin!r}; {src.location} publishes log {checkpoint.origin!r}"
        )
    size, held = _newest(store)
    if store.size() != size:
        raise StorageError(
            f"{store.location} holds {store.size()} entries but its newest checkpoint covers {size}: it was written"
            " to after it was last mirrored, and a mirror takes entries only from its source"
        )
    if not size:
        return 0
    mine = parse_unverified(held)
    if checkpoint.size < size:
        _refuse_signed(
            src,
            store,
            note,
            held,
            f"{src.location} publishes {checkpoint.size} entries, but {store.location} already holds a checkpoint"
            f" of {size} signed by the same log: the log was rolled back or truncated",
        )
    reader = TileReader(src.tile)
    try:
        old_root = merkle.root_from(size, reader)
        proof = merkle.consistency_proof_from(size, checkpoint.size, reader)
        merkle.verify_consistency(size, checkpoint.size, old_root, checkpoint.root, proof)
    except (LookupError, ProofError) as e:
        if checkpoint.size == size and checkpoint.root != mine.root:
            old_root = checkpoint.root  # two roots at one size: a fork, whatever the tiles say
        else:
            raise VerificationError(
                f"{src.location}: its tiles do not prove its own checkpoint of size {checkpoint.size} ({e});"
                " the published log is damaged"
            ) from e
    if old_root != mine.root:
        _refuse_signed(
            src,
            store,
            note,
            held,
            f"{src.location}'s tree at size {size} has root {old_root.hex()}, but the checkpoint {store.location}"
            f" holds at that size says {mine.root.hex()}: the log has forked or rewritten its past",
        )
    return size


def _refuse_signed(src: LedgerStore, store: LedgerStore, note: str, held: str, message: str) -> None:
    """Raise `InconsistentLogError` if the log's own keys signed ``note``, else a plain `VerificationError`: an
    unsigned contradiction is damage or forgery at the source, not evidence against the log."""
    origin = parse_unverified(held).origin
    try:
        open_checkpoint(note, _registry(store).checkpoint_verifiers(origin), origin=origin)
    except TracechainError as e:
        raise VerificationError(
            f"{message}; but the source's checkpoint does not verify with the operator keys the mirror holds ({e})"
        ) from e
    raise InconsistentLogError(message, [held, note])


def _registry(store: LedgerStore) -> KeyRegistry:
    registry = KeyRegistry(store.registered_keys())
    registry.replay_delegations(store.iter_rows(DELEGATIONS))
    return registry


def _copy(src: LedgerStore, store: LedgerStore, start: int, checkpoint: Checkpoint) -> None:
    """Copy entries ``start`` .. checkpoint size - 1 with their tiles, keys and projection rows (steps 3 and 4)."""
    try:
        edge = TileEdge.load(start, store.tile)
    except ValueError as e:
        raise StorageError(f"{store.location}: the tree's tiles are incomplete ({e}); run tracechain verify") from e
    try:
        prev = TileReader(store.tile).node(0, start - 1) if start else ZERO_HASH
    except LookupError as e:
        raise StorageError(f"{store.location}: no leaf hash stored for entry {start - 1}; run tracechain verify") from e
    registry = _registry(store)
    entries: list[tuple[int, bytes]] = []
    leaves: list[bytes] = []
    rows: dict[str, list[Row]] = {p.name: [] for p in PROJECTIONS}

    def flush() -> None:
        store.insert_entries(entries)
        for projection in PROJECTIONS:
            store.insert_rows(projection, rows[projection.name])
            rows[projection.name].clear()
        store.put_tiles(edge.extend(leaves))
        entries.clear()
        leaves.clear()

    for index, data in _entries(src, start, checkpoint.size):
        entry = _decoded(src, index, data, prev)
        prev = entry.leaf_hash
        entries.append((index, data))
        leaves.append(entry.leaf_hash)
        _take_in(src, store, registry, entry, rows)
        if len(entries) >= _FLUSH:
            flush()
    flush()
    store.put_tiles(edge.flush())
    if edge.root() != checkpoint.root:
        raise VerificationError(
            f"{src.location}: its entries give root {edge.root().hex()} at size {checkpoint.size}, but its"
            f" checkpoint says {checkpoint.root.hex()}; nothing was mirrored"
        )


def _entries(src: LedgerStore, start: int, end: int) -> Iterator[tuple[int, bytes]]:
    expected = start
    for index, data in src.iter_entries(start, end):
        if index != expected:
            break
        yield index, bytes(data)
        expected += 1
    if expected != end:
        raise VerificationError(f"{src.location}: entry {expected} is missing (the checkpoint covers {end})")


def _decoded(src: LedgerStore, index: int, data: bytes, prev: bytes) -> Entry:
    try:
        entry = Entry.from_bytes(data, expected_index=index)
    except TracechainError as e:
        raise VerificationError(f"{src.location}: entry {index} is malformed: {e}; nothing was mirrored") from e
    if entry.prev != prev:
        raise VerificationError(
            f"{src.location}: entry {index} links to {entry.prev.hex()}, but the entry before it hashes to"
            f" {prev.hex()}; nothing was mirrored"
        )
    return entry


def _take_in(
    src: LedgerStore, store: LedgerStore, registry: KeyRegistry, entry: Entry, rows: dict[str, list[Row]]
) -> None:
    """Replay a key entry into the registry and the keys table, and derive the entry's projection rows."""
    index, kind = entry.index, entry.kind
    try:
        if kind in KEY_KINDS:
            key = registry.apply(index, kind, entry.body)
            if key is not None and kind == "revoke":
                store.revoke_key(key.public, index)
            elif key is not None:
                store.add_key(key)
        wanted = [p for p in PROJECTIONS if kind in p.kinds]
        value: Any = Event.from_canonical(entry.body) if wanted and kind == "event" else entry.body
        for projection in wanted:
            rows[projection.name] += projection.derive(value, index)
    except TracechainError as e:
        raise VerificationError(f"{src.location}: entry {index} ({kind}) cannot be taken in: {e}") from e
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise VerificationError(f"{src.location}: entry {index} ({kind}) is malformed: {e!r}") from e


def _remove(path: str) -> None:
    """Remove a mirror this run created and could not finish, with SQLite's files beside it."""
    for name in (path, f"{path}-wal", f"{path}-shm", f"{path}-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(name).unlink()
