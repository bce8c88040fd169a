"""Specification of reading a published log (tracechain.storage.published): `verify` of a folder or URL finds what
`verify` of the ledger finds, and one changed byte in any published file — checkpoint, hash tile, entry bundle —
is refused, naming the first bad thing."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from tracechain.cli import main

from tests.published import grow, new_ledger, serve
from tracechain import Ledger, SigningKey, verify
from tracechain.errors import LedgerFormatError, StorageError
from tracechain.publish import publish
from tracechain.storage import ITEMS, open_store
from tracechain.storage.published import PublishedStore

# 707 entries (4 from setup, 700 events, 3 seals): two full tiles and bundles, a partial tile and bundle of 195,
# and a partial level-1 tile of 2 hashes.
EVENTS = 700


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, operator_key: SigningKey, actor_key: SigningKey) -> Path:
    """A folder: the ledger (ledger.db) and its publication (pub/)."""
    folder = tmp_path_factory.mktemp("published")
    with new_ledger(folder / "ledger.db", operator_key, actor_key) as ledger:
        grow(ledger, actor_key, EVENTS, batch=300)
        ledger.checkpoint(operator_key)
    publish(folder / "ledger.db", folder / "pub")
    return folder


def _same(a: object, b: object) -> None:
    for name in ("ok", "size", "root", "events", "batches", "signatures_checked", "checkpoints_checked"):
        assert getattr(a, name) == getattr(b, name), name


def test_a_published_folder_verifies_as_its_ledger_does(published: Path) -> None:
    of_ledger = verify(published / "ledger.db")
    of_folder = verify(published / "pub")
    assert of_ledger.ok and of_folder.ok, of_folder.problems
    _same(of_folder, of_ledger)
    assert of_folder.size == 707 and of_folder.events == EVENTS


def test_a_published_log_verifies_over_http(published: Path) -> None:
    with serve(published / "pub") as url:
        report = verify(url)
        hash_only = verify(url, contents=False, signatures=False)
    _same(report, verify(published / "ledger.db"))
    assert hash_only.ok and hash_only.root == report.root


def test_worker_processes_each_fetch_their_spans_from_the_url(
    tmp_path: Path, operator_key: SigningKey, actor_key: SigningKey
) -> None:
    # Above 8,192 entries the full check scans spans in worker processes, each reopening the store by location.
    with new_ledger(tmp_path / "big.db", operator_key, actor_key) as ledger:
        grow(ledger, actor_key, 8_400)
        ledger.checkpoint(operator_key)
    publish(tmp_path / "big.db", tmp_path / "pub")
    data = bytearray((tmp_path / "pub/tile/entries/030").read_bytes())
    with serve(tmp_path / "pub") as url:
        report = verify(url, workers=2)
        assert report.ok, report.problems
        _same(report, verify(tmp_path / "big.db", workers=1))
        data[-5] ^= 0x01  # the last entry of bundle 30 (entry 7,935), read by a worker
        (tmp_path / "pub/tile/entries/030").write_bytes(bytes(data))
        assert verify(url, workers=2).first_bad_index == 30 * 256 + 255


def test_a_published_full_tile_is_served_with_its_inner_rows_as_the_ledger_stores_it(published: Path) -> None:
    ledger = open_store(published / "ledger.db", readonly=True)
    store = open_store(published / "pub", readonly=True)
    try:
        assert (published / "pub/tile/0/001").stat().st_size == 8192
        for level, index in ((0, 0), (0, 1), (0, 2), (1, 0)):
            assert store.tile(level, index) == ledger.tile(level, index), (level, index)
        assert len(store.tile(0, 1) or b"") == 16_352
        assert store.tile(0, 3) is None and store.tile(2, 0) is None
        assert store.tile_count() == ledger.tile_count() == 4
        assert list(store.iter_entries()) == list(ledger.iter_entries())
        assert list(store.iter_entries(250, 260)) == list(ledger.iter_entries(250, 260))
        assert store.entry(706) == ledger.entry(706) and store.entry(707) is None
        assert store.checkpoints() == ledger.checkpoints()[-1:]
        assert store.meta("origin") == ledger.meta("origin")
    finally:
        ledger.close()
        store.close()


def test_a_published_log_is_read_only_and_has_no_projections(published: Path) -> None:
    with pytest.raises(StorageError, match="read-only"):
        open_store(published / "pub")
    store = open_store(published / "pub", readonly=True)
    try:
        assert isinstance(store, PublishedStore)
        assert not store.keeps_derived and store.built_projections() == [] and store.registered_keys() == []
        with pytest.raises(StorageError, match="read-only"):
            store.write()
        with pytest.raises(StorageError, match=r"no item index.*tracechain mirror"):
            store.lookup(ITEMS, "x")
    finally:
        store.close()


def test_a_published_log_is_not_opened_as_a_ledger(published: Path) -> None:
    with pytest.raises(StorageError, match=r"not a ledger.*tracechain mirror"):
        Ledger.open(published / "pub", readonly=True)


def test_a_folder_that_is_not_a_published_log_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(LedgerFormatError, match=r"checkpoint does not exist.*not a published log"):
        open_store(tmp_path, readonly=True)
    report = verify(tmp_path)
    assert not report.ok and str(tmp_path) in report.problems[0].message


# --- one changed byte in any published file ---------------------------------------------------------------


def _kinds(folder: Path) -> dict[str, str]:
    """Every published file of the tree, by the kind a test names."""
    return {
        "checkpoint": "checkpoint",
        "full hash tile": "tile/0/001",
        "partial hash tile": "tile/0/002.p/195",
        "level-1 hash tile": "tile/1/000.p/2",
        "full entry bundle": "tile/entries/001",
        "partial entry bundle": "tile/entries/002.p/195",
    }


@pytest.fixture
def flip(published: Path) -> Iterator[tuple[Path, list[tuple[str, int]]]]:
    """The publication with a way to flip bytes in place; every file is put back afterwards."""
    folder = published / "pub"
    saved = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    yield folder, []
    for path, data in saved.items():
        path.write_bytes(data)


def _flipped(folder: Path, relative: str, at: int) -> None:
    path = folder / relative
    data = bytearray(path.read_bytes())
    data[at] ^= 0x04
    path.write_bytes(bytes(data))


def _bundle_offsets(data: bytes) -> list[int]:
    """Where each entry of a bundle starts (at its 2-byte length)."""
    offsets, pos = [], 0
    while pos < len(data):
        offsets.append(pos)
        pos += 2 + int.from_bytes(data[pos : pos + 2], "big")
    return offsets


def _checks(folder: Path, relative: str, at: int) -> None:
    """Flip byte ``at`` of ``relative`` and check that verify refuses the log and names what changed."""
    original = (folder / relative).read_bytes()
    _flipped(folder, relative, at)
    try:
        report = verify(folder)
    finally:
        (folder / relative).write_bytes(original)
    assert not report.ok, f"a changed byte {at} of {relative} went unnoticed"
    messages = [p.message for p in report.sorted_problems()]
    if relative == "checkpoint":
        assert "checkpoint" in messages[0], messages
    elif relative.startswith("tile/entries/"):
        index = int(relative.split("/")[2].split(".", maxsplit=1)[0])
        offsets = _bundle_offsets(original)
        entry = max(i for i, start in enumerate(offsets) if start <= at)
        if at - offsets[entry] < 2:  # the length prefix: the bundle no longer parses, and says where it went wrong
            named = [m for m in messages if relative in m and "malformed" in m]
            assert named, messages
            first_unlike = f"entry {index * 256 + entry} is the first whose bytes miss its leaf hash"
            assert first_unlike in named[0] or f"entry {index * 256 + entry}'s length prefix" in named[0], named
        else:
            assert report.first_bad_index == index * 256 + entry, messages
    else:
        level = int(relative.split("/")[1])
        index = int(relative.split("/")[2].split(".", maxsplit=1)[0])
        first = (index * 256 + at // 32) * 256**level
        assert report.first_bad_index == first, messages
        assert any(f"tile {level}/{index} " in m for m in messages), messages


@pytest.mark.parametrize("kind", list(_kinds(Path())))
def test_one_changed_byte_in_any_published_file_is_refused_naming_it(
    flip: tuple[Path, list[tuple[str, int]]], kind: str
) -> None:
    folder, _ = flip
    relative = _kinds(folder)[kind]
    size = (folder / relative).stat().st_size
    rng = random.Random(kind)
    positions = {0, 1, size // 2, size - 1, *(rng.randrange(size) for _ in range(6))}
    if relative == "checkpoint":  # every line: origin, size, root, and the signature
        text = (folder / relative).read_text()
        lines = text.split("\n")
        starts = [sum(len(line) + 1 for line in lines[:i]) for i in range(len(lines))]
        positions |= {starts[1] + len(lines[1]) - 1, starts[2] + 5, starts[4] + 20, starts[4] + len(lines[4]) - 3}
    if relative.startswith("tile/entries/"):
        offsets = _bundle_offsets((folder / relative).read_bytes())
        positions |= {offsets[3], offsets[3] + 1, offsets[3] + 40}
    for at in sorted(positions):
        _checks(folder, relative, at)


def test_a_missing_published_file_is_named(flip: tuple[Path, list[tuple[str, int]]]) -> None:
    folder, _ = flip
    (folder / "tile/entries/001").unlink()
    report = verify(folder)
    assert not report.ok
    assert any("tile/entries/001 does not exist" in p.message for p in report.problems), report.problems
    (folder / "tile/0/000").unlink()
    assert any("tile 0/0 " in p.message for p in verify(folder).problems)


def test_the_verify_command_takes_a_folder_and_names_a_changed_tile(
    flip: tuple[Path, list[tuple[str, int]]], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = flip
    assert main(["verify", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["size"] == 707
    _flipped(folder, "tile/0/001", 32 * 7 + 3)
    assert main(["verify", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "first bad entry 263" in err and "tile 0/1 does not match" in err
