"""What every storage backend must do: the `LedgerStore` protocol, as tests.

Run today against SQLite. A new backend (PostgreSQL, say) is added by one more parameter of the ``opener``
fixture: a function that gives a fresh location for it. Nothing else here names a backend.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tracechain.entries import KeyInfo
from tracechain.errors import StorageError
from tracechain.storage import BATCHES, DIGESTS, ITEMS, PROJECTIONS, LedgerStore, open_store

Opener = Callable[[], str]


@pytest.fixture(params=["sqlite"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """A function giving a new, unused location for the backend under test."""
    counter = iter(range(1_000))
    if request.param == "sqlite":
        return lambda: f"sqlite:///{tmp_path}/store-{next(counter)}.db"
    raise AssertionError(request.param)


@pytest.fixture
def store(opener: Opener) -> Iterator[LedgerStore]:
    made = open_store(opener(), create=True)
    with made.write():
        made.set_meta("origin", "conformance.example/ledger")
    yield made
    made.close()


def test_a_new_store_is_empty_and_sound(store: LedgerStore) -> None:
    with store.read():
        assert store.size() == 0
        assert store.entry(0) is None
        assert store.tile_count() == 0
        assert store.registered_keys() == []
        assert store.checkpoints() == []
        assert store.self_check() == []
        assert store.built_projections() == list(PROJECTIONS)


def test_entries_read_back_exactly_in_chunks_and_across_gaps(store: LedgerStore) -> None:
    datas = [bytes([i % 256]) * (i % 7 + 1) for i in range(1_000)]
    with store.write():
        store.insert_entries(enumerate(datas))
    assert store.size() == 1_000
    assert store.entry(999) == datas[999]
    assert [d for _, d in store.iter_entries(0, None, chunk=64)] == datas
    assert [i for i, _ in store.iter_entries(990, 995, chunk=2)] == [990, 991, 992, 993, 994]
    assert store.next_index(1_000) is None
    assert store.next_index(500) == 500


def test_tiles_replace_and_count(store: LedgerStore) -> None:
    with store.write():
        store.put_tiles([(0, 0, b"a" * 64), (1, 0, b"b" * 32)])
        store.put_tiles([(0, 0, b"c" * 96)])  # a partial tile grows in place
    assert store.tile(0, 0) == b"c" * 96
    assert store.tile(1, 0) == b"b" * 32
    assert store.tile(2, 0) is None
    assert store.tile_count() == 2


def test_keys_and_checkpoints(store: LedgerStore) -> None:
    key = KeyInfo(bytes(32), "plant.example.cn", "91512081MA62K0260E", "actor", 2)
    with store.write():
        store.add_key(key)
        store.add_checkpoint(5, "note five\n")
        store.add_checkpoint(3, "note three\n")
    with store.write():
        store.revoke_key(bytes(32), 9)
    assert store.registered_keys() == [KeyInfo(bytes(32), "plant.example.cn", "91512081MA62K0260E", "actor", 2, 9)]
    assert store.checkpoints() == [(3, "note three\n"), (5, "note five\n")]


def test_a_transaction_that_fails_leaves_nothing(store: LedgerStore) -> None:
    with store.write():
        store.insert_entries([(0, b"zero")])

    def write_then_fail() -> None:
        with store.write():
            store.insert_entries([(1, b"one")])
            store.put_tiles([(0, 0, b"x" * 32)])
            store.insert_rows(ITEMS, [("code", 1)])
            store.set_meta("origin", "changed")
            raise RuntimeError("failed midway")

    with pytest.raises(RuntimeError, match="midway"):
        write_then_fail()
    assert store.size() == 1
    assert store.tile_count() == 0
    assert store.lookup(ITEMS, "code") == []
    assert store.meta("origin") == "conformance.example/ledger"


def test_a_duplicate_entry_index_fails_the_transaction(store: LedgerStore) -> None:
    with store.write():
        store.insert_entries([(0, b"zero")])
    with pytest.raises(StorageError), store.write():
        store.insert_entries([(0, b"again")])
    assert store.entry(0) == b"zero"


def test_projections_insert_look_up_and_clear(store: LedgerStore) -> None:
    with store.write():
        store.insert_rows(ITEMS, [("b", 3), ("a", 1), ("a", 2), ("a", 1)])  # a repeated row is kept once
        store.insert_rows(DIGESTS, [(-5, 0, 1), (7, 1, 2), (2**63 - 1, -(2**63), 3)])
        store.insert_rows(BATCHES, [(0, "A", "00", 1), (2, "B", "01", 5), (6, "A", "00", 9)])
    assert store.lookup(ITEMS, "a") == [("a", 1), ("a", 2)]
    assert store.lookup(ITEMS, "zz") == []
    assert sorted(store.lookup_many(DIGESTS, [7, -5, 99, 2**63 - 1])) == [
        (-5, 0, 1),
        (7, 1, 2),
        (2**63 - 1, -(2**63), 3),
    ]
    assert store.lookup_floor(BATCHES, 4) == (2, "B", "01", 5)
    assert store.lookup_floor(BATCHES, 0) == (0, "A", "00", 1)
    assert list(store.iter_rows(ITEMS, chunk=2)) == [("a", 1), ("a", 2), ("b", 3)]
    assert store.row_count(ITEMS) == 3
    with store.write():
        store.clear(ITEMS)
    assert store.row_count(ITEMS) == 0
    assert store.row_count(DIGESTS) == 3


def test_many_values_are_looked_up_in_one_call(store: LedgerStore) -> None:
    with store.write():
        store.insert_rows(DIGESTS, [(i, 0, i) for i in range(3_000)])
    assert len(store.lookup_many(DIGESTS, range(0, 6_000, 2))) == 1_500


def test_a_read_only_store_refuses_writes(store: LedgerStore) -> None:
    reader = open_store(store.location, readonly=True)
    try:
        assert reader.readonly
        with pytest.raises(StorageError, match="read-only"), reader.write():
            pass
        assert reader.meta("origin") == "conformance.example/ledger"
    finally:
        reader.close()


def test_a_location_is_opened_again_by_its_own_name(store: LedgerStore) -> None:
    with store.write():
        store.insert_entries([(0, b"zero")])
    again = open_store(store.location)
    try:
        assert again.entry(0) == b"zero"
    finally:
        again.close()


def test_creating_over_an_existing_store_is_refused(store: LedgerStore) -> None:
    with pytest.raises(StorageError, match="already exists"):
        open_store(store.location, create=True)


def test_concurrent_writers_serialise(store: LedgerStore) -> None:
    """Each writer reads the size and appends after it inside one write transaction: none may interleave."""
    location, errors = store.location, []

    def writer(n: int) -> None:
        own = open_store(location)
        try:
            for _ in range(20):
                with own.write():
                    at = own.size()
                    own.insert_entries([(at, f"writer {n}".encode())])
        except Exception as e:  # reported below: a failure in a thread must fail the test
            errors.append(e)
        finally:
            own.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.size() == 80
    assert [i for i, _ in store.iter_entries()] == list(range(80))


def test_an_unknown_scheme_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"no storage backend for postgresql://"):
        open_store("postgresql://localhost/ledger")
