"""Translations: the one place a message becomes the reader's language, through GNU gettext catalogs.

Messages are written in English in the code and marked: ``_("…")`` translates now, ``ngettext`` picks the plural
form ("1 event", "2 events"; Chinese has one form), ``pgettext`` translates a word within a context (``"bizStep"``,
``"disposition"``, …) so that one English word can have two translations, and ``N_("…")`` only marks a message that
is translated later (a help text declared at import time, a word in a table). The catalogs are
``tracechain/locale/<language>/LC_MESSAGES/tracechain.po`` and the ``.mo`` compiled from it (installed as package
data); docs/i18n.md says how they are extracted, translated and compiled, and tests/test_i18n.py fails when a
marked message has no translation.

The language is the environment's, as GNU gettext reads it (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``; C
or POSIX means English), unless `use_language` or `speaking` chose one. English is the language of the code, so it
needs no catalog. Library errors stay in English (see docs/i18n.md); a program that shows them may frame them.
"""

from __future__ import annotations

import gettext as _gettext
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "DOMAIN",
    "ENVIRONMENT",
    "LANGUAGES",
    "LOCALE_DIR",
    "N_",
    "gettext",
    "language",
    "ngettext",
    "pgettext",
    "speaking",
    "use_language",
]

DOMAIN = "tracechain"
LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("en", "zh")
"""The languages tracechain speaks: English (the code's own) and Chinese (simplified)."""
ENVIRONMENT = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
"""The variables that choose the language, in the order GNU gettext reads them."""

# The catalog chosen by use_language (None: the environment's), in a dict so that it is changed without `global`.
_state: dict[str, _gettext.NullTranslations | None] = {"chosen": None}


def _catalog(languages: list[str] | None) -> _gettext.NullTranslations:
    """The catalog for ``languages`` (None: the environment's choice), found once per choice: a listing of many
    events asks for a word per field, and finding the file each time would cost a handful of stat() calls."""
    key = tuple(languages) if languages is not None else tuple(os.environ.get(name) for name in ENVIRONMENT)
    found = _found.get((languages is None, key))
    if found is None:
        # fallback=True: a language with no catalog (English, or one not translated) speaks the code's English.
        found = _gettext.translation(DOMAIN, LOCALE_DIR, languages=languages, fallback=True)
        _found[(languages is None, key)] = found
    return found


_found: dict[tuple[bool, tuple[str | None, ...]], _gettext.NullTranslations] = {}


def _normalise(code: str) -> str:
    """A language code as gettext looks it up: zh-CN → zh_CN, ZH → zh."""
    head, _, tail = code.strip().replace("-", "_").partition("_")
    return head.lower() + (f"_{tail}" if tail else "")


def use_language(code: str | None) -> str:
    """Speak ``code`` from now on: ``"zh"``, ``"en"``, or a locale name such as ``zh_CN.UTF-8``; None returns to the
    environment's choice. Returns the language now spoken (one of `LANGUAGES`)."""
    _state["chosen"] = None if code is None else _catalog([_normalise(code), "en"])
    return language()


def _active() -> _gettext.NullTranslations:
    chosen = _state["chosen"]
    return chosen if chosen is not None else _catalog(None)


def language() -> str:
    """The language messages are in now: ``"zh"`` when the Chinese catalog is in use, else ``"en"``."""
    found = _active().info().get("language", "en")
    return "zh" if found.lower().startswith("zh") else "en"


@contextmanager
def speaking(code: str | None) -> Iterator[str]:
    """Speak ``code`` (None: the environment's language) inside the block, and the language before it after.

    Also makes it the process's gettext domain and language for the block, so that libraries translating through
    the standard ``gettext.gettext`` (click's usage and error messages) speak it from the same catalog.
    """
    before, saved_domain = _state["chosen"], _gettext.textdomain()
    saved_env = os.environ.get("LANGUAGE")
    try:
        spoken = use_language(code)
        # Within the block the environment's choice is read once: a command does not change its own locale.
        _state["chosen"] = _active()
        if code is not None:
            # LANGUAGE is the variable gettext reads first; set for the block, it makes the global functions agree.
            os.environ["LANGUAGE"] = _normalise(code)
        _gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
        _gettext.textdomain(DOMAIN)
        yield spoken
    finally:
        _state["chosen"] = before
        _gettext.textdomain(saved_domain)
        if saved_env is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = saved_env


def gettext(message: str) -> str:
    """``message`` in the current language."""
    return _active().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for the count ``n`` in the current language (English: singular for 1 only)."""
    return _active().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` translated within ``context``, for a word that means different things in different places."""
    return _active().pgettext(context, message)


def N_(message: str) -> str:  # noqa: N802 - the conventional name, which extraction tools look for
    """Mark ``message`` for translation without translating it now: it is translated where it is shown."""
    return message
