"""Publishing a ledger as a C2SP tlog-tiles folder that any static web server or object store can serve.

The folder holds ``checkpoint`` (the ledger's newest stored signed checkpoint, byte for byte), hash tiles
``tile/<L>/<N>[.p/<W>]`` of exactly 256 × 32 bytes when full (the inner rows tracechain stores inside a full tile
stay internal), and entry bundles ``tile/entries/<N>[.p/<W>]``: each entry's exact stored bytes behind a 2-byte
big-endian length. ``<N>`` is written in 3-digit groups, all but the last prefixed by ``x`` (1234067 →
``x001/x234/067``).

Publishing is incremental and atomic for readers. Each file is written under a temporary name, fsynced and renamed
into place; every tile and bundle is durable (their folders fsynced) before the checkpoint is renamed over the old
one, so a reader never meets a checkpoint whose tiles are missing, and a publish stopped at any point leaves the
old checkpoint with everything it needs. Full tiles and bundles already published are never rewritten, partial
ones are new files (their path names their width), and re-running with nothing new writes nothing.

Before anything is written the checkpoint is verified against the ledger's operator keys, every new tile is
re-derived from the entries (level 0) or the tiles below it, the checkpoint's root is recomputed from the tiles
being published, and a checkpoint already in the folder must be of the same log and consistent with the new one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tracechain import _tiles as tiles
from tracechain import merkle
from tracechain._tiles import TILE_HEIGHT, TILE_WIDTH
from tracechain.checkpoints import Checkpoint, parse_unverified
from tracechain.errors import PublishError, TracechainError
from tracechain.ledger import Ledger

__all__ = ["MAX_BUNDLED_ENTRY", "PublishResult", "entry_bundle_path", "publish", "tile_path"]

MAX_BUNDLED_ENTRY = 0xFFFF
"""The largest entry an entry bundle can carry: C2SP's length prefix is a big-endian uint16."""

_HASH = 32
_FULL_TILE = TILE_WIDTH * _HASH  # 8,192 bytes, as C2SP requires; the store's full tiles add their inner rows
_TEMP_DIR = ".publish-tmp"
_LOCK_FILE = ".publish-lock"
_NODE = b"\x01"


class _LedgerStore(Protocol):
    """The reads publishing needs from a ledger's storage; the names survive the storage refactor."""

    def size(self) -> int: ...
    def iter_entries(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, Any]]: ...
    def tile(self, level: int, index: int) -> bytes | None: ...
    def checkpoints(self) -> list[tuple[int, str]]: ...


def _store_of(ledger: Ledger) -> _LedgerStore:
    # The one place publishing reaches inside a Ledger; the storage refactor changes only this line.
    return ledger._store


@dataclass(frozen=True)
class PublishResult:
    """What one publish did: the published tree size, the size published before (0 if none), and files written."""

    size: int
    previous_size: int
    tiles_written: int
    bundles_written: int
    checkpoint: str


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """The C2SP path of hash tile ``index`` at ``level`` holding ``width`` hashes (256: a full tile)."""
    try:
        return tiles.tile_path(level, index, width)
    except ValueError as e:
        raise PublishError(str(e)) from e


def entry_bundle_path(index: int, width: int = TILE_WIDTH) -> str:
    """The C2SP path of entry bundle ``index`` holding ``width`` entries (256: a full bundle)."""
    try:
        return tiles.entry_bundle_path(index, width)
    except ValueError as e:
        raise PublishError(str(e)) from e


def _tile_root(row: bytes) -> bytes:
    """MTH of a full tile's 256 hashes: the hash its tile one level up holds for it."""
    level = [row[i : i + _HASH] for i in range(0, len(row), _HASH)]
    while len(level) > 1:
        level = [hashlib.sha256(_NODE + level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return level[0]


class _Writer:
    """Atomic file writes into the published folder, remembering the folders to fsync before the checkpoint."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.temp = root / _TEMP_DIR
        self.dirty: set[Path] = set()
        self._count = 0

    def exists(self, relative: str) -> bool:
        return (self.root / relative).is_file()

    def put(self, relative: str, data: bytes) -> bool:
        """Write ``data`` at ``relative`` unless the file already holds exactly it; True if it was written."""
        target = self.root / relative
        try:
            if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
                return False
        except OSError as e:
            raise PublishError(f"cannot read {target}: {e.strerror}") from e
        self.write(relative, data)
        return True

    def write(self, relative: str, data: bytes) -> None:
        target = self.root / relative
        self._makedirs(target.parent)
        self._count += 1
        temp = self.temp / f"{self._count}.tmp"
        try:
            with open(temp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, target)
        except OSError as e:
            raise PublishError(f"cannot write {target}: {e.strerror or e}") from e
        self.dirty.add(target.parent)

    def _makedirs(self, folder: Path) -> None:
        missing: list[Path] = []
        while not folder.is_dir():
            missing.append(folder)
            folder = folder.parent
        for new in reversed(missing):
            try:
                new.mkdir()
            except FileExistsError:
                pass
            except OSError as e:
                raise PublishError(f"cannot create folder {new}: {e.strerror or e}") from e
            self.dirty.add(new.parent)  # the new folder's own entry must reach the disk too

    def sync(self) -> None:
        for folder in sorted(self.dirty, key=lambda p: len(p.parts), reverse=True):
            _fsync_dir(folder)
        self.dirty.clear()


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError as e:
        raise PublishError(f"cannot open folder {folder} to make its new files durable: {e.strerror}") from e
    try:
        os.fsync(fd)
    except OSError as e:
        raise PublishError(f"cannot fsync folder {folder}: {e.strerror}") from e
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """One publisher at a time per folder: a second one waits, instead of racing on the checkpoint."""
    import fcntl  # POSIX only; imported here so that the module still imports elsewhere

    try:
        fd = os.open(root / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise PublishError(f"cannot create the lock file in {root}: {e.strerror}") from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _previous(root: Path, ledger: Ledger, new: Checkpoint) -> int:
    """The size of the checkpoint already published in ``root`` (0 if none), checked against the ledger."""
    where = root / "checkpoint"
    try:
        note = where.read_text(encoding="utf-8")
    except FileNotFoundError:
        return 0
    except (OSError, UnicodeDecodeError) as e:
        raise PublishError(f"{where}: cannot read the published checkpoint ({e}); refusing to replace it") from e
    try:
        old = parse_unverified(note)
        if old.origin != new.origin:
            raise PublishError(
                f"{where} is a checkpoint of log {old.origin!r}, not {new.origin!r}; publish each log to its own folder"
            )
        ledger.open_checkpoint(note)
    except PublishError:
        raise
    except TracechainError as e:
        raise PublishError(f"{where}: the published checkpoint does not verify with the ledger's keys: {e}") from e
    if old.size > new.size:
        raise PublishError(
            f"{where} publishes {old.size} entries but the ledger's newest checkpoint has {new.size};"
            " refusing to roll the published log back"
        )
    if ledger.root(old.size) != old.root:
        raise PublishError(
            f"{where}: the published checkpoint of size {old.size} has root {old.root.hex()}, but the ledger's"
            f" root at that size is {ledger.root(old.size).hex()}: the ledger and its publication have forked"
        )
    return old.size


def _level_widths(size: int) -> list[int]:
    """For each level, how many hashes the level holds in a tree of ``size`` leaves."""
    counts: list[int] = []
    n = size
    while n:
        counts.append(n)
        n >>= TILE_HEIGHT
    return counts


def _publish_tiles(store: _LedgerStore, writer: _Writer, size: int, previous: int) -> tuple[int, int, dict[Any, bytes]]:
    """Write the entry bundles and hash tiles a tree of ``size`` needs that are not published yet.

    Full tiles and bundles the previous checkpoint already covered are only checked to be there (so a folder that
    lost some is repaired), never re-read or rewritten. Returns the counts written and the hashes of every tile
    handled, for the root check.
    """
    tiles_written = bundles_written = 0
    published: dict[tuple[int, int], bytes] = {}
    for level, count in enumerate(_level_widths(size)):
        old_full = (previous >> (TILE_HEIGHT * level)) // TILE_WIDTH
        full, width = divmod(count, TILE_WIDTH)
        wanted = [(i, TILE_WIDTH) for i in range(old_full, full)]
        for i in range(min(old_full, full)):
            if not writer.exists(tile_path(level, i)) or (level == 0 and not writer.exists(entry_bundle_path(i))):
                wanted.append((i, TILE_WIDTH))
        if width:
            wanted.append((full, width))
        for index, w in sorted(wanted):
            hashes = _tile_hashes(store, level, index, w, published)
            published[(level, index)] = hashes
            if level == 0 and writer.put(entry_bundle_path(index, w), _entry_bundle(store, index, w, hashes)):
                bundles_written += 1
            if writer.put(tile_path(level, index, w), hashes):
                tiles_written += 1
    return tiles_written, bundles_written, published


def _tile_hashes(
    store: _LedgerStore, level: int, index: int, width: int, published: dict[tuple[int, int], bytes]
) -> bytes:
    """The first ``width`` hashes of a stored tile, each above level 0 re-derived from the full tile below it."""
    blob = store.tile(level, index)
    if blob is None or len(blob) < width * _HASH:
        raise PublishError(f"the ledger's tile {level}/{index} is missing or holds fewer than {width} hashes")
    hashes = bytes(blob[: width * _HASH])
    if level:
        for i in range(width):
            below = index * TILE_WIDTH + i
            row = published.get((level - 1, below))
            if row is None or len(row) != _FULL_TILE:
                full = store.tile(level - 1, below)
                row = bytes(full[:_FULL_TILE]) if full is not None else b""
            if len(row) != _FULL_TILE or _tile_root(row) != hashes[i * _HASH : (i + 1) * _HASH]:
                raise PublishError(
                    f"the ledger's tile {level}/{index} hash {i} is not the root of tile {level - 1}/{below};"
                    " run tracechain verify"
                )
    return hashes


def _entry_bundle(store: _LedgerStore, index: int, width: int, leaf_hashes: bytes) -> bytes:
    """Entry bundle ``index``: each entry's stored bytes behind a uint16 length, checked against its leaf hash."""
    first = index * TILE_WIDTH
    parts: list[bytes] = []
    expected = first
    for position, data in store.iter_entries(first, first + width):
        raw = bytes(data)
        if position != expected:
            raise PublishError(f"the ledger has no entry {expected}; run tracechain verify")
        if len(raw) > MAX_BUNDLED_ENTRY:
            raise PublishError(
                f"entry {position} is {len(raw)} bytes; C2SP entry bundles carry at most {MAX_BUNDLED_ENTRY}"
            )
        at = (position - first) * _HASH
        if merkle.leaf_hash(raw) != leaf_hashes[at : at + _HASH]:
            raise PublishError(
                f"entry {position}'s bytes do not hash to its leaf in tile 0/{index}; run tracechain verify"
            )
        parts.append(len(raw).to_bytes(2, "big") + raw)
        expected += 1
    if expected != first + width:
        raise PublishError(f"the ledger has no entry {expected}; run tracechain verify")
    return b"".join(parts)


def _root_from_published(size: int, published: dict[tuple[int, int], bytes], writer: _Writer) -> bytes:
    """The tree's root computed from the tiles as published, reading back from the folder any not written now."""

    def node(height: int, index: int) -> bytes:
        level, within = divmod(height, TILE_HEIGHT)
        first = index << within
        tile_index, offset = divmod(first, TILE_WIDTH)
        hashes = published.get((level, tile_index))
        if hashes is None:
            path = writer.root / tile_path(level, tile_index)
            try:
                hashes = path.read_bytes()
            except OSError as e:
                raise PublishError(f"cannot read back published tile {path}: {e.strerror}") from e
            published[(level, tile_index)] = hashes
        span = hashes[offset * _HASH : (offset + (1 << within)) * _HASH]
        if len(span) != (1 << within) * _HASH:
            raise PublishError(f"published tile {level}/{tile_index} is too short for node {height}/{index}")
        return _tile_root(span)

    return merkle.root_from(size, node)


def publish(ledger_path: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> PublishResult:
    """Publish the ledger at ``ledger_path`` as a C2SP tlog-tiles folder ``out_dir``, at its newest checkpoint.

    Steps: open the ledger and take its newest stored checkpoint, verified with its operator keys; lock the
    folder; check a checkpoint already published there (same log, not larger, consistent); write the missing
    entry bundles and hash tiles, each re-derived and checked; recompute the checkpoint's root from the published
    tiles; make every file durable; then rename the checkpoint into place. Raises :class:`PublishError` (or the
    ledger's own errors) and leaves the previously published log servable.
    """
    root = Path(out_dir)
    with Ledger.open(os.fspath(ledger_path)) as ledger:
        store = _store_of(ledger)
        stored = store.checkpoints()
        if not stored:
            raise PublishError(f"{ledger.path} has no checkpoint to publish; sign one first (tracechain checkpoint)")
        note = stored[-1][1]
        checkpoint = ledger.open_checkpoint(note)
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise PublishError(f"cannot create the publication folder {root}: {e.strerror}") from e
        with _locked(root):
            writer = _Writer(root)
            _clear_temp(writer.temp)
            previous = _previous(root, ledger, checkpoint)
            tiles, bundles, published = _publish_tiles(store, writer, checkpoint.size, previous)
            computed = _root_from_published(checkpoint.size, published, writer)
            if computed != checkpoint.root:
                raise PublishError(
                    f"the tiles published for size {checkpoint.size} give root {computed.hex()}, but the checkpoint"
                    f" says {checkpoint.root.hex()}; the checkpoint was not published"
                )
            writer.sync()
            # Every tile is durable before the checkpoint that needs it is renamed into place.
            if writer.put("checkpoint", note.encode("utf-8")):
                writer.sync()
            _clear_temp(writer.temp)
    return PublishResult(checkpoint.size, previous, tiles, bundles, note)


def _clear_temp(temp: Path) -> None:
    """Empty the folder of temporary files, where a publish that was stopped may have left some."""
    try:
        temp.mkdir(exist_ok=True)
        for leftover in temp.iterdir():
            leftover.unlink()
    except OSError as e:
        raise PublishError(f"cannot clear the temporary folder {temp}: {e.strerror}") from e
