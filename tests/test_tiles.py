"""The tile edge: many leaves at once must build exactly the tiles, edge and root that one leaf at a time builds."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracechain import merkle
from tracechain._tiles import FULL_TILE_BYTES, TILE_WIDTH, TileEdge, TileReader


def _leaves(n: int, start: int = 0) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(8, "big")) for i in range(start, start + n)]


def _one_by_one(edge: TileEdge, leaves: list[bytes]) -> list[tuple[int, int, bytes]]:
    done: list[tuple[int, int, bytes]] = []
    for leaf in leaves:
        done += edge.append(leaf)
    return done


@given(st.lists(st.integers(0, 700), min_size=1, max_size=6))
@settings(max_examples=60, deadline=None)
def test_extend_matches_append_for_any_split_of_the_leaves(chunks: list[int]) -> None:
    bulk, single = TileEdge(), TileEdge()
    total = 0
    for count in chunks:
        leaves = _leaves(count, total)
        total += count
        assert bulk.extend(leaves) == _one_by_one(single, leaves)
        assert bulk.size == single.size == total
        assert bulk.partial == single.partial
        assert bulk.flush() == single.flush()
        assert bulk.root() == merkle.root(_leaves(total))


@pytest.mark.parametrize("start", [0, 1, 255, 256, 65_535])
def test_extend_completes_tiles_on_every_level_with_their_inner_rows(start: int) -> None:
    """Across 256² leaves a level-1 tile completes: every full tile carries its 255 inner hashes."""
    before = _leaves(start)
    edge = TileEdge()
    edge.extend(before)
    edge.flush()
    leaves = _leaves(TILE_WIDTH * TILE_WIDTH + 3, start)
    done = edge.extend(leaves)
    everything = before + leaves
    assert edge.root() == merkle.root(everything)
    levels = {level for level, _, _ in done}
    assert levels == {0, 1}
    for level, index, blob in done:
        assert len(blob) == FULL_TILE_BYTES
        span = TILE_WIDTH ** (level + 1)
        assert blob[:32] == merkle.root(everything[index * span : index * span + span // TILE_WIDTH])
        # The last inner hash is the tile's own root: the subtree over the tile's whole span.
        assert blob[-32:] == merkle.root(everything[index * span : (index + 1) * span])


def test_reader_over_extended_tiles_serves_every_node_a_naive_tree_has() -> None:
    leaves = _leaves(3 * TILE_WIDTH + 17)
    edge = TileEdge()
    stored = {(level, index): blob for level, index, blob in edge.extend(leaves) + edge.flush()}
    reader = TileReader(lambda level, index: stored.get((level, index)))
    for height in range(10):
        width = 1 << height
        for index in range(len(leaves) // width):
            expected = merkle.root(leaves[index * width : (index + 1) * width])
            assert reader.node(height, index) == expected, (height, index)
    with pytest.raises(LookupError):
        reader.node(0, len(leaves))


def test_extend_of_nothing_changes_nothing() -> None:
    edge = TileEdge()
    edge.extend(_leaves(5))
    edge.flush()
    assert edge.extend([]) == []
    assert edge.flush() == []
    assert edge.size == 5
    assert edge.root() == merkle.root(_leaves(5))
    assert hashlib.sha256(b"").digest() == TileEdge().root()
