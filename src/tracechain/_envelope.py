"""The envelope walk: every rule of ``schemas/event.schema.json`` checked in one pass over an event, with its
normalisation to the canonical model (docs/SPEC.md §2) and the limits the schema cannot state.

The schema is the one statement of what a valid envelope is. This walk is its fast implementation: the values it
tests against (event types, actions, CBV words, the URI, offset, time and unit patterns, the per-type required and
forbidden fields, the limits) are read from the schema file when the module loads, and a differential test
(tests/test_differential.py) holds its verdict to an independent validator, ``jsonschema``, over the same schema.
It visits each field once; only an invalid event pays for messages. Beyond the schema it enforces what JSON Schema
cannot say: times kept to the microsecond and within `EARLIEST_TIME` and the clock plus `FUTURE_TOLERANCE`; the same
item twice in a list in any spelling; the nesting depth, string, list and object limits inside free values
(``ilmd``, ``tc:kde``, extensions); lone surrogates. The fields kept as written are checked in `tracechain._kept`;
`tracechain.events` owns the model built from the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from tracechain._kept import certification, context, error_declaration, persistent_disposition, sensors
from tracechain._schema import (
    ACTIONS,
    CODE_LISTS,
    EVENT_TYPES,
    EXTENSION,
    MAX_MEMBERS,
    OFFSET,
    PLAIN_FORBIDDEN,
    PLAIN_ILMD_NAME,
    PLAIN_RULE,
    PRODUCTS,
    QUANTITY_LISTS,
    REQUIRED,
    TYPE_RULES,
    UOM,
    TypeRules,
)
from tracechain._values import (
    Field,
    Problems,
    Walk,
    as_canonical,
    as_code,
    as_free,
    as_free_object,
    as_item_code,
    as_number,
    as_uri,
    as_word,
    list_of,
    nfc,
    object_of,
    parse_time,
    shown,
)

__all__: list[str] = []  # private: tracechain.events re-exports what is public


# ---------------------------------------------------------------------------------------------------------
# Field handlers: each takes (value, path, walk) and returns the normalised value.


def _time_field(value: Any, path: str, walk: Walk) -> int | None:
    return parse_time(value, path, walk.problems, walk.now)


def _offset_field(value: Any, path: str, walk: Walk) -> str | None:
    if type(value) is str and OFFSET.match(value):
        return value
    walk.problems.add(path, f"expected an offset from -14:00 to +14:00 such as +08:00, found {shown(value)}")
    return None


def _product_field(value: Any, path: str, walk: Walk) -> str | None:
    if type(value) is str and value in PRODUCTS:
        return value
    walk.problems.add(path, f"expected one of {', '.join(sorted(PRODUCTS))}, found {shown(value)}")
    return None


def _uri_field(value: Any, path: str, walk: Walk) -> str | None:
    return as_uri(value, path, walk.problems)


def _parent_field(value: Any, path: str, walk: Walk) -> str | None:
    return as_item_code(value, path, walk.problems)


def _code_list(value: Any, path: str, walk: Walk) -> list[str | None] | None:
    problems = walk.problems
    codes = list_of(value, path, problems, "a list of item codes")
    if codes is None:
        return None
    out = [as_item_code(c, f"{path}[{i}]", problems) for i, c in enumerate(codes)]
    if len(set(out)) != len(out):
        seen: dict[str, int] = {}
        for i, code in enumerate(out):
            if code is None:
                continue
            if code in seen:
                problems.add(f"{path}[{i}]", f"expected distinct items, found the item of [{seen[code]}] again")
            else:
                seen[code] = i
    return out


def _members(
    value: Any, path: str, keys: tuple[str, ...], problems: Problems, what: str
) -> list[tuple[str, Mapping[str, Any]]]:
    """(path, object) for each member of a list of small objects, reporting keys outside ``keys``."""
    out = []
    for i, item in enumerate(list_of(value, path, problems, what) or ()):
        p = f"{path}[{i}]"
        obj = object_of(item, p, problems)
        if obj is None:
            continue
        for key in obj:
            if key not in keys:
                problems.add(f"{p}.{key}", f"expected only {', '.join(keys)}, found {shown(key)}")
        out.append((p, obj))
    return out


def _quantities(value: Any, path: str, walk: Walk) -> list[dict[str, Any]] | None:
    problems = walk.problems
    if type(value) is not list:
        list_of(value, path, problems, "a list of quantities")
        return None
    out = []
    for p, obj in _members(value, path, ("epcClass", "quantity", "uom"), problems, "a list of quantities"):
        q: dict[str, Any] = {}
        if "epcClass" in obj:
            q["epcClass"] = as_item_code(obj["epcClass"], f"{p}.epcClass", problems)
        else:
            problems.add(f"{p}.epcClass", "expected a value for required field epcClass, found nothing")
        if "quantity" in obj:
            n = as_number(obj["quantity"], f"{p}.quantity", problems)
            if n is not None and n <= 0:
                problems.add(f"{p}.quantity", f"expected a number more than 0, found {n}")
            q["quantity"] = n
        else:
            problems.add(f"{p}.quantity", "expected a value for required field quantity, found nothing")
        if "uom" in obj:
            uom = obj["uom"]
            if type(uom) is str and UOM.match(uom):
                q["uom"] = uom
            else:
                problems.add(
                    f"{p}.uom",
                    f"expected a UN/CEFACT Recommendation 20 unit code such as KGM, LTR or H87, found {shown(uom)}",
                )
        out.append(dict(sorted(q.items())))
    return out


def _location(value: Any, path: str, walk: Walk) -> dict[str, Any] | None:
    problems = walk.problems
    obj = object_of(value, path, problems)
    if obj is None:
        return None
    if "id" not in obj:
        problems.add(f"{path}.id", "expected a value for required field id, found nothing")
        return None
    out = {k: as_free(v, f"{path}.{k}", problems, 3) for k, v in obj.items() if k != "id"} if len(obj) > 1 else {}
    out["id"] = as_code(obj["id"], f"{path}.id", problems)
    return dict(sorted(out.items())) if len(out) > 1 else out


def _links(value_key: str, kind: str) -> Field:
    """sourceList, destinationList and bizTransactionList: [{type, <value_key>}]."""

    def links(value: Any, path: str, walk: Walk) -> list[Any] | None:
        problems = walk.problems
        if type(value) is not list:
            list_of(value, path, problems, f"a list of {value_key} objects")
            return None
        out = []
        for p, obj in _members(value, path, ("type", value_key), problems, f"a list of {value_key} objects"):
            link: dict[str, Any] = {}
            if value_key in obj:
                link[value_key] = as_uri(obj[value_key], f"{p}.{value_key}", problems)
            else:
                problems.add(f"{p}.{value_key}", f"expected a value for required field {value_key}, found nothing")
            if "type" in obj:
                link["type"] = as_word(obj["type"], f"{p}.type", kind, problems)
            elif kind != "bizTransaction":
                problems.add(f"{p}.type", "expected a value for required field type, found nothing")
            out.append(dict(sorted(link.items())))
        return out

    return links


def _cbv_field(kind: str) -> Field:
    return lambda value, path, walk: as_word(value, path, kind, walk.problems)


def _free_field(value: Any, path: str, walk: Walk) -> Any:
    return as_free_object(value, path, walk.problems)


def _kde(value: Any, path: str, walk: Walk) -> Any:
    if not walk.kde_by_profile:
        return as_free_object(value, path, walk.problems)
    if object_of(value, path, walk.problems) is None:
        return None
    return as_canonical(value, path, walk.problems)


# One handler per field: the walk visits each key of the input once.
FIELDS: Final[dict[str, Field]] = {
    "eventTime": _time_field,
    "recordTime": _time_field,
    "eventTimeZoneOffset": _offset_field,
    "tc:product": _product_field,
    "bizStep": _cbv_field("bizStep"),
    "disposition": _cbv_field("disposition"),
    "eventID": _uri_field,
    "transformationID": _uri_field,
    "parentID": _parent_field,
    **dict.fromkeys(CODE_LISTS, _code_list),
    **dict.fromkeys(QUANTITY_LISTS, _quantities),
    "readPoint": _location,
    "bizLocation": _location,
    "sourceList": _links("source", "sourceDest"),
    "destinationList": _links("destination", "sourceDest"),
    "bizTransactionList": _links("bizTransaction", "bizTransaction"),
    "sensorElementList": sensors,
    "errorDeclaration": error_declaration,
    "persistentDisposition": persistent_disposition,
    "certificationInfo": certification,
    "ilmd": _free_field,
    "tc:kde": _kde,
    "@context": context,
}


def normalise(d: Mapping[str, Any], problems: Problems, now_micros: int, kde_by_profile: bool) -> dict[str, Any]:
    """The canonical model of event ``d``; every envelope problem goes to ``problems``.

    ``kde_by_profile``: the caller checks ``tc:kde`` against a product profile, which bounds it.
    """
    walk = Walk(problems, now_micros, kde_by_profile)
    out: dict[str, Any] = {}
    event_type = d.get("type")
    rules = TYPE_RULES.get(event_type) if type(event_type) is str else None
    if rules is None:
        problems.add("$.type", f"expected one of {', '.join(sorted(EVENT_TYPES))}, found {shown(event_type)}")
    else:
        out["type"] = event_type
    if "action" in d:
        action = d["action"]
        if type(action) is str and action in ACTIONS:
            out["action"] = action
        else:
            problems.add("$.action", f"expected one of {', '.join(sorted(ACTIONS))}, found {shown(action)}")
    if len(d) > MAX_MEMBERS:
        problems.add("$", f"expected an event of at most {MAX_MEMBERS} members, found {len(d)}")
        return out
    fields = FIELDS
    for key, value in d.items():
        handler = fields.get(key) if type(key) is str else None
        if handler is not None:
            if rules is not None and key in rules.forbidden:
                problems.add(f"$.{key}", f"expected no {key} in {_an(event_type)} (not allowed for this kind of event)")
                continue
            out[key] = handler(value, f"$.{key}", walk)
        elif key in ("type", "action"):
            continue
        elif type(key) is str and EXTENSION.match(key):
            out[nfc(key)] = as_free(value, f"$.{key}", problems)
        else:
            problems.add(
                f"$.{key}",
                "expected only EPCIS 2.0 event fields and namespaced extensions (prefix:name, tc: reserved), "
                f"found {shown(key)}",
            )
    for key in REQUIRED:
        if key not in d:
            problems.add(f"$.{key}", f"expected a value for required field {key}, found nothing")
    if "tc:product" not in d:
        _plain_rules(d, problems)
    if rules is not None:
        _type_rules(d, rules, str(event_type), problems)
    return dict(sorted(out.items()))


def _plain_rules(d: Mapping[str, Any], problems: Problems) -> None:
    """What a plain EPCIS event (one without tc:product) may not do, as EPCIS itself asks."""
    for key in PLAIN_FORBIDDEN:
        if key in d:
            problems.add(
                f"$.{key}",
                f"expected no {key} here, found {shown(d[key])}: {PLAIN_RULE} (name the product with tc:product)",
            )
    ilmd = d.get("ilmd")
    if isinstance(ilmd, Mapping):
        for key in ilmd:
            if not (type(key) is str and PLAIN_ILMD_NAME.match(key)):
                problems.add(
                    f"$.ilmd.{key}",
                    f"expected an ILMD field named by a compact or full IRI (prefix:name), found {shown(key)}: "
                    f"{PLAIN_RULE}",
                )


def _type_rules(d: Mapping[str, Any], rules: TypeRules, event_type: str, problems: Problems) -> None:
    if "action" in rules.forbidden and "action" in d:
        problems.add("$.action", f"expected no action in {_an(event_type)} (not allowed for this kind of event)")
    for key in rules.required:
        if key not in d:
            problems.add(f"$.{key}", f"expected a value for required field {key} of {_an(event_type)}, found nothing")
    for key in rules.nonempty:
        if d.get(key) == []:
            problems.add(f"$.{key}", "expected at least 1 entry, found an empty list")
    branches = rules.branches or (rules.add_branches if d.get("action") == "ADD" else ())
    for branch in branches:
        if branch.holds(d):
            return
    if branches:
        options = " or ".join(branch.description for branch in branches)
        problems.add("$", f"expected {options}, found none of them")


def _an(name: object) -> str:
    return f"an {name}" if str(name)[:1] in "AEIOU" else f"a {name}"
