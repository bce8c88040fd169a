"""Event validation against the envelope schema and the product profiles, reporting every problem.

This module owns the JSON Schemas in ``tracechain.schemas`` (the envelope ``event.schema.json`` and one
``profile-<product>.json`` per product) and the checks JSON Schema cannot express: real calendar dates and the
check digits of identifiers, which the schemas mark with ``format`` (``date``, ``date-time``, ``tc-uscc``,
``tc-gtin``, ``tc-sc-licence``, ``tc-vet-trace-code``, ``tc-code``). It is the only module that imports
``fastjsonschema``.

A valid event costs one call of a fastjsonschema validator, compiled once per product and per combination of the
fields the step rules look at (type, bizStep, disposition, action) with those rules already resolved; the format
checks run inside it. Only when something is wrong does a small interpreter walk the same schema to collect every
problem with a message a person can act on; it covers exactly the keywords the schemas use
(:data:`SUPPORTED_KEYWORDS`), so it agrees with the compiled validator.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Final

import fastjsonschema

from tracechain.errors import IdentifierError, ValidationError
from tracechain.identifiers import (
    canonical_code,
    validate_gtin,
    validate_sc_licence,
    validate_uscc,
    validate_vet_trace_code,
)

__all__ = [
    "ENVELOPE_SCHEMA",
    "PRODUCTS",
    "SUPPORTED_KEYWORDS",
    "load_schema",
    "problems",
    "schema_names",
    "validate",
]

PRODUCTS: Final = ("edible_oil", "food", "infant_formula", "liquor", "salt", "vet_drug")
"""The values of ``tc:product``; each has a schema ``profile-<product>``."""

ENVELOPE_SCHEMA: Final = "event.schema"
"""Name of the envelope schema (every event), as :func:`load_schema` takes it."""

SUPPORTED_KEYWORDS: Final = frozenset(
    {
        "$schema", "$defs", "$ref", "$comment", "title", "description", "examples",
        "type", "enum", "const", "format", "pattern", "minLength", "maxLength",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
        "items", "minItems", "maxItems", "uniqueItems",
        "properties", "patternProperties", "additionalProperties", "required", "minProperties", "maxProperties",
        "allOf", "anyOf", "if", "then", "else",
    }
)  # fmt: skip
"""The JSON Schema keywords tracechain's schemas may use: both validators here handle them the same way."""

_SCHEMA_PACKAGE: Final = "tracechain.schemas"
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
# Loading schemas


def schema_names() -> list[str]:
    """Names of the schemas shipped in ``tracechain.schemas``: the envelope and one profile per product."""
    return sorted(
        entry.name.removesuffix(".json")
        for entry in resources.files(_SCHEMA_PACKAGE).iterdir()
        if entry.name.endswith(".json")
    )


def load_schema(name: str) -> dict[str, Any]:
    """The schema ``name`` (with or without ``.json``) as a fresh dict, read from ``tracechain.schemas``."""
    if not isinstance(name, str) or name.removesuffix(".json") not in schema_names():
        raise ValidationError(f"schema {name!r}: expected one of {', '.join(schema_names())}, found no such schema")
    return _read_schema(name.removesuffix(".json"))


def _read_schema(name: str) -> dict[str, Any]:
    text = resources.files(_SCHEMA_PACKAGE).joinpath(f"{name}.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


# ---------------------------------------------------------------------------------------------------------
# Format checks: what the patterns cannot say. Each returns None when the value is fine, else a message.


def _check_date(value: str) -> str | None:
    m = _DATE_RE.match(value)
    if m is None:  # a shape the schema's pattern reports
        return None
    try:
        date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as e:
        return f"expected a real calendar date, found {_found(value)} ({e})"
    return None


def _identifier_check(check: Callable[[str], str]) -> Callable[[str], str | None]:
    def run(value: str) -> str | None:
        try:
            check(value)
        except IdentifierError as e:
            return str(e)
        return None

    return run


_FORMAT_CHECKS: Final[dict[str, Callable[[str], str | None]]] = {
    "date": _check_date,
    # The pattern has fixed the shape; only the calendar date can still be impossible.
    "date-time": _check_date,
    "tc-uscc": _identifier_check(validate_uscc),
    "tc-gtin": _identifier_check(validate_gtin),
    "tc-sc-licence": _identifier_check(validate_sc_licence),
    "tc-vet-trace-code": _identifier_check(validate_vet_trace_code),
    "tc-code": _identifier_check(canonical_code),
}

# Values that passed a format check. Enterprise codes, licences and dates repeat across a producer's events,
# so remembering them keeps the happy path short; the bound keeps memory flat.
_valid_values: dict[tuple[str, str], None] = {}


def _format_problem(fmt: str, value: str) -> str | None:
    key = (fmt, value)
    if key in _valid_values:
        return None
    check = _FORMAT_CHECKS.get(fmt)
    message = None if check is None else check(value)
    if message is None:
        if len(_valid_values) >= _VALID_CACHE_MAX:
            _valid_values.clear()
        _valid_values[key] = None
    return message


def _format_ok(fmt: str) -> Callable[[str], bool]:
    def ok(value: str) -> bool:
        return _format_problem(fmt, value) is None

    return ok


# The compiled validators run the same checks inline (a custom format overrides fastjsonschema's own "date"
# and "date-time"), so a valid event is checked in one call.
_FAST_FORMATS: Final = {fmt: _format_ok(fmt) for fmt in _FORMAT_CHECKS}


# ---------------------------------------------------------------------------------------------------------
# Messages


def _found(value: object) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _FOUND_MAX else text[: _FOUND_MAX - 1] + "…"


def _is_type(value: object, name: str) -> bool:
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


def _frozen(value: object) -> Any:
    """A hashable stand-in equal for JSON-equal values (1 and 1.0 alike, true and 1 not), for uniqueItems."""
    if isinstance(value, bool):
        return (bool, value)
    if isinstance(value, list | tuple):
        return (list, tuple(_frozen(item) for item in value))
    if isinstance(value, Mapping):
        return (dict, frozenset((key, _frozen(item)) for key, item in value.items()))
    return value


def _json_equal(a: object, b: object) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


def _render_path(path: Path) -> str:
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


def _title_key(path: Path) -> Path:
    return tuple("*" if isinstance(part, int) else part for part in path)


# ---------------------------------------------------------------------------------------------------------
# The all-problems walker


@dataclass(frozen=True, slots=True)
class _Found:
    path: Path
    text: str
    # A format failure explains a value better than the pattern it also breaks.
    from_format: bool = False


class _Walker:
    """Interprets the schema keywords in SUPPORTED_KEYWORDS and lists every problem, not only the first."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self._root = root

    def _resolve(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise ValidationError(f"schema $ref {ref!r}: expected a local JSON pointer, found another form")
        node: Any = self._root
        for token in ref[2:].split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        return node

    def walk(self, schema: Any, value: Any, path: Path) -> list[_Found]:
        if schema is True:
            return []
        if schema is False:
            key = path[-1] if path else "value"
            return [
                _Found(
                    path,
                    f"expected no {key} here (not allowed for this kind of event), found {_found(value)}",
                )
            ]
        found: list[_Found] = []
        if "$ref" in schema:
            found += self.walk(self._resolve(schema["$ref"]), value, path)
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(_is_type(value, t) for t in types):
                expected = " or ".join(str(_JSON_TYPES.get(str(t), t)) for t in types)
                return [*found, _Found(path, f"expected {expected}, found {_found(value)}")]
        if "const" in schema and not _json_equal(value, schema["const"]):
            found.append(_Found(path, f"expected {_found(schema['const'])}, found {_found(value)}"))
        if "enum" in schema and not any(_json_equal(value, option) for option in schema["enum"]):
            options = ", ".join(_found(option) for option in schema["enum"])
            found.append(_Found(path, f"expected one of {options}, found {_found(value)}"))
        if isinstance(value, str):
            found += self._string(schema, value, path)
        elif _is_type(value, "number"):
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
                found += self.walk(schema[branch], value, path)
        return found

    def _string(self, schema: Mapping[str, Any], value: str, path: Path) -> list[_Found]:
        if "format" in schema:
            message = _format_problem(schema["format"], value)
            if message is not None:
                return [_Found(path, message, from_format=True)]
        found: list[_Found] = []
        if "minLength" in schema and len(value) < schema["minLength"]:
            found.append(
                _Found(
                    path,
                    f"expected at least {schema['minLength']} characters, found {len(value)}: {_found(value)}",
                )
            )
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(
                _Found(
                    path,
                    f"expected at most {schema['maxLength']} characters, found {len(value)}: {_found(value)}",
                )
            )
        if "pattern" in schema and not _pattern(schema["pattern"]).search(value):
            found.append(_Found(path, f"expected text matching /{schema['pattern']}/, found {_found(value)}"))
        return found

    @staticmethod
    def _number(schema: Mapping[str, Any], value: float, path: Path) -> list[_Found]:
        bounds: tuple[tuple[str, Callable[[float, float], bool], str], ...] = (
            ("minimum", operator.ge, "at least"),
            ("maximum", operator.le, "at most"),
            ("exclusiveMinimum", operator.gt, "more than"),
            ("exclusiveMaximum", operator.lt, "less than"),
        )
        return [
            _Found(path, f"expected a number {words} {schema[key]}, found {_found(value)}")
            for key, holds, words in bounds
            if key in schema and not holds(value, schema[key])
        ]

    def _array(self, schema: Mapping[str, Any], value: Sequence[Any], path: Path) -> list[_Found]:
        found: list[_Found] = []
        if "minItems" in schema and len(value) < schema["minItems"]:
            found.append(_Found(path, f"expected at least {schema['minItems']} entries, found {len(value)}"))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            found.append(_Found(path, f"expected at most {schema['maxItems']} entries, found {len(value)}"))
        if schema.get("uniqueItems"):
            seen: set[Any] = set()
            for index, item in enumerate(value):
                key = _frozen(item)
                if key in seen:
                    found.append(_Found((*path, index), f"expected distinct entries, found {_found(item)} again"))
                seen.add(key)
        if "items" in schema:
            for index, item in enumerate(value):
                found += self.walk(schema["items"], item, (*path, index))
        return found

    def _object(self, schema: Mapping[str, Any], value: Mapping[str, Any], path: Path) -> list[_Found]:
        found: list[_Found] = []
        for name in schema.get("required", ()):
            if name not in value:
                found.append(_Found((*path, name), f"expected a value for required field {name}, found nothing"))
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            found.append(_Found(path, f"expected at least {schema['minProperties']} fields, found {len(value)}"))
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            found.append(_Found(path, f"expected at most {schema['maxProperties']} fields, found {len(value)}"))
        properties: Mapping[str, Any] = schema.get("properties", {})
        pattern_properties: Mapping[str, Any] = schema.get("patternProperties", {})
        for raw_key, item in value.items():
            key = raw_key if isinstance(raw_key, str) else repr(raw_key)
            matched = False
            if key in properties:
                matched = True
                found += self.walk(properties[key], item, (*path, key))
            for pattern, sub in pattern_properties.items():
                if _pattern(pattern).search(key):
                    matched = True
                    found += self.walk(sub, item, (*path, key))
            if not matched and "additionalProperties" in schema:
                extra = schema["additionalProperties"]
                if extra is False:
                    allowed = ", ".join(properties) or "none"
                    found.append(_Found((*path, key), f"expected only known fields ({allowed}), found {key!r}"))
                else:
                    found += self.walk(extra, item, (*path, key))
        return found

    def _any_of(self, branches: Sequence[Any], value: Any, path: Path) -> list[_Found]:
        results = [self.walk(branch, value, path) for branch in branches]
        if any(not result for result in results):
            return []
        # When only one branch accepts the value's JSON type, its own problems say most.
        typed = [
            result
            for branch, result in zip(branches, results, strict=True)
            if isinstance(branch, Mapping) and "type" in branch and _is_type(value, branch["type"])
        ]
        if len(typed) == 1:
            return typed[0]
        # Several branches fit the type. A format failure in one of them is the real story (e.g. a
        # well-formed code with a wrong check digit); otherwise say what each branch would take.
        for result in results:
            if any(item.from_format for item in result):
                return result
        summaries = " or ".join(_summary(branch) for branch in branches)
        return [_Found(path, f"expected {summaries}, found {_found(value)}")]


def _summary(branch: Any) -> str:
    if not isinstance(branch, Mapping):
        return "anything" if branch else "nothing"
    text = str(branch.get("description", "another form"))
    if "enum" in branch:
        text += " (" + ", ".join(str(option) for option in branch["enum"]) + ")"
    return text


@cache
def _pattern(pattern: str) -> re.Pattern[str]:
    # ECMA-262 '$' ends the input; Python's also matches before a final newline. fastjsonschema rewrites '$' to
    # '\Z' the same way, so both validators here reject a trailing newline.
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern))


# ---------------------------------------------------------------------------------------------------------
# Compiled validators and title indexes (built once per product, lazily)


def _titles(schema: Any, root: Mapping[str, Any], path: Path, out: dict[Path, str], depth: int = 0) -> None:
    if not isinstance(schema, Mapping) or depth > 40:
        return
    if "title" in schema:
        out.setdefault(path, str(schema["title"]))
    if "$ref" in schema:
        _titles(_Walker(root)._resolve(schema["$ref"]), root, path, out, depth + 1)
    for key, sub in schema.get("properties", {}).items():
        _titles(sub, root, (*path, key), out, depth + 1)
    if "items" in schema:
        _titles(schema["items"], root, (*path, "*"), out, depth + 1)
    for keyword in ("allOf", "anyOf"):
        for sub in schema.get(keyword, ()):
            _titles(sub, root, path, out, depth + 1)
    for keyword in ("then", "else"):
        _titles(schema.get(keyword), root, path, out, depth + 1)


# The step rules are `if` conditions on these top-level fields only. Resolving them before compiling keeps
# fastjsonschema from raising (and building) an exception per failed condition on every event.
_FACT_KEYS: Final = ("type", "bizStep", "disposition", "action")
_ABSENT: Final = "\x00absent"
_OTHER: Final = "\x00other"
Facts = tuple[str, ...]


def _fact_condition(schema: Any) -> bool:
    """Whether an `if` schema looks only at fact fields, and only with const/enum."""
    if not isinstance(schema, Mapping) or set(schema) - {"required", "properties"}:
        return False
    properties = schema.get("properties", {})
    return set(schema.get("required", ())) <= set(_FACT_KEYS) and all(
        key in _FACT_KEYS and isinstance(sub, Mapping) and set(sub) <= {"const", "enum"}
        for key, sub in properties.items()
    )


def _fact_values(schema: Any, out: dict[str, set[str]]) -> None:
    if isinstance(schema, Mapping):
        if "if" in schema and _fact_condition(schema["if"]):
            for key, sub in schema["if"].get("properties", {}).items():
                out.setdefault(key, set()).update(str(v) for v in sub.get("enum", ()))
                if "const" in sub:
                    out.setdefault(key, set()).add(str(sub["const"]))
        for sub in (*schema.get("allOf", ()), schema.get("then"), schema.get("else")):
            _fact_values(sub, out)


def _specialise(schema: Any, facts: Mapping[str, str], walker: _Walker) -> Any:
    """``schema`` with every fact-only `if` at the top level replaced by the branch it takes for ``facts``."""
    if not isinstance(schema, Mapping):
        return schema
    out = dict(schema)
    if "if" in out and _fact_condition(out["if"]):
        taken = "then" if not walker.walk(out.pop("if"), dict(facts), ()) else "else"
        branch = out.pop("then", True) if taken == "then" else out.pop("else", True)
        out.pop("then", None)
        out.pop("else", None)
        out = {**out, "allOf": [*out.get("allOf", ()), branch]}
    if "allOf" in out:
        out["allOf"] = [_specialise(sub, facts, walker) for sub in out["allOf"]]
    return out


@dataclass(frozen=True, slots=True)
class _Profile:
    schema: dict[str, Any]
    titles: dict[Path, str]
    fact_values: dict[str, frozenset[str]]

    def facts(self, event: Mapping[str, Any]) -> Facts | None:
        """The event's fact fields, unknown values folded together; None when one is not even a string."""
        out = []
        known = self.fact_values
        for key in _FACT_KEYS:
            value = event.get(key, _ABSENT)
            if type(value) is not str:
                return None
            out.append(value if value is _ABSENT or value in known[key] else _OTHER)
        return tuple(out)


@cache
def _general(product: str | None) -> Callable[[Any], Any]:
    """The validator for events whose fact fields are not all strings (rare: they are invalid anyway)."""
    return _compile(_profile(product).schema, product)


@lru_cache(maxsize=512)
def _specialised(product: str | None, facts: Facts, envelope: bool = True) -> Callable[[Any], Any]:
    compiled = _profile(product)
    known = {key: value for key, value in zip(_FACT_KEYS, facts, strict=True) if value != _ABSENT}
    source = compiled.schema if envelope or product is None else _profile_alone(product)
    schema = _specialise(source, known, _Walker(source))
    return _compile(schema, product)


@cache
def _profile_alone(product: str) -> dict[str, Any]:
    """The product profile without the envelope, for events whose envelope tracechain.events already checked."""
    schema = _read_schema(f"profile-{product}")
    schema.pop("$schema", None)
    return schema


def _inline_refs(schema: Any, root: Mapping[str, Any], walker: _Walker, depth: int = 0) -> Any:
    # fastjsonschema formats a name with locals() on every call through a $ref inside an array; inlining the
    # (non-recursive) definitions avoids that. Siblings of $ref are annotations only, so nothing changes.
    if depth > 40:
        raise ValidationError("schema: $ref nesting deeper than 40, expected no recursive definitions")
    if isinstance(schema, list):
        return [_inline_refs(item, root, walker, depth + 1) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    if "$ref" in schema:
        target = walker._resolve(schema["$ref"])
        merged = {**{k: v for k, v in schema.items() if k != "$ref"}, **target}
        return _inline_refs(merged, root, walker, depth + 1)
    return {
        key: value if key in ("$defs", "enum", "const", "required") else _inline_refs(value, root, walker, depth + 1)
        for key, value in schema.items()
    }


def _compile(schema: Mapping[str, Any], product: str | None) -> Callable[[Any], Any]:
    flat = _inline_refs(schema, schema, _Walker(schema))
    flat.pop("$defs", None)
    try:
        validator: Callable[[Any], Any] = fastjsonschema.compile(flat, formats=_FAST_FORMATS, use_default=False)
    except fastjsonschema.JsonSchemaDefinitionException as e:  # a broken schema file: a packaging fault
        raise ValidationError(f"schema for {product or 'the envelope'} does not compile: {e}") from e
    return validator


@cache
def _profile(product: str | None) -> _Profile:
    schema = _read_schema(ENVELOPE_SCHEMA)
    if product is not None:
        profile = _read_schema(f"profile-{product}")
        profile.pop("$schema", None)
        schema["allOf"] = [*schema.get("allOf", ()), profile]
    titles: dict[Path, str] = {}
    _titles(schema, schema, (), titles)
    values: dict[str, set[str]] = {}
    _fact_values(schema, values)
    return _Profile(
        schema=schema,
        titles=titles,
        fact_values={key: frozenset(values.get(key, ())) for key in _FACT_KEYS},
    )


# ---------------------------------------------------------------------------------------------------------
# Checks across fields


def _cross_field(event: Mapping[str, Any]) -> list[_Found]:
    kde = event.get("tc:kde")
    if not isinstance(kde, dict):
        return []
    produced, expires = kde.get("production_date"), kde.get("expiry_date")
    if not (isinstance(produced, str) and isinstance(expires, str)):
        return []
    if _check_date(produced) is not None or _check_date(expires) is not None:
        return []
    if expires < produced:  # ISO dates compare as text
        return [
            _Found(
                ("tc:kde", "expiry_date"),
                f"expected a date on or after the production date {produced}, found {_found(expires)}",
            )
        ]
    return []


# ---------------------------------------------------------------------------------------------------------
# Public API


def _with_title(item: _Found, titles: Mapping[Path, str]) -> Problem:
    key = _title_key(item.path)
    title = titles.get(key)
    if title is None and key:  # an unknown field: name the object it sits in
        title = titles.get(key[:-1])
    return _render_path(item.path), f"{item.text} ({title})" if title else item.text


def _collect(event: dict[str, Any], compiled: _Profile, schema: Mapping[str, Any] | None = None) -> list[Problem]:
    """Every problem the walker finds against ``schema`` (default: envelope and profile), titled."""
    schema = compiled.schema if schema is None else schema
    found = _Walker(schema).walk(schema, event, ())
    found += _cross_field(event)
    out: list[Problem] = []
    seen: set[Problem] = set()
    for item in found:
        problem = _with_title(item, compiled.titles)
        if problem not in seen:
            seen.add(problem)
            out.append(problem)
    return out


def profile_problems(event: Mapping[str, Any], product: str) -> list[Problem]:
    """The problems of ``event`` against the profile of ``product`` alone (`tracechain.events` walks the envelope).

    A valid event costs one call of the profile's compiled validator, specialised to the event's step; only a
    failure walks the profile schema to list every problem, each with its field's Chinese title.
    """
    data = event if isinstance(event, dict) else dict(event)
    compiled = _profile(product)
    facts = compiled.facts(data)
    fast = _specialised(product, facts, False) if facts is not None else _compile(_profile_alone(product), product)
    try:
        fast(data)
    except (fastjsonschema.JsonSchemaValueException, TypeError, ValueError, RecursionError):
        # Input no JSON document can hold (non-string keys, odd objects) can trip the generated code; the
        # walker reports it properly.
        return _collect(data, compiled, _profile_alone(product))
    if not _cross_field(data):
        return []
    return _collect(data, compiled, _profile_alone(product))


def titled(found: Sequence[Problem], product: str | None = None) -> list[Problem]:
    """Problems given as (JSON path, message) with the field's Chinese title appended, as the schemas name it."""
    titles = _profile(product if product in PRODUCTS else None).titles
    out = []
    for path, message in found:
        key = _parse_path(path)
        title = None
        if key is not None:
            # An unknown field: name the object it sits in.
            title = titles.get(_title_key(key)) or (titles.get(_title_key(key[:-1])) if key else None)
        out.append((path, f"{message} ({title})" if title else message))
    return out


_PATH_PART: Final = re.compile(r"\.([^.\[\]]+)|\[([0-9]+)\]|\[(\"(?:[^\"\\]|\\.)*\")\]")


def _parse_path(path: str) -> Path | None:
    """``$.epcList[0]`` → ``("epcList", 0)``; None for a path this cannot read (a note after it, odd names)."""
    if not path.startswith("$"):
        return None
    parts: list[str | int] = []
    at = 1
    while at < len(path):
        m = _PATH_PART.match(path, at)
        if m is None:
            return None
        parts.append(m[1] if m[1] is not None else int(m[2]) if m[2] is not None else json.loads(m[3]))
        at = m.end()
    return tuple(parts)


def problems(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every problem of one event (its EPCIS JSON dict, as a producer sends it); ``[]`` when it is valid.

    The same verdict as `tracechain.events.Event.from_dict`, which this runs: the envelope schema; the profile
    named by ``tc:product`` with its step rules; real dates; the check digits of identifiers (USCC, GTIN, SC
    licence, vet trace code, item codes); the limits and time rules of docs/products.md; expiry not before
    production, production not after the event. Each problem is ``(json_path, message)``; the message says what
    was expected and what was found, then gives the field's Chinese title in parentheses.
    """
    from tracechain.events import Event  # the event model calls back into this module

    try:
        Event.from_dict(event)
    except ValidationError as e:
        return e.problems
    return []


def validate(event: Mapping[str, Any]) -> None:
    """Raise :class:`~tracechain.errors.ValidationError` listing every problem of ``event``; return if valid."""
    found = problems(event)
    if found:
        path, text = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise ValidationError(f"invalid event: {path}: {text}{more}", found)
