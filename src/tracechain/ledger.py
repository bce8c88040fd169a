"""The ledger: an append-only, hash-chained, signed sequence of entries in one SQLite file.

Every entry is the canonical array ``[1, index, previous leaf hash, kind, body]`` (docs/SPEC.md §3). Its RFC 9162
leaf hash is both the next entry's chain link and the entry's leaf in the Merkle tree. Kinds:

- ``genesis`` (index 0): the origin and the operator's first key;
- ``event``: an event's canonical bytes;
- ``key`` / ``revoke``: the operator registering or revoking an actor's key (rotation is a new key, then a
  revocation of the old one);
- ``seal``: closes a batch. It names the signer, the batch's first index and size, the root of the batch's
  leaf hashes, and the Ed25519 signature over those with a domain-separation prefix (`batch_message`). Being an
  entry itself, a seal cannot be removed without breaking the chain.

Each call that writes (`append`, `append_many`, `register`, `revoke`) is one batch, one signature and one
``BEGIN IMMEDIATE`` transaction: it returns only after the commit, and a failure leaves the file as it was.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any, Self

from tracechain import encoding, identifiers, merkle
from tracechain.checkpoints import Checkpoint, open_checkpoint, parse_unverified
from tracechain.errors import (
    CheckpointError,
    EncodingError,
    ProofError,
    SignatureError,
    StorageError,
    ValidationError,
    VerificationError,
)
from tracechain.events import Event
from tracechain.keys import SigningKey, VerifierKey
from tracechain.store import Store
from tracechain.tiles import TILE_WIDTH, TileEdge, TileReader

__all__ = [
    "DEFAULT_TILE_CACHE",
    "ENTRY_VERSION",
    "BatchReceipt",
    "ConsistencyProof",
    "Entry",
    "InclusionProof",
    "Ledger",
    "batch_message",
]

ENTRY_VERSION = 1
DEFAULT_TILE_CACHE = 4096
_REMEMBERED_RANGES = 4096
ZERO_HASH = bytes(32)
_BATCH_DOMAIN = b"tracechain batch signature v1\x00"
ROLES = ("operator", "actor")


def batch_message(origin: str, first: int, count: int, batch_root: bytes) -> bytes:
    """The bytes a batch's seal signs.

    The prefix ends in a NUL byte, which no signed note's text may contain, so a batch signature can never be
    taken for a checkpoint or any other note signed by the same key; the origin binds it to one ledger.
    """
    return b"".join(
        [
            _BATCH_DOMAIN,
            origin.encode(),
            b"\n",
            first.to_bytes(8, "big"),
            count.to_bytes(8, "big"),
            batch_root,
        ]
    )


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger entry as stored: its index, chain link, kind and body, and its leaf hash."""

    index: int
    prev: bytes
    kind: str
    body: Any
    leaf_hash: bytes

    @classmethod
    def from_bytes(cls, data: bytes, *, expected_index: int | None = None) -> Self:
        version, index, prev, kind, body = encoding.decode_entry(data)
        if version != ENTRY_VERSION:
            raise EncodingError(f"entry {index}: version {version}, this tracechain reads {ENTRY_VERSION}")
        if expected_index is not None and index != expected_index:
            raise EncodingError(f"entry stored at index {expected_index} says it is entry {index}")
        return cls(index, prev, kind, body, merkle.leaf_hash(data))

    @property
    def event(self) -> Event | None:
        """The event, for an ``event`` entry."""
        return Event.from_canonical(self.body) if self.kind == "event" else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view: hashes and keys as hex, events in EPCIS JSON form."""
        out: dict[str, Any] = {"index": self.index, "kind": self.kind, "leaf_hash": self.leaf_hash.hex()}
        event = self.event
        if event is not None:
            out["event"] = event.to_dict()
        else:
            out["body"] = _hexed(self.body)
        return out


def _hexed(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: _hexed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hexed(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class BatchReceipt:
    """What an append wrote: entries ``first`` .. ``first + count - 1`` and the seal at ``seal_index``."""

    first: int
    count: int
    seal_index: int
    leaf_hashes: tuple[bytes, ...]

    @property
    def indices(self) -> range:
        return range(self.first, self.first + self.count)


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Proof that entry ``index`` with ``leaf_hash`` is in the tree of ``size`` entries with ``root``."""

    index: int
    size: int
    leaf_hash: bytes
    root: bytes
    path: tuple[bytes, ...]

    def verify(self) -> None:
        merkle.verify_inclusion(self.leaf_hash, self.index, self.size, self.path, self.root)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "size": self.size,
            "leaf_hash": self.leaf_hash.hex(),
            "root": self.root.hex(),
            "proof": [p.hex() for p in self.path],
        }


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """Proof that the tree of ``old_size`` entries is a prefix of the tree of ``size`` entries."""

    old_size: int
    size: int
    old_root: bytes
    root: bytes
    path: tuple[bytes, ...]

    def verify(self) -> None:
        merkle.verify_consistency(self.old_size, self.size, self.old_root, self.root, self.path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "old_size": self.old_size,
            "size": self.size,
            "old_root": self.old_root.hex(),
            "root": self.root.hex(),
            "proof": [p.hex() for p in self.path],
        }


@dataclass(frozen=True, slots=True)
class _KeyInfo:
    public: bytes
    name: str
    actor: str
    role: str
    registered: int
    revoked: int | None


class Ledger:
    """An open ledger file. Open one per process; every write is durable when its method returns."""

    def __init__(self, store: Store, *, tile_cache: int = DEFAULT_TILE_CACHE) -> None:
        self._store = store
        origin = store.meta("origin")
        if origin is None:
            raise StorageError(f"{store.path}: the ledger has no origin recorded")
        self.origin = origin
        self._edge: TileEdge | None = None
        self._last_hash = ZERO_HASH
        self._reader = TileReader(store.tile, cache_size=tile_cache)
        # Roots of committed ranges never change, and every proof at one tree size meets the same ranges along
        # its right edge (the root among them): remembered, a proof hashes nothing beyond its own path.
        self._memo: dict[tuple[int, int], bytes] = {}

    # --- opening -------------------------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str, origin: str, key: SigningKey, actor: str) -> Ledger:
        """A new ledger at ``path`` whose operator is ``actor`` (a USCC) holding ``key``.

        The operator key signs checkpoints, whose C2SP key name is the origin, so the key must be named so.
        """
        Checkpoint(origin, 0, merkle.EMPTY_ROOT)  # validates the origin's form
        if key.name != origin:
            raise CheckpointError(
                f"the operator key is named {key.name!r} but checkpoints are signed under the origin {origin!r};"
                f" generate the operator key with that name (tracechain keygen {origin})"
            )
        actor = identifiers.validate_uscc(actor)
        store = Store(path, create=True)
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
    def open(cls, path: str, *, tile_cache: int = DEFAULT_TILE_CACHE) -> Ledger:
        """Open an existing ledger; a missing file, another kind of file or an unknown version is refused.

        ``tile_cache`` is how many tiles proofs keep in memory (each at most 16 KiB with its inner hashes, so
        the default holds up to 64 MiB once proofs have touched that many tiles; 1M entries make about 3,920 tiles).
        A proof whose tiles are cached needs no hashing inside tiles and no SQL read.
        """
        if tile_cache < 1:  # checked before the file is opened, so nothing is left open on refusal
            raise ValidationError(f"tile_cache must be at least 1 tile, found {tile_cache}")
        store = Store(path)
        try:
            return cls(store, tile_cache=tile_cache)
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
        return str(self._store.path)

    @property
    def size(self) -> int:
        return self._store.size()

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

    def keys(self) -> list[_KeyInfo]:
        """Every key ever registered, in registration order, with the index where it was revoked if it was."""
        return [_KeyInfo(*row) for row in self._store.key_rows()]

    def _signer(self, key: SigningKey, operator: bool) -> _KeyInfo:
        for info in self.keys():
            if info.public == key.public_bytes:
                if info.revoked is not None:
                    raise SignatureError(f"key {key.name} was revoked at entry {info.revoked}; it can no longer sign")
                if operator and info.role != "operator":
                    raise SignatureError(f"key {key.name} belongs to actor {info.actor}, not to the ledger operator")
                return info
        raise SignatureError(f"key {key.name} ({key.verifier}) is not registered in ledger {self.origin}")

    # --- writing -------------------------------------------------------------------------------------------

    def append(self, event: Event | Mapping[str, Any], key: SigningKey) -> int:
        """Validate, record and sign one event (a batch of one); returns its entry index."""
        return self.append_many([event], key).first

    def append_many(self, events: Iterable[Event | Mapping[str, Any]], key: SigningKey) -> BatchReceipt:
        """Validate every event, then record them all as one signed batch, or nothing if any is invalid."""
        checked = _validate_all(events)
        if not checked:
            raise ValidationError("a batch needs at least one event")
        return self._write_batch([("event", e) for e in checked], key)

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

    def revoke(self, verifier: str | VerifierKey, key: SigningKey) -> int:
        """Revoke a key from the next entry on (operator-signed); its earlier batches stay valid."""
        vk = verifier if isinstance(verifier, VerifierKey) else VerifierKey.parse(verifier)
        known = [k for k in self.keys() if k.public == vk.public_bytes]
        if not known:
            raise SignatureError(f"key {vk} is not registered in this ledger")
        if known[0].revoked is not None:
            raise SignatureError(f"key {vk} was already revoked at entry {known[0].revoked}")
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
        self, items: Sequence[tuple[str, Any]], key: SigningKey, *, genesis_actor: str | None = None
    ) -> BatchReceipt:
        try:
            return self._write_batch_once(items, key, genesis_actor)
        except BaseException:
            # The transaction rolled back: forget anything read or cached while it was open.
            self._edge = None
            self._reader.clear()
            self._memo.clear()
            raise

    def _write_batch_once(
        self, items: Sequence[tuple[str, Any]], key: SigningKey, genesis_actor: str | None
    ) -> BatchReceipt:
        store = self._store
        structural = any(kind != "event" for kind, _ in items)
        with store.write():
            if genesis_actor is None:
                signer = self._signer(key, operator=structural)
                actor = signer.actor
            else:
                actor = genesis_actor
            edge = self._load_tip().copy()
            first, prev = edge.size, self._last_hash
            datas, hashes = _chain(items, first, prev)
            prev = hashes[-1]
            # Rows and index entries built by comprehensions, after the loop that has to run per entry.
            rows = list(zip(count(first), datas))
            codes = [
                (code, i)
                for i, (kind, body) in enumerate(items, first)
                if kind == "event"
                for code in body.item_codes()
            ]
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
            store.insert_items(codes)
            store.put_tiles(tiles + edge.flush())
            if structural:  # an event batch changes no key
                for offset, (kind, body) in enumerate(items):
                    self._apply_key_entry(kind, body, first + offset)
        # Only after the commit does the cached tip move.
        self._edge, self._last_hash = edge, seal_hash
        return BatchReceipt(first, len(items), seal_index, tuple(hashes))

    def _apply_key_entry(self, kind: str, body: Any, index: int) -> None:
        if kind == "genesis":
            op = body["operator"]
            self._store.add_key(op["public"], op["name"], op["actor"], "operator", index)
        elif kind == "key":
            self._store.add_key(body["public"], body["name"], body["actor"], body["role"], index)
        elif kind == "revoke":
            self._store.revoke_key(body["public"], index)

    # --- checkpoints ---------------------------------------------------------------------------------------

    def checkpoint(self, key: SigningKey) -> str:
        """Sign and store a C2SP checkpoint of the whole ledger; returns the signed note.

        The entries added since the last stored checkpoint are re-read and re-hashed first, so a checkpoint
        never vouches for a tree that the stored bytes do not produce.
        """
        self._signer(key, operator=True)
        with self._store.write():
            size = self._store.size()
            stored = self._store.checkpoints()
            since = stored[-1][0] if stored else 0
            self._recheck(since, size)
            cp = Checkpoint(self.origin, size, self._root(size))
            note = cp.sign(key)
            self._store.add_checkpoint(size, note)
        return note

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
        return [
            VerifierKey.from_public(k.name, k.public)
            for k in self.keys()
            if k.role == "operator" and k.name == self.origin
        ]

    def open_checkpoint(self, note: str) -> Checkpoint:
        """A checkpoint signed by one of this ledger's operator keys (revoked ones included: old notes stay valid)."""
        return open_checkpoint(note, self.checkpoint_verifiers(), origin=self.origin)

    # --- reading and proving -------------------------------------------------------------------------------

    def entry(self, index: int) -> Entry:
        data = self._store.entry(index)
        if data is None:
            raise StorageError(f"{self.path}: no entry {index} (the ledger has {self.size})")
        return Entry.from_bytes(data, expected_index=index)

    def entries(self, code: str | None = None) -> Iterator[Entry]:
        """Every entry in order, or with ``code`` the event entries naming that item (in any of its spellings)."""
        if code is None:
            for index, data in self._store.iter_entries():
                yield Entry.from_bytes(bytes(data), expected_index=index)
            return
        for index in self._store.indices_for_code(identifiers.canonical_code(code)):
            yield self.entry(index)

    def prove_inclusion(self, index: int, size: int | None = None) -> InclusionProof:
        """The inclusion proof of entry ``index`` in the tree of ``size`` entries (default: all)."""
        with self._store.read():
            n = self._check_size(size)
            if not 0 <= index < n:
                raise ProofError(f"entry index must be in [0, {n}), found {index}")
            try:
                path = merkle.inclusion_proof_from(index, n, self._reader, self._ranges())
            except LookupError as e:
                raise StorageError(f"{self.path}: the tree's tiles are incomplete ({e})") from e
            return InclusionProof(index, n, self._leaf(index), self._root(n), tuple(path))

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


def _chain(items: Sequence[tuple[str, Any]], first: int, prev: bytes) -> tuple[list[bytes], list[bytes]]:
    """The entries' bytes and leaf hashes, each entry linking to the one before: the per-entry loop of every append.

    merkle.leaf_hash is written inline, and event bodies are already canonical bytes.
    """
    datas: list[bytes] = []
    hashes: list[bytes] = []
    encode_entry, sha256, leaf = encoding.encode_entry, hashlib.sha256, merkle.LEAF_PREFIX
    keep_data, keep_hash = datas.append, hashes.append
    index = first
    for kind, body in items:
        data = encode_entry(ENTRY_VERSION, index, prev, kind, body.canonical_bytes() if kind == "event" else body)
        prev = sha256(leaf + data).digest()
        keep_data(data)
        keep_hash(prev)
        index += 1
    return datas, hashes


def _validate_all(events: Iterable[Event | Mapping[str, Any]]) -> list[Event]:
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
