"""Resolving a profile's conditional rules before compiling it, so a valid event raises no exception.

A profile's rules are ``if``/``then`` on a few values: the event's type, bizStep, disposition and action, and KDEs
such as ``inspection_result`` or ``iodised``. fastjsonschema evaluates an ``if`` by raising (and formatting) an
exception whenever the condition fails, which on most events it does, once per rule. Every condition in the
schemas is a `const` or `enum` test on such values, so the values an event has for them (its *facts*) decide every
branch: `Facts.of` reads them from an event in a few lookups, and `specialise` replaces each condition by the
branch it takes, leaving a schema without conditions to compile once per set of facts.

Values that no condition names are folded into one ``OTHER`` fact, so an unknown bizStep or a KDE of the wrong
type costs no new compilation; a condition on anything else is left for the validator to evaluate as written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

__all__: list[str] = []  # private to tracechain.profiles

ABSENT: Final = "\x00absent"
OTHER: Final = "\x00other"
_KDE: Final = "tc:kde"

FactPath = tuple[str, ...]
Holds = Callable[[Any, Any], bool]
"""(condition schema, instance) → whether the instance satisfies the condition."""


def _leaf(schema: Any) -> bool:
    return isinstance(schema, Mapping) and bool(schema) and set(schema) <= {"const", "enum"}


def is_condition(schema: Any, *, nested: bool = True) -> bool:
    """Whether an ``if`` tests only values with ``const``/``enum`` (and ``tc:kde`` members the same way)."""
    if not isinstance(schema, Mapping) or set(schema) - {"required", "properties"}:
        return False
    for key, sub in schema.get("properties", {}).items():
        if not (_leaf(sub) or (nested and key == _KDE and is_condition(sub, nested=False))):
            return False
    return True


def collect(schema: Any, out: dict[FactPath, set[tuple[type, Any]]], prefix: FactPath = ()) -> None:
    """Every value a condition in ``schema`` tests, by path: ``("bizStep",)``, ``("tc:kde", "iodised")``."""
    if not isinstance(schema, Mapping):
        return
    condition = schema.get("if")
    if isinstance(condition, Mapping) and is_condition(condition, nested=not prefix):
        _collect_condition(condition, out, prefix)
    for sub in (*schema.get("allOf", ()), schema.get("then"), schema.get("else")):
        collect(sub, out, prefix)
    if not prefix and isinstance(schema.get("properties"), Mapping):
        collect(schema["properties"].get(_KDE), out, (_KDE,))


def _collect_condition(
    condition: Mapping[str, Any], out: dict[FactPath, set[tuple[type, Any]]], prefix: FactPath
) -> None:
    for key in condition.get("required", ()):
        out.setdefault((*prefix, key), set())
    for key, sub in condition.get("properties", {}).items():
        values = out.setdefault((*prefix, key), set())
        if _leaf(sub):
            named = [*sub.get("enum", ()), *([sub["const"]] if "const" in sub else [])]
            values.update((type(v), v) for v in named)
        else:
            _collect_condition(sub, out, (*prefix, key))


class FactReader:
    """Reads an event's facts: for each path a condition tests, the value, `ABSENT`, or `OTHER`."""

    __slots__ = ("_kde", "_kde_matters", "_kde_paths", "_top", "_top_paths", "paths")

    def __init__(self, known: Mapping[FactPath, set[tuple[type, Any]]]) -> None:
        self.paths: tuple[FactPath, ...] = tuple(sorted(known))
        self._top_paths = tuple(p[0] for p in self.paths if len(p) == 1)
        self._kde_paths = tuple(p[1] for p in self.paths if len(p) == 2 and p[0] == _KDE)
        # For each path, the strings and the booleans a condition names (kept apart: true is not 1 in JSON).
        self._top = tuple((key, *_named(known[(key,)])) for key in self._top_paths)
        self._kde = tuple((key, *_named(known[(_KDE, key)])) for key in self._kde_paths)
        # A tc:kde that is not an object satisfies every test on its members (JSON Schema applies `properties`
        # to objects only): such events take the unspecialised validator.
        self._kde_matters = bool(self._kde_paths) or _KDE in self._top_paths

    def of(self, event: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The facts of ``event`` in `paths` order; None when ``tc:kde`` is there but not an object.

        Each fact is the value itself when a condition names it, `ABSENT`, or `OTHER`. This runs for every event,
        so the folding is written out here rather than called. ABSENT is itself a string (one no JSON value is
        identical to), so a missing member takes the string branch and is told apart by identity.
        """
        out: list[Any] = []
        append = out.append
        for key, strings, booleans in self._top:
            value = event.get(key, ABSENT)
            t = type(value)
            if t is str:
                append(value if value in strings else ABSENT if value is ABSENT else OTHER)
            elif t is bool:
                append(value if value in booleans else OTHER)
            else:
                append(OTHER)
        if self._kde_matters:
            kde = event.get(_KDE, ABSENT)
            if kde is not ABSENT and type(kde) is not dict:
                return None
            members: Mapping[str, Any] = event[_KDE] if kde is not ABSENT else {}
            for key, strings, booleans in self._kde:
                value = members.get(key, ABSENT)
                t = type(value)
                if t is str:
                    append(value if value in strings else ABSENT if value is ABSENT else OTHER)
                elif t is bool:
                    append(value if value in booleans else OTHER)
                else:
                    append(OTHER)
        return tuple(out)

    def instance(self, facts: tuple[Any, ...]) -> dict[str, Any]:
        """A stand-in event holding exactly the facts, for evaluating conditions on."""
        out: dict[str, Any] = {}
        paths = (*((k,) for k in self._top_paths), *((_KDE, k) for k in self._kde_paths))
        for path, value in zip(paths, facts, strict=True):
            if value is ABSENT:
                continue
            if len(path) == 1:
                out[path[0]] = {} if path[0] == _KDE and value is OTHER else value
            else:
                kde = out.setdefault(_KDE, {})
                if isinstance(kde, dict):
                    kde[path[1]] = value
        return out


def _named(values: set[tuple[type, Any]]) -> tuple[frozenset[str], frozenset[bool]]:
    return (
        frozenset(v for t, v in values if t is str),
        frozenset(v for t, v in values if t is bool),
    )


def specialise(schema: Any, instance: Mapping[str, Any], holds: Holds, *, kde_level: bool = False) -> Any:
    """``schema`` with every condition replaced by the branch ``instance`` (the facts) takes."""
    if not isinstance(schema, Mapping):
        return schema
    out = dict(schema)
    if "if" in out and is_condition(out["if"], nested=not kde_level):
        condition = out.pop("if")
        then, otherwise = out.pop("then", True), out.pop("else", True)
        out["allOf"] = [*out.get("allOf", ()), then if holds(condition, instance) else otherwise]
    if "allOf" in out:
        out["allOf"] = [specialise(sub, instance, holds, kde_level=kde_level) for sub in out["allOf"]]
    if not kde_level and isinstance(out.get("properties"), Mapping) and _KDE in out["properties"]:
        kde = instance.get(_KDE, {})
        properties = dict(out["properties"])
        properties[_KDE] = specialise(properties[_KDE], kde if isinstance(kde, Mapping) else {}, holds, kde_level=True)
        out["properties"] = properties
    return out
