"""The envelope schema, read once: the values and per-type rules the envelope walk tests against.

``schemas/event.schema.json`` is the one statement of a valid envelope. This module reads from it the event types,
actions, CBV vocabularies (bare words, CBV URIs of those words, and other URIs), the URI, time, offset, unit and
extension-name patterns, the limits, and each event type's required, forbidden and non-empty fields, so that the
fast walk (`tracechain._envelope`) cannot drift from the schema; tests/test_differential.py holds the two to the
same verdict.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Final

__all__: list[str] = []  # private: tracechain.events re-exports what is public


def _load_schema() -> dict[str, Any]:
    # Read beside the package's __init__ rather than through importlib.resources: every command that touches an
    # event imports this module, and importlib.resources brings zipfile, tempfile and shutil with it.
    spec = find_spec("tracechain.schemas")
    path = Path(spec.origin).with_name("event.schema.json") if spec is not None and spec.origin else None
    if path is not None and path.is_file():
        text = path.read_text(encoding="utf-8")
    else:  # installed somewhere that is not a folder (a zip): the general way
        from importlib import resources

        text = resources.files("tracechain.schemas").joinpath("event.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


_SCHEMA: Final = _load_schema()
_PROPS: Final[dict[str, Any]] = _SCHEMA["properties"]
_DEFS: Final[dict[str, Any]] = _SCHEMA["$defs"]


def _regex(pattern: str) -> re.Pattern[str]:
    # ECMA-262 '$' ends the input; Python's also matches before a final newline, so it becomes '\Z'.
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern))


def _cbv(schema: Mapping[str, Any]) -> tuple[frozenset[str], re.Pattern[str], re.Pattern[str]]:
    """A CBV field's schema (anyOf: bare words, CBV URIs of those words, other URIs) as three tests."""
    words, cbv_uri, other_uri = schema["anyOf"]
    return frozenset(words["enum"]), _regex(cbv_uri["pattern"]), _regex(other_uri["pattern"])


EVENT_TYPES: Final = frozenset(_PROPS["type"]["enum"])
ACTIONS: Final = frozenset(_PROPS["action"]["enum"])
PRODUCTS: Final = frozenset(_PROPS["tc:product"]["enum"])
VOCABULARIES: Final = {
    "bizStep": _cbv(_PROPS["bizStep"]),
    "disposition": _cbv(_DEFS["disposition"]),
    "sourceDest": _cbv(_DEFS["cbvSourceDestType"]),
    "bizTransaction": _cbv(_PROPS["bizTransactionList"]["items"]["properties"]["type"]),
    "errorReason": _cbv(_PROPS["errorDeclaration"]["properties"]["reason"]),
}
BIZ_STEPS: Final = VOCABULARIES["bizStep"][0]
DISPOSITIONS: Final = VOCABULARIES["disposition"][0]
SOURCE_DEST_TYPES: Final = VOCABULARIES["sourceDest"][0]
BIZ_TRANSACTION_TYPES: Final = VOCABULARIES["bizTransaction"][0]

URI: Final = _regex(_DEFS["uri"]["pattern"])
TIME: Final = _regex(_DEFS["dateTime"]["pattern"])
OFFSET: Final = _regex(_PROPS["eventTimeZoneOffset"]["pattern"])
UOM: Final = _regex(_DEFS["quantityList"]["items"]["properties"]["uom"]["pattern"])
EXTENSION: Final = _regex(next(iter(_SCHEMA["patternProperties"])))
NAMESPACED: Final = _regex(next(iter(_PROPS["errorDeclaration"]["patternProperties"])))

MAX_TEXT: Final[int] = _DEFS["uri"]["maxLength"]
"""Characters in any string of an event (codes, URIs, free text, object keys)."""
MAX_LIST: Final[int] = _DEFS["itemList"]["maxItems"]
"""Items in any list of an event."""
MAX_MEMBERS: Final[int] = _SCHEMA["maxProperties"]
"""Members of any object of an event, the event itself included."""
MAX_DEPTH: Final = 16
"""Levels of nested objects and lists, the event itself being level 1 (GS1's richest example needs 9)."""
MAX_EVENT_BYTES: Final = 16 << 20
"""Canonical bytes of one event (a list of 100,000 Digital Link codes takes about 6 MiB)."""
MAX_PROBLEMS: Final = 100
"""Problems listed for one event; the rest are counted."""
EARLIEST_TIME: Final = datetime(2000, 1, 1, tzinfo=UTC)
"""No time in an event may be earlier: it catches year-1 and mistyped-century times."""
FUTURE_TOLERANCE: Final = timedelta(days=1)
"""How far past the clock a time in an event may lie (clocks drift; scheduled events are not recorded early)."""

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MICRO: Final = timedelta(microseconds=1)
EARLIEST_MICROS: Final = (EARLIEST_TIME - EPOCH) // MICRO

CODE_LISTS: Final = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
QUANTITY_LISTS: Final = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
NUMBER_KEYS: Final = ("value", "minValue", "maxValue", "meanValue")


class _Branch:
    """One alternative of a type's ``anyOf``: fields that must be present, and those of them that must be non-empty."""

    __slots__ = ("description", "nonempty", "required")

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.description = str(schema["description"])
        self.required = tuple(schema["required"])
        self.nonempty = tuple(key for key, sub in schema.get("properties", {}).items() if sub.get("minItems"))

    def holds(self, d: Mapping[str, Any]) -> bool:
        for key in self.required:
            if key not in d:
                return False
        for key in self.nonempty:  # noqa: SIM110 - a loop: all() with a generator costs more per event
            # As JSON Schema reads it: minItems says nothing about a value that is not a list.
            if d[key] == []:
                return False
        return True


class TypeRules:
    """What the envelope's ``allOf`` asks of one event type: required, forbidden and non-empty fields."""

    __slots__ = ("add_branches", "branches", "forbidden", "nonempty", "required")

    def __init__(self, then: Mapping[str, Any]) -> None:
        properties = then.get("properties", {})
        self.required = tuple(then.get("required", ()))
        self.forbidden = frozenset(key for key, sub in properties.items() if sub is False)
        self.nonempty = tuple(key for key, sub in properties.items() if isinstance(sub, dict) and sub.get("minItems"))
        self.branches = tuple(_Branch(b) for b in then.get("anyOf", ()))
        # AggregationEvent: children are required only when the action is ADD.
        self.add_branches = tuple(_Branch(b) for b in then.get("then", {}).get("anyOf", ()))


TYPE_RULES: Final = {rule["if"]["properties"]["type"]["const"]: TypeRules(rule["then"]) for rule in _SCHEMA["allOf"]}
REQUIRED: Final = tuple(key for key in _SCHEMA["required"] if key != "type")

# A plain EPCIS event (no tc:product): the envelope's `else` branch.
_PLAIN: Final[dict[str, Any]] = _SCHEMA["else"]["properties"]
PLAIN_RULE: Final[str] = _SCHEMA["else"]["description"]
PLAIN_FORBIDDEN: Final = tuple(key for key, sub in _PLAIN.items() if sub is False)
PLAIN_ILMD_NAME: Final = _regex(next(iter(_PLAIN["ilmd"]["patternProperties"])))
