"""Records a regulator can read: `tracechain log` shows who, what, when, where and which codes for each event,
answers questions (lot, enterprise, product, step, time), writes CSV a spreadsheet opens with Chinese intact, and
says when nothing matches (issue 14.2)."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tracechain.cli import main

from tests.conftest import ACTOR_USCC, GTIN14, OPERATOR_USCC, make_event
from tracechain import Ledger, SigningKey
from tracechain.errors import ValidationError
from tracechain.records import Record, Selection, local_time, parse_moment, select

LOT_CODE = f"https://id.gs1.org/01/{GTIN14}/10/L20260301"
LONG_CODE = "urn:example:trace:" + "0123456789" * 10  # far longer than the 100 characters log once cut codes at


def _lot_event(i: int, **changes: Any) -> dict[str, Any]:
    event = make_event(i, **changes)
    del event["epcList"]
    event["quantityList"] = [{"epcClass": LOT_CODE, "quantity": 60, "uom": "KGM"}]
    return event


@pytest.fixture
def recorded(ledger: Ledger, actor_key: SigningKey) -> Ledger:
    """Events of two lots, steps and days, one with a very long code; a second batch by the same signer."""
    ledger.append_many(
        [
            _lot_event(0),  # commissioning of lot L20260301 on 1 March
            make_event(1, epcList=[LONG_CODE]),
            _lot_event(2, bizStep="storing", disposition="sellable_accessible", eventTime="2026-03-02T10:00:00+08:00"),
        ],
        actor_key,
    )
    other_lot = make_event(3, eventTime="2026-03-05T09:00:00-05:00", eventTimeZoneOffset="-05:00")
    other_lot["tc:kde"] = dict(other_lot["tc:kde"], lot="L20260305", enterprise_name="另一家企业")
    ledger.append_many([other_lot], actor_key)
    return ledger


@pytest.fixture
def shanghai(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This computer's time zone, for times written without an offset."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _log(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["log", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_an_event_shows_who_what_when_where_and_every_code_in_full(
    recorded: Ledger, actor_key: SigningKey, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _log(recorded.path, "--lot", "L20260301", capsys=capsys)
    assert code == 0
    assert "2026-03-01 08:00:00 +08:00" in out  # the event's own local time, with its offset
    assert "commissioning · active" in out
    assert f"阳西县示例食品有限公司 ({ACTOR_USCC})" in out
    assert f"{ACTOR_USCC}, key {actor_key.name} ({actor_key.key_id.hex()})" in out
    assert "food: 花生油调和食品" in out
    assert "60 kg" in out and "L20260301" in out
    assert "https://id.gs1.org/414/6901234567892" in out
    assert LOT_CODE in out
    code, out, _ = _log(recorded.path, "--code", LONG_CODE, capsys=capsys)
    assert code == 0 and f" {LONG_CODE}\n" in out
    code, out, _ = _log(recorded.path, "--lang", "zh", "--lot", "L20260301", capsys=capsys)
    assert "赋码投产 · 已激活" in out and "60 千克" in out and "批号" in out and "企业" in out


def test_the_whole_listing_names_keys_seals_and_each_batchs_signer(
    recorded: Ledger, actor_key: SigningKey, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _log(recorded.path, capsys=capsys)
    assert code == 0
    assert out.splitlines()[0].split() == [
        "0",
        "genesis:",
        "ledger",
        recorded.origin + ",",
        "operator",
        "91350100M000100Y43",
    ]
    assert "key plant.example.cn registered for" in out
    assert "seal: batch of 3 entries (4..6) signed by" in out
    assert "seal: batch of 1 entry (8..8)" in out
    assert out.count(f"key {actor_key.name} ({actor_key.key_id.hex()})") == 4


@pytest.mark.parametrize(
    ("options", "indexes"),
    [
        (["--lot", "L20260301"], [4, 6]),
        (["--lot", LOT_CODE], [4, 6]),
        (["--lot", "L20260305"], [8]),
        (["--enterprise", ACTOR_USCC], [4, 5, 6, 8]),
        (["--enterprise", "另一家"], [8]),
        (["--product", "food"], [4, 5, 6, 8]),
        (["--step", "storing"], [6]),
        (["--step", "https://ref.gs1.org/cbv/BizStep-storing"], [6]),
        (["--step", "储存"], [6]),  # the words of the reader's language...
        (["--step", "storing", "--lot", "L20260301"], [6]),
        (["--since", "2026-03-02"], [6, 8]),
        (["--until", "2026-03-01T23:59:59+08:00"], [4, 5]),
        (["--since", "2026-03-02T00:00:00+08:00", "--until", "2026-03-02"], [6]),
        (["--code", LOT_CODE, "--since", "2026-03-02"], [6]),
    ],
)
def test_filters_select_events_and_combine(
    recorded: Ledger,
    options: list[str],
    indexes: list[int],
    capsys: pytest.CaptureFixture[str],
    shanghai: None,
) -> None:
    lang = ["--lang", "zh"] if "储存" in options else []
    code, out, _ = _log(recorded.path, *options, *lang, "--json", capsys=capsys)
    assert code == 0
    assert [e["index"] for e in json.loads(out)["entries"]] == indexes


@pytest.mark.parametrize(
    "options",
    [
        ["--lot", "NOSUCHLOT"],
        ["--code", f"https://id.gs1.org/01/{GTIN14}/21/NOPE"],
        ["--enterprise", "91350100M000100Y43"],
        ["--product", "salt"],
        ["--step", "shipping"],
        ["--since", "2027-01-01"],
    ],
)
def test_a_question_nothing_answers_says_so_and_exits_1(
    recorded: Ledger, options: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _log(recorded.path, *options, capsys=capsys)
    assert code == 1
    assert out == ""
    assert "nothing in" in err and options[1] in err


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        (["--since", "yesterday"], "--since"),
        (["--step", "dancing"], "not a CBV business step"),
        (["--lot", " "], "--lot"),
        (["--csv", "x.csv", "--json"], "not both"),
        (["--product", "wine"], "--product"),
    ],
)
def test_bad_questions_are_usage_errors(
    recorded: Ledger, options: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _log(recorded.path, *options, capsys=capsys)
    assert code == 2 and complaint in err


def test_csv_is_utf8_with_a_bom_and_keeps_chinese_and_full_codes(
    recorded: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "events.csv"
    code, out, _ = _log(recorded.path, "--lang", "zh", "--csv", str(out_file), capsys=capsys)
    assert code == 0 and "已将 4 条事件写入" in out
    data = out_file.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # what Excel needs to read the file as UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["记录", "时间", "企业", "企业统一社会信用代码"]
    assert [int(r[0]) for r in body] == [4, 5, 6, 8]  # events only
    by_index = {int(r[0]): dict(zip(header, r, strict=True)) for r in body}
    assert by_index[4]["企业"] == "阳西县示例食品有限公司" and by_index[4]["业务步骤"] == "赋码投产"
    assert by_index[4]["业务步骤代码"] == "commissioning" and by_index[4]["数量"] == "60 千克"
    assert by_index[5]["编码"] == LONG_CODE
    assert by_index[8]["时间"] == "2026-03-05 09:00:00 -05:00"


def test_json_keeps_the_listing_shape_with_signers(recorded: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _log(recorded.path, "--json", capsys=capsys)
    doc = json.loads(out)
    assert code == 0 and doc["size"] == recorded.size == len(doc["entries"])
    events = [e for e in doc["entries"] if e["kind"] == "event"]
    assert len(events) == 4 and all(e["signer"]["actor"] == ACTOR_USCC for e in events)
    genesis, key = doc["entries"][0], doc["entries"][2]
    assert genesis["signer"]["actor"] == key["signer"]["actor"] == "91350100M000100Y43"  # the operator signed both


def test_select_and_record_as_a_library(recorded: Ledger) -> None:
    chosen = list(select(recorded, Selection(lot="L20260301")))
    assert [entry.index for entry, _ in chosen] == [4, 6]
    record = chosen[0][1]
    assert isinstance(record, Record)
    assert (record.lot, record.units, record.quantities[0].amount, record.quantities[0].unit) == (
        "L20260301",
        0,
        "60",
        "KGM",
    )
    assert record.signer_actor == ACTOR_USCC and record.codes == (LOT_CODE,)
    everything = list(select(recorded, Selection()))
    assert [e.index for e, _ in everything] == list(range(recorded.size))
    with pytest.raises(ValidationError, match="not an event"):
        Record.of(recorded.entry(0))


def test_a_lot_whose_number_needs_escaping_is_found(ledger: Ledger, actor_key: SigningKey) -> None:
    event = make_event(0)
    del event["epcList"]
    event["quantityList"] = [{"epcClass": f"(01){GTIN14}(10)A/B%1", "quantity": 5}]
    event["tc:kde"]["lot"] = "A/B%1"
    ledger.append_many([event], actor_key)
    assert [e.index for e in ledger.entries_of_lot("A/B%1")] == [4]
    assert [e.index for e in ledger.entries_of_lot(f"(01){GTIN14}(10)A/B%1")] == [4]
    assert list(ledger.entries_of_lot("A/B")) == []


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("2026-03-01T08:00:00+08:00", False, "2026-03-01 00:00:00 +00:00"),
        ("2026-03-01T00:00:00Z", False, "2026-03-01 00:00:00 +00:00"),
        ("2026-03-01", False, "2026-02-28 16:00:00 +00:00"),
        ("2026-03-01", True, "2026-03-01 15:59:59.999999 +00:00"),
    ],
)
def test_moments_people_write(text: str, end: bool, expected: str, shanghai: None) -> None:
    assert local_time(parse_moment(text, end=end), "+00:00") == expected


def test_local_time_keeps_the_events_offset() -> None:
    micros = parse_moment("2026-03-01T08:00:00.25+08:00")
    assert local_time(micros, "+08:00") == "2026-03-01 08:00:00.25 +08:00"
    assert local_time(micros, "-05:30") == "2026-02-28 18:30:00.25 -05:30"


def _units(lot: str, first: int, count: int) -> list[str]:
    return [f"https://id.gs1.org/01/{GTIN14}/21/{lot}-{n:07d}" for n in range(first, first + count)]


def _two_lots(ledger: Ledger, key: SigningKey, units_per_event: int, events_per_lot: int) -> list[int]:
    """Lots L20260310 and L20260311 commissioned unit by unit, then every other unit shipped in events that name
    only serial codes, as a warehouse scanner records them; returns the indexes of L20260310's events."""
    mine: list[int] = []
    for lot, minute in (("L20260310", 0), ("L20260311", 30)):
        events = []
        for n in range(events_per_lot):
            units = _units(lot, n * units_per_event, units_per_event)
            made = make_event(n, epcList=units, eventTime=f"2026-03-10T08:{minute:02d}:00+08:00")
            made["tc:kde"] = dict(made["tc:kde"], lot=lot)
            ship = make_event(n, epcList=units[::2], bizStep="shipping", action="OBSERVE", disposition="in_transit")
            ship["eventTime"] = f"2026-03-11T09:{minute:02d}:00+08:00"
            # The profile asks for the lot; the index reads only the units (lots are assigned when goods are made).
            receiver = {"lot": lot, "receiver_uscc": OPERATOR_USCC, "receiver_name": "阳西县示例批发有限公司"}
            ship["tc:kde"] = dict(ship["tc:kde"], **receiver)
            events += [made, ship]
        for start in range(0, len(events), 10_000):
            receipt = ledger.append_many(events[start : start + 10_000], key)
            if lot == "L20260310":
                mine += list(receipt.indices)
    return mine


def test_log_lot_finds_every_event_of_every_unit_of_the_lot(
    ledger: Ledger, actor_key: SigningKey, capsys: pytest.CaptureFixture[str]
) -> None:
    """Units named only by their serial codes in later events are found through the lot index (unit → lot)."""
    expected = _two_lots(ledger, actor_key, units_per_event=40, events_per_lot=25)
    assert len(expected) == 50
    assert [entry.index for entry, _ in select(ledger, Selection(lot="L20260310"))] == expected
    lot_code = f"(01){GTIN14}(10)L20260310"
    assert [entry.index for entry, _ in select(ledger, Selection(lot=lot_code))] == expected
    code, out, _ = _log(str(ledger.path), "--lot", "L20260310", "--json", capsys=capsys)
    assert code == 0
    assert [e["index"] for e in json.loads(out)["entries"]] == expected


@pytest.mark.slow
def test_log_lot_on_a_200k_event_ledger(ledger: Ledger, actor_key: SigningKey) -> None:
    expected = _two_lots(ledger, actor_key, units_per_event=1, events_per_lot=50_000)
    assert ledger.size > 200_000
    assert [entry.index for entry, _ in select(ledger, Selection(lot="L20260310"))] == expected
