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
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Final

from tracechain.epcis._context import Namespaces
from tracechain.epcis._hashtree import Builder, Node, generic_text
from tracechain.epcis._hashvalues import cached, micros_time, scalar, time_text, vocabulary
from tracechain.errors import ValidationError

__all__ = ["HASH_VERSION", "event_hash_id", "hash_id", "pre_hash_string", "prehash"]

HASH_VERSION: Final = "CBV2.0"

_LEFT_OUT: Final = frozenset({"type", "eventID", "recordTime", "errorDeclaration", "@context", "comment", "#text"})

# Sensor fields typed xsd:string and xsd:hexBinary: text as written, never a number, IRI or GS1 key.
_TEXT_FIELDS: Final = frozenset({"stringValue", "hexBinaryValue"})

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
_ORDER_NAMES: Final = frozenset(name for name, _ in _ORDER)
_POSITION: Final = {name: at for at, (name, _) in enumerate(_ORDER)}
_SUB: Final = dict(_ORDER)


def event_hash_id(event: Mapping[str, Any], *, context: object = None, ignore: Iterable[str] = ()) -> str:
    """GS1's event hash ID of an EPCIS 2.0 event: ``ni:///sha-256;{hex}?ver=CBV2.0``.

    ``event`` is an event in EPCIS 2.0 JSON(-LD) form, or in tracechain's form (`read_document`'s output,
    `tracechain.events.Event.to_dict`, or `Event.data` with its times in microseconds). ``context`` is the
    ``@context`` of the document the event came from (GS1's context URL and inline objects); the event's own
    ``@context`` applies on top, and GS1's prefixes and ``tc`` are always known. ``ignore`` names top-level fields
    to leave out, as compact IRIs (``ex:captureID``), IRIs or ``{namespace}local``.
    """
    return hash_id(event, _names(context), ignore)


def pre_hash_string(event: Mapping[str, Any], *, context: object = None, ignore: Iterable[str] = ()) -> str:
    """The canonical pre-hash string `event_hash_id` hashes (see the module docstring for its rules)."""
    return prehash(event, _names(context), ignore)


_DEFAULT_NAMES: Final = Namespaces()  # shared, so its cache of canonical values serves every event without context


def _names(context: object) -> Namespaces:
    return _DEFAULT_NAMES if context is None else _DEFAULT_NAMES.with_context(context, "context")


def hash_id(event: Mapping[str, Any], names: Namespaces, ignore: Iterable[str] = ()) -> str:
    """`event_hash_id` with the namespaces already read."""
    text = prehash(event, names, ignore)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValidationError(f"event hash ID: the event holds text that is not valid Unicode ({e.reason})") from e
    return f"ni:///sha-256;{hashlib.sha256(data).hexdigest()}?ver={HASH_VERSION}"


def prehash(event: Mapping[str, Any], names: Namespaces, ignore: Iterable[str] = (), *, shortcut: bool = True) -> str:
    """`pre_hash_string` with the namespaces already read.

    The fields of the ordered part become element trees (`Node`), whose members are ordered and whose leftovers
    join the rest; every other field is written straight to its sorted strings. An ordered field in the shape
    nearly every event has (text, a list of codes, a ``{"id"}`` location, plain quantity elements) is written
    straight to its text by `_plain_ordered`, which gives what its tree would, and so are KDEs that are all text
    (``shortcut=False`` takes the general path for every field; a test holds the two to the same text).
    """
    if not isinstance(event, Mapping):
        raise ValidationError(f"event hash ID: an event is a JSON object, found {type(event).__name__}")
    if "@context" in event:
        names = names.with_context(event["@context"], "$.@context")
    builder = Builder(names, shortcut=shortcut)
    left_out = {_full_name(k, names) for k in ignore}
    by_name: dict[str, list[Node]] = {}
    plain: dict[str, str] = {}
    rest: list[str] = []
    for key, value in event.items():
        if key in _LEFT_OUT or (left_out and _full_name(key, names) in left_out):
            continue
        if key not in _ORDER_NAMES:
            rest.extend(builder.field_strings(key, value))
        elif shortcut and (text := _plain_ordered(key, value, names)) is not None:
            plain[key] = text
        else:
            for node in builder.field(key, value):
                by_name.setdefault(node.name, []).append(node)
    event_type = event.get("type")
    head = f"eventType={event_type if isinstance(event_type, str) else ''}"
    ordered = _ordered_top(by_name, plain, names)
    rest.extend(generic_text(n, names) for nodes in by_name.values() for n in nodes)
    rest.sort()
    return head + ordered + "".join(rest)


_TEXT_ORDERED: Final = frozenset({"eventTimeZoneOffset", "certificationInfo", "parentID", "action", "transformationID"})
_CODE_LISTS: Final = frozenset({"epcList", "inputEPCList", "childEPCs", "outputEPCList"})
_QUANTITY_LISTS: Final = frozenset({"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"})
_QUANTITY_FIELDS: Final = ("epcClass", "quantity", "uom")


def _plain_ordered(key: str, value: Any, names: Namespaces) -> str | None:
    """The text of an ordered field whose value has the common shape, as `_element` writes its tree (empty when it
    writes nothing); None for any other shape, which takes the general path."""
    kind = type(value)
    if kind is str:
        if key in ("bizStep", "disposition"):
            value = vocabulary(key, value)
        elif key == "eventTime":
            text = value.strip()
            return f"eventTime={time_text(text)}" if text else ""
        elif key not in _TEXT_ORDERED:
            return None
        text = value.strip()
        return f"{key}={cached(text, names)}" if text else ""
    if kind is int and key == "eventTime":
        return f"eventTime={micros_time(value)}"
    if kind is list:
        if key in _CODE_LISTS:
            if not all(type(code) is str for code in value):
                return None
            codes = sorted(f"epc={cached(text, names)}" for code in value if (text := code.strip()))
            return key + "".join(codes) if codes else ""
        if key in _QUANTITY_LISTS:
            elements = [_plain_quantity(q, names) for q in value]
            if None in elements:
                return None
            written = sorted(e for e in elements if e)
            return key + "".join(written) if written else ""
        return None
    if kind is dict and key in ("readPoint", "bizLocation") and len(value) == 1 and type(value.get("id")) is str:
        text = value["id"].strip()
        return f"{key}id={cached(text, names)}" if text else ""
    return None


def _plain_quantity(element: Any, names: Namespaces) -> str | None:
    if type(element) is not dict or not element.keys() <= {"epcClass", "quantity", "uom"}:
        return None
    parts = []
    for name in _QUANTITY_FIELDS:
        value = element.get(name)
        if value is None and name not in element:
            continue
        if type(value) is str:
            text = value.strip()
        elif type(value) is int or type(value) is Decimal:
            text = scalar(value).strip()
        else:
            return None
        if text:
            parts.append(f"{name}={cached(text, names)}")
    return "quantityElement" + "".join(parts) if parts else ""


def _full_name(key: str, names: Namespaces) -> str:
    """A field name as one IRI, from a compact IRI, ``{namespace}local`` or an IRI."""
    if key.startswith("{") and "}" in key:
        namespace, _, local = key[1:].partition("}")
        return namespace + local
    return names.expand(key)


def _ordered_top(by_name: dict[str, list[Node]], plain: dict[str, str], names: Namespaces) -> str:
    """The ordered part of the event, from the texts `_plain_ordered` wrote and the trees of the other ordered
    fields; a tree the order consumes whole leaves ``by_name``, the rest stays for later."""
    out: list[str] = []
    for name in sorted(plain.keys() | by_name.keys(), key=_POSITION.__getitem__):
        text = plain.get(name)
        if text:
            out.append(text)
        nodes = by_name.get(name)
        if not nodes:
            continue
        sub = _SUB[name]
        values = [text for node in nodes if (text := _element(node, sub, names))]
        by_name[name] = [node for node in nodes if node.children]
        out.extend(sorted(values))
    return "".join(out)


def _ordered(nodes: list[Node], order: Order, names: Namespaces) -> str:
    """The ordered part of a level below the top; consumed elements are removed from ``nodes``, the rest stays for
    later. The level's namespaced extensions follow its ordered fields, sorted."""
    extensions = [n for n in nodes if n.name.startswith("{")]
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
    out.extend(sorted(generic_text(n, names) for n in extensions))
    return "".join(out)


def _element(node: Node, sub: Order | None, names: Namespaces) -> str:
    inner = _ordered(node.children, sub, names) if sub else ""
    text = node.text.strip()
    if text:
        lowered = node.name.lower()
        if node.name in _TEXT_FIELDS:
            text = "=" + text
        else:
            text = "=" + (time_text(text) if "time" in lowered and "offset" not in lowered else cached(text, names))
    return node.name + text + inner if text or inner else ""
