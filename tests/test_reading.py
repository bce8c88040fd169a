"""Reading events from what people have (issue 14 item 1): every form and encoding, from paths, streams and bytes,
with the input position of each event, and JSON Lines streamed in flat memory."""

from __future__ import annotations

import io
import json
import re
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED, make_event
from tracechain import reading
from tracechain.errors import InputEncodingError, ValidationError
from tracechain.events import Event, parse_json
from tracechain.reading import Record, read_events, validate_records

DOCS = Path(__file__).resolve().parents[1] / "docs"
EVENTS = [make_event(i) for i in range(3)]


def events_of(records: list[Record]) -> list[dict[str, Any]]:
    assert all(r.error is None for r in records), [r.error for r in records if r.error]
    return [r.event for r in records if r.event is not None]


def read(data: bytes, **options: Any) -> list[Record]:
    return list(read_events(data, **options))


def jsonl(events: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events).encode("utf-8")


def pretty(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2).encode("utf-8")


def document(events: list[dict[str, Any]], kind: str = "EPCISDocument") -> dict[str, Any]:
    body: dict[str, Any] = {"eventList": events}
    if kind == "EPCISQueryDocument":
        body = {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": body}}
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
        "type": kind,
        "schemaVersion": "2.0",
        "creationDate": "2026-03-01T10:00:00+08:00",
        "epcisBody": body,
    }


# -------------------------------------------------------------------------------------------------------------
# Forms


def test_json_lines_with_their_line_numbers() -> None:
    data = b"\n" + jsonl(EVENTS[:2]) + b"   \n" + jsonl(EVENTS[2:])
    records = read(data)
    assert events_of(records) == EVENTS
    assert [(r.line, r.index) for r in records] == [(2, None), (3, None), (5, None)]
    assert records[0].where == "input line 2"


def test_a_pretty_printed_event_as_the_docs_show_it() -> None:
    records = read(pretty(EVENTS[0]) + b"\n")
    assert events_of(records) == [EVENTS[0]]
    assert (records[0].line, records[0].index) == (1, None)


def test_several_pretty_printed_events_one_after_another() -> None:
    data = b"\n".join(pretty(e) for e in EVENTS)
    records = read(data)
    assert events_of(records) == EVENTS
    starts = [i + 1 for i, line in enumerate(data.decode().split("\n")) if line == "{"]
    assert [r.line for r in records] == starts


def test_a_json_array_of_events_gives_each_its_line_and_position() -> None:
    data = pretty(EVENTS)
    records = read(data)
    assert events_of(records) == EVENTS
    lines = data.decode().split("\n")
    assert [r.index for r in records] == [0, 1, 2]
    assert [lines[r.line - 1] for r in records] == ["  {"] * 3


def test_a_json_array_on_one_line_and_a_first_key_on_the_first_line() -> None:
    assert events_of(read(json.dumps(EVENTS).encode())) == EVENTS
    compact_start = b'{"type": "ObjectEvent",\n' + pretty(EVENTS[0])[len(b'{\n  "type": "ObjectEvent",\n') :]
    assert events_of(read(compact_start)) == [EVENTS[0]]


@pytest.mark.parametrize("kind", ["EPCISDocument", "EPCISQueryDocument"])
def test_an_epcis_document_gives_its_event_list(kind: str) -> None:
    data = pretty(document(EVENTS, kind))
    records = read(data)
    assert events_of(records) == EVENTS
    lines = data.decode().split("\n")
    assert [r.index for r in records] == [0, 1, 2]
    assert all(lines[r.line - 1].strip() == "{" for r in records)
    assert records[0].line > 5  # after the header, not the document's first line
    assert events_of(read(json.dumps(document(EVENTS, kind)).encode())) == EVENTS  # compact, on one line


def test_a_document_without_events_says_where_they_were_expected() -> None:
    (record,) = read(pretty({"type": "EPCISDocument", "epcisBody": {}}))
    assert record.error is not None
    assert "epcisBody.eventList" in str(record.error)


@pytest.mark.skipif(not (SHARED / "epcis").is_dir(), reason="../shared/epcis is not beside the checkout")
def test_every_gs1_example_document_reads_to_its_events() -> None:
    for path in sorted((SHARED / "epcis" / "gs1-examples").rglob("*.jsonld")):
        records = list(read_events(path))
        if path.name == "AssociationEvent-h.jsonld":  # repeats a key: refused, naming it
            assert len(records) == 1 and records[0].error is not None
            assert "duplicate key" in str(records[0].error)
            continue
        doc = parse_json(path.read_bytes())
        body = doc["epcisBody"]
        if doc["type"] == "EPCISQueryDocument":
            body = body["queryResults"]["resultsBody"]
        expected = body.get("eventList") or [body["event"]]
        assert events_of(records) == expected, path.name
        text = path.read_text(encoding="utf-8").split("\n")
        for record in records:  # each event's line is where an object opens
            assert "{" in text[record.line - 1], (path.name, record.line)


def test_every_example_block_of_the_docs_reads_as_one_event() -> None:
    blocks = re.findall(r"```json\n(.*?)```", (DOCS / "products.md").read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 6
    for block in blocks:
        (checked,) = [c for batch in validate_records(read_events(block.encode("utf-8"))) for c in batch]
        assert checked.problems == [] and checked.event is not None


# -------------------------------------------------------------------------------------------------------------
# Sources


def test_a_path_a_binary_stream_a_text_stream_and_bytes_read_alike(tmp_path: Path) -> None:
    data = jsonl(EVENTS)
    path = tmp_path / "events.jsonl"
    path.write_bytes(data)
    text_stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")  # what sys.stdin is
    text_only = io.StringIO(data.decode("utf-8"))
    for source in (path, str(path), io.BytesIO(data), text_stream, text_only, data, bytearray(data)):
        assert events_of(list(read_events(source))) == EVENTS
    assert next(read_events(path)).source == str(path)
    assert next(read_events(io.BytesIO(data))).source == "standard input"


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_a_path_that_cannot_be_read_is_refused_naming_it(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "nothing.jsonl"
    if kind == "directory":
        path.mkdir()
    with pytest.raises(ValidationError, match=re.escape(str(path))):
        read_events(path)


def test_a_path_is_closed_when_the_reading_ends(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(jsonl(EVENTS))
    records = read_events(path)
    next(records)
    records.close()  # type: ignore[attr-defined]
    path.unlink()  # would still work on an open file on Linux; the point is no ResourceWarning (warnings are errors)


def test_empty_input_has_no_events() -> None:
    assert read(b"") == [] and read(b"\n \n") == [] and read(b"\xef\xbb\xbf") == []


# -------------------------------------------------------------------------------------------------------------
# Encodings


@pytest.mark.parametrize("form", ["jsonl", "pretty", "document"])
def test_a_utf8_byte_order_mark_is_accepted(form: str) -> None:
    data = {"jsonl": jsonl(EVENTS), "pretty": pretty(EVENTS), "document": pretty(document(EVENTS))}[form]
    assert events_of(read(b"\xef\xbb\xbf" + data)) == EVENTS


def test_gbk_is_refused_naming_it_and_the_command_and_read_when_named() -> None:
    data = jsonl(EVENTS).decode("utf-8").encode("gbk")
    records = read(data)
    assert len(records) == 1  # not one complaint per line
    message = str(records[0].error)
    assert "line 1" in message and "GBK" in message and "iconv -f GBK -t UTF-8" in message
    assert events_of(read(data, encoding="gb18030")) == EVENTS
    assert events_of(read(data, encoding="gbk")) == EVENTS
    assert events_of(read(pretty(EVENTS).decode().encode("gb18030"), encoding="gb18030")) == EVENTS


def test_a_pretty_printed_gbk_file_names_the_first_line_that_is_not_utf8() -> None:
    text = pretty(document(EVENTS)).decode("utf-8")
    (record,) = read(text.encode("gb18030"))
    first = next(i for i, line in enumerate(text.split("\n"), 1) if not line.isascii())
    assert record.line == first and "GBK" in str(record.error)


def test_gbk_found_late_in_a_file_names_its_line() -> None:
    data = jsonl(EVENTS[:2]) + jsonl(EVENTS[2:]).decode().encode("gbk")
    records = read(data)
    assert events_of(records[:2]) == EVENTS[:2]
    assert records[2].line == 3 and "GBK" in str(records[2].error)


@pytest.mark.parametrize(
    ("codec", "bom", "seen"),
    [
        ("utf-16-le", b"\xff\xfe", "UTF-16LE"),
        ("utf-16-be", b"\xfe\xff", "UTF-16BE"),
        ("utf-16-le", b"", "UTF-16LE"),
        ("utf-16-be", b"", "UTF-16BE"),
        ("utf-32-le", b"\xff\xfe\x00\x00", "UTF-32LE"),
    ],
)
def test_utf16_and_utf32_are_refused_naming_them_and_read_when_named(codec: str, bom: bytes, seen: str) -> None:
    data = bom + jsonl(EVENTS).decode().encode(codec)
    (record,) = read(data)
    assert seen in str(record.error) and "iconv" in str(record.error)
    assert events_of(read(data, encoding="utf-16" if bom and "16" in codec else codec)) == EVENTS


def test_an_unknown_codec_is_refused() -> None:
    with pytest.raises(ValidationError, match="codec"):
        read_events(b"{}", encoding="klingon")


def test_encoding_refusals_are_input_encoding_errors_and_other_refusals_are_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for data in (jsonl(EVENTS).decode().encode("gb18030") + "批号".encode("gb18030"), "{}".encode("utf-16"),
                 b'{"a": "\xff"}\n', b'{"a": 1}\n' + b"\xff\xfe\x00\x01\n"):  # fmt: skip
        errors = [r.error for r in read(data) if r.error is not None]
        assert errors and isinstance(errors[0], InputEncodingError), errors
    monkeypatch.setattr(reading, "MAX_LINE_BYTES", 100)
    for data in (b"{broken\n", b'{"a": 1, "a": 2}\n', b'{"a": "' + b"x" * 200 + b'"}\n', b'"text"\n'):
        (record,) = read(data)
        assert record.error is not None and not isinstance(record.error, InputEncodingError), record.error


def test_binary_data_is_named_as_such_and_stops_the_reading() -> None:
    data = b'{"a": 1}\n' + b"SQLite format 3\x00\xff\x10\n" + jsonl(EVENTS)
    records = read(data)
    assert len(records) == 2 and records[1].line == 2
    assert "binary data (a NUL byte at column 16)" in str(records[1].error)


def test_a_utf8_file_with_one_broken_byte_is_not_called_gbk() -> None:
    lines = jsonl(EVENTS).split(b"\n")
    lines[1] = lines[1].replace("示例".encode(), b"\xe7\xa4" + "例".encode())
    records = read(b"\n".join(lines))
    assert records[1].line == 2 and "GBK" not in str(records[1].error) and "byte 0x" in str(records[1].error)
    assert events_of([records[0], records[2]]) == [EVENTS[0], EVENTS[2]]


def test_a_lone_surrogate_in_bytes_or_in_an_escape_names_its_line() -> None:
    raw = jsonl(EVENTS).split(b"\n")
    raw[1] = raw[1].replace(b'"ADD"', b'"\xed\xa0\x80"')  # UTF-8 of a surrogate: not UTF-8
    records = read(b"\n".join(raw))
    assert records[1].line == 2 and records[1].error is not None and "UTF-8" in str(records[1].error)
    assert events_of([records[0], *records[2:]]) == [EVENTS[0], EVENTS[2]]  # the lines after it are read
    escaped = jsonl(EVENTS).replace(b'"action": "ADD"', b'"action": "ADD", "example:n": "\\ud800"', 1)
    (first, *rest) = [c for batch in validate_records(read(escaped)) for c in batch]
    assert first.record.line == 1 and first.event is None
    assert [(c.record.line, c.event is not None) for c in rest] == [(2, True), (3, True)]
    assert ("$.example:n", "expected Unicode text, found a lone surrogate (half of a UTF-16 pair)") in [
        (path, text.split(" (")[0] + (" (half of a UTF-16 pair)" if "half" in text else ""))
        for path, text in first.problems
    ]


# -------------------------------------------------------------------------------------------------------------
# Broken input


def test_a_truncated_last_line_is_one_error_after_the_good_lines() -> None:
    data = jsonl(EVENTS)[:-40]
    records = read(data)
    assert events_of(records[:2]) == EVENTS[:2]
    assert records[2].line == 3 and records[2].event is None
    assert "line 3" in str(records[2].error) and "not valid JSON" in str(records[2].error)


def test_a_bad_line_does_not_stop_the_next() -> None:
    data = jsonl(EVENTS[:1]) + b'{"a": 1, "a": 2}\n[1, 2\nnull\n' + jsonl(EVENTS[1:])
    records = read(data)
    assert [r.line for r in records] == [1, 2, 3, 4, 5, 6]
    assert "duplicate key 'a'" in str(records[1].error)
    assert records[2].error is not None
    assert "expected an event (a JSON object), found null" in str(records[3].error)
    assert events_of([records[0], *records[4:]]) == EVENTS


def test_a_broken_array_element_names_its_line_and_position() -> None:
    data = pretty([EVENTS[0], "x", EVENTS[1]])
    records = read(data)
    assert records[1].index == 1 and "found a string" in str(records[1].error)
    whole = pretty(EVENTS)
    second = whole.index(b'"ADD"', whole.index(b'"ADD"') + 1)
    broken = whole[:second] + b"ADD" + whole[second + 5 :]
    records = read(broken)
    assert events_of(records[:1]) == EVENTS[:1]
    assert records[1].index == 1 and records[1].error is not None
    line = broken[:second].count(b"\n") + 1
    assert f"line {line} column" in str(records[1].error)
    assert len(records) == 2


def test_a_line_over_the_limit_is_one_error_and_reading_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "MAX_LINE_BYTES", 2000)
    big = json.dumps(make_event(example_big="x" * 5000)).encode() + b"\n"
    records = read(jsonl(EVENTS[:1]) + big + jsonl(EVENTS[1:]))
    assert records[1].line == 2 and "at most" in str(records[1].error)
    assert events_of([records[0], *records[2:]]) == EVENTS


def test_a_value_over_lines_bigger_than_the_limit_points_to_json_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "MAX_DOCUMENT_BYTES", 3000)
    (record,) = read(pretty(document(EVENTS * 3)))
    assert "JSON Lines" in str(record.error) and "jq -c" in str(record.error)


# -------------------------------------------------------------------------------------------------------------
# Validating in batches, and memory


def test_validate_records_in_batches_keeps_order_and_positions() -> None:
    bad = {**EVENTS[1], "bizStep": "teleporting"}
    data = jsonl([EVENTS[0], bad, EVENTS[2]]) + b"{broken\n"
    batches = list(validate_records(read_events(data), batch_size=2))
    assert [len(b) for b in batches] == [2, 2]
    checked = [c for b in batches for c in b]
    assert [c.record.line for c in checked] == [1, 2, 3, 4]
    assert [c.event is not None for c in checked] == [True, False, True, False]
    assert [path for path, _ in checked[1].problems] == ["$.bizStep"]
    assert "line 4" in checked[3].problems[0][1] or "line 4" in checked[3].problems[0][0]
    with pytest.raises(ValidationError):
        next(validate_records([], batch_size=0))


def test_check_events_reads_and_validates_each_event_in_order() -> None:
    bad = {**EVENTS[1], "bizStep": "teleporting"}
    data = jsonl([EVENTS[0], bad]) + b"{broken\n" + jsonl(EVENTS[2:])
    checked = list(reading.check_events(data))
    assert [(c.record.line, c.event is not None) for c in checked] == [(1, True), (2, False), (3, False), (4, True)]
    assert [path for path, _ in checked[1].problems] == ["$.bizStep"]
    assert "line 3" in checked[2].problems[0][1] and "not valid JSON" in checked[2].problems[0][1]
    assert checked[0].event == Event.from_dict(EVENTS[0])
    plain = {key: value for key, value in EVENTS[0].items() if key != "tc:product"}
    (read_as_food,) = reading.check_events(jsonl([plain]), product="food")
    assert read_as_food.event is not None and read_as_food.event.product == "food"
    (read_as_salt,) = reading.check_events(jsonl([EVENTS[0]]), product="salt")
    assert read_as_salt.event is None and read_as_salt.problems[0][0] == "$.tc:product"


def test_check_events_refuses_what_it_cannot_open_before_the_first_event(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="codec"):
        reading.check_events(b"{}", encoding="no-such-codec")
    with pytest.raises(ValidationError, match=r"missing\.jsonl"):
        reading.check_events(tmp_path / "missing.jsonl")


def test_200k_lines_of_json_lines_are_read_in_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    line = json.dumps({"type": "ObjectEvent", "action": "OBSERVE", "epcList": ["urn:x:" + "0" * 60]}) + "\n"
    with path.open("w", encoding="utf-8") as out:
        for _ in range(200_000):
            out.write(line)
    assert path.stat().st_size > 20 << 20
    tracemalloc.start()
    try:
        count = sum(1 for record in read_events(path) if record.event is not None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_000
    assert peak < 1 << 20, f"peak {peak} bytes while reading a {path.stat().st_size}-byte file"


def test_validating_in_batches_holds_one_batch_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with path.open("wb") as out:
        for i in range(2000):
            out.write(jsonl([make_event(i)]))
    peaks = []
    for limit in (500, 2000):
        tracemalloc.start()
        try:
            seen = 0
            for batch in validate_records(
                (r for _, r in zip(range(limit), read_events(path), strict=False)), batch_size=200
            ):
                seen += sum(c.event is not None for c in batch)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert seen == limit
        peaks.append(peak)
    assert peaks[1] < peaks[0] * 1.5  # four times the events, about the same memory
