"""Appending a stream of events of any length: validated whole first, then written in batches, safe to retry.

`append_stream` is what ``tracechain append`` and producer systems importing files call, usually with what
`tracechain.reading.check_events` yields for a file (any form it reads, each event with its line). It reads its
input once: every event is validated and its canonical bytes spooled to a temporary file, so memory stays flat
whatever the input's length; if any event is invalid nothing is written and every problem is reported with its
position. Then the spooled events are appended in signed batches. Events the ledger already holds are skipped (a
rerun after an interruption appends only what had not landed). An interruption (Ctrl-C) raises
`AppendInterruptedError`, which says how many events landed and up to which input line or position.
"""

from __future__ import annotations

import struct
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from tracechain.errors import AppendInterruptedError, ValidationError
from tracechain.events import Event
from tracechain.keys import SigningKey
from tracechain.ledger import Ledger
from tracechain.reading import Checked, Record

__all__ = ["IngestResult", "append_stream"]

_RECORD = struct.Struct(">QqI")  # input line (or position), index on it (-1: none), length of the canonical bytes
_MAX_PROBLEMS = 1000  # problems kept for the report; the count of invalid events is always exact

Position = tuple[int, int | None]
"""Where an event was in the input: its line (or the caller's position) and its index in an array on that line."""
Input = Checked | Record | tuple[int, Mapping[str, Any] | Event | ValidationError]
"""What `append_stream` takes: `tracechain.reading`'s records, validated or not, or (position, event) pairs."""


@dataclass(slots=True)
class IngestResult:
    """What `append_stream` did: events read, appended and skipped as already recorded, and where they went."""

    events: int = 0
    appended: int = 0
    skipped: int = 0
    batches: int = 0
    first: int | None = None  # the first entry written
    last: int | None = None  # the last entry written (a seal)
    through: int = 0  # every event up to this input line (or position) is in the ledger
    through_index: int | None = None  # ... and up to this index in the array or event list on that line
    # The entries written, as (first, last) runs: another writer's batches may land between two of ours, so
    # first..last can hold entries this append did not write.
    ranges: list[tuple[int, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "appended": self.appended,
            "skipped": self.skipped,
            "batches": self.batches,
            "first": self.first,
            "last": self.last,
            "through": self.through,
            "through_index": self.through_index,
            "ranges": [list(r) for r in self.ranges],
        }


def append_stream(
    ledger: Ledger,
    records: Iterable[Input],
    key: SigningKey,
    *,
    batch_size: int = 10_000,
    duplicates: str = "skip",
    source: str = "input",
    progress: Callable[[IngestResult], None] | None = None,
) -> IngestResult:
    """Validate every record, then append the events in batches of ``batch_size`` signed by ``key``.

    ``records`` are what `tracechain.reading.check_events` yields (or `read_events`, validated here), each
    placed by its input line; or ``(position, event)`` pairs, where the event may be a dict, an `Event`, or the
    `ValidationError` of input that could not be read as one. Raises `ValidationError` listing every problem
    (nothing written) when any record is invalid; ``duplicates`` is as for `Ledger.append_many`. ``progress`` is
    called after each batch lands.
    """
    if batch_size < 1:
        raise ValidationError(f"batch size must be at least 1, found {batch_size}")
    with tempfile.TemporaryFile(prefix="tracechain-append-") as spool:
        result = IngestResult()
        lines = [False]  # whether positions are input lines (records) or the caller's positions (pairs)
        try:
            count = _validate_to(spool, records, source, result, lines)
        except KeyboardInterrupt:  # nothing was written yet; the message says so, as for a later interruption
            raise AppendInterruptedError(_interrupted(result, lines[0]), result) from None
        result.events = count
        if not count:
            return result
        spool.seek(0)
        batch: list[Event] = []
        positions: list[Position] = []
        try:
            for position, event in _spooled(spool):
                batch.append(event)
                positions.append(position)
                if len(batch) == batch_size:
                    _land(ledger, batch, positions, key, duplicates, result, progress)
                    batch, positions = [], []
            if batch:
                _land(ledger, batch, positions, key, duplicates, result, progress)
        except KeyboardInterrupt:
            raise AppendInterruptedError(_interrupted(result, lines[0]), result) from None
    return result


def _checked(item: Input) -> tuple[Position, bool, Event | None, list[tuple[str, str]]]:
    """Where the record was, whether that is an input line, and its event or its problems."""
    if isinstance(item, Record):
        if item.event is None:
            return (item.line, item.index), True, None, list((item.error or ValidationError("no event")).problems)
        try:
            return (item.line, item.index), True, Event.from_dict(item.event), []
        except ValidationError as e:
            return (item.line, item.index), True, None, list(e.problems)
    if isinstance(item, Checked):
        return (item.record.line, item.record.index), True, item.event, list(item.problems)
    position, value = item
    try:
        if isinstance(value, ValidationError):
            raise value
        return (position, None), False, value if isinstance(value, Event) else Event.from_dict(value), []
    except ValidationError as e:
        return (position, None), False, None, list(e.problems)


def _where(position: Position, lines: bool) -> str:
    line, index = position
    if not lines:
        return str(line)
    return f"line {line}" if index is None else f"line {line}, event [{index}]"


def _validate_to(
    spool: IO[bytes], records: Iterable[Input], source: str, result: IngestResult, lines: list[bool]
) -> int:
    problems: list[tuple[str, str, str]] = []  # (where, JSON path, message)
    count = invalid = 0
    for item in records:
        count += 1
        result.events = count  # read so far, for the message of an interruption
        position, lines[0], event, found = _checked(item)
        if event is None:
            invalid += 1
            if len(problems) < _MAX_PROBLEMS:
                problems += [(_where(position, lines[0]), path, text) for path, text in found]
            continue
        if not invalid:  # once anything is invalid nothing will be written: stop spooling
            data = event.canonical_bytes()
            line, index = position
            spool.write(_RECORD.pack(line, -1 if index is None else index, len(data)))
            spool.write(data)
    if invalid:
        where, path, text = problems[0]
        at = "" if lines[0] else "position "
        raise ValidationError(
            f"{source}: {invalid} of {count} events invalid, nothing was appended; first at {at}{where}: {path}:"
            f" {text}",
            [(f"{where}: {path}", text) for where, path, text in problems],
        )
    return count


def _spooled(spool: IO[bytes]) -> Iterator[tuple[Position, Event]]:
    while head := spool.read(_RECORD.size):
        line, index, length = _RECORD.unpack(head)
        yield (line, None if index < 0 else index), Event.from_canonical(spool.read(length))


def _land(
    ledger: Ledger,
    batch: list[Event],
    positions: list[Position],
    key: SigningKey,
    duplicates: str,
    result: IngestResult,
    progress: Callable[[IngestResult], None] | None,
) -> None:
    size = ledger.size
    try:
        receipt = ledger.append_many(batch, key, duplicates=duplicates)
    except KeyboardInterrupt:
        # The interruption may come after the commit and before the receipt: the ledger's size tells.
        if ledger.size > size:
            _count(result, len(batch), 0, size, ledger.size - 1, positions[-1])
        raise
    if receipt.count:
        _count(result, receipt.count, receipt.skipped, receipt.first, receipt.seal_index, positions[-1])
    else:
        result.skipped += receipt.skipped
        result.through, result.through_index = positions[-1]
    if progress is not None:
        progress(result)


def _count(result: IngestResult, appended: int, skipped: int, first: int, last: int | None, through: Position) -> None:
    result.appended += appended
    result.skipped += skipped
    result.batches += 1
    result.first = first if result.first is None else result.first
    result.last = last
    result.through, result.through_index = through
    end = first + appended if last is None else last
    if result.ranges and result.ranges[-1][1] + 1 == first:
        result.ranges[-1] = (result.ranges[-1][0], end)
    else:
        result.ranges.append((first, end))


def _interrupted(result: IngestResult, lines: bool) -> str:
    landed = result.appended + result.skipped
    if not landed:
        return "interrupted before any event was written: nothing was appended; run the same command again"
    at = _where((result.through, result.through_index), lines)
    where = f" (every event up to input {at})" if lines else f" (every event up to input position {at})"
    return (
        f"interrupted: {landed} of {result.events} events are in the ledger{where}; run the same command again"
        " to append the rest (events already in the ledger are skipped)"
    )
