"""The translation catalog: extract every message tracechain shows, merge it into each language's .po, compile .mo.

    python -m tools.catalog update    extract, then merge into locale/tracechain.pot and every .po (keeps translations)
    python -m tools.catalog compile   compile every .po into the .mo that is installed with the package
    python -m tools.catalog check     exit 1 when a message lacks a translation or a .mo is older than its .po

(`python3 tasks.py i18n` runs update then compile.) Messages come from three places: the code's marked strings
(``_``, ``gettext``, ``ngettext``, ``pgettext``, ``N_``, ``NP_`` in src/tracechain and cli), the CLI's help texts
(read from the command tree itself, so that every command module is covered without marking), and click's own
messages (usage lines, option errors), which the CLI routes through the same catalog.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import click
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "src" / "tracechain" / "locale"
POT = LOCALE / "tracechain.pot"
KEYWORDS = {**DEFAULT_KEYWORDS, "NP_": ((1, "c"), 2)}
SOURCES = (("src/tracechain", ROOT / "src" / "tracechain"), ("cli", ROOT / "cli"))
_FIELD = re.compile(r"\{([a-z_]*)(?:![rsa])?(?::[^}]*)?\}")

Key = str | tuple[str, str]


def _key(message: Message) -> Key:
    return message.id if isinstance(message.id, str) else message.id[0]


def extract() -> Catalog:
    """Every message tracechain can show, with where it comes from."""
    catalog = Catalog(domain="tracechain", project="tracechain", version="0.1.0", fuzzy=False)
    catalog.creation_date = datetime(2026, 1, 1, tzinfo=UTC)  # fixed, so an unchanged catalog is byte-identical
    for prefix, folder in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
            folder, method_map=[("**.py", "python")], keywords=KEYWORDS, strip_comment_tags=True
        ):
            catalog.add(message, None, [(f"{prefix}/{filename}", lineno)], auto_comments=comments, context=context)
    from tracechain.cli import cli
    from tracechain.cli.help import help_texts

    for text in help_texts(cli):
        catalog.add(text, None, [("cli (help text)", 0)])
    click_dir = Path(click.__file__).parent
    for filename, lineno, message, _comments, context in extract_from_dir(
        click_dir, method_map=[("**.py", "python")], keywords=DEFAULT_KEYWORDS
    ):
        catalog.add(message, None, [(f"click/{filename}", lineno)], context=context)
    return catalog


def languages() -> list[str]:
    return sorted(p.name for p in LOCALE.iterdir() if (p / "LC_MESSAGES" / "tracechain.po").exists())


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "tracechain.po"


def read(language: str) -> Catalog:
    with po_path(language).open("rb") as f:
        return read_po(f, locale=language, domain="tracechain")


def _written(catalog: Catalog, **options: bool) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=116, sort_output=False, **options)
    return out.getvalue()


def update() -> None:
    template = extract()
    POT.write_bytes(_written(template, omit_header=False))
    for language in languages():
        catalog = read(language)
        catalog.update(template, no_fuzzy_matching=True)
        po_path(language).write_bytes(_written(catalog, ignore_obsolete=True))


def compiled(language: str) -> bytes:
    out = io.BytesIO()
    write_mo(out, read(language), use_fuzzy=False)
    return out.getvalue()


def compile_all() -> None:
    for language in languages():
        po_path(language).with_suffix(".mo").write_bytes(compiled(language))


def fields(text: str) -> set[str]:
    """The format fields of a message (``{count}``), which a translation must keep."""
    return set(_FIELD.findall(text))


def _keeps_fields(message: Message, text: str) -> bool:
    """A translation keeps a message's format fields: the same ones for a message with one form; for one with
    plural forms (which the code formats with the fields of all its forms), those of the plural form and no other."""
    if isinstance(message.id, str):
        return fields(text) == fields(message.id)
    singular, plural = fields(message.id[0]), fields(message.id[1])
    return plural <= fields(text) <= singular | plural


def problems(language: str) -> Iterator[str]:
    """What keeps the language's catalog from being complete and current."""
    catalog = read(language)
    wanted = extract()
    have = {(m.context, _key(m)): m for m in catalog if m.id}
    for message in wanted:
        if not message.id:
            continue
        found = have.get((message.context, _key(message)))
        where = f"{message.locations[0][0]}:{message.locations[0][1]}" if message.locations else "?"
        if found is None:
            yield f"{where}: no entry for {_key(message)!r}"
            continue
        strings = [found.string] if isinstance(found.string, str) else list(found.string)
        if found.fuzzy or not all(strings):
            yield f"{where}: no translation for {_key(message)!r}"
            continue
        for text in strings:
            if not _keeps_fields(found, text):
                yield f"{where}: {_key(message)!r} → {text!r} changes the format fields"
    extra = set(have) - {(m.context, _key(m)) for m in wanted if m.id}
    for _context, key in sorted(extra, key=str):
        yield f"{language}: {key!r} is translated but no longer used (run python3 tasks.py i18n)"
    mo = po_path(language).with_suffix(".mo")
    if not mo.exists() or mo.read_bytes() != compiled(language):
        yield f"{mo.relative_to(ROOT)} is not compiled from its .po (run python3 tasks.py i18n)"


def main(argv: list[str]) -> int:
    job = argv[0] if argv else "check"
    if job == "update":
        update()
    elif job == "compile":
        compile_all()
    elif job == "check":
        found = [p for language in languages() for p in problems(language)]
        for problem in found:
            print(problem)
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
