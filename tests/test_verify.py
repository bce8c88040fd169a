"""Verification finds every kind of change and names the first bad entry."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import tracechain
from tests.conftest import ACTOR_USCC, OPERATOR_USCC, ORIGIN, make_event
from tracechain import Ledger, SigningKey
from tracechain.errors import VerificationError


@pytest.fixture
def filled(ledger: Ledger, operator_key: SigningKey, actor_key: SigningKey) -> tuple[str, str]:
    """A closed ledger of 3 batches and the checkpoint taken at its end."""
    for start in (0, 100, 200):
        ledger.append_many([make_event(i) for i in range(start, start + 100)], actor_key)
    note = ledger.checkpoint(operator_key)
    ledger.close()
    return ledger.path, note


def _sql(path: str, statement: str, *args: object) -> None:
    con = sqlite3.connect(path)
    con.execute(statement, args)
    con.commit()
    con.close()


def test_an_intact_ledger_verifies_with_its_checkpoint(filled: tuple[str, str]) -> None:
    path, note = filled
    report = tracechain.verify(path, [note])
    assert report.ok
    assert bool(report)
    assert report.first_bad_index is None
    assert report.events == 300
    assert report.signatures_checked == report.batches == 5
    assert report.checkpoints_checked == 2  # the stored one and the held one
    d = report.to_dict()
    assert set(d) >= {"ok", "size", "root", "first_bad_index", "problems"}
    assert d["root"] == Ledger.open(path).root().hex()


def test_a_changed_event_byte_is_found_at_its_entry(filled: tuple[str, str]) -> None:
    path, _ = filled
    con = sqlite3.connect(path)
    (data,) = con.execute("SELECT data FROM entries WHERE idx = 150").fetchone()
    tampered = data.replace(b"U000145", b"U000999")
    assert tampered != data
    con.execute("UPDATE entries SET data = ? WHERE idx = 150", (tampered,))
    con.commit()
    con.close()
    report = tracechain.verify(path)
    assert not report.ok
    assert report.first_bad_index == 150


def test_a_deleted_entry_is_found(filled: tuple[str, str]) -> None:
    path, _ = filled
    _sql(path, "DELETE FROM entries WHERE idx = 42")
    report = tracechain.verify(path)
    assert report.first_bad_index == 42


def test_truncation_fails_against_a_checkpoint_held_from_before(filled: tuple[str, str]) -> None:
    path, note = filled
    _sql(path, "DELETE FROM entries WHERE idx >= 200")
    _sql(path, "DELETE FROM checkpoints")
    report = tracechain.verify(path, [note])
    assert not report.ok
    assert any("truncated" in p.message for p in report.problems)


def test_a_rebuilt_ledger_with_one_event_changed_fails_against_the_old_checkpoint(
    filled: tuple[str, str], tmp_path: Path, operator_key: SigningKey, actor_key: SigningKey
) -> None:
    """An insider with the real keys re-creates everything, re-hashed and re-signed, with one event changed."""
    _, note = filled
    forged = str(tmp_path / "forged.db")
    with Ledger.create(forged, ORIGIN, operator_key, OPERATOR_USCC) as led:
        led.register(actor_key.verifier, ACTOR_USCC, operator_key)
        for start in (0, 100, 200):
            events = [make_event(i) for i in range(start, start + 100)]
            if start == 100:
                events[46]["tc:kde"] = {**events[46]["tc:kde"], "lot": "L-OTHER"}
            led.append_many(events, actor_key)
        led.checkpoint(operator_key)
    assert tracechain.verify(forged).ok  # on its own the forgery is self-consistent
    report = tracechain.verify(forged, [note])
    assert not report.ok
    assert any("rewritten" in p.message for p in report.problems)


def test_check_raises_with_the_report(filled: tuple[str, str]) -> None:
    path, _ = filled
    _sql(path, "UPDATE tiles SET hashes = zeroblob(length(hashes)) WHERE level = 0 AND idx = 0")
    with pytest.raises(VerificationError) as caught:
        tracechain.check(path)
    assert isinstance(caught.value.report, tracechain.VerifyReport)
    assert caught.value.report.first_bad_index == 0


def test_a_missing_seal_leaves_entries_unsigned(filled: tuple[str, str]) -> None:
    path, _ = filled
    size = Ledger.open(path).size
    _sql(path, "DELETE FROM entries WHERE idx = ?", size - 1)
    report = tracechain.verify(path)
    assert any("not covered by a batch signature" in p.message for p in report.problems)


def test_a_file_that_is_not_a_ledger_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x00" * 4096)
    report = tracechain.verify(junk)
    assert not report.ok
    assert report.first_bad_index == 0
    assert "not a tracechain ledger" in report.problems[0].message or "damaged" in report.problems[0].message


def test_progress_is_reported(filled: tuple[str, str]) -> None:
    path, _ = filled
    seen: list[tuple[int, int]] = []
    tracechain.verify(path, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1][0] == seen[-1][1]


def test_the_integrity_only_pass_agrees_with_the_full_one(filled: tuple[str, str]) -> None:
    path, note = filled
    full = tracechain.verify(path, [note])
    quick = tracechain.verify(path, [note], signatures=False, contents=False)
    assert quick.ok
    assert (quick.size, quick.root) == (full.size, full.root)
    assert quick.signatures_checked == 0
    assert quick.events == 0  # event bodies were not decoded


@pytest.mark.parametrize("index", [4, 57, 150, 203])
def test_the_integrity_only_pass_finds_a_changed_event_byte(filled: tuple[str, str], index: int) -> None:
    path, note = filled
    con = sqlite3.connect(path)
    (data,) = con.execute("SELECT data FROM entries WHERE idx = ?", (index,)).fetchone()
    flipped = bytearray(data)
    flipped[-5] ^= 0x01
    con.execute("UPDATE entries SET data = ? WHERE idx = ?", (bytes(flipped), index))
    con.commit()
    con.close()
    quick = tracechain.verify(path, [note], signatures=False, contents=False)
    assert not quick.ok
    assert quick.first_bad_index == index == tracechain.verify(path, [note]).first_bad_index


@pytest.mark.parametrize("index", [0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**40])
def test_event_headers_are_read_at_every_integer_width(index: int) -> None:
    from tracechain import encoding
    from tracechain.entries import event_header

    prev = bytes(range(32))
    data = encoding.encode_entry(1, index, prev, "event", b"\x80")
    assert event_header(data) == (index, prev)
    assert event_header(encoding.encode_entry(1, index, prev, "seal", {"x": 1})) is None


@pytest.mark.parametrize("index", [0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63 - 1])
def test_the_expected_entry_prefix_is_msgpacks_own_at_every_integer_width(index: int) -> None:
    from tracechain import encoding
    from tracechain.entries import EVENT_KIND, LINK, event_prefix

    prev = bytes(range(32))
    lead, width, end = event_prefix(index)
    assert index < end
    prefix = lead + index.to_bytes(width, "big") + LINK + prev + EVENT_KIND
    assert encoding.encode_entry(1, index, prev, "event", b"\x80").startswith(prefix)
    if end <= 2**63 - 1:  # the next index needs the next form
        assert event_prefix(end)[0] != lead


def test_a_full_tile_stores_its_inner_rows_and_damage_to_them_is_found(filled: tuple[str, str]) -> None:
    from tracechain import merkle
    from tracechain._tiles import FULL_TILE_BYTES

    path, note = filled
    con = sqlite3.connect(path)
    (tile,) = con.execute("SELECT hashes FROM tiles WHERE level = 0 AND idx = 0").fetchone()
    assert len(tile) == FULL_TILE_BYTES
    leaves = [tile[i : i + 32] for i in range(0, 256 * 32, 32)]
    assert tile[-32:] == merkle.root(leaves)  # the last inner row is the tile's root
    assert tile[256 * 32 : 256 * 32 + 32] == merkle.hash_children(leaves[0], leaves[1])
    damaged = bytearray(tile)
    damaged[256 * 32 + 100] ^= 0x40
    con.execute("UPDATE tiles SET hashes = ? WHERE level = 0 AND idx = 0", (bytes(damaged),))
    con.commit()
    con.close()
    report = tracechain.verify(path, [note])
    assert not report.ok
    assert any("tile 0/0" in p.message for p in report.problems)


def _relink(path: str, index: int, link: bytes) -> None:
    """Rewrite entry ``index`` to link to ``link`` instead of its real predecessor, in canonical form."""
    from tracechain import encoding

    con = sqlite3.connect(path)
    (data,) = con.execute("SELECT data FROM entries WHERE idx = ?", (index,)).fetchone()
    version, at, _, kind, body = encoding.decode_entry(data)
    con.execute(
        "UPDATE entries SET data = ? WHERE idx = ?", (encoding.encode_entry(version, at, link, kind, body), index)
    )
    con.commit()
    con.close()


@pytest.mark.parametrize(("span", "workers"), [(1, 1), (2, 1), (37, 1), (256, 1), (10_000, 1), (37, 2), (100, 2)])
def test_the_integrity_pass_in_spans_and_processes_gives_the_one_pass_result(
    filled: tuple[str, str], span: int, workers: int
) -> None:
    from tests.battery.support import integrity_pass

    path, note = filled
    full = tracechain.verify(path, [note])
    quick = integrity_pass(path, [note], span=span, workers=workers)
    assert quick.ok, quick.problems
    assert (quick.size, quick.root, quick.batches, quick.checkpoints_checked) == (
        full.size,
        full.root,
        full.batches,
        full.checkpoints_checked,
    )


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("index", [37, 38, 148, 305])
def test_a_broken_link_is_found_at_its_entry_wherever_a_span_starts(
    filled: tuple[str, str], index: int, workers: int
) -> None:
    """Span 37: entries 37 and 148 start a span, so their link is checked when the spans are joined."""
    from tests.battery.support import integrity_pass

    path, note = filled
    _relink(path, index, bytes(32))
    full = tracechain.verify(path, [note])
    quick = integrity_pass(path, [note], span=37, workers=workers)
    assert full.first_bad_index == quick.first_bad_index == index
    # The rewritten entry links wrongly, and its new leaf hash breaks the next entry's link too.
    broken = sorted((p.index, p.message) for p in quick.problems if p.message.startswith("chain broken"))
    assert [i for i, _ in broken] == [index, index + 1]
    assert broken == sorted((p.index, p.message) for p in full.problems if p.message.startswith("chain broken"))


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("missing", [(0, 1), (36, 37), (37, 38), (100, 180), (306, 307)])
def test_missing_entries_are_reported_by_the_integrity_pass_as_by_the_full_one(
    filled: tuple[str, str], missing: tuple[int, int], workers: int
) -> None:
    from tests.battery.support import integrity_pass

    path, note = filled
    _sql(path, "DELETE FROM entries WHERE idx >= ? AND idx < ?", *missing)
    full = tracechain.verify(path, [note])
    quick = integrity_pass(path, [note], span=37, workers=workers)
    assert not quick.ok
    assert quick.first_bad_index == full.first_bad_index
    gap = [p for p in quick.problems if "missing" in p.message]
    assert [(p.index, p.message) for p in gap] == [
        (p.index, p.message) for p in full.problems if "missing" in p.message
    ]


def test_the_integrity_pass_reports_progress_up_to_the_whole_ledger(filled: tuple[str, str]) -> None:
    from tests.battery.support import integrity_pass, spanned

    path, note = filled
    seen: list[tuple[int, int]] = []
    report = spanned(path, [note], span=50, workers=2, contents=False, progress=lambda d, t: seen.append((d, t)))
    assert report.ok
    assert [d for d, _ in seen] == [50, 100, 150, 200, 250, 300, 307, 307]
    assert {t for _, t in seen} == {report.size}
    assert integrity_pass(path, [note]).ok


@pytest.mark.parametrize("workers", [2, 3])
def test_signatures_checked_on_several_cores_give_each_batch_its_own_answer(
    actor_key: SigningKey, workers: int
) -> None:
    """From 512 signatures the caller and a pool share the chunks; every answer must land on its own batch."""
    from tracechain.verification._signatures import verify_signatures

    batches = []
    for i in range(1_300):
        message = b"batch %d" % i
        signature = actor_key.sign(message)
        if i % 97 == 3 or i in (0, 255, 256, 1_299):
            signature = bytes(64) if i % 2 else signature[:-1] + bytes([signature[-1] ^ 1])
        batches.append((actor_key.public_bytes, message, signature))
    expected = [not (i % 97 == 3 or i in (0, 255, 256, 1_299)) for i in range(1_300)]
    assert verify_signatures(batches, 1) == expected
    assert verify_signatures(batches, workers) == expected


def _malformed_event(path: str, index: int) -> None:
    """Entry ``index`` rewritten in canonical form, linked right, but its event is a map without the event's shape."""
    from tracechain import encoding

    con = sqlite3.connect(path)
    (data,) = con.execute("SELECT data FROM entries WHERE idx = ?", (index,)).fetchone()
    version, at, link, kind, _ = encoding.decode_entry(data)
    body = encoding.encode({"epcList": 7, "type": "ObjectEvent"})
    con.execute(
        "UPDATE entries SET data = ? WHERE idx = ?", (encoding.encode_entry(version, at, link, kind, body), index)
    )
    con.commit()
    con.close()


_DAMAGE = {
    "nothing": lambda path: None,
    "flipped byte": lambda path: _sql(
        path, "UPDATE entries SET data = substr(data, 1, 60) || x'ff' || substr(data, 62) WHERE idx = 120"
    ),
    "relinked at a span start": lambda path: _relink(path, 148, bytes(32)),
    "relinked first entry of a batch": lambda path: _relink(path, 105, bytes(32)),
    "non-canonical padding": lambda path: _sql(path, "UPDATE entries SET data = data || x'c0' WHERE idx = 37"),
    "malformed event": lambda path: _malformed_event(path, 40),
    "item row deleted": lambda path: _sql(path, "DELETE FROM items WHERE idx = 77"),
    "event entry at 0": lambda path: _sql(
        path, "UPDATE entries SET data = (SELECT data FROM entries WHERE idx = 50) WHERE idx = 0"
    ),
    "missing entries": lambda path: _sql(path, "DELETE FROM entries WHERE idx BETWEEN 60 AND 80"),
}


@pytest.mark.parametrize("damage", list(_DAMAGE))
def test_the_full_checks_in_spans_and_processes_find_exactly_what_one_pass_finds(
    filled: tuple[str, str], damage: str
) -> None:
    from tests.battery.support import spanned

    path, note = filled
    _DAMAGE[damage](path)
    one = tracechain.verify(path, [note], workers=1)
    assert one.ok == (damage == "nothing")

    def found(report: tracechain.VerifyReport) -> tuple[object, ...]:
        problems = sorted((p.index if p.index is not None else -1, p.message, p.until or 0) for p in report.problems)
        return (report.first_bad_index, report.size, report.root, report.events, report.batches, problems)

    for span, workers in ((1, 1), (37, 1), (37, 2), (100, 3)):
        assert found(spanned(path, [note], span=span, workers=workers)) == found(one), (span, workers)


_INDEX_EDITS = {
    "code changed": "UPDATE items SET code = code || 'x' WHERE idx = 50",
    "row moved to another event": "UPDATE items SET idx = 51 WHERE idx = 50",
    "one row replaced by another": (
        "DELETE FROM items WHERE idx = 50; INSERT INTO items VALUES ('https://id.gs1.org/01/06901234567892', 50)"
    ),
    "two rows' entries swapped": (
        "UPDATE items SET idx = -1 WHERE idx = 50; UPDATE items SET idx = 50 WHERE idx = 60;"
        " UPDATE items SET idx = 60 WHERE idx = -1"
    ),
    "code stored as a blob": "UPDATE items SET code = CAST(code AS BLOB) WHERE idx = 50",
}


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("edit", list(_INDEX_EDITS))
def test_every_edit_of_the_item_index_is_found(filled: tuple[str, str], edit: str, workers: int) -> None:
    """Row counts stay equal in most of these: only the digest of every row can tell."""
    from tests.battery.support import spanned

    path, note = filled
    con = sqlite3.connect(path)
    before = con.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    con.executescript(_INDEX_EDITS[edit])
    assert con.execute("SELECT COUNT(*) FROM items").fetchone()[0] == before
    con.close()
    for report in (tracechain.verify(path, [note], workers=workers), spanned(path, [note], span=37, workers=workers)):
        assert [p.message for p in report.problems] == [
            "the item index does not match the events: rows were changed"
            " (projection items; tracechain reindex rebuilds it from the entries)"
        ]


def test_the_item_digest_is_4096_bits_wide() -> None:
    """A 256-bit sum of hashes gives way to a generalised-birthday search over a few thousand crafted rows."""
    from tracechain.storage.projections import DIGEST_MODULUS, row_digest

    def _item_digest(code: object, index: int) -> int:
        return row_digest((code, index))

    assert DIGEST_MODULUS == 1 << 4096
    widths = [_item_digest(f"code-{i}", i).bit_length() for i in range(64)]
    assert max(widths) <= 4096 and min(widths) > 4000
    assert len({_item_digest("code", i) for i in range(64)}) == 64
    assert _item_digest("1", 5) != _item_digest(1, 5) != _item_digest(b"1", 5)
