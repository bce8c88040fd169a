"""EPCIS documents in and out of a ledger: what ``tracechain import`` and ``tracechain export`` run.

`import_document` reads a whole document (`read_events`), validates every event as the ledger will
(`tracechain.events.Event.from_dict`, with a product's profile when one is named), and appends them as one signed
batch matched on GS1 event hash IDs: an event the ledger already holds under its ID, or that the document repeats,
is skipped, so importing a document twice adds nothing the second time. Any invalid event refuses the whole
document, naming the event and the field, and nothing is written.

`export_document` writes the events of a ledger (all, those naming an item, or a range of entries) as one EPCIS
2.0 JSON-LD document, a part at a time so memory stays flat whatever the ledger's size: a first pass gathers the
prefixes the events declare, a second writes them in parts of `EXPORT_PART` events, each checked as
`write_document` checks a whole document.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, Final

from tracechain.entries import Entry
from tracechain.epcis._hash import event_hash_id
from tracechain.epcis._reader import read_events
from tracechain.epcis._writer import LedgerEvent, event_context, shared_prefixes, write_document
from tracechain.errors import ValidationError
from tracechain.events import Event, to_json

if TYPE_CHECKING:
    from tracechain.keys import SigningKey
    from tracechain.ledger import Ledger

__all__ = ["EXPORT_PART", "ExportResult", "ImportResult", "export_document", "import_document"]

EXPORT_PART: Final = 1000
_MAX_PROBLEMS: Final = 100


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What `import_document` did with a document's events."""

    source: str
    events: int
    """Events the document holds."""
    appended: int
    """Events written (one batch, one signature)."""
    skipped: int
    """Events not written: the ledger held their event hash ID already, or the document had it earlier."""
    repeated: int = 0
    """Of those skipped, the events the document itself had already (another spelling of one event, say)."""
    first: int | None = None
    """The first entry written; None when nothing was."""
    seal: int | None = None
    """The entry of the batch's seal; None when nothing was written."""
    existing: tuple[int, ...] = ()
    """The entries already holding the events skipped because the ledger had them."""
    event_ids: tuple[str, ...] = field(default=(), repr=False)
    """Each event's GS1 event hash ID, in document order."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "events": self.events,
            "appended": self.appended,
            "skipped": self.skipped,
            "repeated": self.repeated,
            "first": self.first,
            "seal": self.seal,
            "existing": list(self.existing),
            "event_ids": list(self.event_ids),
        }


def import_document(
    ledger: Ledger,
    data: bytes | str | Mapping[str, Any],
    key: SigningKey,
    *,
    source: str = "document",
    product: str | None = None,
    now: datetime | None = None,
) -> ImportResult:
    """Append the events of an EPCIS 2.0 document (``EPCISDocument``, or the event list of an
    ``EPCISQueryDocument``) to ``ledger`` as one batch signed by ``key``.

    ``data`` is the document's text (bytes are UTF-8) or its parsed object; ``source`` names it in messages.
    Events without ``tc:product`` are recorded as plain EPCIS events, held to EPCIS's own rules, unless
    ``product`` names the product they are about: then each is recorded as one of it and must meet its profile.
    ``now`` is the time events may not lie after (default the clock), as for `Event.from_dict`.

    Raises `ValidationError` naming the first bad event (its place in the document and its eventID) and field,
    with every problem found in ``problems``; nothing is written then. A signing key the ledger does not accept
    raises what `Ledger.append_many` raises.
    """
    document = read_events(data, source=source)
    checked: list[Event] = []
    problems: list[tuple[str, str]] = []
    first = ""
    for position, raw in enumerate(document.events):
        try:
            checked.append(Event.from_dict(raw, product=product, now=now))
        except ValidationError as e:
            where = f"{document.path}[{position}]"
            for path, message in e.problems or [("$", str(e))]:
                problems.append((where + path.removeprefix("$"), f"{document.who(position)}: {message}"))
                first = first or f"{document.who(position)}, field {path.removeprefix('$.') or '$'}: {message}"
            if len(problems) >= _MAX_PROBLEMS:
                break
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise ValidationError(f"{source}: refused, nothing written: {first}{more}", problems[:_MAX_PROBLEMS])
    ids = tuple(event_hash_id(event.data) for event in checked)
    if not checked:
        return ImportResult(source, 0, 0, 0, event_ids=ids)
    receipt = ledger.append_many(checked, key, identity="event_id")
    return ImportResult(
        source,
        events=len(checked),
        appended=receipt.count,
        skipped=len(checked) - receipt.count,
        repeated=len(checked) - receipt.count - len(receipt.existing),
        first=receipt.first if receipt.count else None,
        seal=receipt.seal_index,
        existing=tuple(dict.fromkeys(receipt.existing)),
        event_ids=ids,
    )


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What `export_document` wrote."""

    events: int
    first: int | None = None
    """The ledger index of the first event written; None when none was."""
    last: int | None = None
    """The ledger index of the last event written."""

    def to_dict(self) -> dict[str, Any]:
        return {"events": self.events, "first": self.first, "last": self.last}


def export_document(
    ledger: Ledger,
    out: IO[str],
    *,
    code: str | None = None,
    start: int | None = None,
    end: int | None = None,
    creation_date: datetime | str | None = None,
) -> ExportResult:
    """Write the ledger's events as one EPCIS 2.0 JSON-LD ``EPCISDocument`` to the text stream ``out``.

    Every event by default; with ``code`` the events naming that item (any spelling); with ``start`` and ``end``
    the events among entries ``start`` to ``end``, both included (either may be left out: the first or last
    entry). Each event carries ``eventID`` = its GS1 event hash ID and its ledger index and leaf hash
    (`write_document`). Raises `ValidationError` for a range outside the ledger or combined with ``code``, or for
    an event EPCIS cannot carry, naming its index; ``out`` may then hold a partial document.
    """
    if code is not None and (start is not None or end is not None):
        raise ValidationError("export the events of an item (code) or of a range of entries, not both")
    first_index, last_index = _range(ledger, start, end)
    select = _Selection(ledger, code, first_index, last_index)
    prefixes = shared_prefixes(event_context(event.data) for _, event in select.events())
    header = write_document([], creation_date=creation_date, prefixes=prefixes)
    del header["epcisBody"]
    head = to_json(header)
    out.write(head[:-1] + ', "epcisBody": {"eventList": [')
    written = 0
    first: int | None = None
    last: int | None = None
    part: list[LedgerEvent] = []
    for item in _then_none(select.events()):
        if item is not None:
            entry, event = item
            part.append(LedgerEvent(event.to_dict(), entry.index, entry.leaf_hash))
            first = entry.index if first is None else first
            last = entry.index
        if part and (item is None or len(part) == EXPORT_PART):
            document = write_document(part, creation_date=header["creationDate"], prefixes=prefixes)
            for event in document["epcisBody"]["eventList"]:
                out.write((",\n" if written else "\n") + to_json(event))
                written += 1
            part = []
    out.write("\n]}}\n")
    return ExportResult(written, first, last)


def _then_none(items: Iterator[tuple[Entry, Event]]) -> Iterator[tuple[Entry, Event] | None]:
    """The items, then None: the end, where the last part is written."""
    yield from items
    yield None


def _range(ledger: Ledger, start: int | None, end: int | None) -> tuple[int, int]:
    size = ledger.size
    first = 0 if start is None else start
    last = size - 1 if end is None else end
    for name, value in (("start", start), ("end", end)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < size):
            raise ValidationError(f"{name}: expected an entry index from 0 to {size - 1}, found {value!r}")
    if first > last:
        raise ValidationError(f"the range starts after it ends: entries {first} to {last}")
    return first, last


class _Selection:
    """The event entries to export, read as often as the export needs them (twice), never held all at once."""

    def __init__(self, ledger: Ledger, code: str | None, first: int, last: int) -> None:
        self._ledger, self._code, self._first, self._last = ledger, code, first, last

    def events(self) -> Iterator[tuple[Entry, Event]]:
        """(entry, event) of each event entry selected, in ledger order."""
        if self._code is not None:
            entries: Iterator[Entry] = self._ledger.entries(self._code)
        else:
            entries = (
                Entry.from_bytes(bytes(data), expected_index=index)
                for index, data in self._ledger.store.iter_entries(self._first, self._last + 1)
            )
        for entry in entries:
            event = entry.event
            if event is not None:
                yield entry, event
