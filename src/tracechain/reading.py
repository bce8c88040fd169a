"""Reading events from what people have: JSON Lines, a JSON array, one pretty-printed event, or an EPCIS document.

`read_events` takes a path, a binary stream (standard input) or bytes and yields one `Record` per event, in input
order, each with where it came from (the line its first character is on and, inside an array or an EPCIS
``eventList``, its position) and either the event's dict or the `ValidationError` that kept it from being read; a
bad line does not stop the lines after it. The form is told from the content:

- a first line that holds one whole JSON value (or starts one and ends like one, broken): **JSON Lines**, read as a
  stream, a line at a time, so memory stays flat whatever the input's length (a line may hold at most
  `MAX_LINE_BYTES`); a line may also hold an array of events or an EPCIS document;
- a first line that opens a value it does not close: one JSON value over several lines (a pretty-printed event, an
  array of events, an ``EPCISDocument`` or ``EPCISQueryDocument`` whose ``eventList`` is read, or several such values
  one after another), read whole, up to `MAX_DOCUMENT_BYTES`.

Text is UTF-8, with or without a byte-order mark. Another encoding is refused with a message that names the encoding
seen (UTF-16 and UTF-32 by their byte-order mark or NUL bytes, GBK/GB18030 by decoding a line that is not UTF-8) and
the command that converts the file, unless ``encoding=`` names the codec to decode. JSON is parsed by
`tracechain.events.scan_json`, under the rules of `tracechain.events.parse_json` (no duplicate keys, no NaN, exact
decimals). `check_events` reads and validates, one `Checked` per event: what ``tracechain validate``, ``tracechain
append`` and `tracechain.ingest.append_stream` take; `validate_records` does the same in batches.
"""

from __future__ import annotations

import codecs
import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, BinaryIO, Final

from tracechain._jsonvalues import (
    Lines,
    elements,
    event_list,
    is_document,
    opens_without_closing,
    positions,
    skip,
)
from tracechain._textinput import Chain, Encoded, ends_line, foreign_encoding, looks_gb18030, not_utf8
from tracechain.errors import InputEncodingError, ValidationError
from tracechain.events import Event, scan_json

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "MAX_LINE_BYTES",
    "Checked",
    "Record",
    "check_events",
    "read_events",
    "validate_records",
]

MAX_LINE_BYTES: Final = 32 << 20
"""Bytes in one line of JSON Lines: the largest event the model takes (16 MiB canonical) fits as JSON."""
MAX_DOCUMENT_BYTES: Final = 32 << 20
"""Bytes of input read whole: one JSON value spread over lines (an array, a document, a pretty-printed event)."""

_TOO_LONG: Final = (
    f"expected a JSON value spread over lines (an array, a document, a pretty-printed event) of at most "
    f"{MAX_DOCUMENT_BYTES >> 20} MiB, found more; write the events as JSON Lines, one per line, which are read as "
    f"they stream (from an EPCIS document: jq -c '.epcisBody.eventList[]' doc.jsonld)"
)
_JSON_KINDS: Final = {list: "a list", str: "a string", bool: "true or false", int: "a number", type(None): "null"}


@dataclass(frozen=True, slots=True)
class Record:
    """One event read from the input, or what kept it from being read."""

    source: str
    """The input's name: a path, ``standard input`` or ``input``."""
    line: int
    """The line (from 1) the event's first character is on."""
    index: int | None
    """Its position (from 0) in a JSON array or an EPCIS document's event list; None for an event on its own."""
    event: dict[str, Any] | None = None
    error: ValidationError | None = None

    @property
    def where(self) -> str:
        """``events.jsonl line 3``, or ``doc.jsonld line 40, event [2]``."""
        at = f"{self.source} line {self.line}"
        return at if self.index is None else f"{at}, event [{self.index}]"


@dataclass(frozen=True, slots=True)
class Checked:
    """A record validated: its `Event`, or the problems that refused it (each a JSON path and a message)."""

    record: Record
    event: Event | None
    problems: list[tuple[str, str]] = field(default_factory=list)


def read_events(source: str | os.PathLike[str] | bytes | IO[Any], *, encoding: str | None = None) -> Iterator[Record]:
    """The events in ``source``, one `Record` each, in input order (see the module docstring for the forms).

    A path is opened now (a missing, unreadable or directory path raises `ValidationError` naming it) and closed
    when the iteration ends; a stream is read and left open (a text stream such as ``sys.stdin`` is read through
    its bytes). ``encoding`` names a codec to decode instead of UTF-8, for example ``gb18030`` or ``utf-16``.
    """
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError as e:
            raise ValidationError(f"encoding {encoding!r}: expected a codec name such as gb18030, found none") from e
    if isinstance(source, bytes | bytearray | memoryview):
        return _records(io.BytesIO(bytes(source)), "input", encoding, None)
    if isinstance(source, str | os.PathLike):
        name = os.fspath(source)
        try:
            stream: BinaryIO = Path(name).open("rb")  # noqa: SIM115 - closed when the iteration ends
        except OSError as e:
            raise ValidationError(f"{name}: cannot read events: {e.strerror or e}") from e
        return _records(stream, name, encoding, stream)
    raw = getattr(source, "buffer", None)  # a text stream such as sys.stdin: read its bytes
    if raw is None and isinstance(source, io.TextIOBase):  # text only (io.StringIO): read it as UTF-8 again
        raw = io.BufferedReader(Encoded(source))
    return _records(raw if raw is not None else source, "standard input", encoding, None)


def _records(stream: IO[bytes], name: str, encoding: str | None, owned: IO[bytes] | None) -> Iterator[Record]:
    try:
        yield from _Reader(stream, name, encoding).records()
    finally:
        if owned is not None:
            owned.close()


class _Reader:
    """One input, read once: its first bytes decide the encoding, its first line the form."""

    def __init__(self, stream: IO[bytes], name: str, encoding: str | None) -> None:
        self.name, self.encoding = name, encoding
        head = stream.read(4)
        self.foreign = foreign_encoding(head) if encoding is None else None
        if encoding is None and head.startswith(codecs.BOM_UTF8):
            head = head[len(codecs.BOM_UTF8) :]
        self.binary = io.BufferedReader(Chain(head, stream), 1 << 16)
        self.text: io.TextIOWrapper | None = None
        if encoding is not None:
            self.text = io.TextIOWrapper(self.binary, encoding=encoding, errors="strict", newline="\n")

    def error(self, line: int, message: str, index: int | None = None, *, encoding: bool = False) -> Record:
        kind = InputEncodingError if encoding else ValidationError
        return Record(self.name, line, index, error=kind(f"{self.name} line {line}: {message}"))

    # --- lines -------------------------------------------------------------------------------------------

    def lines(self) -> Iterator[tuple[int, str | None, str, bool, bool]]:
        """(number, text, "", False, False) for each line; (number, None, why, stop, encoding) for one that cannot
        be read: too long, or not text in the encoding (``encoding`` true), where ``stop`` says the input is in
        another encoding altogether (or binary data) and later lines would say the same."""
        number = 0
        while True:
            try:
                raw: str | bytes = (
                    self.text.readline(MAX_LINE_BYTES + 1) if self.text else self.binary.readline(MAX_LINE_BYTES + 1)
                )
            except UnicodeDecodeError as e:
                why = f"expected {self.encoding} text, found bytes that are not ({e.reason})"
                yield number + 1, None, why, True, True
                return
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE_BYTES and not ends_line(raw):
                if not self._skip_line():
                    return
                why = f"expected a line of at most {MAX_LINE_BYTES >> 20} MiB, found a longer one"
                yield number, None, why, False, False
                continue
            if isinstance(raw, str):
                yield number, (raw.removeprefix("\ufeff") if number == 1 else raw), "", False, False
                continue
            try:
                yield number, raw.decode("utf-8"), "", False, False
            except UnicodeDecodeError as e:
                yield number, None, not_utf8(raw, e, self.name), b"\x00" in raw or looks_gb18030(raw), True

    def _skip_line(self) -> bool:
        """Read past the rest of an over-long line; False at the end of the input."""
        while True:
            try:
                more = self.text.readline(1 << 16) if self.text else self.binary.readline(1 << 16)
            except UnicodeDecodeError:
                return False
            if not more:
                return False
            if ends_line(more):
                return True

    def rest(self, limit: int) -> tuple[str | None, str, int]:
        """The rest of the input as text; or None, why (too long, not in the encoding) and on which line after this."""
        try:
            data: str | bytes = self.text.read(limit + 1) if self.text else self.binary.read(limit + 1)
        except UnicodeDecodeError as e:
            return None, f"expected {self.encoding} text, found bytes that are not ({e.reason})", 0
        if len(data) > limit:
            return None, _TOO_LONG, 0
        if isinstance(data, str):
            return data, "", 0
        try:
            return data.decode("utf-8"), "", 0
        except UnicodeDecodeError as e:
            start = data.rfind(b"\n", 0, e.start) + 1
            end = data.find(b"\n", e.start)
            line = data[start : end if end >= 0 else len(data)]
            error = UnicodeDecodeError(e.encoding, line, e.start - start, e.end - start, e.reason)
            return None, not_utf8(line, error, self.name), data.count(b"\n", 0, e.start) + 1

    # --- records -----------------------------------------------------------------------------------------

    def records(self) -> Iterator[Record]:
        if self.foreign is not None:
            yield self.error(1, self.foreign, encoding=True)
            return
        started = False
        for number, text, why, stop, encoding in self.lines():
            if text is None:
                yield self.error(number, why, encoding=encoding)
                if stop:
                    return
                continue
            if not text.strip():
                continue
            if not started:
                started = True
                if opens_without_closing(text):
                    rest, refused, at = self.rest(MAX_DOCUMENT_BYTES - len(text))
                    if rest is None:
                        yield self.error(number + at, refused, encoding=refused is not _TOO_LONG)
                    else:
                        yield from self.values(text + rest, number)
                    return
            yield from self.line(text, number)

    def line(self, text: str, number: int) -> Iterator[Record]:
        """One line of JSON Lines."""
        try:
            value, end = scan_json(text, source=f"{self.name} line {number}", line=number)
        except ValidationError as e:
            yield Record(self.name, number, None, error=e)
            return
        if text[end:].strip():
            yield self.error(number, "expected one JSON value on the line, found more after it")
            return
        yield from self.expand(value, number, None, [])

    def values(self, text: str, first_line: int) -> Iterator[Record]:
        """One or more JSON values over several lines, one after another, each event with its own line."""
        lines = Lines(text, first_line)
        at = skip(text, 0)
        while at < len(text):
            line = lines.at(at)
            if text[at] == "[":
                ends: list[int] = []
                for index, (value, start) in enumerate(elements(text, at, self.name, ends, first_line)):
                    if isinstance(value, ValidationError):
                        yield Record(self.name, lines.at(start), index, error=value)
                        return  # a broken array cannot be read on
                    yield self.event(value, lines.at(start), index)
                at = skip(text, ends[0])
                continue
            try:
                value, end = scan_json(text, at, source=f"{self.name} line {line}", line=first_line)
            except ValidationError as e:
                yield Record(self.name, line, None, error=e)
                return
            yield from self.expand(value, line, None, positions(text, at, end, value, lines))
            at = skip(text, end)

    def expand(self, value: Any, line: int, index: int | None, starts: list[int] | None) -> Iterator[Record]:
        """The records of one JSON value: an event, a list of events, or an EPCIS document's events (each on its
        line in ``starts`` when known)."""
        if is_document(value):
            events, why = event_list(value)
            if events is None:
                yield self.error(line, why, index)
                return
            for i, event in enumerate(events):
                yield self.event(event, starts[i] if starts else line, i)
        elif isinstance(value, list):
            for i, event in enumerate(value):
                yield self.event(event, line, i)
        else:
            yield self.event(value, line, index)

    def event(self, value: Any, line: int, index: int | None) -> Record:
        if isinstance(value, dict):
            return Record(self.name, line, index, event=value)
        found = _JSON_KINDS.get(type(value), "a number")
        return self.error(line, f"expected an event (a JSON object), found {found}", index)


# ---------------------------------------------------------------------------------------------------------
# Validation in batches


def check_events(
    source: str | os.PathLike[str] | bytes | IO[Any],
    *,
    encoding: str | None = None,
    product: str | None = None,
    check_profile: bool = True,
    now: datetime | None = None,
) -> Iterator[Checked]:
    """Every event in ``source`` read (`read_events`) and validated (`Event.from_dict`), one `Checked` each.

    The one way tracechain takes events from input: ``tracechain validate`` and ``tracechain append`` call it, and
    `tracechain.ingest.append_stream` takes what it yields. Records come one at a time in input order, so memory
    stays flat for JSON Lines of any length. ``encoding`` is `read_events`'; ``product``, ``check_profile`` and
    ``now`` are `Event.from_dict`'s. A source that cannot be opened, or an unknown ``encoding``, raises
    `ValidationError` at once; everything else wrong with the input is a `Checked` with its problems.
    """
    records = read_events(source, encoding=encoding)  # now, so that a path that cannot be read raises here
    return (_check(record, check_profile, product, now) for record in records)


def validate_records(
    records: Iterable[Record],
    *,
    batch_size: int = 1000,
    check_profile: bool = True,
    product: str | None = None,
    now: datetime | None = None,
) -> Iterator[list[Checked]]:
    """The records validated into `Event` objects, in input order, ``batch_size`` at a time.

    Memory holds one batch: a caller appends or reports each batch before taking the next. A record that could not
    be read comes back as a `Checked` whose problems are its read error. ``product``, ``check_profile`` and ``now``
    are `Event.from_dict`'s: with ``product`` every event is read as one of that product.
    """
    if batch_size < 1:
        raise ValidationError(f"batch size: expected at least 1, found {batch_size}")
    batch: list[Checked] = []
    for record in records:
        batch.append(_check(record, check_profile, product, now))
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _check(record: Record, check_profile: bool, product: str | None, now: datetime | None) -> Checked:
    if record.event is None:
        error = record.error or ValidationError(f"{record.where}: no event")
        return Checked(record, None, list(error.problems))
    try:
        return Checked(record, Event.from_dict(record.event, check_profile=check_profile, product=product, now=now))
    except ValidationError as e:
        return Checked(record, None, list(e.problems))
