"""`tracechain validate` and `append` read their input through `tracechain.reading` (issue 10 item 6, issue 14
item 1): every form the library reads, every problem with its line and the lines after it still checked, other
encodings refused as usage errors naming the file, and JSON-worded messages; append keeps its retry behaviour with
positions that are lines (and places in an array)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ACTOR_USCC, GTIN14, OPERATOR_USCC, ORIGIN, make_event
from tests.test_cli import run
from tracechain import Ledger, SigningKey, reading
from tracechain.errors import AppendInterruptedError
from tracechain.ingest import append_stream
from tracechain.reading import check_events

PASSWORD = "input test password"
EVENTS = [make_event(i) for i in range(3)]
PYTHON_WORDS = ("Decimal(", "NoneType", "<class ", "found list", "found dict", "found float")


def jsonl(events: list[Any]) -> str:
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events)


def document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-01T10:00:00+08:00",
        "epcisBody": {"eventList": events},
    }


def validate_json(path: Path, *options: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run("validate", str(path), "--json", *options)
    assert code in (0, 1), err
    result: dict[str, Any] = json.loads(out)
    return code, result


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.setenv("TRACECHAIN_PASSWORD", PASSWORD)
    operator, plant = SigningKey.generate(ORIGIN), SigningKey.generate("plant.example.cn")
    plant.save(tmp_path / "plant.key", PASSWORD)
    with Ledger.create(tmp_path / "l.db", ORIGIN, operator, OPERATOR_USCC) as led:
        led.register(plant.verifier, ACTOR_USCC, operator)
    return {"ledger": tmp_path / "l.db", "key": tmp_path / "plant.key"}


def events_in(path: Path) -> int:
    with Ledger.open(path, readonly=True) as led:
        return sum(1 for e in led.entries() if e.kind == "event")


# -------------------------------------------------------------------------------------------------------------
# validate: the forms


@pytest.mark.parametrize("form", ["json lines", "pretty", "array", "array on one line", "epcis document", "stdin"])
def test_validate_reads_every_form_the_library_reads(tmp_path: Path, form: str) -> None:
    path = tmp_path / "events.json"
    text = {
        "json lines": jsonl(EVENTS),
        "pretty": "\n".join(json.dumps(e, ensure_ascii=False, indent=2) for e in EVENTS),
        "array": json.dumps(EVENTS, ensure_ascii=False, indent=2),
        "array on one line": json.dumps(EVENTS, ensure_ascii=False) + "\n",
        "epcis document": json.dumps(document(EVENTS), ensure_ascii=False, indent=2),
        "stdin": json.dumps(document(EVENTS), ensure_ascii=False, indent=2),
    }[form]
    if form == "stdin":
        code, out, _ = run("validate", "-", "--json", input=text)
        result = json.loads(out)
    else:
        path.write_text(text, encoding="utf-8")
        code, result = validate_json(path)
    assert (code, result["ok"], result["events"]) == (0, True, 3)


def test_an_event_in_an_array_is_reported_with_its_line_and_place(tmp_path: Path) -> None:
    bad = {**EVENTS[1], "bizStep": "teleporting"}
    path = tmp_path / "events.json"
    path.write_text(json.dumps([EVENTS[0], bad, EVENTS[2]], ensure_ascii=False) + "\n", encoding="utf-8")
    code, result = validate_json(path)
    assert code == 1 and result["invalid"] == 1
    assert [(p["line"], p["index"], p["path"]) for p in result["problems"]] == [(1, 1, "$.bizStep")]
    code, _, err = run("validate", str(path))
    assert "line 1, event [1]: $.bizStep" in err


# -------------------------------------------------------------------------------------------------------------
# validate: problems with their lines, and the lines after them


def test_a_lone_surrogate_names_its_line_and_the_lines_after_it_are_checked(tmp_path: Path) -> None:
    escaped = jsonl(EVENTS[:1]).replace('"action": "ADD"', '"action": "ADD", "example:note": "a\\ud800b"')
    as_bytes = jsonl(EVENTS[1:2]).encode("utf-8").replace(b'"ADD"', b'"\xed\xa0\x80"')  # a surrogate's UTF-8
    late = jsonl([{**EVENTS[2], "bizStep": "teleporting"}])
    path = tmp_path / "events.jsonl"
    path.write_bytes(escaped.encode("utf-8") + as_bytes + late.encode("utf-8"))
    code, result = validate_json(path)
    assert code == 1 and (result["events"], result["invalid"]) == (3, 3)
    by_line = {p["line"]: p for p in result["problems"]}
    assert by_line[1]["path"] == "$.example:note" and "lone surrogate" in by_line[1]["message"]
    assert "expected UTF-8 text" in by_line[2]["message"]
    assert by_line[3]["path"] == "$.bizStep"


def test_decimals_are_not_reported_beside_a_real_problem_and_messages_speak_json(tmp_path: Path) -> None:
    quantity = {"epcClass": f"https://id.gs1.org/01/{GTIN14}/10/L1", "quantity": Decimal("2.5"), "uom": "KGM"}
    wrong_step = make_event(0, quantityList=[quantity], bizStep="teleporting")
    huge = make_event(1, quantityList=[{**quantity, "quantity": Decimal("1e308")}])
    null_list = make_event(2, epcList=None)
    long_list = make_event(3, epcList=[f"urn:x:{i}" for i in range(200_000)])
    path = tmp_path / "events.jsonl"
    path.write_text(
        "\n".join(json.dumps(e, ensure_ascii=False, default=str).replace('"2.5"', "2.5").replace('"1E+308"', "1e308")
                  for e in (wrong_step, huge, null_list, long_list)) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    code, result = validate_json(path)
    assert code == 1 and result["invalid"] == 4
    by_line: dict[int, list[dict[str, Any]]] = {}
    for p in result["problems"]:
        by_line.setdefault(p["line"], []).append(p)
    assert [p["path"] for p in by_line[1]] == ["$.bizStep"]  # no "expected a number, found Decimal('2.5')"
    assert by_line[2][0]["path"] == "$.quantityList[0].quantity"
    assert "found null" in by_line[3][0]["message"]
    assert len(by_line[4]) == 1 and "found 200000 items" in by_line[4][0]["message"]
    for p in result["problems"]:
        assert not any(word in p["message"] for word in PYTHON_WORDS), p


# -------------------------------------------------------------------------------------------------------------
# validate and append: encodings


@pytest.mark.parametrize(("codec", "seen"), [("gb18030", "GBK/GB18030"), ("utf-16", "UTF-16")])
def test_another_encoding_is_a_usage_error_naming_the_file_unless_given(tmp_path: Path, codec: str, seen: str) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(jsonl(EVENTS).encode(codec))
    code, out, err = run("validate", str(path))
    assert code == 2 and str(path) in err and seen in err and "--encoding" in err
    assert "Traceback" not in out + err
    code, result = validate_json(path, "--encoding", codec)
    assert (code, result["events"]) == (0, 3)


def test_an_unknown_encoding_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(jsonl(EVENTS), encoding="utf-8")
    code, _, err = run("validate", str(path), "--encoding", "klingon")
    assert code == 2 and "klingon" in err


def test_append_refuses_another_encoding_and_writes_nothing(tmp_path: Path, ledger: dict[str, Path]) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(jsonl(EVENTS).encode("gb18030"))
    code, _, err = run("append", str(ledger["ledger"]), str(path), "--key", str(ledger["key"]))
    assert code == 2 and "GBK" in err and events_in(ledger["ledger"]) == 0
    code, _, err = run("append", str(ledger["ledger"]), str(path), "--key", str(ledger["key"]), "--encoding", "gb18030")
    assert code == 0, err
    assert events_in(ledger["ledger"]) == 3


# -------------------------------------------------------------------------------------------------------------
# append: forms, problems, retries


def test_append_takes_an_epcis_document_and_a_rerun_skips_what_landed(tmp_path: Path, ledger: dict[str, Path]) -> None:
    path = tmp_path / "doc.jsonld"
    path.write_text(json.dumps(document(EVENTS), ensure_ascii=False, indent=2), encoding="utf-8")
    args = ("append", str(ledger["ledger"]), str(path), "--key", str(ledger["key"]))
    code, out, err = run(*args)
    assert code == 0, err
    assert "appended 3 events" in out
    code, out, err = run(*args)
    assert code == 0 and "appended 0 events" in out and "skipped 3" in out
    assert events_in(ledger["ledger"]) == 3


def test_append_names_the_line_of_each_problem_and_writes_nothing(tmp_path: Path, ledger: dict[str, Path]) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(jsonl(EVENTS[:2]) + "{broken\n" + jsonl([{**EVENTS[2], "bizStep": "teleporting"}]))
    code, _, err = run("append", str(ledger["ledger"]), str(path), "--key", str(ledger["key"]))
    assert code == 1
    assert "2 of 4 events invalid, nothing was appended; first at line 3" in err
    assert "line 4: $.bizStep" in err
    assert events_in(ledger["ledger"]) == 0


def test_validate_and_append_read_through_the_library_reader(
    tmp_path: Path, ledger: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One reader: both commands take their events from tracechain.reading.check_events."""
    calls: list[object] = []
    real = reading.check_events

    def spy(source: Any, **options: Any) -> Any:
        calls.append(source)
        return real(source, **options)

    monkeypatch.setattr(reading, "check_events", spy)
    path = tmp_path / "events.jsonl"
    path.write_text(jsonl(EVENTS), encoding="utf-8")
    assert run("validate", str(path))[0] == 0
    assert run("append", str(ledger["ledger"]), str(path), "--key", str(ledger["key"]))[0] == 0
    assert calls == [str(path), str(path)]


def test_an_interrupted_append_of_records_says_the_line_and_place_reached(
    ledger: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    events = [make_event(i) for i in range(30)]
    data = json.dumps(events, ensure_ascii=False).encode("utf-8")  # one line, thirty events
    plant = SigningKey.load(ledger["key"], PASSWORD)
    calls = 0
    real = Ledger.append_many

    def interrupted_on_second(self: Ledger, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    with Ledger.open(ledger["ledger"]) as led:
        monkeypatch.setattr(Ledger, "append_many", interrupted_on_second)
        with pytest.raises(AppendInterruptedError, match=r"up to input line 1, event \[9\]") as caught:
            append_stream(led, check_events(data), plant, batch_size=10)
        result = caught.value.result  # type: ignore[attr-defined]
        assert (result.appended, result.through, result.through_index) == (10, 1, 9)
        monkeypatch.undo()
        again = append_stream(led, check_events(data), plant, batch_size=10)
    assert (again.appended, again.skipped) == (20, 10)
    assert events_in(ledger["ledger"]) == 30
