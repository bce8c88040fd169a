"""The ledger: an append-only, hash-chained, signed sequence of entries in a store (a SQLite file by default).

The entry format (kinds, chaining, what a seal signs, who may sign) is `tracechain.entries`; where entries are kept
is `tracechain.storage`. Each call that writes (`append`, `append_many`, `register`, `revoke`) is one batch, one
signature and one write transaction: it returns only after the commit, and a failure leaves the store as it was.
The projections (`storage.projections`) are written in the same transaction as the entries they derive from.

Longer than most modules because `Ledger` is the library's main public class: opening, writing, keys and
delegations, checkpoints, lookups and proofs are its methods; the entry format, storage and verification it
relies on live elsewhere.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import count
from typing import TYPE_CHECKING, Any, Self

from tracechain import encoding, identifiers, merkle
from tracechain._tiles import TILE_WIDTH, TileEdge, TileReader
from tracechain.entries import (
    ENTRY_VERSION,
    ROLES,
    ZERO_HASH,
    Entry,
    KeyInfo,
    KeyRegistry,
    batch_message,
    chain,
    speaks_for,
)
from tracechain.errors import (
    CheckpointError,
    EncodingError,
    ProofError,
    SignatureError,
    StorageError,
    ValidationError,
    VerificationError,
    WitnessError,
)
from tracechain.events import Event
from tracechain.keys import SigningKey, VerifierKey
from tracechain.notes import parse_note
from tracechain.proofs import BatchReceipt, ConsistencyProof, InclusionProof
from tracechain.storage import (
    BATCHES,
    DELEGATIONS,
    DIGESTS,
    EVENT_IDS,
    ITEMS,
    LOTS,
    PROJECTIONS,
    LedgerStore,
    Projection,
    open_store,
)
from tracechain.storage.projections import event_digest, event_id_key, event_time

if TYPE_CHECKING:
    from tracechain.checkpoints import Checkpoint
    from tracechain.witness import CosignerKey, WitnessEndpoint

__all__ = ["DEFAULT_TILE_CACHE", "Ledger"]

DEFAULT_TILE_CACHE = 4096
_DUPLICATES = ("skip", "refuse", "allow")
_IDENTITIES = ("bytes", "event_id")
_MAX_TIME = (1 << 63) - 1
_BY_KIND = {kind: [p for p in PROJECTIONS if kind in p.kinds] for p0 in PROJECTIONS for kind in p0.kinds}
_REMEMBERED_RANGES = 4096
_WITNESSES = "witnesses"  # meta: the witnesses checkpoints are submitted to, one '<cosigner key> <URL>' per line
Location = str | os.PathLike[str]


class Ledger:
    """An open ledger file. Open one per process; every write is durable when its method returns."""

    def __init__(self, store: LedgerStore, *, tile_cache: int = DEFAULT_TILE_CACHE) -> None:
        self._store = store
        origin = store.meta("origin")
        if origin is None:
            raise StorageError(f"{store.location}: the ledger has no origin recorded")
        self.origin = origin
        self._edge: TileEdge | None = None
        self._last_hash = ZERO_HASH
        self._reader = TileReader(store.tile, cache_size=tile_cache)
        # Roots of committed ranges never change, and every proof at one tree size meets the same ranges along
        # its right edge (the root among them): remembered, a proof hashes nothing beyond its own path.
        self._memo: dict[tuple[int, int], bytes] = {}
        self._last_seal: tuple[Any, ...] | None = None  # for `signer` on a ledger without the batch index

    # --- opening -------------------------------------------------------------------------------------------

    @classmethod
    def create(cls, location: Location, origin: str, key: SigningKey, actor: str) -> Ledger:
        """A new ledger at ``location`` (a path or store location) whose operator is ``actor`` (a USCC) holding
        ``key``.

        The operator key signs checkpoints, whose C2SP key name is the origin, so the key must be named so.
        """
        from tracechain.checkpoints import Checkpoint  # here, not above: a lookup never loads checkpoints

        Checkpoint(origin, 0, merkle.EMPTY_ROOT)  # validates the origin's form
        if key.name != origin:
            raise CheckpointError(
                f"the operator key is named {key.name!r} but checkpoints are signed under the origin {origin!r};"
                f" generate the operator key with that name (tracechain keygen {origin})"
            )
        actor = identifiers.validate_uscc(actor)
        store = open_store(location, create=True)
        try:
            with store.write():
                store.set_meta("origin", origin)
            ledger = cls(store)
            genesis = {
                "created": time.time_ns() // 1000,
                "format": ENTRY_VERSION,
                "operator": {"actor": actor, "name": key.name, "public": key.public_bytes},
                "origin": origin,
            }
            ledger._write_batch([("genesis", genesis)], key, genesis_actor=actor)
        except BaseException:
            store.close()
            raise
        return ledger

    @classmethod
    def open(cls, location: Location, *, readonly: bool = False, tile_cache: int = DEFAULT_TILE_CACHE) -> Ledger:
        """Open an existing ledger; a missing file, another kind of file or an unknown version is refused.

        ``readonly`` never writes to the store (a read-only copy, a folder the user cannot write): reads, lookups
        and proofs work, writes raise `StorageError`. A writable open of a ledger written before one of today's
        projections existed builds that projection from the entries first.

        ``tile_cache`` is how many tiles proofs keep in memory (each at most 16 KiB with its inner hashes, so
        the default holds up to 64 MiB once proofs have touched that many tiles; 1M entries make about 3,920 tiles).
        A proof whose tiles are cached needs no hashing inside tiles and no SQL read.
        """
        if tile_cache < 1:  # checked before the file is opened, so nothing is left open on refusal
            raise ValidationError(f"tile_cache must be at least 1 tile, found {tile_cache}")
        store = open_store(location, readonly=readonly, mmap=True)
        try:
            if not store.keeps_derived:
                # A published log has no keys table or projections: key and item look-ups would answer "none".
                raise StorageError(
                    f"{store.location}: a published log is not a ledger; verify it as it is (tracechain verify), or"
                    " mirror it into a ledger file (tracechain mirror) to read and prove from it"
                )
            ledger = cls(store, tile_cache=tile_cache)
            missing = [p for p in PROJECTIONS if p not in store.built_projections()]
            if missing and not readonly:
                ledger.reindex(missing)
            return ledger
        except BaseException:
            store.close()
            raise

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def path(self) -> str:
        """Where the ledger was opened from."""
        return self._store.location

    @property
    def size(self) -> int:
        return self._store.size()

    @property
    def store(self) -> LedgerStore:
        """The store beneath, for capabilities that query its projections (scan verdicts, trace)."""
        return self._store

    def root(self, size: int | None = None) -> bytes:
        """The Merkle root of the first ``size`` entries (default: all), from the tiles in O(log n) reads."""
        with self._store.read():
            n = self._check_size(size)
            return self._root(n)

    def _root(self, size: int) -> bytes:
        try:
            return merkle.root_from(size, self._reader, self._ranges())
        except LookupError as e:
            raise StorageError(f"{self.path}: the tree's tiles are incomplete ({e}); run tracechain verify") from e

    def _ranges(self) -> dict[tuple[int, int], bytes]:
        """The remembered range roots, forgotten wholesale when they grow past a bound (about 20 per tree size)."""
        if len(self._memo) > _REMEMBERED_RANGES:
            self._memo.clear()
        return self._memo

    def _check_size(self, size: int | None) -> int:
        current = self._store.size()
        if size is None:
            return current
        if not 0 <= size <= current:
            raise ProofError(f"tree size must be in [0, {current}], found {size}")
        return size

    # --- keys ----------------------------------------------------------------------------------------------

    def keys(self) -> list[KeyInfo]:
        """Every key ever registered, in registration order, with the index where it was revoked if it was."""
        return self._store.registered_keys()

    def _signer(self, registry: KeyRegistry, key: SigningKey, operator: bool) -> KeyInfo:
        info = registry.get(key.public_bytes)
        if info is None:
            raise SignatureError(f"key {key.name} ({key.verifier}) is not registered in ledger {self.origin}")
        if info.revoked is not None:
            raise SignatureError(f"key {key.name} was revoked at entry {info.revoked}; it can no longer sign")
        if operator and info.role != "operator":
            raise SignatureError(f"key {key.name} belongs to actor {info.actor}, not to the ledger operator")
        return info

    # --- writing -------------------------------------------------------------------------------------------

    def append(self, event: Event | Mapping[str, Any], key: SigningKey, *, duplicates: str = "skip") -> int:
        """Validate, record and sign one event (a batch of one); returns its entry index (the index it already
        had, if the ledger held the same event)."""
        receipt = self.append_many([event], key, duplicates=duplicates)
        return receipt.first if receipt.count else receipt.existing[0]

    def append_many(
        self,
        events: Iterable[Event | Mapping[str, Any]],
        key: SigningKey,
        *,
        duplicates: str = "skip",
        identity: str = "bytes",
    ) -> BatchReceipt:
        """Validate every event, then record them all as one signed batch, or nothing if any is invalid.

        An event the ledger already holds (a retried or resumed append) is handled by ``duplicates``: ``"skip"``
        (default) leaves it out and lists its index in the receipt's ``existing``, ``"refuse"`` raises
        `ValidationError` and writes nothing, ``"allow"`` records it again. ``identity`` says what makes two events
        the same: ``"bytes"`` (default) the same canonical event; ``"event_id"`` the same GS1 event hash ID, which
        leaves out eventID and recordTime and reads every spelling of a code or CBV value as one (what EPCIS
        repositories use to recognise an event they already hold), with the same errorDeclaration or none: an
        error declaration about an event the ledger holds is a record of its own. The same event twice in one
        batch is recorded once either way.
        """
        if duplicates not in _DUPLICATES:
            raise ValidationError(f"duplicates must be one of {_DUPLICATES}, found {duplicates!r}")
        if identity not in _IDENTITIES:
            raise ValidationError(f"identity must be one of {_IDENTITIES}, found {identity!r}")
        checked = validate_all(events)
        if not checked:
            raise ValidationError("a batch needs at least one event")
        return self._write_batch([("event", e) for e in checked], key, duplicates=duplicates, identity=identity)

    def register(self, verifier: str | VerifierKey, actor: str, key: SigningKey, *, role: str = "actor") -> int:
        """Register an actor's key (operator-signed); returns the entry index. A second key is a rotation."""
        vk = verifier if isinstance(verifier, VerifierKey) else VerifierKey.parse(verifier)
        actor = identifiers.validate_uscc(actor)
        if role not in ROLES:
            raise ValidationError(f"role must be one of {ROLES}, found {role!r}")
        if any(k.public == vk.public_bytes for k in self.keys()):
            raise SignatureError(f"key {vk} is already registered in this ledger")
        body = {"actor": actor, "name": vk.name, "public": vk.public_bytes, "role": role}
        return self._write_batch([("key", body)], key).first

    def delegate(self, agent: str, principal: str, key: SigningKey, *, withdraw: bool = False) -> int:
        """Let the actor ``agent`` record events for the enterprise ``principal`` (both USCCs), from the next
        batch on — a logistics provider or a platform recording on a producer's behalf; with ``withdraw``, end
        that. Operator-signed; returns the entry index."""
        agent, principal = identifiers.validate_uscc(agent), identifiers.validate_uscc(principal)
        if agent == principal:
            raise ValidationError(f"an actor records for itself without a delegation; agent and principal are {agent}")
        registry = KeyRegistry()
        registry.replay_delegations(self._store.lookup(DELEGATIONS, agent))
        action = "withdraw" if withdraw else "grant"
        try:  # the registry's own rule, checked before anything is signed
            registry.apply(self.size, "delegation", {"agent": agent, "principal": principal, "action": action})
        except SignatureError as e:
            raise ValidationError(str(e)) from e
        body = {"action": action, "agent": agent, "principal": principal}
        return self._write_batch([("delegation", body)], key).first

    def signer(self, index: int) -> tuple[str, VerifierKey] | None:
        """The actor (USCC) and key that signed the batch holding entry ``index``; None if no seal covers it yet."""
        if BATCHES in self._store.built_projections():
            row = self._store.lookup_floor(BATCHES, index)
        else:  # a ledger written before the batch index, opened read-only: its seal is the next one along
            row = self._seal_after(index)
        if row is None or row[-1] < index:
            return None
        public = bytes.fromhex(row[2])
        key = next((k for k in self.keys() if k.public == public), None)
        return (row[1], key.verifier) if key is not None else None

    def _seal_after(self, index: int) -> tuple[Any, ...] | None:
        last = self._last_seal
        if last is not None and last[0] <= index <= last[-1]:  # listing a batch entry by entry: one scan
            return last
        for at, data in self._store.iter_entries(index, chunk=256):
            entry = Entry.from_bytes(bytes(data), expected_index=at)
            if entry.kind == "seal":
                self._last_seal = next(iter(BATCHES.derive(entry.body, at)))
                return self._last_seal
        return None

    def revoke(self, verifier: str | VerifierKey, key: SigningKey) -> int:
        """Revoke a key (operator-signed); its batches up to and including this one stay valid.

        An operator key may revoke itself (the last step of a rotation: register the new operator key, then
        revoke the old one with either), but the last operator key that can still sign is never revoked: nobody
        could sign a checkpoint or register a key after it.
        """
        vk = verifier if isinstance(verifier, VerifierKey) else VerifierKey.parse(verifier)
        keys = self.keys()
        known = [k for k in keys if k.public == vk.public_bytes]
        if not known:
            raise SignatureError(f"key {vk} is not registered in this ledger")
        if known[0].revoked is not None:
            raise SignatureError(f"key {vk} was already revoked at entry {known[0].revoked}")
        operators = [k for k in keys if k.role == "operator" and k.revoked is None and k.name == self.origin]
        if known[0].role == "operator" and [k.public for k in operators] == [vk.public_bytes]:
            raise SignatureError(
                f"key {vk.name} is the ledger's last operator key that can sign; register a new operator key first"
                f" (tracechain keygen {self.origin} --out new.key, then tracechain register … --operator) and"
                " revoke this one after"
            )
        return self._write_batch([("revoke", {"public": vk.public_bytes})], key).first

    def _load_tip(self) -> TileEdge:
        """The right edge of the tree at the committed size, reloaded if another writer moved it."""
        size = self._store.size()
        if self._edge is None or self._edge.size != size:
            try:
                self._edge = TileEdge.load(size, self._store.tile)
            except ValueError as e:
                raise StorageError(f"{self.path}: the tree's tiles are incomplete ({e}); run tracechain verify") from e
            self._last_hash = self._leaf(size - 1) if size else ZERO_HASH
        return self._edge

    def _leaf(self, index: int) -> bytes:
        try:
            return self._reader.node(0, index)
        except LookupError as e:
            raise StorageError(f"{self.path}: no leaf hash stored for entry {index}") from e

    def _write_batch(
        self,
        items: Sequence[tuple[str, Any]],
        key: SigningKey,
        *,
        genesis_actor: str | None = None,
        duplicates: str = "allow",
        identity: str = "bytes",
    ) -> BatchReceipt:
        try:
            return self._write_batch_once(items, key, genesis_actor, duplicates, identity)
        except BaseException:
            # The transaction rolled back: forget anything read or cached while it was open.
            self._edge = None
            self._reader.clear()
            self._memo.clear()
            raise

    def _write_batch_once(
        self,
        items: Sequence[tuple[str, Any]],
        key: SigningKey,
        genesis_actor: str | None,
        duplicates: str,
        identity: str,
    ) -> BatchReceipt:
        store = self._store
        structural = any(kind != "event" for kind, _ in items)
        with store.write():
            registry = KeyRegistry(store.registered_keys())
            actor = genesis_actor or self._signer(registry, key, operator=structural).actor
            existing: list[int] = []
            if duplicates != "allow":  # inside the write transaction: no other writer can add one meanwhile
                if identity == "event_id":
                    items, existing = self._leave_out_identified(items)
                else:
                    items, existing = self._leave_out_recorded(items)
                if existing and duplicates == "refuse":
                    raise ValidationError(
                        f"{len(existing)} event(s) are already in the ledger (the first at entry {existing[0]});"
                        " nothing written"
                    )
                if not items:
                    return BatchReceipt(store.size(), 0, None, (), tuple(existing))
            edge = self._load_tip().copy()
            first, prev = edge.size, self._last_hash
            datas, hashes = chain(items, first, prev)
            prev = hashes[-1]
            rows = list(zip(count(first), datas))
            if not structural:
                registry.replay_delegations(store.lookup(DELEGATIONS, actor))
                _check_speakers(registry, actor, items, first)
            tiles = edge.extend(hashes)
            batch_root = merkle.root(hashes)
            seal = {
                "actor": actor,
                "count": len(items),
                "first": first,
                "public": key.public_bytes,
                "root": batch_root,
                "sig": key.sign(batch_message(self.origin, first, len(items), batch_root)),
            }
            seal_index = first + len(items)
            seal_bytes = encoding.encode_entry(ENTRY_VERSION, seal_index, prev, "seal", seal)
            seal_hash = merkle.leaf_hash(seal_bytes)
            rows.append((seal_index, seal_bytes))
            tiles.extend(edge.append(seal_hash))
            store.insert_entries(rows)
            rows_of: dict[Projection, list[Any]] = {p: [] for p in PROJECTIONS}
            for i, (kind, body) in enumerate([*items, ("seal", seal)], first):
                for p in _BY_KIND.get(kind, ()):
                    rows_of[p] += p.derive(body, i)
            for p, projected in rows_of.items():
                store.insert_rows(p, projected)
            store.put_tiles(tiles + edge.flush())
            if structural:  # an event batch changes no key
                for offset, (kind, body) in enumerate(items):
                    self._apply_key_entry(registry, kind, body, first + offset)
        # Only after the commit does the cached tip move.
        self._edge, self._last_hash = edge, seal_hash
        return BatchReceipt(first, len(items), seal_index, tuple(hashes), tuple(existing))

    def _leave_out_recorded(self, items: Sequence[tuple[str, Any]]) -> tuple[list[tuple[str, Any]], list[int]]:
        """The items without the events the ledger (or an earlier item of this batch) already records, and the
        entry indexes of those it records. A digest match counts only when the stored bytes are the same."""
        digests = [(event_time(body), event_digest(body)) if kind == "event" else None for kind, body in items]
        stored: dict[tuple[int, int], list[int]] = {}
        times = {d[0] for d in digests if d is not None}
        newest = self._store.lookup_floor(DIGESTS, _MAX_TIME)
        # Events usually come in time order: a batch wholly newer than every recorded event needs no lookup.
        if times and newest is not None and min(times) <= newest[0]:
            for time_, digest, index in self._store.lookup_many(DIGESTS, times):
                stored.setdefault((time_, digest), []).append(index)
        kept: list[tuple[str, Any]] = []
        existing: list[int] = []
        seen: set[bytes] = set()
        for (kind, body), digest in zip(items, digests, strict=True):
            if digest is not None:
                data = body.canonical_bytes()
                candidates = stored.get(digest)
                at = next((i for i in candidates if self._event_bytes(i) == data), None) if candidates else None
                if at is not None:
                    existing.append(at)
                    continue
                if data in seen:  # the same event twice in one batch: recorded once
                    continue
                seen.add(data)
            kept.append((kind, body))
        return kept, existing

    def _leave_out_identified(self, items: Sequence[tuple[str, Any]]) -> tuple[list[tuple[str, Any]], list[int]]:
        """The items without the events whose GS1 event hash ID the ledger (or an earlier item) already has with the
        same ``errorDeclaration`` (none, or an equal one), and the entry indexes that have them.

        The hash ID leaves errorDeclaration out so that an error declaration names the event it corrects: EPCIS
        re-captures the erroneous event with the declaration added. That is a new record, not a repeat.
        """
        keys = [_id_key(body) if kind == "event" else None for kind, body in items]
        stored: dict[str, list[int]] = {}
        for sha, index in self._store.lookup_many(EVENT_IDS, {k for k in keys if k is not None}):
            stored.setdefault(sha, []).append(index)
        kept: list[tuple[str, Any]] = []
        existing: list[int] = []
        seen: list[tuple[str, Any]] = []
        for item, id_key in zip(items, keys, strict=True):
            if id_key is not None:
                declared = item[1].data.get("errorDeclaration")
                held = next((i for i in sorted(stored.get(id_key, ())) if self._declared(i) == declared), None)
                if held is not None:
                    existing.append(held)
                    continue
                if (id_key, declared) in seen:
                    continue
                seen.append((id_key, declared))
            kept.append(item)
        return kept, existing

    def _declared(self, index: int) -> Any:
        event = self.entry(index).event
        return None if event is None else event.data.get("errorDeclaration")

    def _event_bytes(self, index: int) -> bytes | None:
        entry = self.entry(index)
        return entry.body if entry.kind == "event" else None

    def _apply_key_entry(self, registry: KeyRegistry, kind: str, body: Any, index: int) -> None:
        """Replay one key entry into the registry, as verification will, and record what it changed in the keys
        table (delegations are checked by `delegate` and kept by their projection)."""
        if kind == "delegation":
            return
        key = registry.apply(index, kind, body)
        if key is None:
            return
        if kind == "revoke":
            self._store.revoke_key(key.public, index)
        else:
            self._store.add_key(key)

    def reindex(self, projections: Iterable[Projection] = PROJECTIONS) -> dict[str, int]:
        """Rebuild projections from the entries, in one write transaction; returns the rows of each.

        For a projection that is missing (a ledger written before it existed) or found stale by verify.
        """
        chosen = list(projections)
        out = {p.name: 0 for p in chosen}
        with self._store.write():
            for projection in chosen:
                self._store.clear(projection)
            for index, data in self._store.iter_entries():
                entry = Entry.from_bytes(bytes(data), expected_index=index)
                wanted = [p for p in chosen if entry.kind in p.kinds]
                value = Event.from_canonical(entry.body) if wanted and entry.kind == "event" else entry.body
                for projection in wanted:
                    rows = list(projection.derive(value, index))
                    self._store.insert_rows(projection, rows)
                    out[projection.name] += len(rows)
        return out

    # --- checkpoints ---------------------------------------------------------------------------------------

    def checkpoint(self, key: SigningKey) -> str:
        """Sign and store a C2SP checkpoint of the whole ledger; returns the signed note.

        The entries added since the last stored checkpoint are re-read and re-hashed first, so a checkpoint
        never vouches for a tree that the stored bytes do not produce.
        """
        self._signer(KeyRegistry(self.keys()), key, operator=True)
        with self._store.write():
            size = self._store.size()
            stored = self._store.checkpoints()
            since = stored[-1][0] if stored else 0
            self._recheck(since, size)
            from tracechain.checkpoints import Checkpoint

            cp = Checkpoint(self.origin, size, self._root(size))
            note = cp.sign(key)
            kept = dict(stored).get(size)
            if kept is not None and kept.startswith(note):
                # The same checkpoint, signed by the same key (Ed25519 signs deterministically), already stored
                # with witness cosignatures: keep them rather than replace the note with its bare self.
                return kept
            self._store.add_checkpoint(size, note)
        return note

    def add_cosignatures(self, note: str, witnesses: Sequence[CosignerKey]) -> str:
        """Store the cosignatures that ``witnesses`` made on ``note`` with the stored checkpoint they cosign; returns
        the checkpoint as now stored.

        ``note`` must be a checkpoint of this ledger signed by an operator key, with the text of the checkpoint
        stored at its size. Each cosignature line by a named witness must verify (else `SignatureError`, and
        nothing is stored); lines by other keys are left out, and a witness already on the stored note keeps its
        line there. Verification reads such a note as it reads a bare one: the operator's signature opens it, and
        lines by keys it was not given are passed over.
        """
        from tracechain.witness import verified_cosigners  # here: a lookup never loads witnesses

        cp = self.open_checkpoint(note)
        found = {(w.name, w.key_id) for w in verified_cosigners(note, witnesses)}
        text, signatures = parse_note(note)
        with self._store.write():
            stored = dict(self._store.checkpoints()).get(cp.size)
            if stored is None or parse_note(stored)[0] != text:
                raise CheckpointError(
                    f"the ledger stores no checkpoint of size {cp.size} with the text of the one cosigned; sign it"
                    " first (Ledger.checkpoint)"
                )
            have = {(s.name, s.key_id) for s in parse_note(stored)[1]}
            added = ""
            for line in signatures:
                slot = (line.name, line.key_id)
                if slot in found and slot not in have:
                    added += line.to_line()
                    have.add(slot)
            merged = stored + added
            parse_note(merged)  # within the bounds on signature lines and note size
            if added:
                self._store.add_checkpoint(cp.size, merged)
        return merged

    def witnesses(self) -> list[WitnessEndpoint]:
        """The witnesses this ledger's checkpoints are submitted to (`set_witnesses`), in the order set."""
        from tracechain.witness import parse_witness

        text = self._store.meta(_WITNESSES) or ""
        return [parse_witness(line) for line in text.splitlines() if line.strip()]

    def set_witnesses(self, witnesses: Sequence[WitnessEndpoint]) -> None:
        """Replace the list of witnesses checkpoints are submitted to (a setting of this ledger file: it is not an
        entry, and not signed). A witness key named twice is refused with `WitnessError`."""
        slots = [(w.key.name, w.key.key_id) for w in witnesses]
        if len(set(slots)) != len(slots):
            raise WitnessError("the same witness key is listed twice")
        with self._store.write():
            self._store.set_meta(_WITNESSES, "".join(f"{w}\n" for w in witnesses))

    def _recheck(self, start: int, end: int) -> None:
        prev = self._leaf(start - 1) if start else ZERO_HASH
        tile_index, tile = -1, b""
        for index, data in self._store.iter_entries(start, end):
            try:
                entry = Entry.from_bytes(bytes(data), expected_index=index)
            except EncodingError as e:
                raise VerificationError(f"entry {index}: {e}; refusing to sign a checkpoint") from e
            if index // TILE_WIDTH != tile_index:  # one tile read per 256 entries, not one per entry
                tile_index = index // TILE_WIDTH
                tile = self._store.tile(0, tile_index) or b""
            offset = (index % TILE_WIDTH) * 32
            if entry.prev != prev or entry.leaf_hash != tile[offset : offset + 32]:
                raise VerificationError(
                    f"entry {index}: stored bytes do not match the chain and tree; refusing to sign a checkpoint"
                )
            prev = entry.leaf_hash

    def checkpoints(self) -> list[str]:
        """The signed checkpoints stored in the ledger, oldest first."""
        return [note for _, note in self._store.checkpoints()]

    def checkpoint_verifiers(self) -> list[VerifierKey]:
        """The operator keys named by the origin: the keys whose signatures make a checkpoint of this ledger."""
        return KeyRegistry(self.keys()).checkpoint_verifiers(self.origin)

    def open_checkpoint(self, note: str) -> Checkpoint:
        """A checkpoint signed by one of this ledger's operator keys (revoked ones included: old notes stay valid)."""
        from tracechain.checkpoints import open_checkpoint

        return open_checkpoint(note, self.checkpoint_verifiers(), origin=self.origin)

    # --- reading and proving -------------------------------------------------------------------------------

    def entry(self, index: int) -> Entry:
        data = self._store.entry(index)
        if data is None:
            raise StorageError(f"{self.path}: no entry {index} (the ledger has {self.size})")
        return Entry.from_bytes(data, expected_index=index)

    def entries(self, code: str | None = None, *, event_id: str | None = None) -> Iterator[Entry]:
        """Every entry in order; with ``code`` the event entries naming that item (in any of its spellings); with
        ``event_id`` the event entries whose GS1 event hash ID it is (``ni:///sha-256;…?ver=CBV2.0``: one entry,
        or more if the same event was recorded again with duplicates allowed)."""
        if code is not None and event_id is not None:
            raise ValidationError("look entries up by code or by event ID, not both")
        if event_id is not None:
            sha = event_id_key(event_id)
            if EVENT_IDS not in self._store.built_projections():
                raise StorageError(
                    f"{self.path}: the ledger was written before its event ID index existed; open it for writing"
                    f" once (tracechain reindex {self.path}) to build it"
                )
            for row in self._store.lookup(EVENT_IDS, sha):
                yield self.entry(row[-1])
            return
        if code is None:
            for index, data in self._store.iter_entries():
                yield Entry.from_bytes(bytes(data), expected_index=index)
            return
        for row in self._store.lookup(ITEMS, identifiers.canonical_code(code)):
            yield self.entry(row[-1])

    def entries_of_lot(self, lot: str) -> Iterator[Entry]:
        """The event entries of a lot, in order: ``lot`` is a lot number (of any GTIN) or a lot-level code.

        Read from the lot index (`storage.LOTS`): the lot keys (GTIN + lot) a lot number names, the items
        commissioned or made as of each, and then every event naming the lot class or one of those items, whatever
        step it records (shipping, receiving, selling a unit that names only its serial code).
        """
        try:
            code: str | None = identifiers.canonical_code(lot)
        except ValidationError:  # not a code that tracechain recognises: a lot number
            code = None
        with self._store.read():
            if code is not None and identifiers.lot_of(code) is not None:
                keys = {code}
            else:
                keys = {row[2] for row in self._store.lookup(LOTS, lot) if row[1] == "number"}
            codes = set(keys)
            for row in self._store.lookup_many(LOTS, keys):
                if row[1] == "member":
                    codes.add(row[2])
            wanted = {row[-1] for row in self._store.lookup_many(ITEMS, codes)}
        for index in sorted(wanted):
            yield self.entry(index)

    def prove_item(self, code: str, size: int | None = None) -> list[InclusionProof]:
        """Inclusion proofs of every event entry naming the item ``code`` (any spelling), in one tree size."""
        with self._store.read():
            n = self._check_size(size)
            indexes = [row[-1] for row in self._store.lookup(ITEMS, identifiers.canonical_code(code))]
            return [self._prove(index, n) for index in indexes if index < n]

    def prove_inclusion(self, index: int, size: int | None = None) -> InclusionProof:
        """The inclusion proof of entry ``index`` in the tree of ``size`` entries (default: all)."""
        with self._store.read():
            n = self._check_size(size)
            if not 0 <= index < n:
                raise ProofError(f"entry index must be in [0, {n}), found {index}")
            return self._prove(index, n)

    def _prove(self, index: int, n: int) -> InclusionProof:
        try:
            path = merkle.inclusion_proof_from(index, n, self._reader, self._ranges())
        except LookupError as e:
            raise StorageError(f"{self.path}: the tree's tiles are incomplete ({e})") from e
        return InclusionProof(index, n, self._leaf(index), self._root(n), tuple(path))

    def prove_in_batch(self, indexes: Iterable[int]) -> dict[int, tuple[int, InclusionProof]]:
        """For each entry of ``indexes``: the index of the seal closing its batch, and the RFC 9162 proof that the
        entry's leaf is in the tree of the batch's leaves, whose root the seal signs (index and size within the
        batch). What an offline verifier needs to check a batch signature over one entry without the others."""
        out: dict[int, tuple[int, InclusionProof]] = {}
        batches: dict[int, tuple[list[bytes], bytes]] = {}
        with self._store.read():
            for index in sorted(set(indexes)):
                row = self._store.lookup_floor(BATCHES, index)
                if row is None or row[-1] <= index:
                    raise ProofError(f"entry {index} is not in a sealed batch of {self.path}")
                first, seal = int(row[0]), int(row[-1])
                if first not in batches:
                    leaves = [self._leaf(i) for i in range(first, seal)]
                    batches[first] = (leaves, merkle.root(leaves))
                leaves, batch_root = batches[first]
                at = index - first
                path = tuple(merkle.inclusion_proof(leaves, at))
                out[index] = (seal, InclusionProof(at, len(leaves), leaves[at], batch_root, path))
        return out

    def prove_consistency(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """The proof that the tree of ``old_size`` entries is a prefix of the tree of ``new_size`` (default: all)."""
        with self._store.read():
            n = self._check_size(new_size)
            if not 0 <= old_size <= n:
                raise ProofError(f"old size must be in [0, {n}], found {old_size}")
            try:
                path = merkle.consistency_proof_from(old_size, n, self._reader, self._ranges())
            except LookupError as e:
                raise StorageError(f"{self.path}: the tree's tiles are incomplete ({e})") from e
            return ConsistencyProof(old_size, n, self._root(old_size), self._root(n), tuple(path))

    def prove_against(self, note: str) -> ConsistencyProof:
        """A consistency proof from a checkpoint someone holds to the ledger now; refuses a checkpoint it extends."""
        from tracechain.checkpoints import parse_unverified

        held = parse_unverified(note)
        if held.origin != self.origin:
            raise CheckpointError(f"checkpoint is of log {held.origin!r}, this ledger is {self.origin!r}")
        if held.size > self.size:
            raise VerificationError(
                f"the ledger has {self.size} entries but a checkpoint of {held.size} is held: it was truncated"
            )
        proof = self.prove_consistency(held.size)
        if proof.old_root != held.root:
            raise VerificationError(f"the ledger's root at size {held.size} differs from the checkpoint held")
        return proof


def _id_key(event: Event) -> str:
    from tracechain.epcis import event_hash_id  # loaded only by appends that match on event IDs

    return event_id_key(event_hash_id(event.data))


def _check_speakers(registry: KeyRegistry, actor: str, items: Sequence[tuple[str, Any]], first: int) -> None:
    """Refuse events that name an enterprise the signing actor may not record for."""
    problems = []
    for offset, (_kind, event) in enumerate(items):
        enterprise = speaks_for(event.data)
        if enterprise is not None and not registry.may_speak_for(actor, enterprise, first):
            problems.append((f"[{offset}].tc:kde.enterprise_uscc", f"{enterprise} is not the signer's {actor}"))
    if problems:
        path, _ = problems[0]
        raise SignatureError(
            f"batch rejected, nothing written: event {path} names enterprise {problems[0][1].split()[0]}, but the"
            f" signing key belongs to {actor}, which has no delegation to record for it (the ledger operator"
            f" grants one with: tracechain delegate LEDGER --agent {actor} --for {problems[0][1].split()[0]})"
        )


def validate_all(events: Iterable[Event | Mapping[str, Any]]) -> list[Event]:
    """Every event validated; one error listing the problems of all the invalid ones, each with its position."""
    out: list[Event] = []
    problems: list[tuple[str, str]] = []
    first_message = ""
    for position, event in enumerate(events):
        if isinstance(event, Event):
            out.append(event)
            continue
        try:
            out.append(Event.from_dict(event))
        except ValidationError as e:
            first_message = first_message or f"event {position}: {e}"
            problems.extend((f"[{position}]{path.removeprefix('$')}", text) for path, text in e.problems)
    if problems:
        raise ValidationError(f"batch rejected, nothing written; {first_message}", problems)
    return out
