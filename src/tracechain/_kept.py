"""The envelope's fields that are checked but kept as written: ``sensorElementList``, ``errorDeclaration``,
``persistentDisposition``, ``certificationInfo`` and ``@context``.

Each is held to its part of ``schemas/event.schema.json`` (times, URIs, CBV words, required members, units) and
then stored in canonical shape as it was given, without rewriting spellings: events recorded before these checks
keep their canonical bytes. `tracechain._envelope` walks the other fields and calls these.
"""

from __future__ import annotations

from typing import Any

from tracechain._schema import NAMESPACED, NUMBER_KEYS, UOM
from tracechain._values import (
    Walk,
    as_free,
    as_text,
    as_uri,
    as_word,
    is_number,
    list_of,
    object_of,
    parse_time,
    shown,
)

__all__: list[str] = []  # private to the envelope walk


def sensors(value: Any, path: str, walk: Walk) -> Any:
    problems = walk.problems
    elements = list_of(value, path, problems, "a list of sensor elements")
    if elements is None:
        return None
    for i, element in enumerate(elements):
        p = f"{path}[{i}]"
        obj = object_of(element, p, problems)
        if obj is None:
            continue
        meta = obj.get("sensorMetadata")
        if meta is not None or "sensorMetadata" in obj:
            m = object_of(meta, f"{p}.sensorMetadata", problems)
            for key in ("time", "startTime", "endTime"):
                if m is not None and key in m:
                    parse_time(m[key], f"{p}.sensorMetadata.{key}", problems, walk.now)
            if m is not None and "deviceID" in m:
                as_uri(m["deviceID"], f"{p}.sensorMetadata.deviceID", problems)
        if "sensorReport" not in obj:
            problems.add(f"{p}.sensorReport", "expected a value for required field sensorReport, found nothing")
            continue
        reports = list_of(obj["sensorReport"], f"{p}.sensorReport", problems, "a list of sensor reports")
        if reports is not None and not reports:
            problems.add(f"{p}.sensorReport", "expected at least 1 sensor report, found an empty list")
        for j, report in enumerate(reports or ()):
            _sensor_report(report, f"{p}.sensorReport[{j}]", walk)
    return as_free(elements, path, problems)


def _sensor_report(report: Any, path: str, walk: Walk) -> None:
    problems = walk.problems
    r = object_of(report, path, problems)
    if r is None:
        return
    if "type" in r:
        as_text(r["type"], f"{path}.type", problems, "a measurement type")
    else:
        problems.add(f"{path}.type", "expected a value for required field type, found nothing")
    if "time" in r:
        parse_time(r["time"], f"{path}.time", problems, walk.now)
    for key in NUMBER_KEYS:
        if key in r and not is_number(r[key]):
            problems.add(f"{path}.{key}", f"expected a number, found {shown(r[key])}")
    if "uom" in r and not (type(r["uom"]) is str and UOM.match(r["uom"])):
        problems.add(
            f"{path}.uom", f"expected a UN/CEFACT Recommendation 20 unit code such as CEL, found {shown(r['uom'])}"
        )
    if "exception" in r:
        as_text(
            r["exception"], f"{path}.exception", problems, "an exception (ALARM_CONDITION, ERROR_CONDITION or a URI)"
        )


def certification(value: Any, path: str, walk: Walk) -> Any:
    problems = walk.problems
    if type(value) is list:
        for i, item in enumerate(list_of(value, path, problems, "a list of URIs") or ()):
            as_uri(item, f"{path}[{i}]", problems)
    elif type(value) is str:
        as_uri(value, path, problems)
    else:
        problems.add(path, f"expected a URI or a list of URIs, found {shown(value)}")
        return None
    return as_free(value, path, problems)


def error_declaration(value: Any, path: str, walk: Walk) -> Any:
    problems = walk.problems
    obj = object_of(value, path, problems)
    if obj is None:
        return None
    # Kept as written (not normalised): events recorded before these checks keep their canonical bytes.
    if "declarationTime" in obj:
        parse_time(obj["declarationTime"], f"{path}.declarationTime", problems, walk.now)
    else:
        problems.add(f"{path}.declarationTime", "expected a value for required field declarationTime, found nothing")
    if "reason" in obj:
        as_word(obj["reason"], f"{path}.reason", "errorReason", problems)
    if "correctiveEventIDs" in obj:
        ids = list_of(obj["correctiveEventIDs"], f"{path}.correctiveEventIDs", problems, "a list of event IDs")
        for i, item in enumerate(ids or ()):
            as_uri(item, f"{path}.correctiveEventIDs[{i}]", problems)
    for key in obj:
        if key not in ("declarationTime", "reason", "correctiveEventIDs") and not (
            type(key) is str and NAMESPACED.match(key)
        ):
            problems.add(
                f"{path}.{key}",
                f"expected declarationTime, reason, correctiveEventIDs or a namespaced extension (prefix:name), "
                f"found {shown(key)}",
            )
    return as_free(value, path, problems)


def persistent_disposition(value: Any, path: str, walk: Walk) -> Any:
    problems = walk.problems
    obj = object_of(value, path, problems)
    if obj is None:
        return None
    if not obj:
        problems.add(path, "expected set, unset or both, found an empty object")
    for key, items in obj.items():
        p = f"{path}.{key}"
        if key not in ("set", "unset"):
            problems.add(p, f"expected only set and unset, found {shown(key)}")
            continue
        dispositions = list_of(items, p, problems, "a list of dispositions")
        if dispositions is None:
            continue
        if not dispositions:
            problems.add(p, "expected at least 1 disposition, found an empty list")
        seen: set[str] = set()
        for i, item in enumerate(dispositions):
            as_word(item, f"{p}[{i}]", "disposition", problems, normalise=False)
            if type(item) is str:
                if item in seen:
                    problems.add(f"{p}[{i}]", f"expected distinct dispositions, found {shown(item)} again")
                seen.add(item)
    return as_free(value, path, problems)


def context(value: Any, path: str, walk: Walk) -> Any:
    if type(value) not in (str, list, dict):
        walk.problems.add(path, f"expected a JSON-LD context (a URI, a list or an object), found {shown(value)}")
        return None
    return as_free(value, path, walk.problems)
