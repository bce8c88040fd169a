"""The entry format, in one place: what an entry is, how entries chain, what a seal signs, and who may sign.

Every entry is the canonical array ``[1, index, previous leaf hash, kind, body]`` (docs/SPEC.md §3). Its RFC 9162
leaf hash is both the next entry's chain link and the entry's leaf in the Merkle tree. Kinds:

- ``genesis`` (index 0): the origin and the operator's first key;
- ``event``: an event's canonical bytes;
- ``key`` / ``revoke``: the operator registering or revoking an actor's key;
- ``delegation``: the operator letting an actor record events for another enterprise, or withdrawing that;
- ``seal``: closes a batch, naming the signer, the batch's first index and size, the root of the batch's leaf
  hashes and the Ed25519 signature over `batch_message`.

`KeyRegistry` is the one replay of key and delegation entries: the ledger consults it before it writes,
verification replays it from the entries, and both ask it whether a key may sign a batch and whether its actor may
speak for the enterprises its events name. A revocation takes effect after the batch that records it, so an
operator that revokes its own key (the last step of a rotation) has signed a valid batch; a delegation likewise
covers the batches after the one that grants it, up to the one that withdraws it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Self

from tracechain import encoding, merkle
from tracechain.errors import EncodingError, SignatureError, TracechainError
from tracechain.events import Event
from tracechain.keys import VerifierKey

__all__ = [
    "ENTRY_VERSION",
    "ROLES",
    "ZERO_HASH",
    "Entry",
    "KeyInfo",
    "KeyRegistry",
    "batch_message",
    "chain",
    "event_header",
    "event_prefix",
    "speaks_for",
]

ENTRY_VERSION = 1
ZERO_HASH = bytes(32)
ROLES = ("operator", "actor")
KEY_KINDS = frozenset({"genesis", "key", "revoke", "delegation"})  # kinds only the operator's key may sign
_BATCH_DOMAIN = b"tracechain batch signature v1\x00"


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

    def summary(self, signer: str | None = None) -> str:
        """One line for a person: the index, then the event's time, type, step, product, signer (when given) and
        codes, or what a key, revocation or seal entry records."""
        event = self.event
        if event is None:
            body = self.body if isinstance(self.body, dict) else {}
            operator = body.get("operator")
            detail = {
                "genesis": lambda: (
                    f"origin {body.get('origin')}, operator "
                    f"{operator.get('actor') if isinstance(operator, dict) else None}"
                ),
                "key": lambda: f"{body.get('role')} key {body.get('name')} for {body.get('actor')}",
                "revoke": lambda: f"key {_hexed(body.get('public', b''))[:16]}… revoked",
                "seal": lambda: f"batch {body.get('first')}+{body.get('count')} signed by {body.get('actor')}",
            }.get(self.kind, lambda: "")()
            return f"{self.index:>8}  {self.kind:<8} {detail}"
        d = event.to_dict()
        return (
            f"{self.index:>8}  {d.get('eventTime')}  {d.get('type')} {d.get('bizStep', '-')}/"
            f"{d.get('disposition', '-')}  {d.get('tc:product')}  "
            + (f"signed by {signer}  " if signer else "")
            + ", ".join(event.item_codes())
        )


def _hexed(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: _hexed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hexed(v) for v in value]
    return value


def chain(items: Sequence[tuple[str, Any]], first: int, prev: bytes) -> tuple[list[bytes], list[bytes]]:
    """The entries' bytes and leaf hashes, each entry linking to the one before: the per-entry loop of every append.

    ``items`` are (kind, body) with events as `Event`s. merkle.leaf_hash is written inline, and event bodies are
    already canonical bytes.
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


# --- reading an event entry's header without decoding it ----------------------------------------------------------

LINK = b"\xc4\x20"  # msgpack bin 8 of 32 bytes: the previous leaf hash
EVENT_KIND = b"\xa5event"
_INT_WIDTHS = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
_INDEX_FORMS = (
    (b"\x95\x01", 1, 0x80),  # positive fixint: the index is the byte itself
    (b"\x95\x01\xcc", 1, 0x100),
    (b"\x95\x01\xcd", 2, 0x10000),
    (b"\x95\x01\xce", 4, 0x100000000),
    (b"\x95\x01\xcf", 8, 1 << 64),
)


def event_prefix(index: int) -> tuple[bytes, int, int]:
    """How an event entry with this index begins: the bytes before the index (array, version, msgpack integer
    type), the index's width in bytes, and the first index that needs another form."""
    for lead, width, end in _INDEX_FORMS:
        if index < end:
            return lead, width, end
    raise EncodingError(f"entry index {index} is beyond msgpack's integers")


def event_header(data: bytes) -> tuple[int, bytes] | None:
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
    if data[pos : pos + 2] != LINK or data[pos + 34 : pos + 40] != EVENT_KIND:
        return None
    return index, data[pos + 2 : pos + 34]


# --- keys ---------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class KeyInfo:
    """A key as the ledger's key entries record it: who holds it, its role, and where it was registered and
    revoked (entry indexes; a revocation takes effect after the batch that records it)."""

    public: bytes
    name: str
    actor: str
    role: str
    registered: int
    revoked: int | None = None

    @property
    def verifier(self) -> VerifierKey:
        """The C2SP verifier key."""
        return VerifierKey.from_public(self.name, self.public)


class KeyRegistry:
    """The keys of one ledger, replayed from its genesis, key and revocation entries."""

    def __init__(self, keys: Iterable[KeyInfo] = ()) -> None:
        self._keys: dict[bytes, KeyInfo] = {k.public: k for k in keys}
        # (agent, principal) → [granted at, withdrawn at or None], one pair per period of delegation
        self._delegations: dict[tuple[str, str], list[list[int | None]]] = {}

    def __iter__(self) -> Iterator[KeyInfo]:
        return iter(sorted(self._keys.values(), key=lambda k: k.registered))

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, public: object) -> KeyInfo | None:
        return self._keys.get(public) if isinstance(public, bytes) else None

    def apply(self, index: int, kind: str, body: Any) -> KeyInfo | None:
        """Take in one genesis, key or revoke entry; returns the key it registered or revoked.

        Raises `SignatureError` for an entry that breaks the key rules (a key registered twice, a revocation of an
        unknown or already revoked key) and `EncodingError` for a body of the wrong shape; the registry is unchanged
        then.
        """
        if kind == "genesis":
            op = _mapping(body.get("operator") if isinstance(body, dict) else None, "the genesis entry's operator")
            return self._register(index, op, "operator")
        if kind == "key":
            return self._register(index, _mapping(body, "a key entry"), None)
        if kind == "delegation":
            self._delegate(index, _mapping(body, "a delegation entry"))
            return None
        if kind == "revoke":
            key = self.get(_mapping(body, "a revoke entry").get("public"))
            if key is None:
                raise SignatureError("revokes a key that was never registered")
            if key.revoked is not None:
                raise SignatureError(f"revokes a key already revoked at entry {key.revoked}")
            key.revoked = index
            return key
        return None

    def _delegate(self, index: int, body: dict[str, Any]) -> None:
        agent, principal, action = body.get("agent"), body.get("principal"), body.get("action")
        if not isinstance(agent, str) or not isinstance(principal, str) or action not in ("grant", "withdraw"):
            raise EncodingError("a delegation entry needs agent and principal USCCs and action grant or withdraw")
        periods = self._delegations.setdefault((agent, principal), [])
        active = bool(periods) and periods[-1][1] is None
        if action == "grant":
            if active:
                raise SignatureError(f"{agent} already records for {principal} (granted at entry {periods[-1][0]})")
            periods.append([index, None])
        elif not active:
            raise SignatureError(f"withdraws a delegation from {principal} to {agent} that is not in force")
        else:
            periods[-1][1] = index

    def replay_delegations(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Take in stored delegation rows (agent, principal, action, entry index), in any order."""
        for agent, principal, action, index in sorted(rows, key=lambda r: r[-1]):
            self._delegate(index, {"agent": agent, "principal": principal, "action": action})

    def may_speak_for(self, actor: str, enterprise: str, first: int) -> bool:
        """Whether ``actor`` may sign events naming ``enterprise`` in a batch from entry ``first``: its own, or
        one a delegation in force covers."""
        if actor == enterprise:
            return True
        return any(
            granted is not None and granted < first and (withdrawn is None or withdrawn >= first)
            for granted, withdrawn in self._delegations.get((actor, enterprise), ())
        )

    def _register(self, index: int, body: dict[str, Any], role: str | None) -> KeyInfo:
        public = body.get("public")
        if not isinstance(public, bytes) or len(public) != 32:
            what = "the genesis entry's operator" if role else "a key entry's"
            raise EncodingError(f"{what} public key must be 32 bytes")
        if public in self._keys:
            raise SignatureError(f"key {public.hex()} registered twice")
        try:
            info = KeyInfo(public, str(body["name"]), str(body["actor"]), role or str(body["role"]), index)
        except KeyError as e:
            raise EncodingError(f"a key entry needs name, actor and role; {e} is missing") from e
        self._keys[public] = info
        return info

    def signer_problems(self, public: object, first: int, kinds: Iterable[str], actor: object = None) -> list[str]:
        """Why the key ``public`` may not sign the batch of ``kinds`` from entry ``first``; empty when it may.

        A key signs batches after the one that registers it (the genesis batch is signed by the key it records)
        and up to the batch that revokes it, that one included; key entries need the operator's key.
        """
        key = self.get(public)
        if key is None:
            return ["batch signed by a key that is not registered"]
        kinds = set(kinds)
        out = []
        if key.registered >= first and "genesis" not in kinds:
            out.append(f"batch signed by a key registered only at entry {key.registered}")
        if key.revoked is not None and key.revoked < first:
            out.append(f"batch signed by a key revoked at entry {key.revoked}")
        if actor is not None and key.actor != actor:
            out.append(f"seal names actor {actor!r} but the key belongs to {key.actor!r}")
        if kinds & KEY_KINDS and key.role != "operator":
            out.append("keys registered or revoked in a batch not signed by the operator")
        return out

    def checkpoint_verifiers(self, origin: str) -> list[VerifierKey]:
        """The operator keys named by the origin: the keys whose signatures make a checkpoint of the ledger.

        Revoked keys stay: a checkpoint signed before the revocation still proves what the ledger held then.
        """
        out = []
        for k in self:
            if k.role == "operator" and k.name == origin:
                try:
                    out.append(k.verifier)
                except TracechainError:
                    continue  # a damaged key entry, reported where it is read
        return out


def speaks_for(data: Any) -> str | None:
    """The enterprise an event's canonical model says it is recorded by (``tc:kde.enterprise_uscc``), if any."""
    kde = data.get("tc:kde") if isinstance(data, dict) else None
    found = kde.get("enterprise_uscc") if isinstance(kde, dict) else None
    return found if isinstance(found, str) else None


def _mapping(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EncodingError(f"{what} must be a map, found {type(value).__name__}")
    return value
