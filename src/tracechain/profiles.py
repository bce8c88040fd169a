"""Event validation against the product profiles, and the one entry point for every problem of an event.

This module owns the JSON Schemas in ``tracechain.schemas`` (the envelope ``event.schema.json`` and one
``profile-<product>.json`` per product) and the checks JSON Schema cannot express: real calendar dates and the
check digits of identifiers, which the schemas mark with ``format`` (``date``, ``date-time``, ``tc-uscc``,
``tc-gtin``, ``tc-sc-licence``, ``tc-vet-trace-code``, ``tc-code``), and the rules between two dates.

The event model (`tracechain.events`) walks the envelope; `profile_problems` checks the profile. A valid event
costs one call of a fastjsonschema validator, compiled once per product and per combination of the values its
rules test (type, bizStep, disposition, and KDEs such as ``inspection_result``) with those rules already resolved
(`tracechain._facts`), made by fastjsonschema on first use and cached on disk for later processes
(`tracechain._compiled`); the format checks run inside it. Only when something is wrong does a small interpreter
(`tracechain._schemawalk`) walk the schema to collect every problem with a message a person can act on; it covers
exactly the keywords the schemas use (:data:`SUPPORTED_KEYWORDS`), so it agrees with the compiled validator.
`problems` and `validate` give the event model's whole verdict.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Final

from tracechain import _compiled, _facts
from tracechain._schemawalk import (
    FAST_FORMATS,
    Found,
    Path,
    Problem,
    Walker,
    check_date,
    collect_titles,
    render_path,
    shown,
    title_key,
)
from tracechain.errors import ValidationError

__all__ = [
    "ENVELOPE_SCHEMA",
    "PRODUCTS",
    "SUPPORTED_KEYWORDS",
    "load_schema",
    "problems",
    "profile_problems",
    "schema_names",
    "titled",
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
# Compiled validators and title indexes (built once per product, lazily)


@dataclass(frozen=True, slots=True)
class _Profile:
    schema: dict[str, Any]
    """The envelope and the profile together: what the walker reports against."""
    alone: dict[str, Any]
    """The profile without the envelope: what the fast path checks (tracechain.events walks the envelope)."""
    titles: dict[Path, str]
    facts: _facts.FactReader


def _holds(condition: Any, instance: Any) -> bool:
    return not Walker({}).walk(condition, instance, ())


@cache
def _general(product: str) -> Callable[[Any], Any]:
    """The validator for events whose facts cannot be read (a tc:kde that is not an object: invalid anyway)."""
    return _compile(_profile(product).alone, product)


@lru_cache(maxsize=512)
def _specialised(product: str, facts: tuple[Any, ...]) -> Callable[[Any], Any]:
    profile = _profile(product)
    schema = _facts.specialise(profile.alone, profile.facts.instance(facts), _holds)
    return _compile(schema, product)


def _inline_refs(schema: Any, root: Mapping[str, Any], walker: Walker, depth: int = 0) -> Any:
    # fastjsonschema formats a name with locals() on every call through a $ref inside an array; inlining the
    # (non-recursive) definitions avoids that. Siblings of $ref are annotations only, so nothing changes.
    if depth > 40:
        raise ValidationError("schema: $ref nesting deeper than 40, expected no recursive definitions")
    if isinstance(schema, list):
        return [_inline_refs(item, root, walker, depth + 1) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    if "$ref" in schema:
        target = walker.resolve(schema["$ref"])
        merged = {**{k: v for k, v in schema.items() if k != "$ref"}, **target}
        return _inline_refs(merged, root, walker, depth + 1)
    return {
        key: value if key in ("$defs", "enum", "const", "required") else _inline_refs(value, root, walker, depth + 1)
        for key, value in schema.items()
    }


def _compile(schema: Mapping[str, Any], product: str | None) -> Callable[[Any], Any]:
    flat = _inline_refs(schema, schema, Walker(schema))
    flat.pop("$defs", None)
    try:
        validator: Callable[[Any], Any] = _compiled.compile_validator(flat, FAST_FORMATS)
    except _compiled.DefinitionException as e:  # a broken schema file: a packaging fault
        raise ValidationError(f"schema for {product or 'the envelope'} does not compile: {e}") from e
    return validator


@cache
def _profile(product: str | None) -> _Profile:
    schema = _read_schema(ENVELOPE_SCHEMA)
    alone: dict[str, Any] = {}
    if product is not None:
        alone = _read_schema(f"profile-{product}")
        alone.pop("$schema", None)
        schema["allOf"] = [*schema.get("allOf", ()), alone]
    titles: dict[Path, str] = {}
    collect_titles(schema, schema, (), titles)
    known: dict[_facts.FactPath, set[tuple[type, Any]]] = {}
    _facts.collect(alone, known)
    return _Profile(schema=schema, alone=alone, titles=titles, facts=_facts.FactReader(known))


# ---------------------------------------------------------------------------------------------------------
# Checks across fields


def _cross_field(event: Mapping[str, Any]) -> list[Found]:
    """Rules between two dates: expiry not before production, production not after the event's own day."""
    kde = event.get("tc:kde")
    if not isinstance(kde, dict):
        return []
    produced, expires = kde.get("production_date"), kde.get("expiry_date")
    if not isinstance(produced, str) or check_date(produced) is not None:
        return []
    out = []
    if isinstance(expires, str) and check_date(expires) is None and expires < produced:  # ISO dates sort as text
        out.append(
            Found(
                ("tc:kde", "expiry_date"),
                f"expected a date on or after the production date {produced}, found {shown(expires)}",
            )
        )
    day = _local_day(event)
    if day is not None and produced > day and check_date(day) is None:  # (an impossible day is the envelope's)
        out.append(
            Found(
                ("tc:kde", "production_date"),
                f"expected a date on or before the day of the event ({day} where it happened), found {shown(produced)}",
            )
        )
    return out


_OFFSET_RE: Final = re.compile(r"([+-])([0-9]{2}):([0-9]{2})")


def _local_day(event: Mapping[str, Any]) -> str | None:
    """The calendar day of ``eventTime`` at ``eventTimeZoneOffset`` (where the event happened), if both are sound."""
    time, offset = event.get("eventTime"), event.get("eventTimeZoneOffset")
    if not isinstance(time, str) or not isinstance(offset, str) or len(time) < 20:
        return None
    if time.endswith(offset) or (time.endswith("Z") and offset in ("+00:00", "-00:00")):
        return time[:10]  # written at the event's own offset: the day is as written
    m = _OFFSET_RE.fullmatch(offset)
    if m is None:
        return None
    try:
        moment = datetime.fromisoformat(time[:19] + ("+00:00" if time.endswith("Z") else time[-6:]))
        there = timezone((1 if m[1] == "+" else -1) * timedelta(hours=int(m[2]), minutes=int(m[3])))
        return moment.astimezone(there).date().isoformat()
    except (ValueError, OverflowError):  # not a time, or at the edge of the calendar: the envelope says so
        return None


# ---------------------------------------------------------------------------------------------------------
# Public API


def _with_title(item: Found, titles: Mapping[Path, str]) -> Problem:
    key = title_key(item.path)
    title = titles.get(key)
    if title is None and key:  # an unknown field: name the object it sits in
        title = titles.get(key[:-1])
    return render_path(item.path), f"{item.text} ({title})" if title else item.text


def _collect(event: dict[str, Any], compiled: _Profile, schema: Mapping[str, Any] | None = None) -> list[Problem]:
    """Every problem the walker finds against ``schema`` (default: envelope and profile), titled."""
    schema = compiled.schema if schema is None else schema
    found = Walker(schema).walk(schema, event, ())
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

    A valid event costs one call of the profile's compiled validator, specialised to the event's facts (see
    `tracechain._facts`); only a failure walks the profile schema to list every problem, each with its field's
    Chinese title.
    """
    data = event if isinstance(event, dict) else dict(event)
    profile = _profile(product)
    facts = profile.facts.of(data)
    fast = _general(product) if facts is None else _specialised(product, facts)
    try:
        fast(data)
    except (_compiled.ValueException, TypeError, ValueError, RecursionError):
        # Input no JSON document can hold (non-string keys, odd objects) can trip the generated code; the
        # walker reports it properly.
        return _collect(data, profile, profile.alone)
    if not _cross_field(data):
        return []
    return _collect(data, profile, profile.alone)


def titled(found: Sequence[Problem], product: str | None = None) -> list[Problem]:
    """Problems given as (JSON path, message) with the field's Chinese title appended, as the schemas name it."""
    titles = _profile(product if product in PRODUCTS else None).titles
    out = []
    for path, message in found:
        key = _parse_path(path)
        title = None
        if key is not None:
            # An unknown field: name the object it sits in.
            title = titles.get(title_key(key)) or (titles.get(title_key(key[:-1])) if key else None)
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
