"""Writing EPCIS 2.0 JSON-LD documents from ledger events, each named by its GS1 event hash ID.

Every event gets ``eventID`` = its event hash ID and tracechain's ledger fields: ``tc:ledgerIndex`` and
``tc:leafHash`` (where the entry sits in the ledger's Merkle tree, so its inclusion can be proved), and
``tc:eventID`` when the event arrived with an eventID of its own. The document declares those three fields in
``repository-x:ignoreFields``, the convention by which GS1's reference hash implementation leaves fields out of
the hash: the ID stays the event's content identifier, the same in every ledger and in the ledger's own index.

The document is read back (`read_document`) before it is returned, so it never holds an event tracechain would
refuse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from tracechain.epcis._context import (
    GS1_CONTEXT,
    GS1_PREFIXES,
    IGNORE_NAMESPACE,
    TC_NAMESPACE,
    TC_PREFIX,
    Namespaces,
    kde_to_epcis,
)
from tracechain.epcis._events import LEDGER_FIELDS, plain_number
from tracechain.epcis._hash import hash_id
from tracechain.epcis._reader import read_document
from tracechain.errors import ValidationError
from tracechain.events import format_time

__all__ = ["LedgerEvent", "event_context", "shared_prefixes", "write_document"]

_IGNORE_PREFIX: Final = "repository-x"
_HEX_RE: Final = re.compile(r"[0-9a-f]{64}\Z")
_TYPED_LISTS: Final = ("bizTransactionList", "sourceList", "destinationList")
# GS1's context defines cbv, cbvmda and gs1 already; they are declared again, identically (which JSON-LD allows),
# for processors that read only a document's own declarations, such as GS1's reference hash implementation 1.9.3.
_BASE_CONTEXT: Final = {
    TC_PREFIX: TC_NAMESPACE,
    _IGNORE_PREFIX: IGNORE_NAMESPACE,
    **{p: GS1_PREFIXES[p] for p in ("cbv", "cbvmda", "gs1")},
}


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """An event as the ledger holds it, with where it sits: what `write_document` writes."""

    event: Mapping[str, Any]
    """The event in tracechain's form: `tracechain.events.Event.to_dict`, or what `read_document` returned."""
    index: int
    """The entry's index in the ledger (its leaf index in the Merkle tree)."""
    leaf_hash: str | bytes
    """The entry's RFC 9162 leaf hash: 32 bytes, or 64 lowercase hex digits."""


def write_document(
    events: Iterable[LedgerEvent | tuple[Mapping[str, Any], int, str | bytes]],
    *,
    creation_date: datetime | str | None = None,
    prefixes: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An EPCIS 2.0 JSON-LD ``EPCISDocument`` holding ``events`` in the order given.

    Each event carries ``eventID`` = its GS1 event hash ID, ``tc:ledgerIndex`` and ``tc:leafHash``. Vocabulary
    values stay the bare words EPCIS 2.0 JSON-LD uses; prefixes the events declare in their own ``@context`` move
    to the document's context unless two events bind one prefix differently. ``prefixes``, when given, are the
    definitions the document declares instead (`shared_prefixes` of every event of a document written in parts);
    an event keeps in its own ``@context`` whatever they do not declare as it does. ``creation_date`` defaults to
    now. Numbers stay exact `decimal.Decimal` values: serialise with `tracechain.events.to_json`.

    Raises `ValidationError` (naming the ledger index) for an event the standard cannot carry.
    """
    written: list[dict[str, Any]] = []
    contexts: list[dict[str, Any]] = []
    for item in events:
        entry = item if isinstance(item, LedgerEvent) else LedgerEvent(*item)
        event, context = _epcis_event(entry)
        written.append(event)
        contexts.append(context)
    shared = shared_prefixes(contexts) if prefixes is None else dict(prefixes)
    for event, context in zip(written, contexts, strict=True):
        own = {k: v for k, v in context.items() if shared.get(k, _UNSET) != v}
        if own:
            event["@context"] = own
    document = {
        "@context": [GS1_CONTEXT, {**_BASE_CONTEXT, **shared}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _creation_date(creation_date),
        f"{_IGNORE_PREFIX}:ignoreFields": list(LEDGER_FIELDS),
        "epcisBody": {"eventList": written},
    }
    try:
        read_document(document, source="the document being written")
    except ValidationError as e:
        index = _failed_index(e, written)
        raise ValidationError(f"ledger entry {index}: EPCIS 2.0 cannot carry this event: {e}", e.problems) from e
    return document


def _epcis_event(entry: LedgerEvent) -> tuple[dict[str, Any], dict[str, Any]]:
    """The event in EPCIS 2.0 JSON-LD form, and the inline context it needs."""
    if not isinstance(entry.event, Mapping):
        raise ValidationError(f"ledger entry {entry.index}: an event is a mapping, found {type(entry.event).__name__}")
    if isinstance(entry.index, bool) or not isinstance(entry.index, int) or entry.index < 0:
        raise ValidationError(f"ledger index: expected an integer ≥ 0, found {entry.index!r}")
    leaf = entry.leaf_hash.hex() if isinstance(entry.leaf_hash, bytes) else entry.leaf_hash
    if not isinstance(leaf, str) or not _HEX_RE.match(leaf):
        raise ValidationError(
            f"ledger entry {entry.index}: expected a leaf hash of 32 bytes or 64 lowercase hex digits, found {leaf!r}"
        )
    source = dict(entry.event)
    context = source.pop("@context", None) or {}
    if not isinstance(context, Mapping):
        raise ValidationError(f"ledger entry {entry.index}: @context: expected an object of prefixes")
    names = Namespaces().with_context(dict(context), f"ledger entry {entry.index}: @context")
    event: dict[str, Any] = {}
    offset = source.get("eventTimeZoneOffset", "+00:00")
    for key, value in source.items():
        if key in ("eventTime", "recordTime") and isinstance(value, int) and not isinstance(value, bool):
            event[key] = format_time(value, offset if isinstance(offset, str) else "+00:00")  # Event.data holds µs
        elif key == "tc:kde":
            event[key] = _plain_numbers(kde_to_epcis(value))
        elif key in _TYPED_LISTS and isinstance(value, list):
            event[key] = [_type_first(link) for link in value]
        elif key not in LEDGER_FIELDS:  # another export's bookkeeping; this document writes its own
            event[key] = _plain_numbers(value)
    own_id = hash_id(event, names)
    if "eventID" in event and event["eventID"] != own_id:
        event["tc:eventID"] = event["eventID"]
    event["eventID"] = own_id
    event["tc:ledgerIndex"] = entry.index
    event["tc:leafHash"] = leaf
    return event, dict(context)


def _type_first(link: Any) -> Any:
    """A typed link with its type written first: key order means nothing in JSON, but GS1's reference
    implementation 1.9.3 hashes the two fields in the order it reads them (docs/epcis.md, D5)."""
    if not isinstance(link, Mapping) or "type" not in link:
        return link
    return {"type": link["type"], **{k: v for k, v in link.items() if k != "type"}}


def _plain_numbers(value: Any) -> Any:
    if isinstance(value, Decimal) and value.is_finite():
        return plain_number(value)
    if isinstance(value, Mapping):
        return {k: _plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(v) for v in value]
    return value


_UNSET: Final = object()


def event_context(event: Mapping[str, Any]) -> dict[str, Any]:
    """The prefix and term definitions an event in tracechain's form declares in its own ``@context``."""
    context = event.get("@context")
    return dict(context) if isinstance(context, Mapping) else {}


def shared_prefixes(contexts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The prefix and term definitions every event that uses them agrees on (they go to the document)."""
    seen: dict[str, Any] = {}
    clashing: set[str] = set()
    for context in contexts:
        for name, definition in context.items():
            if name in seen and seen[name] != definition:
                clashing.add(name)
            seen.setdefault(name, definition)
    return {
        name: definition
        for name, definition in sorted(seen.items())
        if name not in clashing and _BASE_CONTEXT.get(name, definition) == definition
    }


def _creation_date(value: datetime | str | None) -> str:
    if value is None:
        value = datetime.now(tz=UTC)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValidationError("creation_date: expected a datetime with a time zone")
        text = value.astimezone(UTC).isoformat(timespec="milliseconds")
        return text.replace("+00:00", "Z")
    if not isinstance(value, str):
        raise ValidationError(f"creation_date: expected a datetime or RFC 3339 text, found {value!r}")
    return value


def _failed_index(error: ValidationError, written: list[dict[str, Any]]) -> object:
    path = error.problems[0][0] if error.problems else ""
    marker = "$.epcisBody.eventList["
    if path.startswith(marker):
        position = int(path[len(marker) :].split("]", 1)[0])
        return written[position].get("tc:ledgerIndex", position)
    return "?"
