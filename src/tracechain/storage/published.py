"""A published log read as a store: a C2SP tlog-tiles folder or ``http(s)://`` URL behind the storage protocol.

`tracechain publish` writes ``checkpoint``, hash tiles and entry bundles (docs/publish.md); this backend reads them
back, read-only, so that verification and mirroring take a published log exactly as they take a ledger file. The
checkpoint is fetched once, when the store opens, and fixes what the store is: its origin, its size (the tree it
serves) and, through them, which tile and bundle files it reads — full ones, and the partial ones of the widths
that size implies. Published files never change once written (a larger tree gets new partial files), so
everything read through one store is one snapshot of the log.

What it serves, and how it differs from a ledger's store:

- entries from the entry bundles, each parsed strictly (exactly its width of 2-byte-length-prefixed entries and no
  byte more); a bundle that is missing or malformed is a `StorageError` naming its file;
- tiles as a ledger stores them: a full tile's 256 published hashes followed by the inner rows derived from them
  (`tiles.with_inner_rows`), so verification compares them with the rebuilt tree unchanged; a missing tile is None;
- the published checkpoint as its one stored checkpoint;
- no keys table and no projections (`keeps_derived` is False, `built_projections()` is empty): those are derived
  from the entries, and a mirror (`tracechain mirror`) rebuilds them in a ledger.

`self_check` holds the one check that must come before reading entries: the checkpoint's signature by the
operator key named in the genesis entry, when that key signed it. The checkpoint decides which files are read,
so a changed byte in it would otherwise be reported as files that do not exist.

Reading goes through `http_client.HttpClient` for a URL and plain file reads for a folder; each answer is bounded by
the most the file can hold.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from tracechain import encoding, merkle
from tracechain._tiles import (
    PUBLISHED_TILE_BYTES,
    TILE_HEIGHT,
    TILE_WIDTH,
    entry_bundle_path,
    tile_path,
    tile_widths,
    with_inner_rows,
)
from tracechain.checkpoints import open_checkpoint, parse_unverified
from tracechain.errors import FetchError, LedgerFormatError, StorageError, TracechainError
from tracechain.http_client import HttpClient, is_url
from tracechain.keys import VerifierKey
from tracechain.notes import MAX_NOTE_BYTES, parse_note
from tracechain.storage import is_published

if TYPE_CHECKING:
    from tracechain.entries import KeyInfo
    from tracechain.storage.base import Row
    from tracechain.storage.projections import Projection

__all__ = ["PublishedStore", "is_published"]

_HASH = 32
_MAX_ENTRY = 0xFFFF  # C2SP's length prefix is a big-endian uint16
_BUNDLE_LIMIT = TILE_WIDTH * (2 + _MAX_ENTRY)
_CACHED_BUNDLES = 4
_CACHED_TILES = 64


class _Folder:
    """Files of a published folder: regular files only (a pipe or device would block), at most ``limit`` bytes."""

    def __init__(self, root: str) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise LedgerFormatError(f"{root}: not a folder, so not a published log")

    def name(self, relative: str) -> str:
        return str(self.root / relative)

    def read(self, relative: str, limit: int) -> bytes | None:
        path = self.root / relative
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise StorageError(f"{path}: cannot be read ({e.strerror})") from e
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise StorageError(f"{path}: not a regular file")
            with os.fdopen(fd, "rb", closefd=False) as f:
                data = f.read(limit + 1)
        except OSError as e:
            raise StorageError(f"{path}: cannot be read ({e.strerror})") from e
        finally:
            os.close(fd)
        if len(data) > limit:
            raise StorageError(f"{path}: holds more than the {limit} bytes such a file can")
        return data

    def close(self) -> None:
        pass


class _Web:
    """Files of a published log at a URL, fetched over one pool of connections."""

    def __init__(self, base: str) -> None:
        self.base = base if base.endswith("/") else base + "/"
        self.client = HttpClient()

    def name(self, relative: str) -> str:
        return self.base + relative

    def read(self, relative: str, limit: int) -> bytes | None:
        url = self.base + relative
        answer = self.client.get(url, limit=limit)
        if answer.status in (404, 410):
            return None
        if answer.status != 200:
            raise FetchError(f"{url}: the server answers HTTP {answer.status}: {answer.text.strip()[:200]}")
        return answer.body

    def close(self) -> None:
        self.client.close()


class PublishedStore:
    """A published log opened read-only from a folder or URL; see the module docstring for what it serves."""

    def __init__(self, location: str) -> None:
        self._location = location
        self._source: _Folder | _Web = _Web(location) if is_url(location) else _Folder(location)
        try:
            self._note = self._read_checkpoint()
        except BaseException:
            self._source.close()
            raise
        checkpoint = parse_unverified(self._note)
        self._origin = checkpoint.origin
        self._size = checkpoint.size
        self._bundles: OrderedDict[int, list[bytes]] = OrderedDict()
        self._tiles: OrderedDict[tuple[int, int], bytes | None] = OrderedDict()

    def _read_checkpoint(self) -> str:
        where = self._source.name("checkpoint")
        data = self._source.read("checkpoint", MAX_NOTE_BYTES)
        if data is None:
            raise LedgerFormatError(
                f"{where} does not exist: {self._location} is not a published log (a folder or URL that"
                " tracechain publish wrote) nor a ledger file"
            )
        try:
            note = data.decode("utf-8")
            parse_unverified(note)
        except UnicodeDecodeError as e:
            raise StorageError(f"{where}: the checkpoint is not UTF-8 text (byte {e.start})") from e
        except TracechainError as e:
            raise StorageError(f"{where}: the published checkpoint is malformed: {e}") from e
        return note

    @property
    def location(self) -> str:
        return self._location

    @property
    def readonly(self) -> bool:
        return True

    @property
    def keeps_derived(self) -> bool:
        return False

    def close(self) -> None:
        self._source.close()

    # --- transactions: nothing is ever written -------------------------------------------------------------

    def _refuse(self) -> NoReturn:
        raise StorageError(
            f"{self._location}: a published log is read-only; mirror it into a ledger (tracechain mirror) to keep"
            " a copy that can be read and written like any ledger"
        )

    def write(self) -> AbstractContextManager[None]:
        self._refuse()

    def read(self) -> AbstractContextManager[None]:
        # One snapshot already: the checkpoint read at opening fixes every file read after it.
        return contextlib.nullcontext()

    # --- meta ----------------------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        return self._origin if key == "origin" else None

    def set_meta(self, key: str, value: str) -> None:
        self._refuse()

    # --- entries -------------------------------------------------------------------------------------------

    def size(self) -> int:
        return self._size

    def _bundle(self, index: int) -> list[bytes]:
        cached = self._bundles.get(index)
        if cached is not None:
            self._bundles.move_to_end(index)
            return cached
        full, partial = tile_widths(self._size, 0)
        width = TILE_WIDTH if index < full else partial
        relative = entry_bundle_path(index, width)
        where = self._source.name(relative)
        data = self._source.read(relative, width * (2 + _MAX_ENTRY))
        if data is None:
            raise StorageError(f"{where} does not exist, and the checkpoint of size {self._size} needs it")
        entries, problem = _split_bundle(data, index, width)
        if problem is not None:
            raise StorageError(f"{where} is malformed: {problem}{self._first_unlike_tile(index, entries)}")
        self._bundles[index] = entries
        if len(self._bundles) > _CACHED_BUNDLES:
            self._bundles.popitem(last=False)
        return entries

    def _first_unlike_tile(self, index: int, entries: list[bytes]) -> str:
        """Where a malformed bundle goes wrong, by its level-0 tile: a changed length prefix is found only entries
        later, where the bytes stop parsing, but the first entry whose bytes miss its leaf hash is where it was."""
        try:
            leaves = self.tile(0, index) or b""
        except StorageError:
            return ""
        for k, data in enumerate(entries):
            if merkle.leaf_hash(data) != leaves[k * _HASH : (k + 1) * _HASH]:
                return f"; entry {index * TILE_WIDTH + k} is the first whose bytes miss its leaf hash in tile 0/{index}"
        return ""

    def entry(self, index: int) -> bytes | None:
        if not 0 <= index < self._size:
            return None
        return self._bundle(index // TILE_WIDTH)[index % TILE_WIDTH]

    def iter_entries(self, start: int = 0, end: int | None = None, chunk: int = 4096) -> Iterator[tuple[int, bytes]]:
        # ``chunk`` does not apply: entries come a bundle (256) at a time, which bounds memory the same way.
        stop = self._size if end is None else min(end, self._size)
        index = max(start, 0)
        while index < stop:
            bundle, offset = divmod(index, TILE_WIDTH)
            entries = self._bundle(bundle)
            first = bundle * TILE_WIDTH
            for at in range(offset, min(len(entries), stop - first)):
                yield first + at, entries[at]
            index = first + TILE_WIDTH

    def next_index(self, at: int) -> int | None:
        return at if 0 <= at < self._size else None

    def insert_entries(self, rows: Iterable[tuple[int, bytes]]) -> None:
        self._refuse()

    # --- tiles ---------------------------------------------------------------------------------------------

    def tile(self, level: int, index: int) -> bytes | None:
        if not 0 <= level <= 63 or index < 0:
            return None
        key = (level, index)
        if key in self._tiles:
            self._tiles.move_to_end(key)
            return self._tiles[key]
        full, partial = tile_widths(self._size, level)
        if index < full:
            width = TILE_WIDTH
        elif index == full and partial:
            width = partial
        else:
            return None
        data = self._source.read(tile_path(level, index, width), width * _HASH)
        if data is not None and width == TILE_WIDTH and len(data) == PUBLISHED_TILE_BYTES:
            data = with_inner_rows(data)
        self._tiles[key] = data
        if len(self._tiles) > _CACHED_TILES:
            self._tiles.popitem(last=False)
        return data

    def tile_count(self) -> int:
        # The tiles the checkpoint's tree is made of: a folder may hold more (older partial tiles), which serve
        # readers of older checkpoints and are no part of this tree.
        count, level = 0, 0
        while self._size >> (TILE_HEIGHT * level):
            full, partial = tile_widths(self._size, level)
            count += full + (1 if partial else 0)
            level += 1
        return count

    def put_tiles(self, rows: Iterable[tuple[int, int, bytes]]) -> None:
        self._refuse()

    # --- keys and checkpoints ------------------------------------------------------------------------------

    def registered_keys(self) -> list[KeyInfo]:
        return []  # no keys table: the keys are in the entries, where verification replays them

    def add_key(self, key: KeyInfo) -> None:
        self._refuse()

    def revoke_key(self, public: bytes, revoked: int) -> None:
        self._refuse()

    def checkpoints(self) -> list[tuple[int, str]]:
        return [(self._size, self._note)]

    def add_checkpoint(self, size: int, note: str) -> None:
        self._refuse()

    # --- projections: none are published -------------------------------------------------------------------

    def _no_projection(self, projection: Projection) -> NoReturn:
        raise StorageError(
            f"{self._location}: a published log has no {projection.label}; mirror it into a ledger"
            " (tracechain mirror) to look entries up"
        )

    def insert_rows(self, projection: Projection, rows: Iterable[Row]) -> None:
        self._refuse()

    def lookup(self, projection: Projection, value: Any) -> list[Row]:
        self._no_projection(projection)

    def lookup_floor(self, projection: Projection, value: Any) -> Row | None:
        self._no_projection(projection)

    def lookup_many(self, projection: Projection, values: Iterable[Any]) -> list[Row]:
        self._no_projection(projection)

    def iter_rows(self, projection: Projection, chunk: int = 4096) -> Iterator[Row]:
        self._no_projection(projection)

    def row_count(self, projection: Projection) -> int:
        self._no_projection(projection)

    def built_projections(self) -> list[Projection]:
        return []

    def clear(self, projection: Projection) -> None:
        self._refuse()

    # --- checks --------------------------------------------------------------------------------------------

    def self_check(self, *, thorough: bool = True) -> list[str]:
        """The checkpoint against the operator key of the genesis entry, when that key signed it.

        A checkpoint signed by a later operator key (after a rotation) is checked by the walk, which replays the
        key entries; so is everything else. An entry 0 that cannot be read is left for the walk to report.
        """
        where = self._source.name("checkpoint")
        try:
            data = self.entry(0)
            _version, _index, _prev, kind, body = (
                encoding.decode_entry(data) if data is not None else (0, 0, b"", "", 0)
            )
            operator = body["operator"] if kind == "genesis" and isinstance(body, dict) else None
            if not isinstance(operator, dict):
                return []
            verifier = VerifierKey.from_public(operator["name"], operator["public"])
        except (TracechainError, KeyError, TypeError):
            return []
        _text, signatures = parse_note(self._note)
        if not any((s.name, s.key_id) == (verifier.name, verifier.key_id) for s in signatures):
            return []
        try:
            open_checkpoint(self._note, [verifier], origin=self._origin)
        except TracechainError as e:
            return [
                f"{where}: the published checkpoint does not verify with the operator key of the genesis entry: {e}"
            ]
        return []


def _split_bundle(data: bytes, index: int, width: int) -> tuple[list[bytes], str | None]:
    """The entries of an entry bundle, in order, and what is wrong with it (None: exactly ``width`` entries and no
    byte more); when something is, the entries read before it."""
    entries: list[bytes] = []
    pos, first = 0, index * TILE_WIDTH
    for k in range(width):
        if pos + 2 > len(data):
            return entries, f"entry bundle {index} ends after {k} of its {width} entries"
        length = int.from_bytes(data[pos : pos + 2], "big")
        pos += 2
        if pos + length > len(data):
            return entries, (
                f"entry {first + k}'s length prefix says {length} bytes, but the bundle has {len(data) - pos} left"
            )
        entries.append(data[pos : pos + length])
        pos += length
    if pos != len(data):
        return entries, f"entry bundle {index} has {len(data) - pos} bytes after its {width} entries"
    return entries, None
