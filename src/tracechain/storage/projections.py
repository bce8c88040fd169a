"""Projections: indexes derived from the entries, each declared once.

A `Projection` names its table and columns, the entry kinds it reads, and which rows one such entry implies.
From that declaration alone the ledger writes its rows in the same transaction as the entries, the store creates,
fills and queries its table, ``tracechain reindex`` rebuilds it from the entries, and verification compares every
stored row with the rows the entries imply (a count and an order-independent digest, in constant memory).

To add one: declare it here (or in its own module) and append it to `PROJECTIONS`. Nothing in the ledger or the
verification steps changes. Its first column is what `LedgerStore.lookup` searches; its last is the entry index.
``derive`` gets the `Event` for an event entry and the decoded body for any other kind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracechain.events import Event
    from tracechain.storage.base import Row

__all__ = [
    "BATCHES",
    "DELEGATIONS",
    "DIGESTS",
    "DIGEST_MODULUS",
    "ITEMS",
    "PROJECTIONS",
    "Projection",
    "event_digest",
    "event_time",
    "row_digest",
]


@dataclass(frozen=True, slots=True, eq=False)  # each is a singleton: compared and hashed by identity, cheaply
class Projection:
    """One derived index: a table of ``columns`` (SQL-neutral types ``text`` or ``integer``), every column part of
    the key, filled with the rows ``derive(value, index)`` gives for each entry of one of ``kinds``."""

    name: str
    columns: tuple[tuple[str, str], ...]
    derive: Callable[[Any, int], Iterable[Row]]
    label: str  # what people call it, in messages: "item index"
    description: str
    kinds: frozenset[str] = frozenset({"event"})

    def __post_init__(self) -> None:
        # Names go into SQL statements: only plain lower-case identifiers, never anything from input.
        for name in (self.name, *(column for column, _ in self.columns)):
            if not (name.isascii() and name.replace("_", "a").isalnum() and name[0].isalpha() and name.islower()):
                raise ValueError(f"projection and column names are plain lower-case SQL names, found {name!r}")
        if not self.columns or self.columns[-1] != ("idx", "integer"):
            raise ValueError(f"projection {self.name}: the last column is the entry index, ('idx', 'integer')")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)


def _item_rows(event: Event, index: int) -> list[Row]:
    return [(code, index) for code in event.item_codes()]


ITEMS = Projection(
    "items",
    (("code", "text"), ("idx", "integer")),
    _item_rows,
    "item index",
    "item code (canonical) → the event entries naming it: EPCs, parent IDs, quantity classes",
)


def event_digest(event: Event) -> int:
    """The first 8 bytes of SHA-256 over an event's canonical bytes, as a signed 64-bit integer: a compact key
    under which the same canonical event is found again. A match is a candidate only; the stored event's bytes
    are compared before it counts as the same event."""
    return int.from_bytes(hashlib.sha256(event.canonical_bytes()).digest()[:8], "big", signed=True)


def event_time(event: Event) -> int:
    """An event's time in microseconds since the epoch (0 for a stored event that lacks one)."""
    value = event.data.get("eventTime", 0)
    return value if type(value) is int else 0


def _digest_rows(event: Event, index: int) -> list[Row]:
    return [(event_time(event), event_digest(event), index)]


# Keyed by event time first: producers append in roughly time order, so new rows land at the end of the index
# instead of at random places in it (a key of the digest alone would be random, and every append would touch
# pages all over a large index).
DIGESTS = Projection(
    "digests",
    (("time", "integer"), ("digest", "integer"), ("idx", "integer")),
    _digest_rows,
    "event digest index",
    "each event's time and a digest of its canonical bytes → its entry, so that an event already recorded is"
    " recognised when it is appended again (a retried or resumed append)",
)


def _delegation_rows(body: Any, index: int) -> list[Row]:
    return [(str(body["agent"]), str(body["principal"]), str(body["action"]), index)]


DELEGATIONS = Projection(
    "delegations",
    (("agent", "text"), ("principal", "text"), ("action", "text"), ("idx", "integer")),
    _delegation_rows,
    "delegation index",
    "agent USCC → the enterprises it may record events for, granted and withdrawn by operator-signed entries",
    frozenset({"delegation"}),
)


def _batch_rows(body: Any, index: int) -> list[Row]:
    return [(int(body["first"]), str(body["actor"]), bytes(body["public"]).hex(), index)]


BATCHES = Projection(
    "batches",
    (("first", "integer"), ("actor", "text"), ("public", "text"), ("idx", "integer")),
    _batch_rows,
    "batch index",
    "each batch's first entry → the actor and key that signed it and its seal, so any entry's signer is one"
    " lookup away",
    frozenset({"seal"}),
)

PROJECTIONS: tuple[Projection, ...] = (ITEMS, DIGESTS, DELEGATIONS, BATCHES)


def row_digest(row: Iterable[Any]) -> int:
    """One row's share of an order-independent digest of a whole projection, kept in constant memory.

    The digest is a sum of hashes (AdHash), so its width is what resists an insider who rewrites an index to
    match: Wagner's generalised-birthday attack finds k rows summing to a target in about k·2^(n/(1 + log₂ k))
    work for n-bit hashes, which for 256 bits and k = 2^15 crafted rows is about 2^31, within anyone's reach.
    SHAKE-256 stretched to 4,096 bits puts it beyond 2^128 for any number of rows a ledger can hold (the row
    counts must match too). ``repr`` keeps a row's types: a code stored as a number digests differently.
    """
    text = repr(tuple(row)).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.shake_256(text).digest(_DIGEST_BYTES), "big")


_DIGEST_BYTES = 512
DIGEST_MODULUS = 1 << (8 * _DIGEST_BYTES)
