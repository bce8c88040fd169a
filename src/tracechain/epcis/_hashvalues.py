"""The value rules of GS1's event hash ID (CBV 2.0 §8.9 rules 5-9 and 14-18): how one text, number or time is
written in the pre-hash string.

Texts are trimmed; compact IRIs expanded; CBV URNs rewritten as web URIs; bare vocabulary words of vocabulary-typed
fields written as their URIs; numbers written exactly, without exponent, leading ``+`` or trailing zeros; GS1 keys
as constrained canonical Digital Links (`tracechain.epcis._codes`); times in UTC at millisecond precision, the third
decimal rounded up when the fourth is 5-9, with ``Z``. What a text becomes depends only on the namespaces, so it is
remembered per `Namespaces` (`cached`): places, steps and KDE values repeat from event to event.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from tracechain.epcis import _vocab
from tracechain.epcis._codes import hash_code
from tracechain.epcis._context import Namespaces

__all__ = ["cached", "micros_time", "remember", "scalar", "time_text", "vocabulary"]

_NUMBER_RE: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_MAX_PLAIN_DIGITS: Final = 64
_CANONICAL_TIME_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\Z")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_TIME_RE: Final = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(?:([Zz])|([+-]\d{2}:\d{2}))\Z")

_CACHED: Final = 1024  # canonical keys and values remembered per set of namespaces: about 200 KB at most


def remember(cache: dict[str, str], key: str, value: str) -> None:
    if len(cache) >= _CACHED:
        cache.clear()  # serials are unique per event: a bounded cache, emptied rather than tracked
    cache[key] = value


def vocabulary(kind: str, value: str) -> str:
    """A bare word of a standard vocabulary as its URI; any other spelling is left to the value rules."""
    vocabulary = _vocab.BY_KIND[kind]
    word = value.strip()
    return vocabulary.uri(word) if word in vocabulary.words else value


def scalar(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(Decimal(repr(value))) if math.isfinite(value) else repr(value)
    if isinstance(value, Decimal):
        return _number(value) if value.is_finite() else str(value)
    return value if isinstance(value, str) else str(value)


def _number(value: Decimal) -> str:
    """Exact decimal notation: no exponent, no leading ``+`` or zeros, no trailing fractional zeros; -0 is 0."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    if len(digits) + abs(exponent) > _MAX_PLAIN_DIGITS:
        return str(value)  # beyond any measurement; written as given rather than as a huge digit string
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    text = text.lstrip("-")
    return "0" if text == "0" else ("-" if sign else "") + text


def cached(text: str, names: Namespaces) -> str:
    """`_canonical`, remembered under ``names``: codes of places, steps and KDE values repeat from event to event."""
    cache = names.cache.get("value")
    if cache is None:
        cache = names.cache.setdefault("value", {})
    found = cache.get(text)
    if found is None:
        found = _canonical(text, names)
        remember(cache, text, found)
    return found


def _canonical(text: str, names: Namespaces) -> str:
    """Rules 5, 6, 14, 15, 17 and 18: trim, expand compact IRIs and CBV URNs, numbers, GS1 keys."""
    text = text.strip()
    if ":" not in text:  # no IRI, URN or key: only a number is written otherwise
        return _number(Decimal(text)) if _NUMBER_RE.match(text) else text
    text = names.expand(text)
    for urn, web in _vocab.URN_TO_WEB:
        if text.startswith(urn):
            text = web + text[len(urn) :]
            break
    if _NUMBER_RE.match(text):
        try:
            return _number(Decimal(text))
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            return text
    return hash_code(text) or text


def time_text(text: str) -> str:
    """Rules 8 and 9: UTC, ``Z``, milliseconds, the third decimal rounded up when the fourth is 5-9."""
    if _CANONICAL_TIME_RE.match(text):
        return text  # already in the form rule 8 writes: nothing to convert or round
    m = _TIME_RE.match(text)
    if m is None:
        return text
    day, clock, fraction, _, offset = m.groups()
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}{offset or '+00:00'}")
    except ValueError:
        return text
    fraction = (fraction or "").ljust(4, "0")
    try:
        utc = (moment + timedelta(milliseconds=int(fraction[:3]) + (fraction[3] >= "5"))).astimezone(UTC)
    except OverflowError:
        return text
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def micros_time(micros: int) -> str:
    """Rules 8 and 9 for a time held as microseconds since the epoch (`tracechain.events.Event.data`)."""
    millis, below = divmod(micros, 1000)
    try:
        moment = _EPOCH + timedelta(milliseconds=millis + (below >= 500))  # the fourth decimal 5-9 rounds up
    except OverflowError:
        return str(micros)  # as the value is written when it is no time
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
