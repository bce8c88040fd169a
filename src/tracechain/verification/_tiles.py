"""Verification step: every stored tile against the tree rebuilt from the entries, so proofs served from tiles
are sound."""

from __future__ import annotations

from tracechain._tiles import FULL_TILE_BYTES, TILE_WIDTH
from tracechain.report import Report
from tracechain.storage import LedgerStore

__all__ = ["TileComparer"]


class TileComparer:
    """Compares each tile the rebuilt tree completes with the stored one, reporting each damaged range once."""

    def __init__(self, store: LedgerStore, report: Report) -> None:
        self.store = store
        self.report = report
        self.reported: list[tuple[int, int]] = []
        self.seen = 0

    def compare(self, level: int, index: int, blob: bytes) -> None:
        self.seen += 1
        stored = self.store.tile(level, index)
        if stored is not None and bytes(stored) == blob:
            return
        width = TILE_WIDTH**level
        first_leaf = index * TILE_WIDTH * width
        stored_b = bytes(stored) if stored is not None else b""
        bottom = min(len(blob), TILE_WIDTH * 32)
        for i in range(0, bottom, 32):
            if stored_b[i : i + 32] != blob[i : i + 32]:
                start = first_leaf + (i // 32) * width
                break
        else:
            if len(blob) == FULL_TILE_BYTES and stored_b[:bottom] == blob[:bottom]:
                # The bottom row agrees: the damage is in a full tile's inner rows, which all its proofs rely on.
                start, width = first_leaf, TILE_WIDTH * width
            else:  # the stored tile holds more or fewer hashes than the entries make: they end where it differs
                start = first_leaf + len(blob) // 32 * width
        # A hash higher up that differs only because a leaf below it does says nothing new: report each
        # damaged range once, at the most precise level, which is compared first.
        if any(a < start + width and start < b for a, b in self.reported):
            return
        self.reported.append((start, start + width))
        self.report.add(start, f"stored tile {level}/{index} does not match the entries")

    def finish(self) -> None:
        stored = self.store.tile_count()
        if stored != self.seen:
            self.report.add(None, f"the file holds {stored} tiles, the entries make {self.seen}")
