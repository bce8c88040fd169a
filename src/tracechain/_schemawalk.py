"""The all-problems walker over tracechain's JSON Schemas, and the format checks it shares with the compiled
validators of `tracechain.profiles`.

The compiled validators say only that an event is invalid. The walker interprets exactly the keywords the schemas
use (`tracechain.profiles.SUPPORTED_KEYWORDS`) and lists every problem with a message a person can act on: what
was expected and what was found, in JSON terms. The format checks (real dates, check digits) are what the
patterns cannot say; both validators run the same ones.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any, Final

from tracechain.errors import IdentifierError, ValidationError
from tracechain.identifiers import (
    canonical_code,
    validate_gtin,
    validate_sc_licence,
    validate_uscc,
    validate_vet_trace_code,
)

__all__: list[str] = []  # private to tracechain.profiles

_JSON_TYPES: Final = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "object": "an object",
    "array": "an array",
    "null": "null",
}
_DATE_RE: Final = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_SIMPLE_KEY_RE: Final = re.compile(r"[^.\[\]'\s]+")
_FOUND_MAX: Final = 80
_VALID_CACHE_MAX: Final = 8192

Path = tuple[str | int, ...]
Problem = tuple[str, str]


# ---------------------------------------------------------------------------------------------------------
# Format checks: what the patterns cannot say. Each returns None when the value is fine, else a message.


def check_date(value: str) -> str | None:
    m = _DATE_RE.match(value)
    if m is None:  # a shape the schema's pattern reports
        return None
    try:
        date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as e:
        return f"expected a real calendar date, found {shown(value)} ({e})"
    return None


def _identifier_check(check: Callable[[str], str]) -> Callable[[str], str | None]:
    def run(value: str) -> str | None:
        try:
            check(value)
        except IdentifierError as e:
            return str(e)
        return None

    return run


FORMAT_CHECKS: Final[dict[str, Callable[[str], str | None]]] = {
    "date": check_date,
    # The pattern has fixed the shape; only the calendar date can still be impossible.
    "date-time": check_date,
    "tc-uscc": _identifier_check(validate_uscc),
    "tc-gtin": _identifier_check(validate_gtin),
    "tc-sc-licence": _identifier_check(validate_sc_licence),
    "tc-vet-trace-code": _identifier_check(validate_vet_trace_code),
    "tc-code": _identifier_check(canonical_code),
}

# Values that passed a format check. Enterprise codes, licences and dates repeat across a producer's events,
# so remembering them keeps the happy path short; the bound keeps memory flat.
_valid_values: dict[tuple[str, str], None] = {}


def format_problem(fmt: str, value: str) -> str | None:
    key = (fmt, value)
    if key in _valid_values:
        return None
    check = FORMAT_CHECKS.get(fmt)
    message = None if check is None else check(value)
    if message is None:
        if len(_valid_values) >= _VALID_CACHE_MAX:
            _valid_values.clear()
        _valid_values[key] = None
    return message


def _format_ok(fmt: str) -> Callable[[str], bool]:
    def ok(value: str) -> bool:
        return format_problem(fmt, value) is None

    return ok


# The compiled validators run the same checks inline (a custom format overrides fastjsonschema's own "date"
# and "date-time"), so a valid event is checked in one call.
FAST_FORMATS: Final = {fmt: _format_ok(fmt) for fmt in FORMAT_CHECKS}


# ---------------------------------------------------------------------------------------------------------
# Messages


def shown(value: object) -> str:
    """A value as JSON, cut short; a decimal number shows as the number it is (2.5), not as Python writes it."""
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=_json_number)
    except (TypeError, ValueError):
        text = f"a value JSON cannot hold ({type(value).__name__})"
    return text if len(text) <= _FOUND_MAX else text[: _FOUND_MAX - 1] + "…"


def _json_number(value: object) -> object:
    if isinstance(value, Decimal):
        # Exact for messages: an integral value as an int, else the float nearest (json writes it shortest).
        if value.is_finite() and value == value.to_integral_value() and abs(value) < 10**20:
            return int(value)
        number = float(value)
        return number if math.isfinite(number) else str(value)
    raise TypeError(type(value).__name__)


def is_type(value: object, name: str) -> bool:
    # Mirrors fastjsonschema: booleans are not numbers; 1.0 is an integer; tuples are arrays. JSON numbers with a
    # fraction arrive as Decimal (tracechain.events.parse_json keeps them exact): numbers too.
    match name:
        case "string":
            return isinstance(value, str)
        case "number":
            return isinstance(value, int | float | Decimal) and not isinstance(value, bool)
        case "integer":
            if isinstance(value, float):
                return value.is_integer()
            if isinstance(value, Decimal):
                return value.is_finite() and value == value.to_integral_value()
            return isinstance(value, int) and not isinstance(value, bool)
        case "boolean":
            return isinstance(value, bool)
        case "object":
            return isinstance(value, dict)
        case "array":
            return isinstance(value, list | tuple)
        case "null":
            return value is None
    return False


def frozen(value: object) -> Any:
    """A hashable stand-in equal for JSON-equal values (1 and 1.0 alike, true and 1 not), for uniqueItems."""
    if isinstance(value, bool):
        return (bool, value)
    if isinstance(value, list | tuple):
        return (list, tuple(frozen(item) for item in value))
    if isinstance(value, Mapping):
        return (dict, frozenset((key, frozen(item)) for key, item in value.items()))
    return value


def json_equal(a: object, b: object) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


def render_path(path: Path) -> str:
    """``("tc:kde", "lot")`` → ``$.tc:kde.lot``; ``("epcList", 0)`` → ``$.epcList[0]``."""
    out = ["$"]
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _SIMPLE_KEY_RE.fullmatch(part):
            out.append(f".{part}")
        else:
            out.append(f"[{json.dumps(part, ensure_ascii=False)}]")
    return "".join(out)


def title_key(path: Path) -> Path:
    return tuple("*" if isinstance(part, int) else part for part in path)


# ---------------------------------------------------------------------------------------------------------
# The all-problems walker


@dataclass(frozen=True, slots=True)
class Found:
    path: Path
    text: str
    # A format failure explains a value better than the pattern it also breaks.
    from_format: bool = False


class Walker:
    """Interprets the schema keywords in SUPPORTED_KEYWORDS and lists every problem, not only the first."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self._root = root
        # Why the branch being walked applies, from its `description`: a rule that forbids or fixes a value
        # (iodine content for non-iodised salt) says so in its message.
        self._reasons: list[str] = []

    def resolve(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise ValidationError(f"schema $ref {ref!r}: expected a local JSON pointer, found another form")
        node: Any = self._root
        for token in ref[2:].split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        return node

    def walk(self, schema: Any, value: Any, path: Path) -> list[Found]:
        if schema is True:
            return []
        if schema is False:
            key = path[-1] if path else "value"
            why = f": {self._reasons[-1]}" if self._reasons else " (not allowed for this kind of event)"
            return [Found(path, f"expected no {key} here, found {shown(value)}{why}")]
        found: list[Found] = []
        if "$ref" in schema:
            found += self.walk(self.resolve(schema["$ref"]), value, path)
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(is_type(value, t) for t in types):
                expected = " or ".join(str(_JSON_TYPES.get(str(t), t)) for t in types)
                return [*found, Found(path, f"expected {expected}, found {shown(value)}")]
        if "const" in schema and not json_equal(value, schema["const"]):
            why = f": {self._reasons[-1]}" if self._reasons else ""
            found.append(Found(path, f"expected {shown(schema['const'])}, found {shown(value)}{why}"))
        if "enum" in schema and not any(json_equal(value, option) for option in schema["enum"]):
            options = ", ".join(shown(option) for option in schema["enum"])
            found.append(Found(path, f"expected one of {options}, found {shown(value)}"))
        if isinstance(value, str):
            found += self._string(schema, value, path)
        elif is_type(value, "number"):
            found += self._number(schema, value, path)
        elif isinstance(value, list | tuple):
            found += self._array(schema, value, path)
        elif isinstance(value, dict):
            found += self._object(schema, value, path)
        for sub in schema.get("allOf", ()):
            found += self.walk(sub, value, path)
        if "anyOf" in schema:
            found += self._any_of(schema["anyOf"], value, path)
        if "if" in schema:
            branch = "then" if not self.walk(schema["if"], value, path) else "else"
            if branch in schema:
                reason = schema[branch].get("description") if isinstance(schema[branch], Mapping) else None
                if reason:
                    self._reasons.append(str(reason))
                found += self.walk(schema[branch], value, path)
                if reason:
                    self._reasons.pop()
        return found

    def _string(self, schema: Mapping[str, Any], value: str, path: Path) -> list[Found]:
        if "format" in schema:
            message = format_problem(schema["format"], value)
            if message is not None:
                return [Found(path, message, from_format=True)]
        found: list[Found] = []
        if "minLength" in schema and len(value) < schema["minLength"]:
            found.append(
                Found(
                    path,
                    f"expected at least {schema['minLength']} characters, found {len(value)}: {shown(value)}",
                )
            )
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(
                Found(
                    path,
                    f"expected at most {schema['maxLength']} characters, found {len(value)}: {shown(value)}",
                )
            )
        if "pattern" in schema and not compiled_pattern(schema["pattern"]).search(value):
            found.append(Found(path, f"expected text matching /{schema['pattern']}/, found {shown(value)}"))
        return found

    @staticmethod
    def _number(schema: Mapping[str, Any], value: float, path: Path) -> list[Found]:
        bounds: tuple[tuple[str, Callable[[float, float], bool], str], ...] = (
            ("minimum", operator.ge, "at least"),
            ("maximum", operator.le, "at most"),
            ("exclusiveMinimum", operator.gt, "more than"),
            ("exclusiveMaximum", operator.lt, "less than"),
        )
        return [
            Found(path, f"expected a number {words} {schema[key]}, found {shown(value)}")
            for key, holds, words in bounds
            if key in schema and not holds(value, schema[key])
        ]

    def _array(self, schema: Mapping[str, Any], value: Sequence[Any], path: Path) -> list[Found]:
        found: list[Found] = []
        if "minItems" in schema and len(value) < schema["minItems"]:
            found.append(Found(path, f"expected at least {schema['minItems']} entries, found {len(value)}"))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            found.append(Found(path, f"expected at most {schema['maxItems']} entries, found {len(value)}"))
        if schema.get("uniqueItems"):
            seen: set[Any] = set()
            for index, item in enumerate(value):
                key = frozen(item)
                if key in seen:
                    found.append(Found((*path, index), f"expected distinct entries, found {shown(item)} again"))
                seen.add(key)
        if "items" in schema:
            for index, item in enumerate(value):
                found += self.walk(schema["items"], item, (*path, index))
        return found

    def _object(self, schema: Mapping[str, Any], value: Mapping[str, Any], path: Path) -> list[Found]:
        found: list[Found] = []
        for name in schema.get("required", ()):
            if name not in value:
                found.append(Found((*path, name), f"expected a value for required field {name}, found nothing"))
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            found.append(Found(path, f"expected at least {schema['minProperties']} fields, found {len(value)}"))
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            found.append(Found(path, f"expected at most {schema['maxProperties']} fields, found {len(value)}"))
        properties: Mapping[str, Any] = schema.get("properties", {})
        pattern_properties: Mapping[str, Any] = schema.get("patternProperties", {})
        for raw_key, item in value.items():
            key = raw_key if isinstance(raw_key, str) else repr(raw_key)
            matched = False
            if key in properties:
                matched = True
                found += self.walk(properties[key], item, (*path, key))
            for pattern, sub in pattern_properties.items():
                if compiled_pattern(pattern).search(key):
                    matched = True
                    found += self.walk(sub, item, (*path, key))
            if not matched and "additionalProperties" in schema:
                extra = schema["additionalProperties"]
                if extra is False:
                    allowed = ", ".join(properties) or "none"
                    found.append(Found((*path, key), f"expected only known fields ({allowed}), found {key!r}"))
                else:
                    found += self.walk(extra, item, (*path, key))
        return found

    def _any_of(self, branches: Sequence[Any], value: Any, path: Path) -> list[Found]:
        results = [self.walk(branch, value, path) for branch in branches]
        if any(not result for result in results):
            return []
        # When only one branch accepts the value's JSON type, its own problems say most.
        typed = [
            result
            for branch, result in zip(branches, results, strict=True)
            if isinstance(branch, Mapping) and "type" in branch and is_type(value, branch["type"])
        ]
        if len(typed) == 1:
            return typed[0]
        # Several branches fit the type. A format failure in one of them is the real story (e.g. a
        # well-formed code with a wrong check digit); otherwise say what each branch would take.
        for result in results:
            if any(item.from_format for item in result):
                return result
        summaries = " or ".join(_summary(branch) for branch in branches)
        return [Found(path, f"expected {summaries}, found {shown(value)}")]


def _summary(branch: Any) -> str:
    if not isinstance(branch, Mapping):
        return "anything" if branch else "nothing"
    text = str(branch.get("description", "another form"))
    if "enum" in branch:
        text += " (" + ", ".join(str(option) for option in branch["enum"]) + ")"
    return text


@cache
def compiled_pattern(pattern: str) -> re.Pattern[str]:
    # ECMA-262 '$' ends the input; Python's also matches before a final newline. fastjsonschema rewrites '$' to
    # '\Z' the same way, so both validators here reject a trailing newline.
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern))


# ---------------------------------------------------------------------------------------------------------
# Compiled validators and title indexes (built once per product, lazily)


def collect_titles(schema: Any, root: Mapping[str, Any], path: Path, out: dict[Path, str], depth: int = 0) -> None:
    if not isinstance(schema, Mapping) or depth > 40:
        return
    if "title" in schema:
        out.setdefault(path, str(schema["title"]))
    if "$ref" in schema:
        collect_titles(Walker(root).resolve(schema["$ref"]), root, path, out, depth + 1)
    for key, sub in schema.get("properties", {}).items():
        collect_titles(sub, root, (*path, key), out, depth + 1)
    if "items" in schema:
        collect_titles(schema["items"], root, (*path, "*"), out, depth + 1)
    for keyword in ("allOf", "anyOf"):
        for sub in schema.get(keyword, ()):
            collect_titles(sub, root, path, out, depth + 1)
    for keyword in ("then", "else"):
        collect_titles(schema.get(keyword), root, path, out, depth + 1)
