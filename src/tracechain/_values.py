"""Checks of single values inside an event, for the envelope walk: text, URIs, item codes, CBV words, lists,
objects, numbers, times, and free values (``ilmd``, ``tc:kde``, extensions) held to the limits. Each check adds a
problem in JSON terms (``found null``, ``found a list of 3 items``), never a Python type or repr, and returns the
normalised value or None. `Walk` is what the field handlers share about one event.
"""

from __future__ import annotations

import json
import math
import re
import time
import unicodedata
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final

from tracechain import encoding, identifiers
from tracechain._schema import (
    EARLIEST_MICROS,
    EARLIEST_TIME,
    EPOCH,
    FUTURE_TOLERANCE,
    MAX_DEPTH,
    MAX_LIST,
    MAX_MEMBERS,
    MAX_PROBLEMS,
    MAX_TEXT,
    MICRO,
    TIME,
    URI,
    VOCABULARIES,
)
from tracechain.errors import EncodingError, IdentifierError

__all__: list[str] = []  # private to the event model


class Problems:
    """Every problem of one event (up to MAX_PROBLEMS, the rest counted), and the item codes met on the way."""

    __slots__ = ("codes", "items", "unlisted")

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []
        self.unlisted = 0
        # The item codes met on the way, so the ledger's index needs no second walk over the event.
        self.codes: dict[str, None] = {}

    def add(self, path: str, message: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append((path, message))
        else:
            self.unlisted += 1


# ---------------------------------------------------------------------------------------------------------
# Messages speak JSON: null, true, a string, a list of 3 items; never a Python type or repr.


def shown(value: object) -> str:
    """A value as a person reading JSON would recognise it, cut short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # Lone surrogates are shown escaped: they cannot be printed.
        text = json.dumps(value if len(value) <= 60 else value[:60], ensure_ascii=_SURROGATE.search(value) is not None)
        return text if len(value) <= 60 else f'{text[:-1]}…" ({len(value)} characters)'
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[]" if not value else f"a list of {len(value)} item{'s' if len(value) > 1 else ''}"
    if isinstance(value, Mapping):
        return "{}" if not value else f"an object of {len(value)} member{'s' if len(value) > 1 else ''}"
    return f"a value JSON cannot hold ({type(value).__name__})"


def nfc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def as_text(value: object, path: str, problems: Problems, what: str = "text") -> str | None:
    if type(value) is str and value and len(value) <= MAX_TEXT:
        return nfc(value)
    if isinstance(value, str):
        problems.add(path, f"expected {what} of 1 to {MAX_TEXT} characters, found {shown(value)}")
    else:
        problems.add(path, f"expected {what}, found {shown(value)}")
    return None


def as_uri(value: object, path: str, problems: Problems) -> str | None:
    text = as_text(value, path, problems, "a URI")
    if text is not None and not URI.match(text):
        problems.add(path, f"expected a URI (scheme:rest, no spaces), found {shown(value)}")
        return None
    return text


# Locations, lots and cases recur across a batch; a cache makes their second spelling free. Errors are not cached.
canonical_code = lru_cache(maxsize=1 << 14)(identifiers.canonical_code)


def as_code(value: object, path: str, problems: Problems) -> str | None:
    text = as_text(value, path, problems, "an item code")
    if text is None:
        return None
    try:
        return canonical_code(text)
    except IdentifierError as e:
        problems.add(path, str(e))
        return None


def as_item_code(value: object, path: str, problems: Problems) -> str | None:
    """An item code (EPC, parent ID, quantity class), recorded for the item index."""
    code = as_code(value, path, problems)
    if code is not None:
        problems.codes[code] = None
    return code


def as_word(value: object, path: str, kind: str, problems: Problems, *, normalise: bool = True) -> str | None:
    """A CBV value: a bare word, a CBV URI of a word (made the bare word), or a URI outside the CBV namespace."""
    words, cbv_uri, other_uri = VOCABULARIES[kind]
    if type(value) is str:
        if value in words:
            return value
        if (m := cbv_uri.match(value)) is not None:
            return m[2] if normalise else value
        if len(value) <= MAX_TEXT and other_uri.match(value):
            return nfc(value)
    problems.add(
        path,
        f"expected a CBV {kind} word (for example {min(words)}), its CBV URI, or a URI outside the CBV "
        f"namespace, found {shown(value)}",
    )
    return None


def list_of(value: object, path: str, problems: Problems, what: str = "a list") -> list[Any] | None:
    if type(value) is list and len(value) <= MAX_LIST:
        return value
    if isinstance(value, list):
        problems.add(path, f"expected {what} of at most {MAX_LIST} items, found {len(value)} items")
    else:
        problems.add(path, f"expected {what}, found {shown(value)}")
    return None


def object_of(value: object, path: str, problems: Problems) -> Mapping[str, Any] | None:
    if (type(value) is dict or isinstance(value, Mapping)) and len(value) <= MAX_MEMBERS:
        return value
    if isinstance(value, Mapping):
        problems.add(path, f"expected an object of at most {MAX_MEMBERS} members, found {len(value)} members")
    else:
        problems.add(path, f"expected an object, found {shown(value)}")
    return None


def is_number(value: object) -> bool:
    t = type(value)
    return t is int or t is Decimal or (t is float and math.isfinite(value))  # type: ignore[arg-type]


def as_number(value: object, path: str, problems: Problems) -> int | Decimal | None:
    if not is_number(value):
        problems.add(path, f"expected a number, found {shown(value)}")
        return None
    if type(value) is float:
        value = Decimal(repr(value))
    try:
        return encoding.canonical(value)  # type: ignore[no-any-return]
    except EncodingError:
        problems.add(
            path,
            f"expected a number of at most 40 significant digits (integers within ±2^63), found {shown(value)}",
        )
        return None


_SCALARS: Final = frozenset({int, float, Decimal, bool, type(None), bytes})


def _within_limits(value: Any, level: int) -> bool:
    """Whether a free value keeps every limit; ``level`` is the nesting level it opens if it is a container.

    The common case (JSON: dicts, lists, strings, numbers) runs here without building messages; anything else
    goes to `_limit_problems`.
    """
    t = type(value)
    if t is str:
        return len(value) <= MAX_TEXT
    if t is dict:
        if level > MAX_DEPTH or len(value) > MAX_MEMBERS:
            return False
        inner = level + 1
        for k, v in value.items():
            tv = type(v)
            if tv is str:
                if len(v) > MAX_TEXT:
                    return False
            elif tv not in _SCALARS and not _within_limits(v, inner):
                return False
            if type(k) is not str or len(k) > MAX_TEXT:
                return type(k) is not str and _slow_within_limits(value, level)
        return True
    if t is list:
        if level > MAX_DEPTH or len(value) > MAX_LIST:
            return False
        inner = level + 1
        for v in value:
            tv = type(v)
            if tv is str:
                if len(v) > MAX_TEXT:
                    return False
            elif tv not in _SCALARS and not _within_limits(v, inner):
                return False
        return True
    return t in _SCALARS or _slow_within_limits(value, level)


def _slow_within_limits(value: object, level: int) -> bool:
    found = Problems()
    _limit_problems(value, "$", level, found)
    return not found.items


def _limit_problems(value: object, path: str, level: int, problems: Problems) -> None:
    """Where and how a free value breaks a limit (the slow path of `_within_limits`)."""
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            problems.add(path, f"expected text of at most {MAX_TEXT} characters, found {len(value)} characters")
    elif isinstance(value, Mapping | list | tuple):
        if level > MAX_DEPTH:
            problems.add(path, f"expected values nested at most {MAX_DEPTH} levels deep, found deeper nesting")
            return
        if not isinstance(value, Mapping):
            if len(value) > MAX_LIST:
                problems.add(path, f"expected a list of at most {MAX_LIST} items, found {len(value)} items")
                return
            for i, item in enumerate(value):
                _limit_problems(item, f"{path}[{i}]", level + 1, problems)
            return
        if len(value) > MAX_MEMBERS:
            problems.add(path, f"expected an object of at most {MAX_MEMBERS} members, found {len(value)} members")
            return
        for key, item in value.items():
            if isinstance(key, str) and len(key) > MAX_TEXT:
                problems.add(path, f"expected member names of at most {MAX_TEXT} characters, found {len(key)}")
            _limit_problems(item, f"{path}.{key}", level + 1, problems)


def as_free(value: object, path: str, problems: Problems, level: int = 2) -> Any:
    """Any JSON value (KDEs, ilmd, sensor data) in canonical shape; floats become their exact shortest decimal."""
    if not _within_limits(value, level):
        before = len(problems.items) + problems.unlisted
        _limit_problems(value, path, level, problems)
        if len(problems.items) + problems.unlisted > before:
            return None
    return as_canonical(value, path, problems)


def as_canonical(value: object, path: str, problems: Problems) -> Any:
    try:
        return encoding.canonical(value, floats=True)
    except EncodingError as e:
        text = str(e)
        if text.startswith("$"):  # the encoder names the place inside the value from its own root
            where, _, text = text.partition(": ")
            problems.add(path + where[1:], text)
        else:
            problems.add(path, text)
        return None


def as_free_object(value: Any, path: str, problems: Problems) -> Any:
    if object_of(value, path, problems) is None:
        return None
    return as_free(value, path, problems)


# ---------------------------------------------------------------------------------------------------------
# Times


def parse_time(text: object, where: str, problems: Problems, now_micros: int) -> int | None:
    """An RFC 3339 date-time with an explicit offset, as microseconds since the Unix epoch (UTC), in range."""
    if type(text) is not str or not TIME.match(text):
        problems.add(
            where,
            f"expected an RFC 3339 date-time with offset, such as 2024-03-01T09:30:00+08:00, kept to the "
            f"microsecond, found {shown(text)}",
        )
        return None
    assert isinstance(text, str)
    main, _, rest = text.partition(".")
    if rest:  # the pattern allowed up to 9 digits, the last 3 only zeros: keep 6
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{main}.{rest[: min(digits, 6)]}{rest[digits:]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as e:
        problems.add(where, f"expected a real calendar date and time, found {shown(text)} ({e})")
        return None
    micros = (moment - EPOCH) // MICRO
    if micros < EARLIEST_MICROS:
        problems.add(where, f"expected a time on or after {EARLIEST_TIME:%Y-%m-%d}, found {shown(text)}")
        return None
    if micros > now_micros + FUTURE_TOLERANCE // MICRO:
        problems.add(
            where,
            f"expected a time no later than {FUTURE_TOLERANCE.days} day after the clock "
            f"({(EPOCH + timedelta(microseconds=now_micros)):%Y-%m-%dT%H:%M:%SZ}), found {shown(text)}",
        )
        return None
    return micros


def clock_micros(now: datetime | None) -> int:
    """Microseconds since the epoch of ``now`` (aware), or of the system clock."""
    if now is None:
        return time.time_ns() // 1000
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return (now - EPOCH) // MICRO


def lone_surrogates(value: object, path: str = "$") -> list[str]:
    """Paths of the strings (values or member names) in ``value`` that hold a lone surrogate, which no UTF-8 text
    can: JSON's ``\\ud800`` escape makes one."""
    out: list[str] = []
    if isinstance(value, str):
        if not value.isascii() and _SURROGATE.search(value):
            out.append(path)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and _SURROGATE.search(key):
                out.append(f"{path} (the name {json.dumps(key)})")
                continue
            out += lone_surrogates(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            out += lone_surrogates(item, f"{path}[{i}]")
    return out


_SURROGATE: Final = re.compile("[\ud800-\udfff]")


# ---------------------------------------------------------------------------------------------------------
# The walk of one event, as the field handlers see it


class Walk:
    """One event's walk: its problems, the clock it is judged against, and who bounds its KDEs."""

    __slots__ = ("kde_by_profile", "now", "problems")

    def __init__(self, problems: Problems, now_micros: int, kde_by_profile: bool) -> None:
        self.problems = problems
        self.now = now_micros
        # A product profile bounds every KDE itself (known names only, each with a length or a range), so the
        # limit walk over tc:kde would repeat it; without a profile check the walk bounds it.
        self.kde_by_profile = kde_by_profile


Field = Callable[[Any, str, Walk], Any]
