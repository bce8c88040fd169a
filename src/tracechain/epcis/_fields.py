"""Checks shared by every part of an EPCIS 2.0 event: URIs and GS1 keys, numbers, times, vocabulary values, and
the namespaced content of ILMD and extensions (which JSON-LD would silently drop without a namespace).

`FieldReader` collects each problem with its JSON path instead of raising, so one error can list them all; a field
with a problem comes back as `SKIP`. `tracechain.epcis._events` builds the event reader on it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from tracechain import identifiers
from tracechain.epcis import _vocab
from tracechain.epcis._context import GS1_PREFIXES, TC_NAMESPACE, TC_PREFIX, Namespaces
from tracechain.errors import IdentifierError

__all__ = ["SKIP", "FieldReader", "plain_number", "shown", "time_problem"]

_URI_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s\"<>\\^`{|}]+\Z")
_OFFSET_RE: Final = re.compile(r"[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00)\Z")
_MAX_DEPTH: Final = 32
_MAX_MAGNITUDE: Final = 100


def plain_number(value: Decimal) -> int | Decimal:
    """An integral decimal as an int (``1200.0`` → 1200; JSON writers print a Decimal with no fraction wrongly),
    any other as it is. The hash ID writes both the same way."""
    return int(value) if value == value.to_integral_value() else value


class _Skip:
    """A field with a problem: left out of the output (the problem is already recorded)."""


SKIP: Final = _Skip()


def shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class FieldReader:
    """Value checks for one event; ``problems`` collects (JSON path, message), ``used`` the prefixes it needs."""

    STANDARD: frozenset[str] = frozenset()
    """The event's standard field names (a key among them is never taken for an extension)."""

    def __init__(self, names: Namespaces, path: str, ignore: frozenset[str]) -> None:
        self.names = names
        self.path = path
        self.ignore = ignore
        self.problems: list[tuple[str, str]] = []
        self.used: set[str] = set()

    def problem(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def _time(self, value: Any, at: str) -> Any:
        problem = time_problem(value)
        if problem is not None:
            self.problem(at, problem)
            return SKIP
        return value

    def _offset(self, value: Any, at: str) -> Any:
        if isinstance(value, str) and _OFFSET_RE.match(value):
            return value
        self.problem(at, f"expected a UTC offset from -13:59 to +14:00 such as +08:00, found {shown(value)}")
        return SKIP

    def _uri(self, value: Any, at: str, what: str = "a URI") -> Any:
        if isinstance(value, str) and _URI_RE.match(value):
            self._note_value(value)
            return value
        self.problem(at, f"expected {what} (scheme:…, no spaces), found {shown(value)}")
        return SKIP

    def _code(self, value: Any, at: str) -> Any:
        """An object identifier: a URI, and a valid GS1 key when it spells one."""
        if self._uri(value, at, "an EPC URI or GS1 Digital Link URI") is SKIP:
            return SKIP
        try:
            identifiers.canonical_code(value)
        except IdentifierError as e:
            self.problem(at, str(e))
            return SKIP
        return value

    def _codes(self, value: Any, at: str) -> Any:
        if not isinstance(value, list):
            self.problem(at, f"expected a list of EPC URIs, found {shown(value)}")
            return SKIP
        out = [self._code(v, f"{at}[{i}]") for i, v in enumerate(value)]
        seen: set[object] = set()
        for i, v in enumerate(value):
            if isinstance(v, str):
                if v in seen:
                    self.problem(f"{at}[{i}]", f"{v!r} is listed twice")
                seen.add(v)
        return out

    def _uris(self, value: Any, at: str) -> Any:
        """certificationInfo: one URI or a list of them."""
        if isinstance(value, list):
            return [self._uri(v, f"{at}[{i}]") for i, v in enumerate(value)]
        return self._uri(value, at)

    def _number(self, value: Any, at: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            self.problem(
                at, f"expected a JSON number, found {shown(value)}" + (" (text)" if isinstance(value, str) else "")
            )
            return SKIP
        if isinstance(value, float):
            value = Decimal(repr(value))
        if isinstance(value, Decimal):
            if not value.is_finite() or value.adjusted() > _MAX_MAGNITUDE:
                self.problem(at, f"expected a finite number below 1e{_MAX_MAGNITUDE + 1}, found {value}")
                return SKIP
            return plain_number(value)
        return value

    def _vocabulary(self, kind: str, value: Any, at: str) -> Any:
        """A vocabulary value: the bare word for any spelling of a standard term, else a URI kept as written."""
        vocabulary = _vocab.BY_KIND[kind]
        if not isinstance(value, str):
            self.problem(at, f"expected a {vocabulary.name} or a URI, found {shown(value)}")
            return SKIP
        word = vocabulary.word(value, dict(self.names.prefixes))
        if word is not None:
            if vocabulary.urn is not None and value.startswith("urn:epcglobal:cbv:"):
                self.problem(
                    at,
                    f"{value!r} is the EPCIS 1.x URN form, which EPCIS 2.0 JSON does not allow; "
                    f"write {word!r} or {vocabulary.uri(word)!r}",
                )
                return SKIP
            return word
        expanded = self.names.expand(value)
        if vocabulary.is_term_uri(expanded) or value.startswith("urn:epcglobal:cbv:"):
            self.problem(at, f"{value!r} is not a {vocabulary.name} (CBV 2.0 / GS1 web vocabulary)")
            return SKIP
        if ":" not in value:
            example = min(vocabulary.words)
            self.problem(
                at,
                f"{value!r} is not a {vocabulary.name}; a value outside the standard vocabulary must be a URI "
                f"(for example https://example.com/voc/{value}), a standard one is written bare, such as {example!r}",
            )
            return SKIP
        return self._uri(value, at)

    def _expanded(self, key: str) -> str:
        found = self.names.split(key)
        return key if found is None else found[0] + found[1]

    def _extension_key(self, key: Any, at: str, *, known: bool = False) -> str | None:
        """The key as tracechain writes it (``tc:…`` for tracechain's namespace), or None after a problem."""
        if not isinstance(key, str) or not key:
            self.problem(at, "keys are non-empty text")
            return None
        found = self.names.split(key)
        if found is not None:
            namespace, local = found
            if namespace == TC_NAMESPACE:
                return f"{TC_PREFIX}:{local}"
            if (prefix := key.partition(":")[0]) not in GS1_PREFIXES:
                self.used.add(prefix)
            if key in self.names.terms:
                self.used.add(key)
            return key
        if _URI_RE.match(key) and ("://" in key or key.startswith("urn:")):
            return key  # an absolute IRI names its namespace itself
        if known and key in self.STANDARD:
            return None
        if ":" in key:
            self.problem(at, f"the prefix {key.partition(':')[0]!r} of {key!r} is not declared in @context")
        elif known:
            self.problem(
                at,
                f"{key!r} is not an EPCIS field here, nor a namespaced extension: extension fields are written "
                "prefix:name with the prefix declared in @context",
            )
        else:
            self.problem(
                at,
                f"{key!r} has no namespace: ILMD and extension fields, nested ones too, are written prefix:name "
                "with the prefix declared in @context (JSON-LD drops a key without one)",
            )
        return None

    def _extension_into(self, out: dict[str, Any], key: str, value: Any, at: str) -> None:
        name = self._extension_key(key, at)
        if name is not None:
            converted = self._free(value, at)
            if converted is not SKIP:
                out[name] = converted

    def _free(self, value: Any, at: str, depth: int = 0) -> Any:
        """Extension or ILMD content: JSON with namespaced keys at every depth, no null, no nested arrays."""
        if depth > _MAX_DEPTH:
            self.problem(at, f"nested more than {_MAX_DEPTH} levels deep")
            return SKIP
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for k, v in value.items():
                self._nested(out, k, v, f"{at}.{k}", depth)
            return out
        if isinstance(value, list):
            if any(isinstance(v, list) for v in value):
                self.problem(at, "arrays of arrays have no meaning in EPCIS (JSON-LD lists of lists)")
                return SKIP
            return [self._free(v, f"{at}[{i}]", depth + 1) for i, v in enumerate(value)]
        if value is None:
            self.problem(at, "null is not a value in EPCIS JSON-LD; leave the field out")
            return SKIP
        if isinstance(value, float | Decimal):
            return self._number(value, at)
        if isinstance(value, str):
            self._note_value(value)
        return value

    def _nested(self, out: dict[str, Any], key: Any, value: Any, at: str, depth: int) -> None:
        name = self._extension_key(key, at)
        if name is not None:
            converted = self._free(value, at, depth + 1)
            if converted is not SKIP:
                out[name] = converted

    def _note_value(self, value: str) -> None:
        """A value written as a compact IRI needs its prefix declared too."""
        prefix, colon, rest = value.partition(":")
        if colon and not rest.startswith("//") and prefix in self.names.user_prefixes():
            self.used.add(prefix)


_DATE_TIME_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(\d{1,9}))?(?:Z|[+-]\d{2}:\d{2})\Z")


def time_problem(value: object) -> str | None:
    """What is wrong with ``value`` as an EPCIS time (``xsd:dateTime`` with an offset, a real date, kept to the
    microsecond as tracechain keeps times), or None. Whether a time is acceptable to a ledger (not before 2000,
    not in the future) is the ledger's rule, applied when events are appended."""
    if not isinstance(value, str) or (found := _DATE_TIME_RE.match(value)) is None:
        return f"expected an RFC 3339 date-time with offset such as 2024-03-01T09:30:00+08:00, found {shown(value)}"
    fraction = found[1] or ""
    if fraction[6:].strip("0"):
        return f"expected at most 6 fractional digits (tracechain keeps times to the microsecond), found {value!r}"
    text = value if len(fraction) <= 6 else value.replace(fraction, fraction[:6], 1)
    try:
        datetime.fromisoformat(text)
    except ValueError as e:
        return f"expected a real calendar date and time, found {value!r} ({e})"
    return None
