"""Chinese and English: the catalog is complete and compiled, the locale or --lang chooses the language of every
message, help text and CBV word, and plurals are right (issue 14.5)."""

from __future__ import annotations

import gettext
import json
import os
from fnmatch import fnmatch
from pathlib import Path

import click
import pytest
from tracechain.cli import cli, main
from tracechain.cli.help import columns, commands, help_texts, wrap

from tests.conftest import make_event
from tools import catalog
from tracechain import Ledger, SigningKey, events, i18n
from tracechain import words as vocabulary

ROOT = Path(__file__).resolve().parents[1]
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


@pytest.fixture(autouse=True)
def english_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LOCALE_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_every_message_has_a_chinese_translation_and_the_mo_is_compiled_from_it() -> None:
    """Extracts every marked message of src/ and cli/, every help text of the command tree and click's own
    messages, and compares them with the Chinese catalog: a missing, empty or fuzzy translation, a translation
    that changes a message's {fields}, one no longer used, or a stale .mo fails."""
    assert list(catalog.problems("zh")) == []


def test_the_extraction_sees_what_it_must() -> None:
    """The completeness test is only as good as the extraction: it must find messages of each kind."""
    found = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalog.extract() if m.id}
    assert (None, "interrupted") in found  # a plain _() in cli/
    assert (None, "{count} event") in found  # an ngettext plural
    assert ("bizStep", "retail selling") in found  # a CBV word, with its context
    assert (None, "Usage:") in found  # click's own
    assert (None, "Only the events of this lot: a lot number, or a lot-level code (GTIN + lot).") in found  # help


def test_a_catalog_missing_a_translation_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = catalog.po_path("zh").read_text(encoding="utf-8")
    broken = source.replace('msgstr "正在验证"', 'msgstr ""', 1)
    assert broken != source
    folder = tmp_path / "zh" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "tracechain.po").write_text(broken, encoding="utf-8")
    monkeypatch.setattr(catalog, "LOCALE", tmp_path)
    assert any("no translation for 'verifying'" in p for p in catalog.problems("zh"))


def test_the_compiled_catalog_is_package_data() -> None:
    """setuptools installs what package-data matches: the .mo must match it (a fresh install then finds it)."""
    text = (ROOT / "pyproject.toml").read_text()
    patterns = json.loads(text.split('tracechain = ["py.typed", ', 1)[1].split("]", 1)[0].join("[]"))
    mo = Path("locale/zh/LC_MESSAGES/tracechain.mo")
    assert any(fnmatch(str(mo), pattern) for pattern in patterns)
    assert (i18n.LOCALE_DIR / "zh" / "LC_MESSAGES" / "tracechain.mo").exists()
    assert gettext.find(i18n.DOMAIN, str(i18n.LOCALE_DIR), ["zh_CN.UTF-8"]) is not None


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "zh_TW.UTF-8"}, "zh"),
        ({"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LANGUAGE": "zh:en", "LANG": "en_US.UTF-8"}, "zh"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_the_locale_chooses_the_language(
    environment: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with i18n.speaking(None) as spoken:
        assert spoken == expected
    assert main(["schema", "show", "nope"]) == 2
    err = capsys.readouterr().err
    assert ("没有名为" in err) == (expected == "zh")
    assert ("no schema" in err) == (expected == "en")


def test_lang_overrides_the_locale_anywhere_on_the_line_and_is_undone_after(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    domain = gettext.textdomain()
    assert main(["--lang", "en", "schema", "show", "nope"]) == 2
    assert "no schema" in capsys.readouterr().err
    assert main(["schema", "show", "nope", "--lang=en"]) == 2
    assert "no schema" in capsys.readouterr().err
    monkeypatch.setenv("LANG", "C")
    assert main(["schema", "show", "nope", "--lang", "zh"]) == 2
    assert "没有名为" in capsys.readouterr().err
    # After the run: the language, the environment and gettext's global domain are as they were.
    assert i18n.language() == "en" and "LANGUAGE" not in os.environ and gettext.textdomain() == domain
    assert cli.commands["log"].help is not None and cli.commands["log"].help.startswith("List the ledger's")
    assert main(["--lang", "fr", "schema", "list"]) == 2  # not a language tracechain speaks: a usage error


def _paths() -> list[list[str]]:
    return [path.split()[1:] for path, _ in commands(cli)]


@pytest.mark.parametrize("path", _paths(), ids=lambda p: " ".join(p) or "tracechain")
def test_every_command_has_chinese_help(
    path: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert main([*path, "--help"]) == 0
    out = capsys.readouterr().out
    command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    english = help_texts(cli)
    assert out.startswith("用法:")
    assert "显示此帮助并退出。" in out
    # Not one English help text is left: each one shown is its translation.
    assert command.help is not None
    assert command.help.split("\n")[0] not in out
    for param in command.params:
        if getattr(param, "help", None) and not getattr(param, "hidden", False):
            assert param.help not in out, param.help
    assert english  # the walk found texts
    # Chinese is wrapped by the columns it takes: no line wider than click's 80 columns, bar unbreakable ones.
    for line in out.splitlines():
        assert columns(line) <= 80 or " " not in line.strip(), line


def test_log_shows_steps_and_dispositions_in_words_of_the_locale(
    ledger: Ledger, actor_key: SigningKey, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger.append_many([make_event(1, bizStep="storing", disposition="in_transit")], actor_key)
    assert main(["log", ledger.path, "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "储存 · 在途" in out and "storing" not in out and "in_transit" not in out
    assert main(["log", ledger.path]) == 0
    out = capsys.readouterr().out
    assert "storing · in transit" in out and "in_transit" not in out


def test_every_cbv_step_disposition_and_product_has_words() -> None:
    assert set(vocabulary.BIZ_STEPS) == events.BIZ_STEPS
    assert set(vocabulary.DISPOSITIONS) == events.DISPOSITIONS
    assert set(vocabulary.PRODUCTS) == events.PRODUCTS
    assert set(vocabulary.EVENT_TYPES) == events.EVENT_TYPES
    with i18n.speaking("zh"):
        words = [vocabulary.step_word(code) for code in vocabulary.BIZ_STEPS]
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in word) for word in words)
        assert len(set(words)) == len(words)  # two steps never read the same
        assert vocabulary.code_for("bizStep", "零售") == "retail_selling"
        assert vocabulary.disposition_word("retail_sold") == "已零售"
    assert vocabulary.code_for("bizStep", "Retail Selling") == "retail_selling"
    assert vocabulary.code_for("bizStep", "retail_selling") == "retail_selling"
    assert vocabulary.code_for("bizStep", "nonsense") is None
    assert vocabulary.step_word("https://example.com/my-step") == "https://example.com/my-step"


@pytest.mark.parametrize(
    ("count", "english", "chinese"), [(1, "ok: 1 event valid", "1 条事件"), (2, "ok: 2 events valid", "2 条事件")]
)
def test_plurals(count: int, english: str, chinese: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text("".join(json.dumps(make_event(i)) + "\n" for i in range(count)))
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.strip() == english
    assert main(["validate", str(path), "--lang", "zh"]) == 0
    assert chinese in capsys.readouterr().out


def test_chinese_wraps_by_columns_and_never_starts_a_line_with_closing_punctuation() -> None:
    text = "只列出此批次的事件：批号，或批次级编码（GTIN + 批号）。" * 3
    lines = wrap(text, 30, "  ", "  ")
    assert "".join(line.strip() for line in lines).replace(" ", "") == text.replace(" ", "")
    for line in lines:
        assert columns(line) <= 30
        assert line.strip()[0] not in "，。：）"
        assert line.strip()[-1] != "（"
    assert wrap("plain English words stay whole", 12) == ["plain", "English", "words stay", "whole"]


def test_the_help_option_speaks_each_runs_language_whatever_ran_before(capsys: pytest.CaptureFixture[str]) -> None:
    """click makes --help once and keeps it: a run must not leave it in its own language for the next."""
    for language, text in (("en", "Show this message and exit."), ("zh", "显示此帮助并退出。"), ("en", "Show this")):
        assert main(["--lang", language, "log", "--help"]) == 0
        assert text in capsys.readouterr().out
