"""The Merkle tree stored as tiles (C2SP tlog-tiles layout), so any root or proof costs O(log₂₅₆ n) reads.

Tile ``i`` at level ``l`` holds up to 256 hashes; hash ``j`` in it is the root of the complete subtree over leaves
``[(256·i + j)·256^l, (256·i + j + 1)·256^l)``. Level 0 holds the leaf hashes. Only the rightmost tile of each
level is partial, and tiles only ever grow, so a tile read now also serves every smaller tree size.

`TileEdge` is the writer's and the verifier's view: the partial tiles along the right edge, extended leaf by leaf.
`TileReader` answers `merkle.NodeReader` queries from stored tiles, hashing inside a tile to reach subtrees that
are not 256-aligned, with a small cache of expanded tiles keyed by their contents.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from tracechain.merkle import hash_children

__all__ = ["TILE_HEIGHT", "TILE_WIDTH", "TileEdge", "TileReader"]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
_HASH = 32

TileFetcher = Callable[[int, int], "bytes | None"]


def _tile_root(hashes: list[bytes]) -> bytes:
    """The root of a full tile's 256 hashes (a complete subtree of height 8)."""
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
            done.append((level, n // TILE_WIDTH, b"".join(row)))
            h = _tile_root(row)
            self.partial[level] = []
            self._dirty.add(level)
            level, n = level + 1, n // TILE_WIDTH
        self.size += 1
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

    def copy(self) -> TileEdge:
        return TileEdge(self.size, [list(r) for r in self.partial])


class TileReader:
    """A `merkle.NodeReader` over stored tiles."""

    def __init__(self, fetch: TileFetcher, cache_size: int = 64) -> None:
        self._fetch = fetch
        self._cache: OrderedDict[bytes, list[list[bytes]]] = OrderedDict()
        self._cache_size = cache_size

    def _expanded(self, blob: bytes) -> list[list[bytes]]:
        """A tile's hashes and every complete subtree root above them inside the tile, bottom up."""
        cached = self._cache.get(blob)
        if cached is not None:
            self._cache.move_to_end(blob)
            return cached
        rows = [[blob[i : i + _HASH] for i in range(0, len(blob), _HASH)]]
        while len(rows[-1]) > 1:
            below = rows[-1]
            rows.append([hash_children(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
        self._cache[blob] = rows
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return rows

    def node(self, height: int, index: int) -> bytes:
        """The root of the complete subtree of ``2**height`` leaves starting at leaf ``index * 2**height``."""
        level, within = divmod(height, TILE_HEIGHT)
        first = index << within  # position, in the level's row, of the subtree's first hash
        tile_index, offset = divmod(first, TILE_WIDTH)
        blob = self._fetch(level, tile_index)
        needed = (offset + (1 << within)) * _HASH
        if blob is None or len(blob) < needed or len(blob) % _HASH:
            raise LookupError(f"tile {level}/{tile_index} is missing or too short for node {height}/{index}")
        if within == 0:
            return blob[offset * _HASH : (offset + 1) * _HASH]
        return self._expanded(blob)[within][offset >> within]

    __call__ = node
