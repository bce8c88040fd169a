"""Appending a stream of events of any length: validated whole first, then written in batches, safe to retry.

`append_stream` is what ``tracechain append`` and producer systems importing files call. It reads its input once:
every event is validated and its canonical bytes spooled to a temporary file, so memory stays flat whatever the
input's length; if any event is invalid nothing is written and every problem is reported with its position.
Then the spooled events are appended in signed batches. Events the ledger already holds are skipped (a rerun
after an interruption appends only what had not landed). An interruption (Ctrl-C) raises `AppendInterruptedError`,
which says how many events landed and up to which input position.
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
from tracechain.report import ValidationReport

__all__ = ["IngestResult", "append_stream"]

_RECORD = struct.Struct(">QI")  # input position, length of the canonical bytes that follow
_MAX_PROBLEMS = 1000  # problems kept for the report; the count of invalid events is always exact


@dataclass(slots=True)
class IngestResult:
    """What `append_stream` did: events read, appended and skipped as already recorded, and where they went."""

    events: int = 0
    appended: int = 0
    skipped: int = 0
    batches: int = 0
    first: int | None = None  # the first entry written
    last: int | None = None  # the last entry written (a seal)
    through: int = 0  # every event up to this input position is in the ledger
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
            "ranges": [list(r) for r in self.ranges],
        }


def append_stream(
    ledger: Ledger,
    records: Iterable[tuple[int, Mapping[str, Any] | Event | ValidationError]],
    key: SigningKey,
    *,
    batch_size: int = 10_000,
    duplicates: str = "skip",
    source: str = "input",
    progress: Callable[[IngestResult], None] | None = None,
) -> IngestResult:
    """Validate every (position, event) record, then append them in batches of ``batch_size`` signed by ``key``.

    A record may carry a `ValidationError` instead of an event (input that could not be read as one). Raises
    `ValidationError` listing every problem (nothing written) when any record is invalid; ``duplicates`` is as
    for `Ledger.append_many`. ``progress`` is called after each batch lands.
    """
    if batch_size < 1:
        raise ValidationError(f"batch size must be at least 1, found {batch_size}")
    with tempfile.TemporaryFile(prefix="tracechain-append-") as spool:
        result = IngestResult()
        try:
            count = _validate_to(spool, records, source, result)
        except KeyboardInterrupt:  # nothing was written yet; the message says so, as for a later interruption
            raise AppendInterruptedError(_interrupted(result), result) from None
        result.events = count
        if not count:
            return result
        spool.seek(0)
        batch: list[Event] = []
        positions: list[int] = []
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
            raise AppendInterruptedError(_interrupted(result), result) from None
    return result


def _validate_to(spool: IO[bytes], records: Iterable[tuple[int, Any]], source: str, result: IngestResult) -> int:
    report = ValidationReport(source)
    count = 0
    for position, value in records:
        count += 1
        result.events = count  # read so far, for the message of an interruption
        try:
            if isinstance(value, ValidationError):
                raise value
            event = value if isinstance(value, Event) else Event.from_dict(value)
        except ValidationError as e:
            report.invalid += 1
            if len(report.problems) < _MAX_PROBLEMS:
                for path, text in e.problems:
                    report.add(position, text, path=path)
            continue
        if not report.invalid:  # once anything is invalid nothing will be written: stop spooling
            data = event.canonical_bytes()
            spool.write(_RECORD.pack(position, len(data)))
            spool.write(data)
    report.events = count
    if report.invalid:
        first = report.problems[0]
        raise ValidationError(
            f"{source}: {report.invalid} of {count} events invalid, nothing was appended; first at position"
            f" {first.index}: {first.path}: {first.message}",
            [(f"{p.index}: {p.path}", p.message) for p in report.problems],
        )
    return count


def _spooled(spool: IO[bytes]) -> Iterator[tuple[int, Event]]:
    while head := spool.read(_RECORD.size):
        position, length = _RECORD.unpack(head)
        yield position, Event.from_canonical(spool.read(length))


def _land(
    ledger: Ledger,
    batch: list[Event],
    positions: list[int],
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
        result.through = positions[-1]
    if progress is not None:
        progress(result)


def _count(result: IngestResult, appended: int, skipped: int, first: int, last: int | None, through: int) -> None:
    result.appended += appended
    result.skipped += skipped
    result.batches += 1
    result.first = first if result.first is None else result.first
    result.last = last
    result.through = through
    end = first + appended if last is None else last
    if result.ranges and result.ranges[-1][1] + 1 == first:
        result.ranges[-1] = (result.ranges[-1][0], end)
    else:
        result.ranges.append((first, end))


def _interrupted(result: IngestResult) -> str:
    landed = result.appended + result.skipped
    if not landed:
        return "interrupted before any event was written: nothing was appended; run the same command again"
    where = f" (every event up to input position {result.through})"
    return (
        f"interrupted: {landed} of {result.events} events are in the ledger{where}; run the same command again"
        " to append the rest (events already in the ledger are skipped)"
    )
