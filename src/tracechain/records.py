"""Records a regulator reads: each event as who, what, when, where and which codes, and the entries a question selects.

A `Record` is an event entry read for a person: the time at the event's own offset, the enterprise that recorded it
(name and USCC), the actor and key that signed its batch, the step and disposition, the product, the lot, the
quantities with their units, the places and every item code in full. It holds codes, not words: the words for a
code in the reader's language come from `tracechain.vocabulary` where the record is shown.

A `Selection` is a question such as "the events of lot L20260301 recorded by this enterprise since March":
`select` answers it from the item index where it can (``code``, ``lot``) and by one pass over the entries, in
constant memory, where it must, and yields every entry it selects with its record (None for entries that are not
events).

The three are named tuples rather than dataclasses: a lookup from the command line loads this module, and a
dataclass costs about a millisecond to make where a named tuple costs a fifth of one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from tracechain import identifiers
from tracechain.errors import IdentifierError, ValidationError

if TYPE_CHECKING:
    from tracechain.entries import Entry
    from tracechain.keys import VerifierKey
    from tracechain.ledger import Ledger

__all__ = ["Quantity", "Record", "Selection", "local_time", "parse_moment", "select"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNIT_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")


class Quantity(NamedTuple):
    """An amount of a class of goods: ``amount`` in ``unit`` (a UN/ECE Rec 20 code; None for a count)."""

    amount: str
    unit: str | None
    code: str


class Record(NamedTuple):
    """One event entry as a person reads it; every field is a code or a value, never a translated word."""

    entry: int  # the entry's index in the ledger
    time: str  # local time at the event's offset: "2026-03-01 08:00:03 +08:00"
    micros: int  # eventTime, microseconds since the epoch (UTC)
    event_type: str
    action: str | None
    step: str | None
    disposition: str | None
    product: str
    product_name: str | None
    enterprise_name: str | None
    enterprise_uscc: str | None
    signer_actor: str | None
    signer_key: str | None
    lot: str | None
    units: int  # instance codes named in the EPC lists (cans, cases, pallets)
    quantities: tuple[Quantity, ...]
    places: tuple[str, ...]  # the read point and the business location, each once
    supplier: str | None
    receiver: str | None
    codes: tuple[str, ...]  # every item code, canonical and in full

    @classmethod
    def of(cls, entry: Entry, signer: tuple[str, VerifierKey | str] | None = None) -> Record:
        """The record of an event entry; ``signer`` is (actor, key) as `Ledger.signer` gives it."""
        event = entry.event
        if event is None:
            raise ValidationError(f"entry {entry.index} is a {entry.kind} entry, not an event")
        data = event.data
        kde = data.get("tc:kde")
        kde = kde if isinstance(kde, Mapping) else {}
        micros = int(data.get("eventTime", 0))
        codes = tuple(event.item_codes())
        lot = _text(kde.get("lot")) or next((found for c in codes if (found := identifiers.lot_of(c))), None)
        return cls(
            entry=entry.index,
            time=local_time(micros, str(data.get("eventTimeZoneOffset", "+00:00"))),
            micros=micros,
            event_type=str(data.get("type", "")),
            action=_text(data.get("action")),
            step=_text(data.get("bizStep")),
            disposition=_text(data.get("disposition")),
            product=str(data.get("tc:product", "")),
            product_name=_text(kde.get("product_name")),
            enterprise_name=_text(kde.get("enterprise_name")),
            enterprise_uscc=_text(kde.get("enterprise_uscc")),
            signer_actor=signer[0] if signer else None,
            signer_key=str(signer[1]) if signer else None,
            lot=lot,
            units=sum(len(data.get(key, ())) for key in _UNIT_LISTS) + (1 if "parentID" in data else 0),
            quantities=tuple(_quantities(data)),
            places=tuple(
                dict.fromkeys(p for p in (_place(data.get("readPoint")), _place(data.get("bizLocation"))) if p)
            ),
            supplier=_party(kde, "supplier"),
            receiver=_party(kde, "receiver"),
            codes=codes,
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _place(value: object) -> str | None:
    return _text(value.get("id")) if isinstance(value, Mapping) else None


def _party(kde: Mapping[str, Any], role: str) -> str | None:
    name, uscc = _text(kde.get(f"{role}_name")), _text(kde.get(f"{role}_uscc"))
    if name and uscc:
        return f"{name} ({uscc})"
    return name or uscc


def _quantities(data: Mapping[str, Any]) -> Iterator[Quantity]:
    for key in _QUANTITY_LISTS:
        for q in data.get(key, ()):
            if isinstance(q, Mapping) and "quantity" in q:
                amount = q["quantity"]
                text = f"{amount:f}" if isinstance(amount, Decimal) else str(amount)
                yield Quantity(text, _text(q.get("uom")), str(q.get("epcClass", "")))


def local_time(micros: int, offset: str) -> str:
    """The time at ``offset`` as a person writes it, with the offset: ``2026-03-01 08:00:03 +08:00``."""
    try:
        sign = -1 if offset[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
        moment = (_EPOCH + timedelta(microseconds=micros)).astimezone(tz)
    except (IndexError, ValueError, OverflowError):  # a damaged stored event: verify reports it
        return str(micros)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return f"{text} {moment.strftime('%z')[:3]}:{moment.strftime('%z')[3:]}"


def parse_moment(text: str, *, end: bool = False) -> int:
    """A moment given by a person, as microseconds since the epoch: an RFC 3339 time (``2026-03-01T08:00:00+08:00``),
    a date and time without offset, or a date (``2026-03-01``), the last two in this computer's time zone.

    With ``end``, a date means the end of that day (so ``--until 2026-03-31`` includes all of the 31st). Raises
    `ValidationError` saying what forms are accepted.
    """
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError as e:
        raise ValidationError(
            f"expected a date (2026-03-01) or a date and time (2026-03-01T08:00:00+08:00), found {text!r}"
        ) from e
    if len(value) == 10 and end:
        moment += timedelta(days=1) - timedelta(microseconds=1)
    if moment.tzinfo is None:
        moment = moment.astimezone()  # the computer's own time zone, as a person at it means
    return (moment - _EPOCH) // timedelta(microseconds=1)


class Selection(NamedTuple):
    """What to list: the events of an item (``code``, any spelling) or a lot, by an enterprise (USCC, or part of its
    name), of a product, at a step (CBV code), from ``since`` to ``until`` (microseconds, both included), named by a
    GS1 event hash ID (``event_id``).

    An empty selection selects every entry, genesis, keys and seals included; any field set selects events only.
    """

    code: str | None = None
    lot: str | None = None
    enterprise: str | None = None
    product: str | None = None
    step: str | None = None
    since: int | None = None
    until: int | None = None
    event_id: str | None = None

    @property
    def empty(self) -> bool:
        return all(value is None for value in self)

    def matches(self, record: Record, *, lot: bool = True, code: bool = False) -> bool:
        """Whether the record answers the question (``lot=False``: the lot was already chosen by index; ``code``:
        the item code was not, the entries having been chosen by event ID)."""
        if lot and self.lot is not None and record.lot != self.lot and self.lot not in record.codes:
            return False
        if code and self.code is not None and identifiers.canonical_code(self.code) not in record.codes:
            return False
        if self.enterprise is not None and not _enterprise_matches(self.enterprise, record):
            return False
        if self.product is not None and record.product != self.product:
            return False
        if self.step is not None and record.step != self.step:
            return False
        if self.since is not None and record.micros < self.since:
            return False
        return self.until is None or record.micros <= self.until


def _enterprise_matches(wanted: str, record: Record) -> bool:
    try:
        uscc = identifiers.validate_uscc(wanted)
    except IdentifierError:
        return wanted.casefold() in (record.enterprise_name or "").casefold()
    return uscc == record.enterprise_uscc


def select(ledger: Ledger, selection: Selection) -> Iterator[tuple[Entry, Record | None]]:
    """Every entry the selection selects, in ledger order, with its record (None for entries that are not events)."""
    if selection.event_id is not None:
        yield from _looked_up(ledger, ledger.entries(event_id=selection.event_id), selection, lot=True, code=True)
    elif selection.code is not None:
        yield from _looked_up(ledger, ledger.entries(selection.code), selection, lot=True)
    elif selection.lot is not None:
        yield from _looked_up(ledger, ledger.entries_of_lot(selection.lot), selection, lot=False)
    else:
        yield from _scanned(ledger, selection)


def _looked_up(
    ledger: Ledger, entries: Iterable[Entry], selection: Selection, *, lot: bool, code: bool = False
) -> Iterator[tuple[Entry, Record | None]]:
    for entry in entries:
        if entry.kind == "event":
            record = Record.of(entry, ledger.signer(entry.index))
            if selection.matches(record, lot=lot, code=code):
                yield entry, record


def _scanned(ledger: Ledger, selection: Selection) -> Iterator[tuple[Entry, Record | None]]:
    """One pass over the entries, in constant memory. A batch is a run of entries closed by its seal, so the signer
    is looked up once, at a batch's first entry, and holds for every entry up to the next seal."""
    signer: tuple[str, VerifierKey] | None = None
    batch_open = False
    for entry in ledger.entries():
        if entry.kind == "seal":
            batch_open = False
            if selection.empty:
                yield entry, None
            continue
        if not batch_open:
            signer, batch_open = ledger.signer(entry.index), True
        yield from _chosen(entry, signer, selection)


def _chosen(
    entry: Entry, signer: tuple[str, VerifierKey] | None, selection: Selection
) -> Iterator[tuple[Entry, Record | None]]:
    if entry.kind != "event":
        if selection.empty:
            yield entry, None
        return
    record = Record.of(entry, signer)
    if selection.matches(record):
        yield entry, record
