"""Corruption of a closed ledger file: every damage is reported with its first bad entry, or provably harmless."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import tracechain
from tracechain import Ledger
from tracechain.errors import EncodingError, TracechainError

from .corruption import run_corruption
from .support import Built


def _sql(path: Path, *statements: str) -> None:
    con = sqlite3.connect(path)
    try:
        for statement in statements:
            con.execute(statement)
        con.commit()
    finally:
        con.close()


def test_every_random_flip_or_overwrite_is_reported_or_provably_harmless(tmp_path: Path) -> None:
    tally = run_corruption(tmp_path, 500)
    tally.assert_ok()
    assert tally.outcomes["detected"] > 0 and tally.outcomes["harmless"] > 0


def test_a_changed_row_of_the_item_index_is_reported(built: Built) -> None:
    """Found by the battery: verify only counted the index rows, so a changed code went unnoticed."""
    _sql(built.path, "UPDATE items SET code = code || 'x' WHERE idx = (SELECT MIN(idx) FROM items)")
    report = tracechain.verify(built.path, [built.final])
    assert not report.ok
    assert any("item index" in p.message for p in report.problems)


def test_an_entry_whose_bytes_became_null_is_reported_at_its_index_and_reads_raise_tracechain_errors(
    built: Built,
) -> None:
    """Found by the battery: a NULL in the entries made the library raise TypeError."""
    # Damage to a record header can turn a value into NULL whatever the schema says; SQL needs the constraint gone.
    _sql(
        built.path,
        "PRAGMA writable_schema = ON",
        "UPDATE sqlite_master SET sql = replace(sql, 'NOT NULL', '') WHERE name IN ('entries', 'tiles')",
    )
    _sql(built.path, "UPDATE entries SET data = NULL WHERE idx = 40", "UPDATE tiles SET hashes = NULL WHERE idx = 0")
    report = tracechain.verify(built.path)
    assert not report.ok
    assert report.first_bad_index == 0  # the level-0 tile covering entry 0 is gone too
    assert 40 in {p.index for p in report.problems}
    with Ledger.open(str(built.path)) as led, pytest.raises(TracechainError):
        list(led.entries())


def test_damage_that_makes_sqlite_quote_bytes_that_are_not_utf8_is_reported(built: Built) -> None:
    """Found by the battery: the sqlite3 module raises UnicodeDecodeError for such a message."""
    _sql(
        built.path,
        "PRAGMA writable_schema = ON",
        "UPDATE sqlite_master SET sql = CAST(X'435245415445205441424c45206d65746120fbfb2028' AS TEXT)"
        " WHERE name = 'meta'",
    )
    report = tracechain.verify(built.path)
    assert not report.ok
    assert report.first_bad_index == 0
    with pytest.raises(TracechainError, match="damaged"):
        Ledger.open(str(built.path))


def test_a_damaged_stored_event_is_still_listed_and_its_item_codes_raise_an_encoding_error(built: Built) -> None:
    """Found by the battery: listing a damaged event raised ValueError, its item codes KeyError."""
    with Ledger.open(str(built.path)) as led:
        entry = next(e for e in led.entries() if e.event is not None and "quantityList" in e.event.data)
    data = dict(tracechain.encoding.decode(entry.body))
    data["eventTimeZoneOffset"] = "+0I:00"
    data["quantityList"] = [{"quantity": 1}]
    forged = tracechain.Event.from_canonical(tracechain.encoding.encode(data))
    assert forged.to_dict()["eventTime"] == data["eventTime"]  # shown as stored, not formatted
    with pytest.raises(EncodingError):
        list(forged.item_codes())


def test_a_damaged_index_is_reported_though_every_row_still_reads_back_intact(built: Built) -> None:
    """Found by the battery: SQLite's quick_check skips indexes, so a flipped bit in the index of the keys table
    passed verification, and later writes looking keys up through it would have missed."""
    data = bytearray(built.path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    public = next(iter(built.signers))
    starts = [i for i in range(len(data)) if data.startswith(public, i)]
    in_index = [i for i in starts if data[i - i % page] == 0x0A]  # 0x0A: a leaf page of an index b-tree
    assert len(in_index) == 1
    data[in_index[0] + 5] ^= 0x04
    built.path.write_bytes(bytes(data))
    report = tracechain.verify(built.path)
    assert any("missing from index" in p.message for p in report.problems)


def test_a_schema_that_lost_a_constraint_but_still_parses_is_reported(built: Built) -> None:
    """Found by the battery: a flipped bit turned "NOT NULL" into "NMT NULL" (a type name and a NULL
    constraint); every row was intact and verify passed."""
    _sql(
        built.path,
        "PRAGMA writable_schema = ON",
        "UPDATE sqlite_master SET sql = replace(sql, 'NOT NULL', 'NMT NULL') WHERE name = 'entries'",
    )
    report = tracechain.verify(built.path)
    assert [p.message for p in report.problems] == [
        "the file's tables are not a ledger's: table entries has another definition than tracechain gives it"
    ]


def test_a_schema_that_differs_only_in_letter_case_is_the_same_schema(built: Built) -> None:
    _sql(
        built.path,
        "PRAGMA writable_schema = ON",
        "UPDATE sqlite_master SET sql = replace(sql, 'NOT NULL', 'not null') WHERE name = 'entries'",
    )
    assert tracechain.verify(built.path, [built.final]).ok
