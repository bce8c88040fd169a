"""A lookup loads only what it uses: answering from the command line must not pay for cryptography, GS1 parsing
tables, sqlite-utils or the schema compiler, which only writing, signing and validating need (issue 14.6). The
time itself is measured in benchmarks/suites/lookup.py; this checks the imports that would undo it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GTIN14, make_event
from tracechain import Ledger, SigningKey

HEAVY = (
    "cryptography",
    "biip",
    "sqlite_utils",
    "fastjsonschema",
    "tracechain.verification",
    "tracechain.profiles",
    "tracechain.epcis",
)  # fmt: skip - the hash ID's rules: an event-ID lookup reads the index, hashing nothing


def _loaded_by(args: list[str]) -> list[str]:
    names = "{m if m.startswith('tracechain') else m.split('.')[0] for m in sys.modules}"
    script = (
        "import sys\nfrom tracechain.cli import main\ncode = main(sys.argv[1:])\n"
        f"heavy = sorted({names} & {set(HEAVY)!r})\n"
        "print(code, ' '.join(heavy), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=False)
    code, _, heavy = done.stderr.strip().splitlines()[-1].partition(" ")
    assert code == "0", done.stderr
    return heavy.split()


@pytest.fixture
def recorded(ledger: Ledger, actor_key: SigningKey, tmp_path: Path) -> Ledger:
    ledger.append_many([make_event(i) for i in range(3)], actor_key)
    actor_key.save(tmp_path / "plant.key", "weight password")
    return ledger


@pytest.mark.parametrize(
    "args",
    [
        ["log", "{ledger}", "--code", f"https://id.gs1.org/01/{GTIN14}/21/U000001"],
        ["log", "{ledger}", "--event-id", "{event_id}"],
        ["prove", "{ledger}", "--index", "4"],
        ["key", "show", "{key}"],
        ["--version"],
    ],
    ids=["log --code", "log --event-id", "prove --index", "key show", "--version"],
)
def test_a_lookup_loads_nothing_heavy(recorded: Ledger, tmp_path: Path, args: list[str]) -> None:
    from tracechain.epcis import event_hash_id
    from tracechain.events import Event

    event_id = event_hash_id(Event.from_dict(make_event(1)).data)
    filled = [a.format(ledger=recorded.path, key=tmp_path / "plant.key", event_id=event_id) for a in args]
    assert _loaded_by(filled) == []


def test_the_check_above_sees_heavy_imports(recorded: Ledger, tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text(json.dumps(make_event(9)) + "\n")
    assert "fastjsonschema" in _loaded_by(["validate", str(events)])
