"""The event model: EPCIS 2.0 events with tracechain's extensions, validated and normalised, with no I/O.

An `Event` is built from the EPCIS JSON form (`Event.from_dict`, or `parse_json` for text) and checked against
the envelope: required fields, types, CBV values, time formats. Everything that has several spellings is
normalised so that one event has one canonical form: CBV values become bare words, item codes their canonical
string (`tracechain.identifiers.canonical_code`), ``eventTime`` an integer count of microseconds since the Unix
epoch in UTC (the offset is kept in ``eventTimeZoneOffset``), numbers exact decimals, text NFC. Product
profiles (`tracechain.profiles`) check the product's key data elements on top of this envelope.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from tracechain import encoding, identifiers
from tracechain.errors import EncodingError, IdentifierError, ValidationError

__all__ = [
    "BIZ_STEPS",
    "DISPOSITIONS",
    "EVENT_TYPES",
    "PRODUCTS",
    "Event",
    "format_time",
    "item_codes",
    "parse_json",
    "parse_time",
    "to_json",
]

EVENT_TYPES = frozenset(
    {"ObjectEvent", "AggregationEvent", "TransformationEvent", "TransactionEvent", "AssociationEvent"}
)
ACTIONS = frozenset({"ADD", "OBSERVE", "DELETE"})
PRODUCTS = frozenset({"infant_formula", "edible_oil", "liquor", "salt", "vet_drug", "food"})

# CBV 2.0 standard vocabularies (GS1 Core Business Vocabulary, sections 7.2 and 7.3).
BIZ_STEPS = frozenset(
    """accepting arriving assembling collecting commissioning consigning creating_class_instance cycle_counting
    decommissioning departing destroying disassembling dispensing encoding entering_exiting holding inspecting
    installing killing loading other packing picking receiving removing repackaging repairing replacing
    reserving retail_selling sampling sensor_reporting shipping staging_outbound stock_taking stocking storing
    transporting unloading unpacking void_shipping""".split()
)
DISPOSITIONS = frozenset(
    """active available completeness_inferred completeness_verified conformant container_closed container_open
    damaged destroyed dispensed disposed encoded expired in_progress in_transit inactive mismatch_instance
    mismatch_class mismatch_quantity needs_replacement no_pedigree_match non_conformant non_sellable_other
    partially_dispensed recalled reserved retail_sold returned sellable_accessible sellable_not_accessible
    stolen unavailable unknown""".split()
)
SOURCE_DEST_TYPES = frozenset({"owning_party", "possessing_party", "location"})
BIZ_TRANSACTION_TYPES = frozenset(
    """bol cert desadv inv pedigree po poc prodorder recadv rma testprd testres upevt""".split()
)

_CBV_PREFIXES = {
    "bizStep": ("https://ref.gs1.org/cbv/BizStep-", "urn:epcglobal:cbv:bizstep:"),
    "disposition": ("https://ref.gs1.org/cbv/Disp-", "urn:epcglobal:cbv:disp:"),
    "sourceDest": ("https://ref.gs1.org/cbv/SDT-", "urn:epcglobal:cbv:sdt:"),
    "bizTransaction": ("https://ref.gs1.org/cbv/BTT-", "urn:epcglobal:cbv:btt:"),
}
_VOCABULARIES = {
    "bizStep": BIZ_STEPS,
    "disposition": DISPOSITIONS,
    "sourceDest": SOURCE_DEST_TYPES,
    "bizTransaction": BIZ_TRANSACTION_TYPES,
}

_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})\Z")
_OFFSET = re.compile(r"[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00)\Z")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+\Z")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_MAX_TEXT = 4096
_MAX_LIST = 100_000

_CODE_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
_FREE_OBJECTS = ("ilmd", "tc:kde", "errorDeclaration", "persistentDisposition")
_KNOWN = frozenset(
    {
        "type",
        "action",
        "eventID",
        "eventTime",
        "eventTimeZoneOffset",
        "recordTime",
        "bizStep",
        "disposition",
        "parentID",
        "transformationID",
        "readPoint",
        "bizLocation",
        "bizTransactionList",
        "sourceList",
        "destinationList",
        "sensorElementList",
        "tc:product",
        "certificationInfo",
        *_CODE_LISTS,
        *_QUANTITY_LISTS,
        *_FREE_OBJECTS,
    }
)
_EVENT_FIELDS = {
    "ObjectEvent": {"epcList", "quantityList", "ilmd"},
    "AggregationEvent": {"parentID", "childEPCs", "childQuantityList"},
    "TransformationEvent": {
        "inputEPCList",
        "outputEPCList",
        "inputQuantityList",
        "outputQuantityList",
        "transformationID",
        "ilmd",
    },
    "TransactionEvent": {"parentID", "epcList", "quantityList"},
    "AssociationEvent": {"parentID", "childEPCs", "childQuantityList"},
}
_TYPE_SPECIFIC = frozenset().union(*_EVENT_FIELDS.values())


def parse_time(text: object, where: str) -> int:
    """An RFC 3339 date-time with an explicit offset, as microseconds since the Unix epoch (UTC)."""
    if not isinstance(text, str) or not _TIME.match(text):
        raise ValidationError(
            f"{where}: expected an RFC 3339 date-time with offset such as 2024-03-01T09:30:00+08:00, found {text!r}",
            [(where, f"expected an RFC 3339 date-time with offset, found {text!r}")],
        )
    main, _, rest = text.partition(".")
    if rest:
        digits = re.match(r"\d+", rest)
        assert digits is not None
        frac = digits.group()
        if len(frac) > 6 and frac[6:].strip("0"):
            raise ValidationError(
                f"{where}: times are kept to the microsecond; found {text!r} with finer digits",
                [(where, f"expected at most 6 fractional digits (microseconds), found {text!r}")],
            )
        text = f"{main}.{frac[:6]}{rest[len(frac) :]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as e:
        raise ValidationError(
            f"{where}: {text!r} is not a real date and time ({e})",
            [(where, f"not a real date-time: {text!r}")],
        ) from e
    return (moment - _EPOCH) // _MICRO


def format_time(micros: int, offset: str = "+00:00") -> str:
    """The RFC 3339 text of a time in microseconds since the epoch, shown at the given offset."""
    sign = -1 if offset[0] == "-" else 1
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    moment = (_EPOCH + timedelta(microseconds=micros)).astimezone(tz)
    spec = (
        "seconds" if moment.microsecond == 0 else "milliseconds" if moment.microsecond % 1000 == 0 else "microseconds"
    )
    text = moment.isoformat(timespec=spec)
    return text[:-6] + "Z" if offset in ("+00:00", "Z") else text


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number tracechain accepts")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r} in one JSON object")
        out[key] = value
    return out


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > 19:
        raise ValueError(f"integer {text[:30]}… is too large (at most 19 digits)")
    return int(text)


def parse_json(text: str | bytes, *, source: str = "input") -> Any:
    """Parse JSON strictly: no duplicate keys, no NaN or Infinity, decimals kept exact, bounded nesting."""
    try:
        return json.loads(
            text,
            object_pairs_hook=_unique_object,
            parse_float=Decimal,
            parse_int=_parse_int,
            parse_constant=_reject_constant,
        )
    except RecursionError as e:
        raise ValidationError(f"{source}: JSON nested too deeply") from e
    except UnicodeDecodeError as e:
        raise ValidationError(f"{source}: not valid UTF-8 ({e.reason} at byte {e.start})") from e
    except ValueError as e:  # json.JSONDecodeError is a ValueError, and so are our hooks' refusals
        raise ValidationError(f"{source}: not valid JSON: {e}") from e


class _Problems:
    """Collects every problem in an event so the error can list them all."""

    __slots__ = ("codes", "items")

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []
        # The item codes met on the way, so the ledger's index needs no second walk over the event.
        self.codes: dict[str, None] = {}

    def add(self, path: str, message: str) -> None:
        self.items.append((path, message))


def _text(value: object, path: str, problems: _Problems) -> str | None:
    if not isinstance(value, str) or not value or len(value) > _MAX_TEXT:
        shown = f"{len(value)} characters" if isinstance(value, str) and value else repr(value)[:60]
        problems.add(path, f"expected non-empty text of at most {_MAX_TEXT} characters, found {shown}")
        return None
    return _nfc(value)


# Locations, lots and cases recur across a batch; a cache makes their second spelling free. Errors are not cached.
_canonical_code = functools.lru_cache(maxsize=1 << 14)(identifiers.canonical_code)


def _item_code(value: object, path: str, problems: _Problems) -> str | None:
    """An item code (EPC, parent ID, quantity class), recorded for the item index."""
    code = _code(value, path, problems)
    if code is not None:
        problems.codes[code] = None
    return code


def _code(value: object, path: str, problems: _Problems) -> str | None:
    text = _text(value, path, problems)
    if text is None:
        return None
    try:
        return _canonical_code(text)
    except IdentifierError as e:
        problems.add(path, str(e))
        return None


def _vocabulary(value: object, path: str, kind: str, problems: _Problems) -> str | None:
    text = _text(value, path, problems)
    if text is None:
        return None
    for prefix in _CBV_PREFIXES[kind]:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    if text in _VOCABULARIES[kind]:
        return text
    if ":" in text and _URI.match(text):  # a user vocabulary written as a URI, which EPCIS allows
        return text
    problems.add(path, f"expected a CBV {kind} value (for example {min(_VOCABULARIES[kind])}) or a URI, found {text!r}")
    return None


def _list(value: object, path: str, problems: _Problems) -> list[Any] | None:
    if not isinstance(value, list) or len(value) > _MAX_LIST:
        problems.add(path, f"expected a list of at most {_MAX_LIST} items, found {type(value).__name__}")
        return None
    return value


def _object(value: object, path: str, problems: _Problems) -> Mapping[str, Any] | None:
    if not isinstance(value, Mapping):
        problems.add(path, f"expected an object, found {type(value).__name__}")
        return None
    return value


def _number(value: object, path: str, problems: _Problems) -> int | Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        problems.add(path, f"expected a number, found {value!r}")
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            problems.add(path, f"expected a finite number, found {value!r}")
            return None
        value = Decimal(repr(value))
    try:
        return encoding.canonical(value)  # type: ignore[no-any-return]
    except EncodingError as e:
        problems.add(path, str(e))
        return None


def _free(value: object, path: str, problems: _Problems) -> Any:
    """Any JSON value (KDEs, ilmd, sensor data) in canonical shape; floats become their exact shortest decimal."""
    try:
        return encoding.canonical(value, floats=True)
    except EncodingError as e:
        problems.add(path, str(e))
        return None


def _members(
    value: object, path: str, keys: tuple[str, ...], problems: _Problems
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(path, object) for each member of a list of small objects, reporting keys outside ``keys``."""
    items = _list(value, path, problems) or []
    for i, item in enumerate(items):
        p = f"{path}[{i}]"
        obj = _object(item, p, problems)
        if obj is None:
            continue
        extra = set(obj) - set(keys)
        if extra:
            problems.add(p, f"unexpected keys {sorted(extra)}; expected only {', '.join(keys)}")
        yield p, obj


def _quantities(value: object, path: str, problems: _Problems) -> list[dict[str, Any]] | None:
    if not isinstance(value, list):
        _list(value, path, problems)
        return None
    out = []
    for p, obj in _members(value, path, ("epcClass", "quantity", "uom"), problems):
        q: dict[str, Any] = {}
        if "epcClass" not in obj:
            problems.add(f"{p}.epcClass", "required")
        else:
            q["epcClass"] = _item_code(obj["epcClass"], f"{p}.epcClass", problems)
        if "quantity" in obj:
            n = _number(obj["quantity"], f"{p}.quantity", problems)
            if n is not None and n < 0:
                problems.add(f"{p}.quantity", f"expected a quantity ≥ 0, found {n}")
            q["quantity"] = n
        if "uom" in obj:
            q["uom"] = _text(obj["uom"], f"{p}.uom", problems)
        out.append(dict(sorted(q.items())))
    return out


def _location(value: object, path: str, problems: _Problems) -> dict[str, Any] | None:
    obj = _object(value, path, problems)
    if obj is None:
        return None
    if "id" not in obj:
        problems.add(f"{path}.id", "required")
        return None
    out = {k: _free(v, f"{path}.{k}", problems) for k, v in obj.items() if k != "id"} if len(obj) > 1 else {}
    out["id"] = _code(obj["id"], f"{path}.id", problems)
    return dict(sorted(out.items())) if len(out) > 1 else out


def _typed_links(value: object, path: str, value_key: str, kind: str, problems: _Problems) -> list[Any] | None:
    """sourceList, destinationList and bizTransactionList: [{type, <value_key>}]."""
    if not isinstance(value, list):
        _list(value, path, problems)
        return None
    out = []
    for p, obj in _members(value, path, ("type", value_key), problems):
        link: dict[str, Any] = {}
        if value_key not in obj:
            problems.add(f"{p}.{value_key}", "required")
        else:
            link[value_key] = _text(obj[value_key], f"{p}.{value_key}", problems)
        if "type" in obj:
            link["type"] = _vocabulary(obj["type"], f"{p}.type", kind, problems)
        elif kind != "bizTransaction":
            problems.add(f"{p}.type", "required")
        out.append(dict(sorted(link.items())))
    return out


def _sensors(value: object, path: str, problems: _Problems) -> Any:
    items = _list(value, path, problems)
    if items is None:
        return None
    for i, item in enumerate(items):
        obj = _object(item, f"{path}[{i}]", problems)
        if obj is not None and not isinstance(obj.get("sensorReport"), list):
            problems.add(f"{path}[{i}].sensorReport", "required: a list of sensor reports")
    return _free(items, path, problems)


def _one_of(value: object, allowed: frozenset[str]) -> bool:
    return isinstance(value, str) and value in allowed


Field = Callable[[Any, str, _Problems], Any]


def _time_field(value: Any, path: str, problems: _Problems) -> int | None:
    try:
        return parse_time(value, path)
    except ValidationError as e:
        problems.items.extend(e.problems)
        return None


def _offset_field(value: Any, path: str, problems: _Problems) -> str | None:
    if isinstance(value, str) and _OFFSET.match(value):
        return value
    problems.add(path, f"expected an offset such as +08:00, found {value!r}")
    return None


def _product_field(value: Any, path: str, problems: _Problems) -> str | None:
    if _one_of(value, PRODUCTS):
        return str(value)
    problems.add(path, f"expected one of {sorted(PRODUCTS)}, found {value!r}")
    return None


def _code_list(value: Any, path: str, problems: _Problems) -> list[str | None] | None:
    codes = _list(value, path, problems)
    if codes is None:
        return None
    return [_item_code(c, f"{path}[{i}]", problems) for i, c in enumerate(codes)]


def _free_object(value: Any, path: str, problems: _Problems) -> Any:
    if _object(value, path, problems) is None:
        return None
    return _free(value, path, problems)


def _links(value_key: str, kind: str) -> Field:
    return lambda value, path, problems: _typed_links(value, path, value_key, kind, problems)


def _cbv(kind: str) -> Field:
    return lambda value, path, problems: _vocabulary(value, path, kind, problems)


# One handler per field: the walk visits each key of the input once.
_FIELDS: dict[str, Field] = {
    "eventTime": _time_field,
    "recordTime": _time_field,
    "eventTimeZoneOffset": _offset_field,
    "tc:product": _product_field,
    "bizStep": _cbv("bizStep"),
    "disposition": _cbv("disposition"),
    "eventID": _text,
    "transformationID": _text,
    "parentID": _item_code,
    **dict.fromkeys(_CODE_LISTS, _code_list),
    **dict.fromkeys(_QUANTITY_LISTS, _quantities),
    "readPoint": _location,
    "bizLocation": _location,
    "sourceList": _links("source", "sourceDest"),
    "destinationList": _links("destination", "sourceDest"),
    "bizTransactionList": _links("bizTransaction", "bizTransaction"),
    "sensorElementList": _sensors,
    **dict.fromkeys(_FREE_OBJECTS, _free_object),
    "certificationInfo": _free,  # a URI or a list of them in EPCIS 2.0
}
_REQUIRED = ("eventTime", "eventTimeZoneOffset", "tc:product")


def _normalise(d: Mapping[str, Any], problems: _Problems) -> dict[str, Any]:
    out: dict[str, Any] = {}
    event_type = d.get("type")
    allowed: set[str] | frozenset[str] = _TYPE_SPECIFIC
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        problems.add("$.type", f"expected one of {sorted(EVENT_TYPES)}, found {event_type!r}")
    else:
        out["type"] = event_type
        allowed = _EVENT_FIELDS[event_type]
        action = d.get("action")
        if event_type == "TransformationEvent":
            if "action" in d:
                problems.add("$.action", "a TransformationEvent has no action")
        elif _one_of(action, ACTIONS):
            out["action"] = action
        else:
            problems.add("$.action", f"expected one of {sorted(ACTIONS)}, found {action!r}")
    for key, value in d.items():
        handler = _FIELDS.get(key) if isinstance(key, str) else None
        if handler is not None:
            if key in _TYPE_SPECIFIC and key not in allowed:
                problems.add(f"$.{key}", f"not a field of {event_type}")
                continue
            out[key] = handler(value, f"$.{key}", problems)
        elif key in ("type", "action"):
            continue
        elif isinstance(key, str) and ":" in key and not key.startswith("tc:"):
            out[_nfc(key)] = _free(value, f"$.{key}", problems)
        else:
            problems.add(f"$.{key}", "not an EPCIS 2.0 event field nor a namespaced extension (prefix:name)")
    for key in _REQUIRED:
        if key not in d:
            problems.add(f"$.{key}", "required")
    return dict(sorted(out.items()))


def _nfc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFC", text)


@dataclass(frozen=True, slots=True)
class Event:
    """One validated, normalised traceability event.

    ``data`` is the canonical model: the EPCIS JSON field names, with the normalisations described in the module
    docstring. It is exactly what `canonical_bytes` encodes and what the ledger hashes.
    """

    data: Mapping[str, Any]
    _bytes: bytes = field(default=b"", repr=False, compare=False)
    _codes: tuple[str, ...] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, check_profile: bool = True) -> Event:
        """Validate and normalise an event given in EPCIS 2.0 JSON form.

        Raises `ValidationError` listing every problem with its JSON path. With ``check_profile`` the product
        profile of ``tc:product`` is checked too.
        """
        if not isinstance(d, Mapping):
            raise ValidationError(f"an event is a JSON object, found {type(d).__name__}")
        problems = _Problems()
        data = _normalise(d, problems)
        if check_profile:
            from tracechain import profiles  # imported late: profiles loads schemas

            # The profile sees the event as sent; a field the envelope already faulted is reported once.
            seen = {path for path, _ in problems.items}
            found = profiles.problems(d, envelope_checked=not seen)
            problems.items.extend(p for p in found if p[0] not in seen)
        if problems.items:
            first_path, first = problems.items[0]
            more = f" (and {len(problems.items) - 1} more)" if len(problems.items) > 1 else ""
            raise ValidationError(f"invalid event: {first_path}: {first}{more}", problems.items)
        return cls(data, encoding.pack_canonical(data), tuple(problems.codes))

    @classmethod
    def from_canonical(cls, data: bytes) -> Event:
        """The event whose canonical bytes these are; non-canonical bytes raise `EncodingError`."""
        value = encoding.decode(data, what="event")
        if not isinstance(value, dict):
            raise EncodingError(f"an event's canonical bytes hold a map, found {type(value).__name__}")
        return cls(value, data)

    def canonical_bytes(self) -> bytes:
        """The bytes the ledger stores and hashes for this event."""
        return self._bytes or encoding.pack_canonical(self.data)

    @property
    def type(self) -> str:
        return str(self.data.get("type", ""))

    @property
    def product(self) -> str:
        return str(self.data.get("tc:product", ""))

    @property
    def event_time(self) -> datetime:
        return _EPOCH + timedelta(microseconds=int(self.data.get("eventTime", 0)))

    def item_codes(self) -> Iterator[str]:
        """Every item code the event names (EPCs, parent IDs, quantity classes), each once, canonical."""
        if self._codes is not None:
            return iter(self._codes)
        try:
            return iter(item_codes(self.data))
        except (KeyError, TypeError, AttributeError) as e:  # a damaged stored event; verify reports where
            raise EncodingError(f"the event does not have the shape of a validated event ({e!r})") from e

    def to_dict(self) -> dict[str, Any]:
        """The event in EPCIS 2.0 JSON form (times as RFC 3339 text at the event's own offset)."""
        out = dict(self.data)
        offset = str(out.get("eventTimeZoneOffset", "+00:00"))
        for key in ("eventTime", "recordTime"):
            if key in out:
                # A damaged stored event (verify reports it) shows what is stored rather than failing the listing.
                with contextlib.suppress(TypeError, ValueError, OverflowError, IndexError):
                    out[key] = format_time(int(out[key]), offset)
        return out


def item_codes(data: Mapping[str, Any]) -> list[str]:
    """The item codes of an event's canonical model, in first-seen order without repeats."""
    seen: dict[str, None] = {}
    parent = data.get("parentID")
    if isinstance(parent, str):
        seen[parent] = None
    for key in _CODE_LISTS:
        for code in data.get(key, ()):
            seen[code] = None
    for key in _QUANTITY_LISTS:
        for q in data.get(key, ()):
            seen[q["epcClass"]] = None
    return list(seen)


def to_json(value: Any, *, indent: int | None = None) -> str:
    """JSON text for an event's dict form, writing exact decimals as JSON numbers (never through a float)."""
    marker = secrets.token_hex(8)
    text = json.dumps(_for_json(value, marker), ensure_ascii=False, indent=indent)
    if marker not in text:
        return text
    return re.sub(f'"{marker}(-?[0-9]+\\.[0-9]+)"', r"\1", text)


def _for_json(value: Any, marker: str) -> Any:
    if isinstance(value, Mapping):
        return {k: _for_json(v, marker) for k, v in value.items()}
    if isinstance(value, list):
        return [_for_json(v, marker) for v in value]
    if isinstance(value, Decimal):
        # A random marker per call, so no text in the event can pass itself off as a number.
        return f"{marker}{value:f}"
    if isinstance(value, bytes):
        return value.hex()
    return value
