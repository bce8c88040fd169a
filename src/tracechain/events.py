"""The event model: EPCIS 2.0 events with tracechain's extensions, validated and normalised, with no I/O.

An `Event` is built from the EPCIS JSON form (`Event.from_dict`, or `parse_json` for text) and checked against
the envelope (``schemas/event.schema.json``, walked by `tracechain._envelope`), the limits and time window of
docs/products.md, and its product profile. Everything that has several spellings is
normalised so that one event has one canonical form: CBV values become bare words, item codes their canonical
string (`tracechain.identifiers.canonical_code`), ``eventTime`` an integer count of microseconds since the Unix
epoch in UTC (the offset is kept in ``eventTimeZoneOffset``), numbers exact decimals, text NFC. Product
profiles (`tracechain.profiles`) check the product's key data elements on top of this envelope.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Final, NoReturn

from tracechain import _envelope, _schema, _values, encoding
from tracechain.errors import EncodingError, ValidationError

__all__ = [
    "BIZ_STEPS",
    "DISPOSITIONS",
    "EARLIEST_TIME",
    "EVENT_TYPES",
    "FUTURE_TOLERANCE",
    "MAX_DEPTH",
    "MAX_EVENT_BYTES",
    "MAX_LIST",
    "MAX_MEMBERS",
    "MAX_TEXT",
    "PRODUCTS",
    "Event",
    "format_time",
    "item_codes",
    "parse_json",
    "parse_time",
    "scan_json",
    "to_json",
]

BIZ_STEPS: Final = _schema.BIZ_STEPS
DISPOSITIONS: Final = _schema.DISPOSITIONS
EVENT_TYPES: Final = _schema.EVENT_TYPES
PRODUCTS: Final = _schema.PRODUCTS
EARLIEST_TIME: Final = _schema.EARLIEST_TIME
FUTURE_TOLERANCE: Final = _schema.FUTURE_TOLERANCE
MAX_TEXT: Final = _schema.MAX_TEXT
MAX_LIST: Final = _schema.MAX_LIST
MAX_MEMBERS: Final = _schema.MAX_MEMBERS
MAX_DEPTH: Final = _schema.MAX_DEPTH
MAX_EVENT_BYTES: Final = _schema.MAX_EVENT_BYTES

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CODE_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")


def parse_time(text: object, where: str, *, now: datetime | None = None) -> int:
    """An RFC 3339 date-time with an explicit offset, as microseconds since the Unix epoch (UTC).

    The time must lie between `EARLIEST_TIME` and ``now`` (default: the clock) plus `FUTURE_TOLERANCE`.
    """
    problems = _values.Problems()
    micros = _values.parse_time(text, where, problems, _values.clock_micros(now))
    if micros is None:
        path, message = problems.items[0]
        raise ValidationError(f"{path}: {message}", problems.items)
    return micros


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


# The JSON rules of every reader: parse_json, scan_json and tracechain.reading use this one decoder.
_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_unique_object, parse_float=Decimal, parse_int=_parse_int, parse_constant=_reject_constant
)
_WHITESPACE: Final = re.compile(r"[ \t\n\r]*")


def parse_json(text: str | bytes, *, source: str = "input") -> Any:
    """Parse JSON strictly: no duplicate keys, no NaN or Infinity, decimals kept exact, bounded nesting."""
    try:
        if isinstance(text, bytes | bytearray):
            text = bytes(text).decode("utf-8-sig")
        value, end = _DECODER.raw_decode(text, _WHITESPACE.match(text).end())  # type: ignore[union-attr]
        if _WHITESPACE.match(text, end).end() != len(text):  # type: ignore[union-attr]
            raise json.JSONDecodeError("Extra data", text, end)
    except RecursionError as e:
        raise ValidationError(f"{source}: JSON nested too deeply") from e
    except UnicodeDecodeError as e:
        raise ValidationError(f"{source}: not valid UTF-8 ({e.reason} at byte {e.start})") from e
    except ValueError as e:  # json.JSONDecodeError is a ValueError, and so are our hooks' refusals
        raise ValidationError(f"{source}: not valid JSON: {e}") from e
    return value


def scan_json(text: str, start: int = 0, *, source: str = "input", line: int = 1) -> tuple[Any, int]:
    """The JSON value at ``start`` of ``text`` (after any whitespace) and the index just after it.

    The rules of `parse_json`; what follows the value is the caller's (a reader of several values in one text).
    A syntax error names its line, counting the text's first line as ``line``, and its column.
    """
    try:
        return _DECODER.raw_decode(text, _WHITESPACE.match(text, start).end())  # type: ignore[union-attr]
    except RecursionError as e:
        raise ValidationError(f"{source}: JSON nested too deeply") from e
    except json.JSONDecodeError as e:
        where = f"line {e.lineno + line - 1} column {e.colno}"
        raise ValidationError(f"{source}: not valid JSON: {e.msg} ({where})") from e
    except ValueError as e:  # the hooks' refusals: a repeated key, NaN, a huge integer
        raise ValidationError(f"{source}: not valid JSON: {e}") from e


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
    def from_dict(
        cls,
        d: Mapping[str, Any],
        *,
        check_profile: bool = True,
        product: str | None = None,
        now: datetime | None = None,
    ) -> Event:
        """Validate and normalise an event given in EPCIS 2.0 JSON form.

        Raises `ValidationError` listing every problem with its JSON path: the envelope
        (``schemas/event.schema.json``) and the limits of docs/products.md always; with ``check_profile`` the
        product profile of ``tc:product`` too. An event without ``tc:product`` is a plain EPCIS event (`product`
        is None): no profile applies, and the envelope's rules for plain events do. ``product`` names the product
        the event is about: an event without ``tc:product`` becomes one of that product (it is recorded with it,
        and its profile must be met); an event that names another product is refused. Times are judged against
        ``now`` (an aware datetime; default the system clock): none may lie more than `FUTURE_TOLERANCE` after it.
        """
        if not isinstance(d, Mapping):
            raise ValidationError(
                f"invalid event: expected an event object, found {_values.shown(d)}",
                [("$", f"expected an event object, found {_values.shown(d)}")],
            )
        if product is not None:
            d = _as_product(d, product)
        problems = _values.Problems()
        kde_by_profile = check_profile and type(d.get("tc:product")) is str and d["tc:product"] in PRODUCTS
        data = _envelope.normalise(d, problems, _values.clock_micros(now), kde_by_profile)
        product = data.get("tc:product")
        profile: list[tuple[str, str]] = []
        if check_profile and product is not None:
            profile = _profile_problems()(d, product)
        if problems.items or profile:
            _refuse(problems, product, profile)
        try:
            canonical = encoding.pack_canonical(data)
        except EncodingError:
            for path in _values.lone_surrogates(d):
                problems.add(path, "expected Unicode text, found a lone surrogate (half of a UTF-16 pair)")
            if not problems.items:
                raise
            _refuse(problems, product)
        if len(canonical) > _schema.MAX_EVENT_BYTES:
            problems.add(
                "$",
                f"expected an event of at most {_schema.MAX_EVENT_BYTES >> 20} MiB in canonical form, "
                f"found {len(canonical)} bytes",
            )
            _refuse(problems, product)
        return cls(data, canonical, tuple(problems.codes))

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
    def product(self) -> str | None:
        """The product profile the event follows, or None for a plain EPCIS event (one without ``tc:product``)."""
        product = self.data.get("tc:product")
        return None if product is None else str(product)

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


@functools.cache
def _profile_problems() -> Callable[[Mapping[str, Any], str], list[tuple[str, str]]]:
    # Imported on first use, not with this module: the profiles compile schemas and bring fastjsonschema.
    from tracechain import profiles

    return profiles.profile_problems


def _as_product(d: Mapping[str, Any], product: str) -> Mapping[str, Any]:
    """``d`` as an event of ``product``: given it when it names none, refused when it names another."""
    if product not in PRODUCTS:
        raise ValidationError(
            f"product {product!r}: expected one of {', '.join(sorted(PRODUCTS))}",
            [("$.tc:product", f"expected one of {', '.join(sorted(PRODUCTS))}, found {_values.shown(product)}")],
        )
    named = d.get("tc:product", product)
    if named != product:
        message = f"expected {_values.shown(product)} (the product this event is read as), found {_values.shown(named)}"
        raise ValidationError(f"invalid event: $.tc:product: {message}", [("$.tc:product", message)])
    return d if "tc:product" in d else {**d, "tc:product": product}


def _refuse(problems: _values.Problems, product: str | None, profile: Sequence[tuple[str, str]] = ()) -> NoReturn:
    """Raise the event's problems: the envelope's, titled, then the profile's at paths the envelope left alone."""
    from tracechain import profiles  # imported late: profiles compiles schemas

    items = profiles.titled(problems.items, product)
    seen = {path for path, _ in items}
    items += [problem for problem in profile if problem[0] not in seen]
    if problems.unlisted:
        items.append(("$", f"{problems.unlisted} more problems not listed"))
    first_path, first = items[0]
    extra = len(items) - 1 + problems.unlisted - (1 if problems.unlisted else 0)  # the count line is not one
    more = f" (and {extra} more)" if extra else ""
    raise ValidationError(f"invalid event: {first_path}: {first}{more}", items)


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
