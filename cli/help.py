"""Help in the reader's language: every command's and parameter's help translated when the CLI runs, and help text
in Chinese wrapped by the columns it takes on a terminal.

Help texts are written in English where commands are declared (docstrings and ``help=``), so any command module —
today's and those added later — is translated without marking anything: `translated` walks the command tree, puts
each text's translation in its place for one run, and puts the English back after. The catalog lists the texts
(tools/catalog.py collects them from the same tree), and tests/test_i18n.py fails when one has no translation.

click wraps help by counting characters, but a Chinese character takes two columns, so a translated paragraph would
run twice as wide as the terminal; `Formatter` wraps such text by columns, breaking between Chinese characters and
never before closing punctuation. Text with no wide characters is left to click as before.
"""

from __future__ import annotations

import inspect
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import click

from tracechain.i18n import gettext

__all__ = ["Context", "Formatter", "columns", "commands", "help_texts", "translated", "wrap"]

_CLOSING = set("，。、；：？！）」』》〉】”’,.;:?!)]}%")
_OPENING = set("（「『《〈【“‘([{")


def commands(group: click.Group, prefix: str = "tracechain") -> Iterator[tuple[str, click.Command]]:
    """(path, command) of every command in the tree, the group itself first."""
    yield prefix, group
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", command


def _texts(command: click.Command) -> Iterator[tuple[object, str, str]]:
    """(owner, attribute, English text) of every help text a command shows."""
    for attribute in ("help", "short_help", "epilog"):
        text = getattr(command, attribute)
        if text:
            yield command, attribute, inspect.cleandoc(text).partition("\f")[0]
    # click makes the --help option on first use and keeps it (Command._help_option), its text translated then.
    for param in [*command.params, command._help_option]:
        text = getattr(param, "help", None)
        if text:
            yield param, "help", text


def help_texts(group: click.Group) -> list[str]:
    """Every help text the tree shows, in English: what the catalog must translate."""
    return list(dict.fromkeys(text for _, command in commands(group) for _, _, text in _texts(command)))


@contextmanager
def translated(group: click.Group) -> Iterator[None]:
    """Inside the block, every help text of the tree is in the current language; after it, English again."""
    saved: list[tuple[object, str, object]] = []
    # A --help option click makes during the run is made in the run's language: drop it after, to be made anew.
    unmade = [command for _, command in commands(group) if command._help_option is None]
    try:
        for _, command in commands(group):
            command.context_class = Context
            for owner, attribute, text in _texts(command):
                saved.append((owner, attribute, getattr(owner, attribute)))
                setattr(owner, attribute, gettext(text))
            if isinstance(command, click.Command) and not command.short_help and command.help:
                # click shortens help to its first sentence by English rules; Chinese gets its first sentence here.
                short = _first_sentence(command.help)
                if short is not None:
                    saved.append((command, "short_help", None))
                    command.short_help = short
        yield
    finally:
        for owner, attribute, value in reversed(saved):
            setattr(owner, attribute, value)
        for command in unmade:
            command._help_option = None


def _first_sentence(text: str) -> str | None:
    """The first sentence of a help text that has wide characters (up to its first 。), else None."""
    first = text.strip().partition("\n\n")[0]
    if not any(_wide(ch) for ch in first):
        return None
    head, mark, _ = first.partition("。")
    return (head + mark if mark else first).replace("\n", "")


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


def columns(text: str) -> int:
    """The columns ``text`` takes on a terminal: two for each wide (Chinese) character."""
    return sum(2 if _wide(ch) else 0 if unicodedata.combining(ch) else 1 for ch in text)


def _tokens(text: str) -> list[tuple[str, bool]]:
    """(token, space before it) where a line may break: at spaces, and around each wide character."""
    out: list[list[object]] = []
    space, word = False, False
    for ch in text:
        if ch.isspace():
            space, word = True, False
            continue
        if out and not space and (ch in _CLOSING or str(out[-1][0])[-1] in _OPENING):
            # Never start a line with closing punctuation, nor end one with opening punctuation.
            out[-1][0] = str(out[-1][0]) + ch
            word = not _wide(ch)
        elif _wide(ch):
            out.append([ch, space])
            word = False
        elif word and not space:
            out[-1][0] = str(out[-1][0]) + ch
        else:
            out.append([ch, space])
            word = True
        space = False
    return [(str(t), bool(s)) for t, s in out]


def wrap(text: str, width: int, initial: str = "", subsequent: str = "") -> list[str]:
    """``text`` (one paragraph) in lines of at most ``width`` columns where it can break, indented."""
    lines: list[str] = []
    line, used, empty = initial, columns(initial), True
    for token, space in _tokens(text):
        gap = " " if space and not empty else ""
        size = columns(gap + token)
        if not empty and used + size > width:
            lines.append(line)
            line, used, empty = subsequent, columns(subsequent), True
            gap, size = "", columns(token)
        line += gap + token
        used += size
        empty = False
    if not empty or not lines:
        lines.append(line)
    return lines


def _paragraphs(text: str) -> Iterator[tuple[bool, str]]:
    """(rewrap, text) of each paragraph as click reads them: blank lines part them, a \\b line keeps one as it is."""
    for block in text.split("\n\n"):
        lines = block.strip("\n").split("\n")
        if lines and lines[0].strip() == "\b":
            yield False, "\n".join(lines[1:])
            continue
        joined = ""
        for part in (line.strip() for line in lines):
            # Lines of Chinese join without a space, as they would be written in one line.
            glue = "" if not joined or (_wide(joined[-1]) and part and _wide(part[0])) else " "
            joined += glue + part
        yield True, joined


def _any_wide(texts: Iterable[str]) -> bool:
    return any(_wide(ch) for text in texts for ch in text)


class Formatter(click.HelpFormatter):
    """click's help formatter, wrapping text that holds wide characters by the columns it takes."""

    def _wrapped(self, text: str, width: int, indent: str) -> list[str]:
        out: list[str] = []
        for number, (rewrap, paragraph) in enumerate(_paragraphs(text)):
            if number:
                out.append("")
            if rewrap:
                out += wrap(paragraph, width, indent, indent)
            else:
                out += [indent + line for line in paragraph.split("\n")]
        return out

    def write_text(self, text: str) -> None:
        if not _any_wide([text]):
            super().write_text(text)
            return
        indent = " " * self.current_indent
        self.write("\n".join(self._wrapped(text, self.width, indent)) + "\n")

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        if not _any_wide(second for _, second in rows):
            super().write_dl(rows, col_max, col_spacing)
            return
        first_col = min(max((columns(first) for first, _ in rows), default=0), col_max) + col_spacing
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if columns(first) <= first_col - col_spacing:
                self.write(" " * (first_col - columns(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = self._wrapped(second, max(self.width - first_col - self.current_indent - 2, 10), "")
            pad = " " * (first_col + self.current_indent)
            self.write("\n".join([lines[0], *(pad + line if line else "" for line in lines[1:])]) + "\n")


class Context(click.Context):
    """A context whose help is formatted by `Formatter`."""

    formatter_class = Formatter
