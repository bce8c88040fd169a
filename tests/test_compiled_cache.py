"""Compiled validators cached on disk (tracechain._compiled): the same verdicts as validators compiled in memory,
used by a later process instead of compiling, safe under concurrent processes, and never in the way: a folder that
cannot be used, a damaged file or a new fastjsonschema costs a compilation, never a wrong verdict or an error."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tracechain import _compiled, profiles
from tracechain.errors import ValidationError
from tracechain.events import Event, parse_json

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "tests" / "examples").glob("*/*.json"))
SOME = EXAMPLES[::4]  # every product, several steps: enough for the tests that start processes


def _forget() -> None:
    """What a new process starts with: no validator in memory, the cache folder not yet looked at."""
    profiles._specialised.cache_clear()
    profiles._general.cache_clear()
    _compiled._usable.cache_clear()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv(_compiled.CACHE_ENV, str(tmp_path / "cache"))
    _forget()
    yield tmp_path / "cache" / "validators"
    _forget()


def _events() -> list[dict[str, Any]]:
    """Every example, and each with a fault its profile finds (so failing validators run too)."""
    out = []
    for path in EXAMPLES:
        event = parse_json(path.read_bytes())
        out.append(event)
        broken = copy.deepcopy(event)
        broken["tc:kde"]["lot"] = ""
        out.append(broken)
    return out


def _verdicts(events: list[dict[str, Any]]) -> list[list[tuple[str, str]]]:
    found = []
    for event in events:
        try:
            Event.from_dict(event)
            found.append([])
        except ValidationError as e:
            found.append(e.problems)
    return found


def _no_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> str:
        raise AssertionError("a validator was compiled although the cache holds it")

    monkeypatch.setattr(_compiled.fastjsonschema, "compile_to_code", refuse)


def test_cached_validators_give_the_verdicts_of_validators_compiled_in_memory(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _events()
    monkeypatch.setenv(_compiled.CACHE_ENV, "")  # the cache off: compiled in memory, as before it existed
    _forget()
    expected = _verdicts(events)
    assert sum(1 for v in expected if v) == len(EXAMPLES)  # every broken one, and only those
    assert not cache.exists()
    monkeypatch.setenv(_compiled.CACHE_ENV, str(cache.parent))
    _forget()
    assert _verdicts(events) == expected  # compiled and stored
    stored = sorted(cache.iterdir())
    assert len(stored) >= len({(p.parent.name, p.stem) for p in EXAMPLES}) // 2  # one per product and facts
    _forget()
    _no_compiling(monkeypatch)
    assert _verdicts(events) == expected  # all loaded, none compiled
    assert sorted(cache.iterdir()) == stored


def test_a_new_process_uses_what_an_earlier_one_compiled(cache: Path) -> None:
    script = (
        "import sys\n"
        "from tracechain import _compiled, profiles\n"
        "from tracechain.events import Event, parse_json\n"
        "made = []\n"
        "real = _compiled.fastjsonschema.compile_to_code\n"
        "_compiled.fastjsonschema.compile_to_code = lambda *a, **k: made.append(1) or real(*a, **k)\n"
        "for path in sys.argv[1:]:\n"
        "    Event.from_dict(parse_json(open(path, 'rb').read()))\n"
        "print(len(made))\n"
    )
    env = {**os.environ, _compiled.CACHE_ENV: str(cache.parent)}
    args = [sys.executable, "-c", script, *map(str, SOME)]
    first = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    second = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    assert int(first.stdout) == len(list(cache.iterdir())) > 0
    assert int(second.stdout) == 0


def test_processes_filling_one_cache_at_once_all_succeed_and_leave_whole_files(cache: Path) -> None:
    script = (
        "import sys\n"
        "from tracechain.events import Event, parse_json\n"
        "for path in sys.argv[1:]:\n"
        "    Event.from_dict(parse_json(open(path, 'rb').read()))\n"
    )
    env = {**os.environ, _compiled.CACHE_ENV: str(cache.parent)}
    runs = [
        subprocess.Popen([sys.executable, "-c", script, *map(str, SOME)], env=env, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
    files = sorted(cache.iterdir())
    assert files and not [f for f in files if f.name.startswith(".")]  # no temporary file left behind
    assert all(_compiled._load(f) is not None for f in files)


def test_a_damaged_file_is_compiled_again_and_replaced(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events = _events()
    expected = _verdicts(events)
    files = sorted(cache.iterdir())
    damage = [b"", b"garbage", None, None]  # empty, foreign, truncated, one byte changed
    for i, path in enumerate(files):
        data = path.read_bytes()
        kind = damage[i % len(damage)]
        if kind is not None:
            path.write_bytes(kind)
        elif i % len(damage) == 2:
            path.write_bytes(data[: len(data) // 2])
        else:
            path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
        assert _compiled._load(path) is None
    _forget()
    assert _verdicts(events) == expected
    assert all(_compiled._load(p) is not None for p in files)
    _forget()
    _no_compiling(monkeypatch)
    assert _verdicts(events) == expected


def test_another_fastjsonschema_or_python_has_its_own_files(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    event = parse_json(EXAMPLES[0].read_bytes())
    Event.from_dict(event)
    first = set(cache.iterdir())
    _forget()
    monkeypatch.setattr(_compiled, "VERSION", _compiled.VERSION + ".post1")
    Event.from_dict(event)
    second = set(cache.iterdir()) - first
    assert len(first) == len(second) == 1
    _forget()
    monkeypatch.setattr(_compiled.sys.implementation, "cache_tag", "cpython-399")
    Event.from_dict(event)
    assert len(set(cache.iterdir()) - first - second) == 1


@pytest.mark.parametrize("kind", ["a file in the way", "writable by others", "turned off"])
def test_a_cache_folder_that_cannot_be_used_costs_only_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    if kind == "a file in the way":
        (tmp_path / "cache").write_text("not a folder")
        monkeypatch.setenv(_compiled.CACHE_ENV, str(tmp_path / "cache"))
    elif kind == "writable by others":
        (tmp_path / "cache" / "validators").mkdir(parents=True)
        (tmp_path / "cache" / "validators").chmod(0o777)
        monkeypatch.setenv(_compiled.CACHE_ENV, str(tmp_path / "cache"))
    else:
        monkeypatch.setenv(_compiled.CACHE_ENV, "")
        monkeypatch.setenv("HOME", str(tmp_path))
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    _forget()
    try:
        before = sorted(str(p) for p in tmp_path.rglob("*"))
        assert _compiled.cache_folder() is None
        events = _events()[:4]
        assert [bool(v) for v in _verdicts(events)] == [False, True, False, True]
        assert sorted(str(p) for p in tmp_path.rglob("*")) == before  # nothing written anywhere
    finally:
        _forget()


def test_the_folder_defaults_to_the_users_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(_compiled.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    _forget()
    try:
        folder = _compiled.cache_folder()
        assert folder == tmp_path / "xdg" / "tracechain" / "validators"
        assert folder.stat().st_mode & 0o777 == 0o700
        monkeypatch.delenv("XDG_CACHE_HOME")
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        _forget()
        assert _compiled.cache_folder() == tmp_path / "home" / ".cache" / "tracechain" / "validators"
    finally:
        _forget()
