"""tracechain import, export and log --event-id: the library's EPCIS exchange on the command line, in both
languages, with the exit codes of README's table and never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ORIGIN, make_event
from tests.epcis_support import REFUSED, VALID
from tests.test_cli import PASSWORD, env, run, setup  # noqa: F401 - fixtures: the password, keys and a ledger
from tracechain import Ledger
from tracechain.epcis import event_hash_id, read_document
from tracechain.events import Event


def _import(setup: dict[str, Path], document: Path | str, *options: str) -> tuple[int, str, str]:  # noqa: F811
    return run("import", str(setup["ledger"]), str(document), "--key", str(setup["actor"]), *options)


def test_import_says_what_it_wrote_and_a_second_import_what_it_skipped(setup: dict[str, Path]) -> None:  # noqa: F811
    code, out, err = _import(setup, VALID / "transaction_event.jsonld")
    assert (code, err) == (0, "")
    assert out.startswith(
        f"imported 2 of 2 events from {VALID / 'transaction_event.jsonld'} (entries 4..5, sealed at 6)"
    )
    code, out, _ = _import(setup, VALID / "transaction_event.jsonld")
    assert code == 0
    assert "imported 0 of 2 events" in out and "skipped 2 already in the ledger (same event hash ID)" in out


def test_import_says_which_events_the_document_repeats_and_json_lists_every_event_id(
    setup: dict[str, Path],  # noqa: F811
) -> None:
    code, out, _ = _import(setup, VALID / "cbv_spellings.jsonld")  # one event spelled five ways
    assert code == 0 and out.startswith("imported 1 of 5 events")
    assert ", skipped 4 the document repeats (same event hash ID)" in out and "already in the ledger" not in out
    code, out, _ = _import(setup, VALID / "cbv_spellings.jsonld", "--json")
    result = json.loads(out)
    assert code == 0
    assert (result["events"], result["appended"], result["skipped"], result["repeated"]) == (5, 0, 5, 0)
    read = read_document((VALID / "cbv_spellings.jsonld").read_bytes(), source="s")
    assert result["event_ids"] == [event_hash_id(e) for e in read]


def test_import_reads_standard_input(setup: dict[str, Path]) -> None:  # noqa: F811
    text = (VALID / "association_event.jsonld").read_text()
    code, out, _ = run("import", str(setup["ledger"]), "-", "--key", str(setup["actor"]), input=text)
    assert code == 0 and "from standard input" in out


@pytest.mark.parametrize(
    ("name", "expected", "says"),
    [
        ("bare_non_cbv_bizstep", 1, "field bizStep"),
        ("ilmd_without_namespace", 1, "field ilmd.lotNumber"),
        ("quantity_as_text", 1, "field quantityList[0].quantity"),
        ("missing_action", 1, "field action"),
        ("duplicate_key", 2, "the key 'bizStep' appears twice"),
        ("not_json", 2, "not valid JSON"),
        ("remote_context", 2, "would have to be fetched"),
    ],
)
def test_a_refused_document_writes_nothing_and_exits_as_the_table_says(
    setup: dict[str, Path],  # noqa: F811
    name: str,
    expected: int,
    says: str,
) -> None:
    with Ledger.open(setup["ledger"], readonly=True) as led:
        size = led.size
    code, out, err = _import(setup, REFUSED / f"{name}.jsonld")
    assert code == expected and out == ""
    assert says in err and "Traceback" not in err
    with Ledger.open(setup["ledger"], readonly=True) as led:
        assert led.size == size


def test_import_with_a_product_checks_its_profile(setup: dict[str, Path], tmp_path: Path) -> None:  # noqa: F811
    event = {k: v for k, v in make_event(3).items() if k not in ("tc:product", "tc:kde")}
    doc = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-01T00:00:00Z",
        "epcisBody": {"eventList": [event]},
    }
    path = tmp_path / "plain.jsonld"
    path.write_text(json.dumps(doc, ensure_ascii=False))
    code, _, err = _import(setup, path, "--product", "salt")
    assert code == 1 and "event 0, field tc:kde" in err
    code, out, _ = _import(setup, path)
    assert code == 0 and "imported 1 of 1 event " in out


def test_log_finds_an_event_by_its_hash_id_and_marks_a_plain_event(setup: dict[str, Path]) -> None:  # noqa: F811
    _import(setup, VALID / "transaction_event.jsonld")
    read = read_document((VALID / "transaction_event.jsonld").read_bytes(), source="t")
    wanted = event_hash_id(read[1])
    code, out, _ = run("log", str(setup["ledger"]), "--event-id", wanted)
    assert code == 0
    assert out.splitlines()[0].split()[0] == "5"  # the second event of the batch at entries 4..5
    assert "none: a plain EPCIS event" in out
    code, out, _ = run("--lang", "zh", "log", str(setup["ledger"]), "--event-id", wanted)
    assert code == 0 and "无：普通 EPCIS 事件" in out
    code, out, _ = run("log", str(setup["ledger"]), "--event-id", wanted, "--json")
    assert [e["index"] for e in json.loads(out)["entries"]] == [5]


def test_log_event_id_that_is_missing_or_malformed(setup: dict[str, Path]) -> None:  # noqa: F811
    missing = "ni:///sha-256;" + "0" * 64 + "?ver=CBV2.0"
    code, _, err = run("log", str(setup["ledger"]), "--event-id", missing)
    assert code == 1 and f"matches: --event-id {missing}" in err
    code, _, err = run("log", str(setup["ledger"]), "--event-id", "sha-256:abc")
    assert code == 2 and "--event-id" in err and "expected a GS1 event hash ID" in err


def test_export_writes_a_document_that_imports_back(setup: dict[str, Path], tmp_path: Path) -> None:  # noqa: F811
    _import(setup, VALID / "transformation_event.jsonld")
    out_path = tmp_path / "out.jsonld"
    code, out, _ = run("export", str(setup["ledger"]), "--out", str(out_path))
    assert code == 0 and out.strip() == f"wrote {out_path}: 2 events (entries 4..5)"
    doc = json.loads(out_path.read_text())
    assert [e["tc:ledgerIndex"] for e in doc["epcisBody"]["eventList"]] == [4, 5]
    code, out, _ = run("export", str(setup["ledger"]), "--format", "epcis", "--from", "5", "--to", "5")
    assert code == 0 and [e["tc:ledgerIndex"] for e in json.loads(out)["epcisBody"]["eventList"]] == [5]
    with Ledger.open(setup["ledger"], readonly=True) as led:
        stored = [e.event for e in led.entries() if e.event is not None]
    assert [e["eventID"] for e in doc["epcisBody"]["eventList"]] == [
        event_hash_id(e.data) for e in stored if isinstance(e, Event)
    ]


@pytest.mark.parametrize(
    ("args", "expected", "says"),
    [
        (["--code", "x", "--from", "1"], 2, "not both"),
        (["--from", "6", "--to", "5"], 2, "--from 6 is after --to 5"),
        (["--to", "999"], 2, "entry 999 is beyond the ledger"),
        (["--format", "xml"], 2, "'xml' is not"),
        (["--from", "0", "--to", "3"], 1, "no event is selected"),
        (["--code", "https://id.gs1.org/01/06901234567892/21/NONE"], 1, "no event is selected"),
    ],
)
def test_export_refusals(setup: dict[str, Path], args: list[str], expected: int, says: str) -> None:  # noqa: F811
    _import(setup, VALID / "transformation_event.jsonld")
    code, _, err = run("export", str(setup["ledger"]), *args)
    assert code == expected and says in err and "Traceback" not in err


def test_an_export_that_selects_nothing_leaves_the_out_file_as_it_was(
    setup: dict[str, Path],  # noqa: F811
    tmp_path: Path,
) -> None:
    out_path = tmp_path / "keep.jsonld"
    out_path.write_text("before")
    code, _, _ = run("export", str(setup["ledger"]), "--out", str(out_path))
    assert code == 1 and out_path.read_text() == "before"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".keep")] == []


def test_import_and_export_in_a_real_process(setup: dict[str, Path], tmp_path: Path) -> None:  # noqa: F811
    exe = Path(sys.executable).parent / "tracechain"
    chinese = {**os.environ, "TRACECHAIN_PASSWORD": PASSWORD, "LANG": "zh_CN.UTF-8"}
    done = subprocess.run(
        [
            str(exe),
            "import",
            str(setup["ledger"]),
            str(VALID / "association_event.jsonld"),
            "--key",
            str(setup["actor"]),
        ],
        capture_output=True,
        text=True,
        env=chinese,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "已从" in done.stdout and "导入" in done.stdout
    bad = subprocess.run(
        [str(exe), "import", str(setup["ledger"]), str(REFUSED / "not_json.jsonld"), "--key", str(setup["actor"])],
        capture_output=True,
        text=True,
        env=chinese,
        check=False,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "文件不是 tracechain 能读取的 EPCIS 文档" in bad.stderr
    exported = subprocess.run(
        [str(exe), "export", str(setup["ledger"])], capture_output=True, text=True, env=chinese, check=False
    )
    assert exported.returncode == 0 and json.loads(exported.stdout)["type"] == "EPCISDocument"
    assert ORIGIN  # the ledger the setup fixture made
