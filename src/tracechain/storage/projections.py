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

import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from tracechain import identifiers
from tracechain.errors import IdentifierError, ValidationError

if TYPE_CHECKING:
    from tracechain.events import Event
    from tracechain.storage.base import Row

__all__ = [
    "BATCHES",
    "DELEGATIONS",
    "DIGESTS",
    "DIGEST_MODULUS",
    "EVENT_IDS",
    "HUB_PREFIX",
    "ITEMS",
    "LINKS",
    "LOTS",
    "PROJECTIONS",
    "Projection",
    "event_digest",
    "event_id_key",
    "event_time",
    "lot_key",
    "lot_pairs",
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

# --- genealogy: lots and links ------------------------------------------------------------------------------

_GTIN_CODE = "https://id.gs1.org/01/"  # canonical GTIN-based item codes: a unit (/21/), a lot (/10/), a class
_GTIN_END = len(_GTIN_CODE) + 14
# Where tc:kde.lot applies in each event type: the goods the event is about. A container (parentID) and the
# inputs of a transformation are other goods, with lots of their own.
_LOT_FIELDS = {
    "ObjectEvent": (("epcList",), ("quantityList",)),
    "TransactionEvent": (("epcList",), ("quantityList",)),
    "AggregationEvent": (("childEPCs",), ("childQuantityList",)),
    "AssociationEvent": (("childEPCs",), ("childQuantityList",)),
    "TransformationEvent": (("outputEPCList",), ("outputQuantityList",)),
}


@functools.lru_cache(maxsize=1 << 12)
def lot_key(gtin: str, lot: str) -> str | None:
    """The canonical key of lot ``lot`` of trade item ``gtin`` (GTIN-8/12/13/14): the canonical GS1 Digital Link of
    the lot class, ``https://id.gs1.org/01/{gtin14}/10/{lot}`` — what `identifiers.canonical_code` makes of any
    spelling of it (element string, EPC ``lgtin`` URN, another host). None when the GTIN or lot is not valid GS1
    (a lot is 1–20 characters of GS1 character set 82): such a lot has no key and no rows."""
    try:
        return identifiers.digital_link(gtin, lot=lot)
    except IdentifierError:
        return None


@functools.lru_cache(maxsize=1 << 10)
def _kde_gtin(value: str) -> str | None:
    try:
        return identifiers.validate_gtin(value)
    except IdentifierError:
        return None


def _lot_number(key: str) -> str:
    return unquote(key[_GTIN_END + 4 :])


def lot_pairs(event: Event, *, assigned_only: bool = False) -> dict[tuple[str, str], None]:
    """(lot key, item code) for each item the event says is of a lot (SPEC §8): a lot class is its own lot wherever
    it appears; the goods the event is about are of its ``tc:kde.lot``. With ``assigned_only`` the KDE lot counts
    only where the goods come into being — an ObjectEvent ADD (commissioning) and a transformation's outputs — which
    is what the `LOTS` index holds; audits read every event's claim."""
    data = event.data
    kde = data.get("tc:kde")
    lot = kde.get("lot") if isinstance(kde, Mapping) else None
    lot = lot if isinstance(lot, str) and lot else None
    kind = str(data.get("type"))
    if assigned_only and not (kind == "TransformationEvent" or (kind == "ObjectEvent" and data.get("action") == "ADD")):
        lot = None
    gtin = kde.get("gtin") if lot is not None and isinstance(kde, Mapping) else None
    gtin = _kde_gtin(gtin) if isinstance(gtin, str) else None
    applies: set[str] = set()
    if lot is not None:
        code_fields, quantity_fields = _LOT_FIELDS.get(kind, ((), ()))
        applies.update(code for field in code_fields for code in data.get(field, ()))
        applies.update(q["epcClass"] for field in quantity_fields for q in data.get(field, ()))
    pairs: dict[tuple[str, str], None] = {}
    for code in event.item_codes():
        key = None
        if code.startswith(_GTIN_CODE):
            rest = code[_GTIN_END:]
            if rest.startswith("/10/"):
                key = code  # a lot class carries its lot wherever it appears
            elif lot is not None and code in applies and (not rest or rest.startswith("/21/")):
                key = lot_key(code[len(_GTIN_CODE) : _GTIN_END], lot)
        elif (
            lot is not None
            and gtin is not None
            and code in applies
            and code.startswith(identifiers.VET_DRUG_URN_PREFIX)
        ):
            key = lot_key(gtin, lot)  # a vet drug trace code carries no GTIN; the event's gtin KDE names it
        if key is not None:
            pairs[key, code] = None
    return pairs


def _lot_rows(event: Event, index: int) -> list[Row]:
    """Lot membership, both ways, and the lot number: see `LOTS`."""
    pairs = lot_pairs(event, assigned_only=True)
    rows: list[Row] = []
    for key in dict.fromkeys(key for key, _ in pairs):
        rows.append((_lot_number(key), "number", key, index))
    for key, code in pairs:
        rows.append((key, "member", code, index))
        if code != key:
            rows.append((code, "lot", key, index))
    return rows


LOTS = Projection(
    "lots",
    (("key", "text"), ("relation", "text"), ("code", "text"), ("idx", "integer")),
    _lot_rows,
    "lot index",
    "lot key → the items commissioned or made as of that lot, and every event naming the lot class (relation"
    " member); item code → its lot (lot); lot number → the lot keys bearing it (number). A lot key is the canonical"
    " Digital Link of the lot class",
)

HUB_PREFIX = "urn:tracechain:transformation:"
"""Transformation hubs in `LINKS`: ``{HUB_PREFIX}id:{transformationID}`` joins every event sharing that ID (EPCIS
2.0 §7.4.6: together they are one transformation); ``{HUB_PREFIX}event:{hex}`` is one event without an ID, named by
the first 16 bytes of SHA-256 over its canonical bytes, so the same event recorded in two ledgers is one hub."""

_LINKED = {"AggregationEvent": "aggregation", "AssociationEvent": "association"}


def _pair(parent: str, child: str, relation: str, index: int) -> tuple[Row, Row]:
    return (parent, "child", child, relation, index), (child, "parent", parent, relation, index)


def _link_rows(event: Event, index: int) -> list[Row]:
    """Genealogy edges, both ways: see `LINKS`."""
    data = event.data
    kind = data.get("type")
    rows: dict[Row, None] = {}
    if kind in _LINKED:
        parent = data.get("parentID")
        if not isinstance(parent, str):
            return []
        relation = f"{_LINKED[kind]}_{str(data.get('action', '')).lower()}"
        children = [*data.get("childEPCs", ()), *(q["epcClass"] for q in data.get("childQuantityList", ()))]
        if not children and data.get("action") == "DELETE":  # EPCIS: a DELETE naming no children empties the parent
            return [(parent, "child", "", relation, index)]
        for child in children:
            rows.update(dict.fromkeys(_pair(parent, child, relation, index)))
    elif kind == "TransformationEvent":
        ident = data.get("transformationID")
        if isinstance(ident, str):
            hub = f"{HUB_PREFIX}id:{ident}"
        else:
            hub = f"{HUB_PREFIX}event:{hashlib.sha256(event.canonical_bytes()).hexdigest()[:32]}"
        for field, quantities, is_input in (
            ("inputEPCList", "inputQuantityList", True),
            ("outputEPCList", "outputQuantityList", False),
        ):
            for code in (*data.get(field, ()), *(q["epcClass"] for q in data.get(quantities, ()))):
                pair = (
                    _pair(code, hub, "transformation", index) if is_input else _pair(hub, code, "transformation", index)
                )
                rows.update(dict.fromkeys(pair))
    return list(rows)


LINKS = Projection(
    "links",
    (("code", "text"), ("toward", "text"), ("other", "text"), ("relation", "text"), ("idx", "integer")),
    _link_rows,
    "genealogy index",
    "item code → its children (toward child: what it contains or what was made from it) and its parents (toward"
    " parent), by aggregation, association and transformation (through a hub per transformation)",
)

# --- GS1 event hash IDs ---------------------------------------------------------------------------------------

_EVENT_ID_RE = re.compile(r"ni:///sha-256;([0-9A-Fa-f]{64})\?ver=CBV2\.0\Z")


def event_id_key(event_id: str) -> str:
    """The key the `EVENT_IDS` index holds for a GS1 event hash ID ``ni:///sha-256;{hex}?ver=CBV2.0``: its 64 hex
    digits in lower case. Raises `ValidationError` for text of another form."""
    found = _EVENT_ID_RE.match(event_id.strip()) if isinstance(event_id, str) else None
    if found is None:
        raise ValidationError(
            f"expected a GS1 event hash ID such as ni:///sha-256;{'0' * 64}?ver=CBV2.0, found {event_id!r}"[:300]
        )
    return found[1].lower()


def _event_id_rows(event: Event, index: int) -> list[Row]:
    # The hash ID's rules live with the EPCIS exchange; loaded when the first ID is derived (an append, a verify, a
    # reindex), never by a lookup, which only reads the index. It reads nothing but the event: a pure function of
    # the model, as every projection's derive is.
    from tracechain.epcis import event_hash_id

    return [(event_id_key(event_hash_id(event.data)), index)]


EVENT_IDS = Projection(
    "event_ids",
    (("sha256", "text"), ("idx", "integer")),
    _event_id_rows,
    "event ID index",
    "each event's GS1 event hash ID (its SHA-256, hex) → its entries, so an event named by its content is one"
    " lookup away and an EPCIS document imported again adds nothing",
)

PROJECTIONS: tuple[Projection, ...] = (ITEMS, DIGESTS, DELEGATIONS, BATCHES, LOTS, LINKS, EVENT_IDS)


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
