"""JSON values spread over lines, for `tracechain.reading`: the line each element of an array or an EPCIS
document's event list starts on, the event list of an ``EPCISDocument`` or ``EPCISQueryDocument``, and whether a
first line opens a value it does not close.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

from tracechain.errors import ValidationError
from tracechain.events import scan_json

__all__: list[str] = []  # private to tracechain.reading

_WHITESPACE: Final = re.compile(r"[ \t\n\r]*")
_DOCUMENT_TYPES: Final = ("EPCISDocument", "EPCISQueryDocument")


class Lines:
    """Line numbers of positions in a text, counted forward from the last position asked."""

    def __init__(self, text: str, first: int) -> None:
        self.text, self.pos, self.line, self.first = text, 0, first, first

    def at(self, pos: int) -> int:
        if pos < self.pos:
            self.pos, self.line = 0, self.first
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def skip(text: str, at: int) -> int:
    return _WHITESPACE.match(text, at).end()  # type: ignore[union-attr]


def elements(
    text: str, at: int, source: str, ends: list[int] | None = None, first_line: int = 1
) -> Iterator[tuple[Any, int]]:
    """(element, start) for each element of the JSON array at ``at``; a ValidationError where one breaks it.

    When the array ends well, the index just after it is appended to ``ends``.
    """
    i = skip(text, at + 1)
    if text.startswith("]", i):
        if ends is not None:
            ends.append(i + 1)
        return
    while True:
        try:
            value, end = scan_json(text, i, source=source, line=first_line)
        except ValidationError as e:
            yield e, i
            return
        yield value, i
        i = skip(text, end)
        if text.startswith(",", i):
            i = skip(text, i + 1)
        elif text.startswith("]", i):
            if ends is not None:
                ends.append(i + 1)
            return
        else:
            row = text.count("\n", 0, i) + first_line
            yield ValidationError(f"{source}: expected ',' or ']' after an element of the array (line {row})"), i
            return


def positions(text: str, start: int, end: int, value: Any, lines: Lines) -> list[int] | None:
    """The line of each event of a document's event list; None when the value is not a document or the list cannot
    be found again. The document was parsed whole, so its keys were checked; the list is found by its key and read
    again element by element, and kept only if it gives back exactly the events parsed."""
    if not is_document(value):
        return None
    events, _ = event_list(value)
    if not events:
        return None
    for m in re.finditer(r'"eventList"[ \t\n\r]*:[ \t\n\r]*\[', text[start:end]):
        found = list(elements(text, start + m.end() - 1, "eventList"))
        if len(found) == len(events) and all(v == e for (v, _), e in zip(found, events, strict=True)):
            return [lines.at(position) for _, position in found]
    return None


def is_document(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") in _DOCUMENT_TYPES


def event_list(doc: dict[str, Any]) -> tuple[list[Any] | None, str]:
    """The events of an EPCIS document, or None and why there are none."""
    body = doc.get("epcisBody")
    where = "epcisBody.eventList"
    if doc["type"] == "EPCISQueryDocument":
        where = "epcisBody.queryResults.resultsBody.eventList"
        results = body.get("queryResults") if isinstance(body, dict) else None
        body = results.get("resultsBody") if isinstance(results, dict) else None
    if isinstance(body, dict):
        if isinstance(body.get("eventList"), list):
            return body["eventList"], ""
        if isinstance(body.get("event"), dict):  # EPCIS 2.0 capture of one event
            return [body["event"]], ""
    return None, f"expected an {doc['type']} with a list of events at {where}, found none"


def opens_without_closing(line: str) -> bool:
    """Whether a first line opens a JSON value and goes on past its end: the value continues on the next lines."""
    stripped = line.strip()
    if not stripped.startswith(("{", "[")):
        return False
    try:
        scan_json(stripped)
    except ValidationError:
        # A line that ends as a value ends is one whole, broken, event of JSON Lines; anything else continues.
        return not stripped.endswith(("}", "]"))
    return False
