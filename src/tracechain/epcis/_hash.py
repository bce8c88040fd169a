"""GS1's EPCIS event hash ID (CBV 2.0 §8.9): the canonical pre-hash string of an event and its ``ni:///`` name.

The pre-hash string is ``eventType=…`` followed by the event's fields, each written as ``name=value`` (or ``name``
followed by its children), with no separators:

1. the ordered part, in this order: eventTime, eventTimeZoneOffset, certificationInfo, parentID, epcList,
   inputEPCList, childEPCs, quantityList, childQuantityList, inputQuantityList, outputEPCList, outputQuantityList,
   action, transformationID, bizStep, disposition, persistentDisposition (set, unset), readPoint (id),
   bizLocation (id), sensorElementList (sensorMetadata, then sensorReport, each with its fields in the standard's
   order). Repeated members (EPCs, quantity elements, sensor elements, …) are sorted; the namespaced extensions of
   readPoint, bizLocation, sensorElement, sensorMetadata and sensorReport follow their parent's fields, sorted.
2. the rest, each written generically and all sorted together: bizTransactionList, sourceList, destinationList,
   ilmd, user extensions, and whatever part of an ordered field the order did not name.

eventID, recordTime, errorDeclaration, comments and JSON-LD's ``@context`` are left out. Values are trimmed;
compact IRIs expanded; CBV URNs rewritten as web URIs; bare vocabulary words expanded to their URIs; numbers
written without exponent, leading ``+`` or trailing zeros; GS1 keys as constrained canonical Digital Links
(`tracechain.epcis._codes`); times in UTC at millisecond precision (rounded half up) with ``Z``; booleans
``true``/``false``; extension names as ``{namespace}local``. ``stringValue`` and ``hexBinaryValue`` are text by
their types and are only trimmed.

Two placements above follow GS1's reference implementation and every expected value published with it rather
than the README of that implementation: parentID comes before epcList, and bizTransactionList, sourceList and
destinationList are in the sorted rest, after sensorElementList. ``docs/epcis.md`` lists every difference.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from tracechain.epcis import _vocab
from tracechain.epcis._codes import hash_code
from tracechain.epcis._context import GS1_PREFIXES, Namespaces, kde_to_epcis
from tracechain.errors import ValidationError

__all__ = ["HASH_VERSION", "event_hash_id", "hash_id", "pre_hash_string", "prehash"]

HASH_VERSION: Final = "CBV2.0"

_RDFS_COMMENT: Final = "{" + GS1_PREFIXES["rdfs"] + "}comment"
_LEFT_OUT: Final = frozenset({"type", "eventID", "recordTime", "errorDeclaration", "@context", "comment", "#text"})
_ELEMENT: Final = {
    "epcList": "epc",
    "childEPCs": "epc",
    "inputEPCList": "epc",
    "outputEPCList": "epc",
    "quantityList": "quantityElement",
    "childQuantityList": "quantityElement",
    "inputQuantityList": "quantityElement",
    "outputQuantityList": "quantityElement",
    "sensorElementList": "sensorElement",
}
# bizTransactionList, sourceList and destinationList: anonymous elements whose type is written before the value.
_TYPED_LISTS: Final = {"bizTransactionList": "bizTransaction", "sourceList": "source", "destinationList": "destination"}
_TYPED_KIND: Final = {"bizTransactionList": "bizTransactionType", "sourceList": "sourceDestType"}
_SENSOR_VOCAB: Final = {"type": "measurementType", "exception": "alertType", "component": "component"}
# Sensor fields typed xsd:string and xsd:hexBinary: text as written, never a number, IRI or GS1 key.
_TEXT_FIELDS: Final = frozenset({"stringValue", "hexBinaryValue"})
_NUMBER_RE: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_MAX_PLAIN_DIGITS: Final = 64
_TIME_RE: Final = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(?:([Zz])|([+-]\d{2}:\d{2}))\Z")

Order = tuple[tuple[str, "Order | None"], ...]
_QUANTITY: Final[Order] = (("quantityElement", (("epcClass", None), ("quantity", None), ("uom", None))),)
_EPCS: Final[Order] = (("epc", None),)
_SENSOR_METADATA: Final[Order] = tuple(
    (n, None) for n in "time startTime endTime deviceID deviceMetadata rawData dataProcessingMethod bizRules".split()
)
_SENSOR_REPORT: Final[Order] = tuple(
    (n, None)
    for n in """type exception deviceID deviceMetadata rawData dataProcessingMethod time microorganism
    chemicalSubstance value component stringValue booleanValue hexBinaryValue uriValue minValue maxValue meanValue
    sDev percRank percValue uom coordinateReferenceSystem""".split()
)
_ORDER: Final[Order] = (
    ("eventTime", None),
    ("eventTimeZoneOffset", None),
    ("certificationInfo", None),
    ("parentID", None),
    ("epcList", _EPCS),
    ("inputEPCList", _EPCS),
    ("childEPCs", _EPCS),
    ("quantityList", _QUANTITY),
    ("childQuantityList", _QUANTITY),
    ("inputQuantityList", _QUANTITY),
    ("outputEPCList", _EPCS),
    ("outputQuantityList", _QUANTITY),
    ("action", None),
    ("transformationID", None),
    ("bizStep", None),
    ("disposition", None),
    ("persistentDisposition", (("set", None), ("unset", None))),
    ("readPoint", (("id", None),)),
    ("bizLocation", (("id", None),)),
    (
        "sensorElementList",
        (("sensorElement", (("sensorMetadata", _SENSOR_METADATA), ("sensorReport", _SENSOR_REPORT))),),
    ),
)


@dataclass(slots=True)
class _Node:
    """One element of the event: a name, a text (possibly empty) and child elements."""

    name: str
    text: str = ""
    children: list[_Node] = field(default_factory=list)
    keep_order: bool = False  # a typed-list element: type then value, never sorted


def event_hash_id(event: Mapping[str, Any], *, context: object = None, ignore: Iterable[str] = ()) -> str:
    """GS1's event hash ID of an EPCIS 2.0 event: ``ni:///sha-256;{hex}?ver=CBV2.0``.

    ``event`` is an event in EPCIS 2.0 JSON(-LD) form, or in tracechain's form (`read_document`'s output,
    `tracechain.events.Event.to_dict`). ``context`` is the ``@context`` of the document the event came from (GS1's
    context URL and inline objects); the event's own ``@context`` applies on top, and GS1's prefixes and ``tc``
    are always known. ``ignore`` names top-level fields to leave out, as compact IRIs (``ex:captureID``), IRIs or
    ``{namespace}local``.
    """
    return hash_id(event, _names(context), ignore)


def pre_hash_string(event: Mapping[str, Any], *, context: object = None, ignore: Iterable[str] = ()) -> str:
    """The canonical pre-hash string `event_hash_id` hashes (see the module docstring for its rules)."""
    return prehash(event, _names(context), ignore)


def _names(context: object) -> Namespaces:
    return Namespaces() if context is None else Namespaces().with_context(context, "context")


def hash_id(event: Mapping[str, Any], names: Namespaces, ignore: Iterable[str] = ()) -> str:
    """`event_hash_id` with the namespaces already read."""
    text = prehash(event, names, ignore)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValidationError(f"event hash ID: the event holds text that is not valid Unicode ({e.reason})") from e
    return f"ni:///sha-256;{hashlib.sha256(data).hexdigest()}?ver={HASH_VERSION}"


def prehash(event: Mapping[str, Any], names: Namespaces, ignore: Iterable[str] = ()) -> str:
    """`pre_hash_string` with the namespaces already read."""
    if not isinstance(event, Mapping):
        raise ValidationError(f"event hash ID: an event is a JSON object, found {type(event).__name__}")
    if "@context" in event:
        names = names.with_context(event["@context"], "$.@context")
    builder = _Builder(names)
    left_out = {_full_name(k, names) for k in ignore}
    nodes: list[_Node] = []
    for key, value in event.items():
        if key in _LEFT_OUT or (left_out and _full_name(key, names) in left_out):
            continue
        nodes.extend(builder.field(key, value))
    event_type = event.get("type")
    head = f"eventType={event_type if isinstance(event_type, str) else ''}"
    ordered = _ordered(nodes, _ORDER, names, top=True)
    rest = sorted(_generic(n, names) for n in nodes)
    return head + ordered + "".join(rest)


def _full_name(key: str, names: Namespaces) -> str:
    """A field name as one IRI, from a compact IRI, ``{namespace}local`` or an IRI."""
    if key.startswith("{") and "}" in key:
        namespace, _, local = key[1:].partition("}")
        return namespace + local
    return names.expand(key)


class _Builder:
    """Turns an event's JSON into element trees, naming extensions ``{namespace}local``."""

    __slots__ = ("names",)

    def __init__(self, names: Namespaces) -> None:
        self.names = names

    def key(self, key: str) -> str:
        found = self.names.split(key)
        return key if found is None else "{" + found[0] + "}" + found[1]

    def field(self, key: str, value: Any) -> list[_Node]:
        """A top-level field: the standard fields whose structure the algorithm knows, or a generic one."""
        if key in _TYPED_LISTS and isinstance(value, list):
            members = [self._typed(key, m) for m in value if isinstance(m, Mapping)]
            return [_Node(key, "", members)] if members else []
        if key in ("bizStep", "disposition") and isinstance(value, str):
            return [_Node(key, _vocabulary(key, value))]
        if key == "persistentDisposition" and isinstance(value, Mapping):
            children = [
                _Node(name, _vocabulary("disposition", v))
                for name in ("set", "unset")
                for v in _as_list(value.get(name))
                if isinstance(v, str)
            ]
            return [_Node(key, "", children)] if children else []
        if key == "sensorElementList" and isinstance(value, list):
            members = [self._sensor_element(m) for m in value if isinstance(m, Mapping)]
            return [_Node(key, "", members)] if members else []
        if key == "tc:kde":
            value = kde_to_epcis(value)  # tracechain's form names them bare; the hash sees the EPCIS names
        name = self.key(key)
        if name == _RDFS_COMMENT:
            return []
        return self.generic(_ELEMENT.get(name, name), value, list_name=name if name in _ELEMENT else None)

    def generic(self, name: str, value: Any, *, list_name: str | None = None) -> list[_Node]:
        """Any JSON value under ``name``; an array repeats the element, a ``…List`` name contains its members."""
        if list_name is not None:
            members = [n for m in _as_list(value) for n in self.generic(name, m)]
            return [_Node(list_name, "", members)] if members else []
        if name.endswith("List"):
            return self.generic(name[:-4], value, list_name=name)
        if value is None:
            return []  # JSON-LD: null is no value
        if isinstance(value, list):
            return [n for m in value for n in self.generic(name, m)]
        if isinstance(value, Mapping):
            return [_Node(name, "", self.children(value))]
        return [_Node(name, _scalar(value))]

    def children(self, obj: Mapping[str, Any]) -> list[_Node]:
        out: list[_Node] = []
        for key, value in obj.items():
            if key in ("comment", "@context", "#text"):
                continue
            name = self.key(key)
            if name != _RDFS_COMMENT:
                out.extend(self.generic(name, value))
        return out

    def _typed(self, list_key: str, member: Mapping[str, Any]) -> _Node:
        value_key = _TYPED_LISTS[list_key]
        kind = _TYPED_KIND.get(list_key, "sourceDestType")
        children: list[_Node] = []
        kind_value = member.get("type")
        if isinstance(kind_value, str):
            children.append(_Node("type", _vocabulary(kind, kind_value)))
        children.extend(self.generic(value_key, member.get(value_key)))
        children.extend(
            n for k, v in member.items() if k not in ("type", value_key) for n in self.generic(self.key(k), v)
        )
        return _Node("", "", children, keep_order=True)

    def _sensor_element(self, element: Mapping[str, Any]) -> _Node:
        children: list[_Node] = []
        for key, value in element.items():
            if key == "sensorReport":
                for report in _as_list(value):
                    if isinstance(report, Mapping):
                        children.append(_Node("sensorReport", "", self._sensor_report(report)))
            else:
                children.extend(self.generic(self.key(key), value))
        return _Node("sensorElement", "", children)

    def _sensor_report(self, report: Mapping[str, Any]) -> list[_Node]:
        out: list[_Node] = []
        for key, value in report.items():
            kind = _SENSOR_VOCAB.get(key)
            if kind is not None and isinstance(value, str):
                out.append(_Node(key, _vocabulary(kind, value)))
            else:
                out.extend(self.generic(self.key(key), value))
        return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _vocabulary(kind: str, value: str) -> str:
    """A bare word of a standard vocabulary as its URI; any other spelling is left to the value rules."""
    vocabulary = _vocab.BY_KIND[kind]
    word = value.strip()
    return vocabulary.uri(word) if word in vocabulary.words else value


def _scalar(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(Decimal(repr(value))) if math.isfinite(value) else repr(value)
    if isinstance(value, Decimal):
        return _number(value) if value.is_finite() else str(value)
    return value if isinstance(value, str) else str(value)


def _number(value: Decimal) -> str:
    """Exact decimal notation: no exponent, no leading ``+`` or zeros, no trailing fractional zeros; -0 is 0."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    if len(digits) + abs(exponent) > _MAX_PLAIN_DIGITS:
        return str(value)  # beyond any measurement; written as given rather than as a huge digit string
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    text = text.lstrip("-")
    return "0" if text == "0" else ("-" if sign else "") + text


def _canonical(text: str, names: Namespaces) -> str:
    """Rules 5, 6, 14, 15, 17 and 18: trim, expand compact IRIs and CBV URNs, numbers, GS1 keys."""
    text = names.expand(text.strip())
    for urn, web in _vocab.URN_TO_WEB:
        if text.startswith(urn):
            text = web + text[len(urn) :]
            break
    if _NUMBER_RE.match(text):
        try:
            return _number(Decimal(text))
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            return text
    return hash_code(text) or text


def _time(text: str) -> str:
    """Rules 8 and 9: UTC, ``Z``, milliseconds, the third decimal rounded up when the fourth is 5-9."""
    m = _TIME_RE.match(text)
    if m is None:
        return text
    day, clock, fraction, _, offset = m.groups()
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}{offset or '+00:00'}")
    except ValueError:
        return text
    fraction = (fraction or "").ljust(4, "0")
    try:
        utc = (moment + timedelta(milliseconds=int(fraction[:3]) + (fraction[3] >= "5"))).astimezone(UTC)
    except OverflowError:
        return text
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _ordered(nodes: list[_Node], order: Order, names: Namespaces, *, top: bool) -> str:
    """The ordered part of a level; consumed elements are removed from ``nodes``, the rest stays for later."""
    extensions = [] if top else [n for n in nodes if n.name.startswith("{")]
    for n in extensions:
        nodes.remove(n)
    out: list[str] = []
    for name, sub in order:
        values = []
        for node in [n for n in nodes if n.name == name]:
            text = _element(node, sub, names)
            if text:
                values.append(text)
            if not node.children:
                nodes.remove(node)
        out.extend(sorted(values))
    out.extend(sorted(_generic(n, names) for n in extensions))
    return "".join(out)


def _element(node: _Node, sub: Order | None, names: Namespaces) -> str:
    inner = _ordered(node.children, sub, names, top=False) if sub else ""
    text = node.text.strip()
    if text:
        lowered = node.name.lower()
        if node.name in _TEXT_FIELDS:
            text = "=" + text
        else:
            text = "=" + (_time(text) if "time" in lowered and "offset" not in lowered else _canonical(text, names))
    return node.name + text + inner if text or inner else ""


def _generic(node: _Node, names: Namespaces) -> str:
    text = node.text.strip()
    head = node.name + ("=" + _canonical(text, names) if text else "")
    parts = [_generic(c, names) for c in node.children]
    return head + "".join(parts if node.keep_order else sorted(parts))
