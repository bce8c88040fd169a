"""The CLI: each command over the library, exit codes 0/1/2, JSON shapes, no tracebacks."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from tracechain.cli import cli, main

import tracechain
from tests.conftest import ACTOR_USCC, GTIN14, OPERATOR_USCC, ORIGIN, make_event
from tracechain import merkle

PASSWORD = "cli test password"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACECHAIN_PASSWORD", PASSWORD)


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    """Run the CLI in-process the way the console script does; returns (exit code, stdout, stderr)."""
    runner = CliRunner()
    holder: dict[str, int] = {}

    def invoke() -> None:
        holder["code"] = main(list(args))

    result = runner.invoke(_wrap(invoke), [], input=input, catch_exceptions=False)
    return holder.get("code", result.exit_code), result.stdout, result.stderr


def _wrap(fn: object) -> object:
    import click

    @click.command()
    def wrapper() -> None:
        fn()  # type: ignore[operator]

    return wrapper


@pytest.fixture
def setup(tmp_path: Path, env: None) -> dict[str, Path]:
    """Keys, a ledger with a registered actor, and an events file."""
    paths = {
        "op": tmp_path / "op.key",
        "actor": tmp_path / "actor.key",
        "ledger": tmp_path / "l.db",
        "events": tmp_path / "events.jsonl",
    }
    code, out, _ = run("keygen", ORIGIN, "--out", str(paths["op"]))
    assert code == 0 and f"verifier  {ORIGIN}+" in out
    code, out, _ = run("keygen", "plant.example.cn", "--out", str(paths["actor"]))
    assert code == 0
    actor_verifier = next(line.split()[-1] for line in out.splitlines() if line.startswith("verifier"))
    assert (
        run(
            "init",
            str(paths["ledger"]),
            "--origin",
            ORIGIN,
            "--key",
            str(paths["op"]),
            "--actor",
            OPERATOR_USCC,
        )[0]
        == 0
    )
    code, out, _ = run(
        "register",
        str(paths["ledger"]),
        actor_verifier.strip(),
        "--key",
        str(paths["op"]),
        "--actor",
        ACTOR_USCC,
    )
    assert code == 0, out
    paths["events"].write_text("\n".join(json.dumps(make_event(i), ensure_ascii=False) for i in range(25)) + "\n")
    return paths


def test_append_checkpoint_verify_prove_log(setup: dict[str, Path], tmp_path: Path) -> None:
    led = str(setup["ledger"])
    code, out, _ = run("append", led, str(setup["events"]), "--key", str(setup["actor"]), "--batch-size", "10")
    assert code == 0 and "appended 25 events" in out
    code, note, _ = run("checkpoint", led, "--key", str(setup["op"]))
    assert code == 0 and note.startswith(ORIGIN + "\n")
    cp = tmp_path / "cp.txt"
    cp.write_text(note)
    code, out, _ = run("verify", led, "--checkpoint", str(cp), "--json")
    report = json.loads(out)
    assert code == 0
    assert report["ok"] is True and report["first_bad_index"] is None and report["problems"] == []
    assert report["size"] == int(note.split("\n")[1])

    code, out, _ = run("prove", led, "--index", "5", "--json")
    proof = json.loads(out)
    assert set(proof) == {"index", "size", "leaf_hash", "root", "proof"}
    merkle.verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]),
        5,
        proof["size"],
        [bytes.fromhex(p) for p in proof["proof"]],
        bytes.fromhex(report["root"]),
    )
    code, out, _ = run("prove", led, "--consistency", "3", "--json")
    c = json.loads(out)
    assert set(c) == {"old_size", "size", "old_root", "root", "proof"}
    merkle.verify_consistency(
        3,
        c["size"],
        bytes.fromhex(c["old_root"]),
        bytes.fromhex(c["root"]),
        [bytes.fromhex(p) for p in c["proof"]],
    )
    code, out, _ = run("prove", led, "--code", f"(01){GTIN14}(21)U000004", "--json")
    assert code == 0 and len(json.loads(out)["proofs"]) == 1

    code, out, _ = run("log", led, "--code", f"https://x.example/01/{GTIN14}/21/U000004", "--json")
    entries = json.loads(out)["entries"]
    assert len(entries) == 1 and entries[0]["event"]["epcList"] == [f"https://id.gs1.org/01/{GTIN14}/21/U000004"]
    code, out, _ = run("log", led)
    assert code == 0 and "genesis" in out and "seal" in out


def test_invalid_events_exit_1_with_line_numbers_and_write_nothing(setup: dict[str, Path]) -> None:
    led = str(setup["ledger"])
    lines = [json.dumps(make_event(0)), json.dumps(make_event(1, eventTime="yesterday")), "{not json"]
    setup["events"].write_text("\n".join(lines) + "\n")
    before = sqlite3.connect(led).execute("SELECT COUNT(*) FROM entries").fetchone()
    code, _, err = run("append", led, str(setup["events"]), "--key", str(setup["actor"]))
    assert code == 1
    assert "line 2" in err or "line 3" in err
    assert "Traceback" not in err
    assert sqlite3.connect(led).execute("SELECT COUNT(*) FROM entries").fetchone() == before


def test_a_tampered_ledger_fails_verify_with_exit_1(setup: dict[str, Path]) -> None:
    led = str(setup["ledger"])
    run("append", led, str(setup["events"]), "--key", str(setup["actor"]))
    con = sqlite3.connect(led)
    con.execute("UPDATE entries SET data = data || x'00' WHERE idx = 10")
    con.commit()
    con.close()
    code, out, _ = run("verify", led, "--json")
    assert code == 1
    assert json.loads(out)["first_bad_index"] == 10
    code, _, err = run("verify", led)
    assert code == 1 and "entry 10" in err
    for workers in ("1", "2"):
        code, out, _ = run("verify", led, "--hash-only", "--workers", workers, "--json")
        assert code == 1
        assert json.loads(out)["first_bad_index"] == 10


def test_the_hash_only_pass_agrees_with_the_full_verify(setup: dict[str, Path]) -> None:
    led = str(setup["ledger"])
    run("append", led, str(setup["events"]), "--key", str(setup["actor"]))
    code, out, _ = run("verify", led, "--json")
    full = json.loads(out)
    for extra in ((), ("--workers", "1"), ("--workers", "3")):
        code, out, _ = run("verify", led, "--hash-only", *extra, "--json")
        quick = json.loads(out)
        assert code == 0 and quick["ok"]
        assert (quick["size"], quick["root"]) == (full["size"], full["root"])
        assert quick["signatures_checked"] == 0 < full["signatures_checked"]


@pytest.mark.parametrize(
    "args",
    [
        ("verify",),
        ("prove", "missing.db", "--index", "1"),
        ("prove", "{ledger}", "--index", "1", "--code", "x"),
        ("append", "{ledger}", "{events}"),
        ("init", "x.db", "--origin", "o", "--key", "missing.key", "--actor", OPERATOR_USCC),
        ("nosuchcommand",),
        ("verify", "{ledger}", "--workers", "0"),
    ],
)
def test_usage_errors_exit_2(setup: dict[str, Path], args: tuple[str, ...]) -> None:
    filled = [a.format(ledger=setup["ledger"], events=setup["events"]) for a in args]
    code, _, err = run(*filled)
    assert code == 2
    assert "Traceback" not in err


def test_wrong_password_is_a_clear_usage_error(setup: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACECHAIN_PASSWORD", "hunter2-not-it")
    code, _, err = run("checkpoint", str(setup["ledger"]), "--key", str(setup["op"]))
    assert code == 2
    assert "wrong password" in err
    assert "hunter2" not in err  # the password itself is never echoed


def test_no_password_and_no_terminal_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRACECHAIN_PASSWORD", raising=False)
    code, _, err = run("keygen", "k", "--out", str(tmp_path / "k.key"))
    assert code == 2 and "TRACECHAIN_PASSWORD" in err


def _commands(group: click.Group, prefix: str = "tracechain") -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        yield f"{prefix} {name}", command
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix} {name}")


def test_every_command_and_option_has_help_and_is_in_the_readme() -> None:
    """As sqlite-utils' docs test: a command or option nobody can read about is one nobody can use."""
    readme = (ROOT / "README.md").read_text()
    for name, command in _commands(cli):
        assert command.help, f"{name} has no help text"
        assert f"`{name}" in readme, f"README does not show `{name}`"
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert param.help, f"{name} {param.opts[0]} has no help text"
                for opt in param.opts:
                    if opt.startswith("--"):
                        assert opt in readme, f"README does not mention {name} {opt}"


def test_the_console_script_runs_in_a_real_process(setup: dict[str, Path]) -> None:
    exe = Path(sys.executable).parent / "tracechain"
    result = subprocess.run(
        [str(exe), "verify", str(setup["ledger"]), "--json"],
        capture_output=True,
        text=True,
        env={**os.environ},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True
    bad = subprocess.run([str(exe), "verify", "/nonexistent/ledger.db"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2  # a missing file is a usage error, not a ledger that failed verification
    assert "/nonexistent/ledger.db: no such file" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    code, out, _ = run("demo", "--dir", str(tmp_path / "demo"))
    assert code == 0
    assert "verify: intact" in out
    assert (tmp_path / "demo" / "checkpoint.txt").read_text().startswith("demo.tracechain.example/")
    # An ordinary folder is never wiped.
    keep = tmp_path / "mine"
    keep.mkdir()
    (keep / "thesis.txt").write_text("precious")
    code, _, err = run("demo", "--dir", str(keep))
    assert code == 2
    assert "not an earlier demo folder" in err
    assert (keep / "thesis.txt").exists()


def test_validate_lists_every_problem_with_line_numbers(tmp_path: Path) -> None:
    good = make_event(1)
    bad = make_event(2, eventTime="2026-02-30T08:00:00+08:00")
    del bad["tc:kde"]["lot"]
    path = tmp_path / "e.jsonl"
    path.write_text(json.dumps(good, ensure_ascii=False) + "\n\n" + json.dumps(bad, ensure_ascii=False) + "\n")
    code, out, _ = run("validate", str(path), "--json")
    result = json.loads(out)
    assert code == 1
    assert (result["ok"], result["events"], result["invalid"]) == (False, 2, 1)
    assert {(p["line"], p["path"]) for p in result["problems"]} == {(3, "$.eventTime"), (3, "$.tc:kde.lot")}
    assert any("批号" in p["message"] for p in result["problems"])  # the field's Chinese title
    path.write_text(json.dumps(good, ensure_ascii=False) + "\n")
    assert run("validate", str(path))[0] == 0


def test_validate_product_option_fills_in_or_contradicts(tmp_path: Path) -> None:
    event = make_event(1)
    del event["tc:product"]
    path = tmp_path / "e.jsonl"
    path.write_text(json.dumps(event, ensure_ascii=False) + "\n")
    assert run("validate", str(path))[0] == 1
    assert run("validate", str(path), "--product", "food")[0] == 0
    path.write_text(json.dumps(make_event(1), ensure_ascii=False) + "\n")
    code, _, err = run("validate", str(path), "--product", "salt")
    assert code == 1
    assert 'expected "salt" (the product this event is read as), found "food"' in err


def test_schema_list_and_show() -> None:
    code, out, _ = run("schema", "list")
    names = [line.split()[0] for line in out.splitlines()]
    assert code == 0
    assert {"event.schema", "profile-infant_formula", "profile-vet_drug"} <= set(names)
    code, out, _ = run("schema", "show", "profile-salt")
    assert code == 0 and json.loads(out)["$schema"].endswith("2020-12/schema")
    assert run("schema", "show", "nope")[0] == 2


def test_the_readme_library_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text()
    code = readme.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    events = [make_event(i) for i in range(3)]
    events[1]["epcList"] = ["(01)06901234567892(21)SN0001"]
    namespace: dict[str, object] = {"password": "readme example password", "events": events}
    exec(compile(code, "README.md", "exec"), namespace)
    report = namespace["report"]
    assert getattr(report, "ok", False)


def test_append_product_option_fills_in_or_refuses(setup: dict[str, Path]) -> None:
    event = make_event(40)
    del event["tc:product"]
    setup["events"].write_text(json.dumps(event, ensure_ascii=False) + "\n")
    led = str(setup["ledger"])
    code, _, err = run("append", led, str(setup["events"]), "--key", str(setup["actor"]), "--product", "salt")
    assert (code == 1 and "tc:product" in err) or "salt" in err
    code, out, _ = run("append", led, str(setup["events"]), "--key", str(setup["actor"]), "--product", "food")
    assert code == 0 and "appended 1 event " in out
    with tracechain.Ledger.open(led, readonly=True) as ledger:
        assert [e.event.product for e in ledger.entries(f"https://id.gs1.org/01/{GTIN14}/21/U000040")] == ["food"]
