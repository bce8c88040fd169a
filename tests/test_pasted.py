"""What people paste: the commands the demo prints run as printed, and the docs' examples are valid events that
the command line takes (issue 14.1 and 14.6)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tracechain.cli import main
from tracechain.cli.common import command_line

from tracechain.events import Event, parse_json

ROOT = Path(__file__).resolve().parents[1]
CONSOLE_SCRIPT = Path(sys.executable).parent / "tracechain"


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TRACECHAIN_COMMAND", "LANGUAGE", "LC_ALL", "LANG")}
    # A PATH without the project's environment: as for someone who installed nothing on it.
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if Path(p) != CONSOLE_SCRIPT.parent)
    return env | extra


@pytest.mark.parametrize("spelling", ["path", "TRACECHAIN_COMMAND"])
def test_the_commands_the_demo_prints_run_as_printed(tmp_path: Path, spelling: str) -> None:
    extra = {"TRACECHAIN_COMMAND": str(CONSOLE_SCRIPT)} if spelling == "TRACECHAIN_COMMAND" else {}
    env = _clean_env(**extra)
    demo = subprocess.run(
        [str(CONSOLE_SCRIPT), "demo", "--dir", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr
    lines = demo.stdout.splitlines()
    hints = lines[lines.index("try:") + 1 :]
    assert len(hints) == 3 and all(h.startswith(f"  {CONSOLE_SCRIPT} ") for h in hints)
    for hint in hints:
        ran = subprocess.run(["sh", "-c", hint], cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
        assert ran.returncode == 0, (hint, ran.stderr)
        assert ran.stdout.strip()


def test_hints_spell_the_program_as_this_shell_finds_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRACECHAIN_COMMAND", "python3 tasks.py tracechain")
    assert command_line("log", "my ledger.db") == "python3 tasks.py tracechain log 'my ledger.db'"
    monkeypatch.delenv("TRACECHAIN_COMMAND")
    monkeypatch.setattr(sys, "argv", [str(CONSOLE_SCRIPT)])
    monkeypatch.setenv("PATH", str(tmp_path))
    assert command_line("verify") == f"{CONSOLE_SCRIPT} verify"
    monkeypatch.setenv("PATH", str(CONSOLE_SCRIPT.parent))
    assert command_line("verify") == "tracechain verify"


def _json_examples(path: Path) -> list[str]:
    return re.findall(r"^```json\n(.*?)^```", path.read_text(encoding="utf-8"), re.S | re.M)


def test_every_example_in_products_md_is_a_valid_event_the_cli_validates_as_pasted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/products.md shows each example pretty-printed. Each is a valid event as it stands, and `validate` takes
    the text as it is: one block in a file, or every block one after another."""
    blocks = _json_examples(ROOT / "docs" / "products.md")
    assert len(blocks) >= 6  # one per product
    for number, block in enumerate(blocks):
        Event.from_dict(parse_json(block, source=f"docs/products.md example {number}"))
        path = tmp_path / f"example{number}.json"
        path.write_text(block, encoding="utf-8")
        assert main(["validate", str(path)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    together = tmp_path / "examples.json"
    together.write_text("\n".join(blocks), encoding="utf-8")
    assert main(["validate", str(together), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["events"] == len(blocks)
