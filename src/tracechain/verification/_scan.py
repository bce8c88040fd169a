"""Verification step: scan and chain — read, hash and chain spans of entries, and check their event entries.

A span needs nothing from outside itself, so large ledgers are scanned by worker processes, each reopening the
store from its location (`storage.open_store`), while the coordinator joins the spans in index order
(`verification._walk`). An event entry's index and link are read straight from its fixed layout
(`entries.event_header`); every other entry, and any event entry whose layout is not the canonical one, is handed
back whole to be decoded where the walk's state is.
"""

from __future__ import annotations

import hashlib
import os
import signal
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from tracechain import encoding, merkle
from tracechain.entries import EVENT_KIND, LINK, event_header, event_prefix, speaks_for
from tracechain.errors import EncodingError, StorageError
from tracechain.events import Event
from tracechain.storage import LedgerStore, open_store
from tracechain.verification._projections import Implied

__all__ = ["Span", "check_event", "scan", "scans"]

# Entries per span, and the ledger size from which spans go to worker processes (below it, starting them costs
# more than they save): for the integrity pass, and for the full checks, which cost about ten times as much per
# entry. Spans are whole tiles and whole read chunks, so damage stops a span where it would stop one pass.
_SPAN = 16_384
_PARALLEL_ENTRIES = 65_536
_CONTENT_SPAN = 4_096
_PARALLEL_CONTENT_ENTRIES = 8_192
_SPANS_AHEAD = 2  # spans queued per worker: enough to keep them busy, few enough to keep memory flat


@dataclass(slots=True)
class Span:
    """What the scan read in entries ``start`` .. ``end - 1`` (a contiguous run from ``start``)."""

    start: int
    end: int
    leaves: list[bytes]  # their leaf hashes
    first_link: bytes | None  # entry ``start``'s link when read by its header (the join checks it)
    others: list[tuple[int, bytes]]  # entries not read by their event header, to be decoded in full
    problems: list[tuple[int, str]]
    next_stored: int | None  # set when entries are missing from ``end``: the next index stored
    failure: str | None = None  # set when reading stopped at damage to the file: SQLite's error
    events: int = 0  # event entries whose contents were checked here, and the projection rows they imply
    implied: Implied = field(default_factory=Implied)
    speakers: list[tuple[int, str]] = field(default_factory=list)  # (index, enterprise) of events naming one


def check_event(index: int, data: bytes, implied: Implied, speakers: list[tuple[int, str]]) -> str | None:
    """The checks of an event entry whose index, link and kind are known good: the entry's canonical form, the
    event's, and the projection rows it implies (taken into ``implied``); the enterprise it speaks for, if it
    names one, goes to ``speakers`` for its batch's seal to check. Returns what is wrong, if anything."""
    try:
        event = Event.from_canonical(encoding.decode_entry(data)[4])
        implied.add("event", event, index)
        if (enterprise := speaks_for(event.data)) is not None:
            speakers.append((index, enterprise))
    except EncodingError as e:
        return str(e)
    except (KeyError, TypeError, ValueError, AttributeError) as e:  # a body of the wrong shape
        return f"malformed event entry: {e!r}"
    return None


def scan(store: LedgerStore, start: int, stop: int, contents: bool) -> Span:
    """Read, hash and chain entries ``start`` .. ``stop - 1``, and with ``contents`` check their events.

    One expected prefix is built and compared per entry (the span's first link is left to the join). In the
    integrity pass (``contents=False``), what is wrong with an event entry's index or link is said here instead.
    """
    sha256, leaf_prefix = hashlib.sha256, merkle.LEAF_PREFIX
    span = Span(start, start, [], None, [], [], None)
    hashes, others, problems = span.leaves, span.others, span.problems
    prev, expected = b"", start
    lead, width, band_end = event_prefix(start)
    try:
        # iter_entries hands every value back as bytes (NULL or TEXT too), so no conversion is needed here.
        for index, data in store.iter_entries(start, stop):
            if index != expected:
                span.next_stored = index
                break
            leaf = sha256(leaf_prefix + data).digest()
            if index >= band_end:  # the index needs a wider msgpack integer from here on
                lead, width, band_end = event_prefix(index)
            plain = data.startswith(lead + index.to_bytes(width, "big") + LINK + prev + EVENT_KIND)
            if not plain:
                header = event_header(data)
                if header is None:
                    others.append((index, data))
                elif index == start and header[0] == index:
                    span.first_link, plain = header[1], True
                elif contents:
                    others.append((index, data))
                else:
                    if header[0] != index:
                        problems.append((index, f"entry stored at index {index} says it is entry {header[0]}"))
                    if index == start:
                        span.first_link = header[1]
                    elif header[1] != prev:
                        problems.append(
                            (index, f"chain broken: links to {header[1].hex()}, previous leaf is {prev.hex()}")
                        )
            if plain and contents:
                if index == 0:  # entry 0 must be the genesis: said where the walk's state is
                    others.append((index, data))
                elif (problem := check_event(index, data, span.implied, span.speakers)) is not None:
                    problems.append((index, problem))
                else:
                    span.events += 1
            hashes.append(leaf)
            prev = leaf
            expected += 1
    except StorageError as e:
        span.failure = str(e)
    span.end = expected
    if span.next_stored is None and span.failure is None and expected < stop:
        following = store.next_index(expected)
        span.next_stored = stop if following is None else following
    return span


def quiet_worker() -> None:
    """A worker process's start: Ctrl-C reaches the whole process group, and only the parent answers it (it stops
    handing out work and says so); workers finish what they hold instead of each printing a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


_worker_stores: dict[str, LedgerStore] = {}  # in a worker process: its own read-only store, opened on first use


def _scan_in_worker(location: str, start: int, stop: int, contents: bool) -> Span:
    """`scan` in a worker process."""
    store = _worker_stores.get(location)
    if store is None:
        store = _worker_stores[location] = open_store(location, readonly=True)
    return scan(store, start, stop, contents)


def scans(store: LedgerStore, total: int, workers: int | None, contents: bool) -> Iterator[Span]:
    """The spans of entries 0 .. ``total - 1`` in order; scanned by worker processes for a large ledger."""
    size, parallel_from = (_CONTENT_SPAN, _PARALLEL_CONTENT_ENTRIES) if contents else (_SPAN, _PARALLEL_ENTRIES)
    starts = range(0, total, size)
    cores = workers or os.cpu_count() or 1
    if cores < 2 or total < parallel_from:
        for start in starts:
            yield scan(store, start, min(start + size, total), contents)
        return
    with ProcessPoolExecutor(max_workers=cores, initializer=quiet_worker) as pool:
        queued: deque[Future[Span]] = deque()
        todo = iter(starts)
        try:
            while True:
                while len(queued) < _SPANS_AHEAD * cores and (first := next(todo, None)) is not None:
                    queued.append(
                        pool.submit(_scan_in_worker, store.location, first, min(first + size, total), contents)
                    )
                if not queued:
                    return
                yield queued.popleft().result()
        finally:
            for future in queued:
                future.cancel()
