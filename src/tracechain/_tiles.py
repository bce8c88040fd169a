"""The Merkle tree stored as tiles (C2SP tlog-tiles layout), so any root or proof costs O(log₂₅₆ n) reads.

Tile ``i`` at level ``l`` holds up to 256 hashes; hash ``j`` in it is the root of the complete subtree over leaves
``[(256·i + j)·256^l, (256·i + j + 1)·256^l)``. Level 0 holds the leaf hashes. Only the rightmost tile of each
level is partial, and tiles only ever grow, so a tile read now also serves every smaller tree size. A full tile is
stored with its 255 inner subtree roots after its 256 hashes (rows of 128, 64, …, 1), so no proof hashes inside
a full tile.

`TileEdge` is the writer's and the verifier's view: the partial tiles along the right edge, extended leaf by leaf.
`TileReader` answers `merkle.NodeReader` queries from stored tiles, reading a full tile's inner rows and hashing
inside the rightmost partial tiles, with a cache of the tiles it has read.

Published, a tree follows C2SP tlog-tiles to the letter: full tiles are their 256 hashes only (`PUBLISHED_TILE_BYTES`,
`with_inner_rows` restores the stored form), at the paths `tile_path` and `entry_bundle_path` give.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence

from tracechain.merkle import EMPTY_ROOT, hash_children

__all__ = [
    "FULL_TILE_BYTES",
    "PUBLISHED_TILE_BYTES",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileEdge",
    "TileReader",
    "entry_bundle_path",
    "tile_path",
    "tile_widths",
    "with_inner_rows",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
FULL_TILE_BYTES = (2 * TILE_WIDTH - 1) * 32  # a full tile: 256 hashes, then its 255 inner subtree roots
PUBLISHED_TILE_BYTES = TILE_WIDTH * 32  # a full tile as C2SP publishes it: its 256 hashes only
_HASH = 32
_NODE = b"\x01"  # RFC 9162 interior-node prefix, as in merkle.hash_children

TileFetcher = Callable[[int, int], "bytes | None"]


def _inner_rows(hashes: list[bytes]) -> tuple[bytes, bytes]:
    """A full tile's root and its inner rows (128, 64, …, 1 hashes) concatenated, bottom up."""
    rows: list[bytes] = []
    level, sha256 = hashes, hashlib.sha256
    while len(level) > 1:
        level = [sha256(_NODE + level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
        rows.append(b"".join(level))
    return level[0], b"".join(rows)


def with_inner_rows(hashes: bytes) -> bytes:
    """A full tile's 256 hashes (as published) followed by its inner rows: the form a ledger stores."""
    if len(hashes) != PUBLISHED_TILE_BYTES:
        raise ValueError(f"a full tile holds {PUBLISHED_TILE_BYTES} bytes of hashes, found {len(hashes)}")
    _root, inner = _inner_rows([hashes[i : i + _HASH] for i in range(0, PUBLISHED_TILE_BYTES, _HASH)])
    return hashes + inner


def _index_path(index: int) -> str:
    digits = f"{index:d}"
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join(["x" + g for g in groups[:-1]] + groups[-1:])


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """The C2SP path of hash tile ``index`` at ``level`` holding ``width`` hashes (256: a full tile).

    ``<N>`` is written in 3-digit groups, all but the last prefixed by ``x`` (1234067 → ``x001/x234/067``); a
    partial tile adds ``.p/<W>``. Raises `ValueError` for a level outside 0-63, a negative index or a width
    outside 1-256.
    """
    if not 0 <= level <= 63 or index < 0 or not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"no tile {level}/{index} of width {width}: levels are 0-63, widths 1-256")
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{_index_path(index)}{suffix}"


def entry_bundle_path(index: int, width: int = TILE_WIDTH) -> str:
    """The C2SP path of entry bundle ``index`` holding ``width`` entries (256: a full bundle); `ValueError` for a
    negative index or a width outside 1-256."""
    if index < 0 or not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"no entry bundle {index} of width {width}: widths are 1-256")
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/entries/{_index_path(index)}{suffix}"


def tile_widths(size: int, level: int) -> tuple[int, int]:
    """In a tree of ``size`` leaves: how many full tiles ``level`` has, and the width of its partial tile (0 for
    none). Level 0's tiles are also the entry bundles'."""
    return divmod(size >> (TILE_HEIGHT * level), TILE_WIDTH)


def _tile_root(hashes: list[bytes]) -> bytes:
    """The root of a perfect subtree over a power-of-two count of hashes (a full tile's 256, or part of a row)."""
    level = hashes
    while len(level) > 1:
        level = [hash_children(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


class TileEdge:
    """The partial tiles along the right edge of a tree, extended one leaf hash at a time."""

    __slots__ = ("_dirty", "partial", "size")

    def __init__(self, size: int = 0, partial: list[list[bytes]] | None = None) -> None:
        self.size = size
        # partial[l] holds the hashes of the rightmost, incomplete tile at level l.
        self.partial: list[list[bytes]] = partial if partial is not None else []
        self._dirty: set[int] = set()

    @classmethod
    def load(cls, size: int, fetch: TileFetcher) -> TileEdge:
        """The edge of a stored tree of ``size`` leaves; raises `ValueError` if a needed tile is missing."""
        partial: list[list[bytes]] = []
        level, n = 0, size
        while n:
            count = n % TILE_WIDTH
            hashes: list[bytes] = []
            if count:
                blob = fetch(level, n // TILE_WIDTH)
                if blob is None or len(blob) < count * _HASH:
                    raise ValueError(f"tile {level}/{n // TILE_WIDTH} is missing or shorter than {count} hashes")
                hashes = [blob[i : i + _HASH] for i in range(0, count * _HASH, _HASH)]
            partial.append(hashes)
            level, n = level + 1, n // TILE_WIDTH
        return cls(size, partial)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; returns the tiles it completed, as (level, index, 256 hashes)."""
        if self.partial and len(self.partial[0]) < TILE_WIDTH - 1:
            # 255 leaves in 256 complete nothing: only the bottom row grows (and it is already marked changed,
            # or is marked now).
            self.partial[0].append(leaf)
            self._dirty.add(0)
            self.size += 1
            return []
        done: list[tuple[int, int, bytes]] = []
        h, level, n = leaf, 0, self.size
        while True:
            if level == len(self.partial):
                self.partial.append([])
            row = self.partial[level]
            row.append(h)
            if len(row) < TILE_WIDTH:
                self._dirty.add(level)
                break
            # A full tile is stored with its inner rows: they are hashed here anyway, and with them a proof
            # reads any subtree root inside the tile instead of re-hashing up to 255 nodes.
            h, inner = _inner_rows(row)
            done.append((level, n // TILE_WIDTH, b"".join(row) + inner))
            self.partial[level] = []
            self._dirty.add(level)
            level, n = level + 1, n // TILE_WIDTH
        self.size += 1
        return done

    def extend(self, leaves: Sequence[bytes]) -> list[tuple[int, int, bytes]]:
        """Add many leaf hashes; returns the tiles they completed, as `append` does for one.

        The leaves that complete no tile (up to 255 of every 256) join the bottom row in one slice; only the
        last leaf of each tile goes through `append`, which hashes the tile and carries its root upwards.
        """
        done: list[tuple[int, int, bytes]] = []
        pos, total = 0, len(leaves)
        if total and not self.partial:
            self.partial.append([])
        while pos < total:
            row = self.partial[0]
            room = min(TILE_WIDTH - 1 - len(row), total - pos)
            if room > 0:
                row.extend(leaves[pos : pos + room])
                self.size += room
                pos += room
                self._dirty.add(0)
            if pos < total:
                done += self.append(leaves[pos])
                pos += 1
        return done

    def flush(self) -> list[tuple[int, int, bytes]]:
        """The partial tiles that changed since the last flush, as (level, index, hashes)."""
        rows: list[tuple[int, int, bytes]] = []
        n = self.size
        for level in sorted(self._dirty):
            row = self.partial[level]
            if row:
                rows.append((level, (n >> (TILE_HEIGHT * level)) // TILE_WIDTH, b"".join(row)))
        self._dirty = set()
        return rows

    def root(self) -> bytes:
        """MTH of the leaves appended so far, from the partial tiles alone.

        Tiles are powers of two wide, so the binary decomposition of the size that RFC 9162's root follows is
        each level's partial-row count in turn, top level first (the leftmost leaves): every set bit of a row's
        count is a perfect subtree over that many consecutive hashes of the row. At most 255 hashes per level.
        """
        parts: list[bytes] = []
        for row in reversed(self.partial):
            pos, remaining = 0, len(row)
            while remaining:
                width = 1 << (remaining.bit_length() - 1)
                parts.append(_tile_root(row[pos : pos + width]))
                pos, remaining = pos + width, remaining - width
        if not parts:
            return EMPTY_ROOT
        acc = parts[-1]
        for part in reversed(parts[:-1]):
            acc = hash_children(part, acc)
        return acc

    def copy(self) -> TileEdge:
        return TileEdge(self.size, [list(r) for r in self.partial])


class TileReader:
    """A `merkle.NodeReader` over stored tiles, remembering the tiles it has read and their inner subtree roots.

    The tree only grows, so a tile read once stays a true prefix of that tile forever: a remembered tile serves
    every node inside it, and only a node beyond its end makes the reader fetch the tile again. A proof then costs
    SQL reads for the tiles it has not met yet, instead of one read per node. ``fetch`` must return committed
    tiles; after anything that could have let it see tiles that were rolled back, call `clear`.
    """

    def __init__(self, fetch: TileFetcher, cache_size: int = 256) -> None:
        self._fetch = fetch
        self._blobs: OrderedDict[tuple[int, int], bytes] = OrderedDict()
        self._cache: OrderedDict[tuple[int, int, int], list[bytes]] = OrderedDict()
        self._cache_size = cache_size

    def clear(self) -> None:
        """Forget every remembered tile."""
        self._blobs.clear()
        self._cache.clear()

    def _blob(self, level: int, index: int, needed: int) -> bytes | None:
        key = (level, index)
        blob = self._blobs.get(key)
        if blob is not None and len(blob) >= needed:
            self._blobs.move_to_end(key)
            return blob
        blob = self._fetch(level, index)
        if blob is not None and len(blob) >= needed and not len(blob) % _HASH:
            self._blobs[key] = blob
            if len(self._blobs) > self._cache_size:
                self._blobs.popitem(last=False)
        return blob

    def _expanded(self, level: int, index: int, blob: bytes) -> list[bytes]:
        """A partial tile's row of hashes and, above it, the row of every complete subtree root inside it (a full
        tile stores these rows; a partial one, the rightmost of its level, has them hashed here once).

        Rows stay byte strings: two neighbours are one 64-byte slice, so a node costs one slice, one
        concatenation and one hash.
        """
        key = (level, index, len(blob))
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        rows = [blob]
        row, sha256 = blob, hashlib.sha256
        while len(row) > _HASH:
            row = b"".join(
                [sha256(_NODE + row[i : i + 2 * _HASH]).digest() for i in range(0, len(row) - _HASH, 2 * _HASH)]
            )
            rows.append(row)
        self._cache[key] = rows
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return rows

    def node(self, height: int, index: int) -> bytes:
        """The root of the complete subtree of ``2**height`` leaves starting at leaf ``index * 2**height``."""
        level, within = divmod(height, TILE_HEIGHT)
        first = index << within  # position, in the level's row, of the subtree's first hash
        tile_index, offset = divmod(first, TILE_WIDTH)
        needed = (offset + (1 << within)) * _HASH
        blob = self._blob(level, tile_index, needed)
        if blob is None or len(blob) < needed or len(blob) % _HASH:
            raise LookupError(f"tile {level}/{tile_index} is missing or too short for node {height}/{index}")
        if within == 0:
            return blob[offset * _HASH : (offset + 1) * _HASH]
        if len(blob) == FULL_TILE_BYTES:  # read in place: row `within` starts after 256 + 128 + … hashes
            at = (2 * TILE_WIDTH - (2 * TILE_WIDTH >> within) + (offset >> within)) * _HASH
            return blob[at : at + _HASH]
        at = (offset >> within) * _HASH
        return self._expanded(level, tile_index, blob)[within][at : at + _HASH]

    __call__ = node
