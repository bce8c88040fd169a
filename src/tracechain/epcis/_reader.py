"""Reading EPCIS 2.0 JSON / JSON-LD documents: the envelope, the ``@context``, the event list, and the errors.

The whole document is checked before anything is returned; a document with any bad event is refused with one
`ValidationError` whose message names the first problem's event (position and eventID) and field, and whose
``problems`` list every problem found (up to a bound) with its JSON path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from tracechain.epcis._context import IGNORE_FIELDS, Namespaces, read_context
from tracechain.epcis._events import EventReader
from tracechain.epcis._fields import time_problem
from tracechain.epcis._hash import hash_id
from tracechain.errors import DocumentError, ValidationError

__all__ = ["DocumentEvents", "read_document", "read_events"]

_MAX_PROBLEMS: Final = 100
_DOCUMENT_KEYS: Final = {
    "EPCISDocument": frozenset(
        "@context id type schemaVersion creationDate instanceIdentifier sender receiver epcisHeader epcisBody".split()
    ),
    "EPCISQueryDocument": frozenset("@context id type schemaVersion creationDate epcisBody".split()),
}


def read_document(data: bytes | str | Mapping[str, Any], *, source: str) -> list[dict[str, Any]]:
    """The events of an EPCIS 2.0 JSON/JSON-LD document, in tracechain's input form.

    ``data`` is the document's text (bytes are UTF-8) or its already-parsed object; ``source`` names it in
    messages (a file name). An ``EPCISDocument`` gives its ``epcisBody.eventList``, an ``EPCISQueryDocument`` the
    ``eventList`` of its ``queryResults``. The events come back in document order as dicts that
    `tracechain.events.Event.from_dict` reads: CBV values bare, extensions kept under their prefixes with an
    ``@context`` declaring them, tracechain's own fields as ``tc:…``. Fields the document's
    ``repository-x:ignoreFields`` lists, and the ledger position of a document tracechain exported, are dropped;
    an ``eventID`` that is just the event's own hash ID is dropped too (it can be computed again).

    Raises `ValidationError` for text that is not JSON (a repeated key is named), a document that is not EPCIS 2.0,
    a ``@context`` tracechain cannot read, or any event that breaks the standard's rules.
    """
    return read_events(data, source=source).events


@dataclass(frozen=True, slots=True)
class DocumentEvents:
    """The events of a document as `read_document` returns them, with what names each in messages."""

    events: list[dict[str, Any]]
    event_ids: list[str | None]
    """Each event's eventID as the document wrote it (`read_document` drops one that is just the hash ID)."""
    path: str
    """The JSON path of the event list: ``$.epcisBody.eventList`` or the query document's."""

    def who(self, position: int) -> str:
        """How messages name the event at ``position``: its place and, if it had one, its eventID."""
        event_id = self.event_ids[position]
        return f"event {position}" + (f" (eventID {event_id})" if event_id else "")


def read_events(data: bytes | str | Mapping[str, Any], *, source: str) -> DocumentEvents:
    """`read_document`, keeping each event's eventID as written and the event list's path.

    A problem with the document as a whole (not JSON, not an EPCIS document, its context) raises `DocumentError`;
    a problem with an event raises `ValidationError`.
    """
    try:
        doc = _checked_json(_parse(data, source) if isinstance(data, bytes | str) else data, source)
        if not isinstance(doc, Mapping):
            raise ValidationError(f"{source}: expected an EPCIS document (a JSON object), found {type(doc).__name__}")
        kind = doc.get("type")
        if kind not in _DOCUMENT_KEYS:
            raise ValidationError(
                f"{source}: $.type: expected EPCISDocument or EPCISQueryDocument, found {kind!r}",
                [("$.type", f"expected EPCISDocument or EPCISQueryDocument, found {kind!r}")],
            )
        names = read_context(doc.get("@context"), f"{source}: $.@context")
        events, events_path, ignore_holder = _envelope(doc, kind, source)
        ignore = _ignore(ignore_holder, names, source)
    except ValidationError as e:
        raise DocumentError(str(e), e.problems) from e
    out: list[dict[str, Any]] = []
    problems: list[tuple[str, str]] = []
    first = ""
    for i, event in enumerate(events):
        path = f"{events_path}[{i}]"
        who = _who(i, event)
        if not isinstance(event, Mapping):
            problems.append((path, f"{who}: expected an event object, found {type(event).__name__}"))
            first = first or problems[-1][1]
            continue
        reader = EventReader(names, path, ignore)
        converted = reader.read(event)
        if converted is None:
            problems.extend((p, f"{who}: {m}") for p, m in reader.problems)
            first = first or f"{who}, field {reader.problems[0][0][len(path) + 1 :] or '$'}: {reader.problems[0][1]}"
        else:
            out.append(_identity(converted, event, names, ignore))
        if len(problems) >= _MAX_PROBLEMS:
            break
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise ValidationError(f"{source}: refused, nothing read: {first}{more}", problems[:_MAX_PROBLEMS])
    return DocumentEvents(out, [_event_id(e) for e in events], events_path)


def _who(index: int, event: object) -> str:
    event_id = _event_id(event)
    return f"event {index}" + (f" (eventID {event_id})" if event_id else "")


def _event_id(event: object) -> str | None:
    event_id = event.get("eventID") if isinstance(event, Mapping) else None
    return event_id if isinstance(event_id, str) else None


def _envelope(doc: Mapping[str, Any], kind: str, source: str) -> tuple[list[Any], str, Mapping[str, Any]]:
    """(events, JSON path of the event list, the object that may carry ignoreFields)."""
    problems = []
    for key in doc:
        if key not in _DOCUMENT_KEYS[kind] and not (isinstance(key, str) and ":" in key):
            problems.append((f"$.{key}", f"not a field of an {kind} (nor a namespaced extension)"))
    if kind == "EPCISDocument":
        for key in ("schemaVersion", "creationDate"):
            if key not in doc:
                problems.append((f"$.{key}", "required"))
    if "creationDate" in doc and (problem := time_problem(doc["creationDate"])) is not None:
        problems.append(("$.creationDate", problem))
    version = doc.get("schemaVersion")
    if version is not None and (not isinstance(version, str) or version.split(".")[0] != "2"):
        problems.append(("$.schemaVersion", f"expected an EPCIS 2.x schema version such as '2.0', found {version!r}"))
    body = doc.get("epcisBody")
    holder: Mapping[str, Any] = doc
    path = "$.epcisBody.eventList"
    events: Any = None
    if not isinstance(body, Mapping):
        problems.append(("$.epcisBody", f"required: an object holding the events, found {body!r}"))
    elif kind == "EPCISDocument":
        events = body.get("eventList")
    else:
        results = body.get("queryResults")
        found = results.get("resultsBody") if isinstance(results, Mapping) else None
        events = found.get("eventList") if isinstance(found, Mapping) else None
        path = "$.epcisBody.queryResults.resultsBody.eventList"
        holder = results if isinstance(results, Mapping) else doc
    if isinstance(body, Mapping) and not isinstance(events, list):
        problems.append((path, f"required: the list of events, found {events!r}"[:200]))
    if problems:
        where, message = problems[0]
        raise ValidationError(f"{source}: not an EPCIS 2.0 {kind}: {where}: {message}", problems)
    return events, path, holder


def _ignore(holder: Mapping[str, Any], names: Namespaces, source: str) -> frozenset[str]:
    """The fields the document declares outside every event's hash ID (GS1 reference implementation's convention)."""
    found: list[str] = []
    for key, value in holder.items():
        if isinstance(key, str) and names.expand(key) == IGNORE_FIELDS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValidationError(f"{source}: {key}: expected a list of field names, found {value!r}"[:300])
            found.extend(names.expand(v) for v in value)
    return frozenset(found)


def _identity(
    converted: dict[str, Any], original: Mapping[str, Any], names: Namespaces, ignore: frozenset[str]
) -> dict[str, Any]:
    """Settle the eventID: restore one tracechain moved aside on export, drop one that is the event's own hash."""
    if "tc:eventID" in converted:
        converted["eventID"] = converted.pop("tc:eventID")
    elif "eventID" in converted and converted["eventID"] == hash_id(original, names, ignore):
        del converted["eventID"]
    return converted


# --- JSON ----------------------------------------------------------------------------------------------------


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as parsed, before repeated keys are looked for."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _parse(data: bytes | str, source: str) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, decimals exact, and a repeated key refused by name and place."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as e:
            raise ValidationError(f"{source}: not UTF-8 text ({e.reason} at byte {e.start})") from e
    try:
        raw = json.loads(data, object_pairs_hook=_Pairs, parse_float=Decimal, parse_constant=_reject_constant)
    except RecursionError as e:
        raise ValidationError(f"{source}: JSON nested too deeply") from e
    except ValueError as e:  # JSONDecodeError, and integers too long to read
        raise ValidationError(f"{source}: not valid JSON: {e}") from e
    return _objects(raw, [], source)


_EVENT_LISTS: Final = (("epcisBody", "eventList"), ("epcisBody", "queryResults", "resultsBody", "eventList"))


def _objects(value: Any, path: list[str | int], source: str, event: _Pairs | None = None) -> Any:
    if isinstance(value, _Pairs):
        if _event_depth(path) == len(path):
            event = value  # the event object itself: a repeated key below it is reported with its eventID
        out: dict[str, Any] = {}
        for key, item in value:
            if key in out:
                raise ValidationError(
                    f"{source}: {_place(path, event)}: the key {key!r} appears twice in one JSON object "
                    f"(first {_short(out[key])}, then {_short(item)}); JSON-LD and EPCIS need each key once",
                    [(_json_path([*path, key]), f"duplicate key {key!r}")],
                )
            out[key] = _objects(item, [*path, key], source, event)
        return out
    if isinstance(value, list):
        return [_objects(item, [*path, i], source, event) for i, item in enumerate(value)]
    return value


def _event_depth(path: list[str | int]) -> int | None:
    """The length of the path to the event object ``path`` is in, or None if it is in none."""
    for start in _EVENT_LISTS:
        n = len(start)
        if tuple(path[:n]) == start and len(path) > n and isinstance(path[n], int):
            return n + 1
    return None


def _place(path: list[str | int], event: _Pairs | None) -> str:
    """Where a repeated key was found: the event (position and eventID) when it is inside one."""
    depth = _event_depth(path)
    if depth is None:
        return _json_path(path)
    event_id = next((v for k, v in event or () if k == "eventID" and isinstance(v, str)), None)
    inner = _json_path(path[depth:]) if len(path) > depth else "the event object"
    return f"event {path[depth - 1]}" + (f" (eventID {event_id})" if event_id else "") + f", in {inner}"


def _json_path(path: list[str | int]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _short(value: object) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _checked_json(value: Any, source: str, depth: int = 0) -> Any:
    """A parsed document: only JSON's types, text keys, valid Unicode (JSON's \\ud800 escapes can make lone
    surrogates, which no UTF-8 text holds)."""
    if depth > 64:
        raise ValidationError(f"{source}: nested too deeply")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(f"{source}: object keys are text, found {key!r}")
            _checked_text(key, source)
            _checked_json(item, source, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _checked_json(item, source, depth + 1)
    elif isinstance(value, str):
        _checked_text(value, source)
    elif value is not None and not isinstance(value, int | float | Decimal):
        raise ValidationError(f"{source}: {type(value).__name__} is not a JSON value")
    return value


def _checked_text(text: str, source: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ValidationError(f"{source}: {text[:40]!r} is not valid Unicode text ({e.reason})") from e
