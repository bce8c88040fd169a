"""tracechain's canonical bytes: the one deterministic msgpack encoding of everything that is hashed or signed.

The rules (docs/SPEC.md §2 is the normative text):

- maps have text keys, sorted by their UTF-8 bytes (the same order as code points), no duplicates;
- integers use msgpack's shortest form and lie in [-2**63, 2**63); booleans and nil as msgpack has them;
- no floats: a non-integral decimal is ext type 1 whose data is its plain ASCII form with no exponent, no leading
  or trailing zero digits beyond the one before the point (``"-0.5"``, ``"12.25"``); integral values are integers;
- text is NFC-normalised UTF-8 in msgpack's shortest str form; binary data uses the bin family;
- arrays are msgpack arrays.

`decode` accepts bytes only if re-encoding what it read gives the same bytes, so there is exactly one byte string
for each value. This is the only module that imports msgpack.
"""

from __future__ import annotations

import math
import threading
import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import msgpack

from tracechain.errors import EncodingError

__all__ = [
    "DECIMAL_EXT",
    "MAX_DEPTH",
    "canonical",
    "canonical_decimal",
    "decode",
    "decode_entry",
    "decode_verified",
    "encode",
    "encode_entry",
    "pack_canonical",
]

DECIMAL_EXT = 1
MAX_DEPTH = 32
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 63) - 1
_MAX_DECIMAL_DIGITS = 40


def canonical_decimal(value: Decimal) -> Decimal | int:
    """The canonical value of a decimal number: an int when integral, else a Decimal with no trailing zeros."""
    if not value.is_finite():
        raise EncodingError(f"numbers must be finite, found {value}")
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    # Bound the work before normalising: 1e999999 must not become a million-digit integer.
    if len(digits) + abs(exponent) > _MAX_DECIMAL_DIGITS + 20 and value != 0:
        raise EncodingError(f"numbers must have at most {_MAX_DECIMAL_DIGITS} significant digits, found {value}")
    if value == value.to_integral_value():
        return _check_int(int(value))
    normal = value.normalize()
    if len(normal.as_tuple().digits) > _MAX_DECIMAL_DIGITS:
        raise EncodingError(f"numbers must have at most {_MAX_DECIMAL_DIGITS} significant digits, found {value}")
    return normal


def _check_int(value: int) -> int:
    if not _INT_MIN <= value <= _INT_MAX:
        raise EncodingError(f"integers must lie in [-2**63, 2**63), found {value}")
    return value


def _nfc(text: str, where: str) -> str:
    if text.isascii():
        return text
    try:
        return unicodedata.normalize("NFC", text)
    except UnicodeError as e:  # pragma: no cover - normalize only fails on lone surrogates in exotic builds
        raise EncodingError(f"{where}: text is not valid Unicode") from e


class _RefusedError(Exception):
    """Raised on the fast path, which builds no messages; the slow path then says where and why."""


def _fast(value: Any, depth: int, floats: bool) -> Any:
    """The value with maps sorted, text NFC and numbers canonical: the shape msgpack then packs."""
    t = type(value)
    if t is str:
        return value if value.isascii() else unicodedata.normalize("NFC", value)
    if t is dict:
        if depth >= MAX_DEPTH:
            raise _RefusedError
        keys = list(value)
        for k in keys:
            if type(k) is not str or not k.isascii():
                raise _RefusedError  # the slow path handles non-ASCII keys and reports bad ones
        d = depth + 1
        return {k: _fast(value[k], d, floats) for k in sorted(keys)}
    if t is int:
        if _INT_MIN <= value <= _INT_MAX:
            return value
        raise _RefusedError
    if t is list or t is tuple:
        if depth >= MAX_DEPTH:
            raise _RefusedError
        d = depth + 1
        return [_fast(v, d, floats) for v in value]
    if t is bool or value is None or t is bytes:
        return value
    if t is Decimal:
        return canonical_decimal(value)
    if t is float and floats and math.isfinite(value):
        return canonical_decimal(Decimal(repr(value)))
    raise _RefusedError


def _canonical(value: Any, where: str, depth: int, floats: bool) -> Any:
    """As `_fast`, keeping the path so that a refusal says where it happened."""
    if depth > MAX_DEPTH:
        raise EncodingError(f"{where}: nesting deeper than {MAX_DEPTH} levels")
    t = type(value)
    if t is str:
        return _nfc(value, where)
    if t is dict or isinstance(value, Mapping):
        pairs: dict[str, Any] = {}
        for key in value:
            if type(key) is not str:
                raise EncodingError(f"{where}: map keys must be text, found {type(key).__name__}")
            k = _nfc(key, where)
            if k in pairs:
                raise EncodingError(f"{where}: key {k!r} appears twice after Unicode normalisation")
            pairs[k] = value[key]
        # Code point order is UTF-8 byte order, so sorting the text sorts the encoded keys.
        return {k: _canonical(pairs[k], f"{where}.{k}", depth + 1, floats) for k in sorted(pairs)}
    if t is bool or value is None or t is bytes:
        return value
    if t is int:
        return _check_int(value)
    if t is list or t is tuple:
        return [_canonical(v, f"{where}[{i}]", depth + 1, floats) for i, v in enumerate(value)]
    if t is Decimal:
        return canonical_decimal(value)
    if t is float:
        if floats:
            raise EncodingError(f"{where}: numbers must be finite, found {value!r}")
        raise EncodingError(
            f"{where}: floats are not allowed in canonical form; write decimals as text, found {value!r}"
        )
    raise EncodingError(f"{where}: cannot encode a value of type {t.__name__}")


def canonical(value: Any, *, floats: bool = False) -> Any:
    """``value`` in canonical shape (sorted maps, NFC text, canonical numbers), ready to pack.

    With ``floats`` a finite float becomes the decimal its shortest repr spells (``0.1`` → 0.1 exactly), for
    values that come from JSON parsed by others; otherwise a float is refused.
    """
    try:
        return _fast(value, 0, floats)
    except _RefusedError:
        return _canonical(value, "$", 0, floats)


def _default(value: Any) -> msgpack.ExtType:
    if type(value) is Decimal:
        return msgpack.ExtType(DECIMAL_EXT, f"{value:f}".encode("ascii"))
    raise EncodingError(f"cannot encode a value of type {type(value).__name__}")  # pragma: no cover


_packer_options: dict[str, Any] = {"use_bin_type": True, "default": _default, "strict_types": True}
_local = threading.local()


def _packer() -> msgpack.Packer:
    """This thread's Packer. ``msgpack.packb`` builds a new Packer per call, which costs four times the packing
    of an entry; a Packer is not safe to share between threads, and it empties its buffer after an error."""
    try:
        return _local.packer
    except AttributeError:
        _local.packer = packer = msgpack.Packer(**_packer_options)
        return packer


def encode(value: Any) -> bytes:
    """The canonical bytes of ``value`` (dicts, lists, text, bytes, ints, Decimals, bools, None)."""
    try:
        return _packer().pack(canonical(value))  # type: ignore[no-any-return]
    except EncodingError:
        raise
    except (ValueError, OverflowError, TypeError) as e:
        raise EncodingError(f"cannot encode value: {e}") from e


def pack_canonical(value: Any) -> bytes:
    """Pack a value that is already in canonical shape (the output of `canonical`, or built to the same rules).

    This skips the normalising walk for callers, such as the event model, that build canonical values directly;
    `decode` still refuses any bytes that are not canonical, so a mistake here cannot pass verification.
    """
    try:
        return _packer().pack(value)  # type: ignore[no-any-return]
    except (ValueError, OverflowError, TypeError) as e:
        raise EncodingError(f"cannot encode value: {e}") from e


def _ext_hook(code: int, data: bytes) -> Decimal:
    if code != DECIMAL_EXT:
        raise EncodingError(f"unknown msgpack ext type {code}; only {DECIMAL_EXT} (decimal) is used")
    try:
        text = data.decode("ascii")
        value = Decimal(text)
    except (UnicodeDecodeError, InvalidOperation) as e:
        raise EncodingError(f"decimal ext data is not a decimal number: {data!r}") from e
    if not value.is_finite() or "e" in text.lower():
        raise EncodingError(f"decimal ext data must be a plain finite decimal, found {text!r}")
    return value


def decode(data: bytes, *, what: str = "value") -> Any:
    """Read canonical bytes; anything that is not the one canonical encoding of its value is refused."""
    try:
        value = msgpack.unpackb(data, raw=False, strict_map_key=True, ext_hook=_ext_hook, use_list=True)
    except EncodingError:
        raise
    except (ValueError, TypeError, msgpack.UnpackException, msgpack.ExtraData, RecursionError) as e:
        raise EncodingError(f"{what} is not valid msgpack: {e}") from e
    # Bytes that decode to a value already in canonical shape are canonical exactly when packing that value as it
    # stands gives them back: `encode` would normalise nothing, so this is the same check without the copy.
    reencoded = pack_canonical(value) if _is_canonical(value, 0) else encode(value)
    if reencoded != data:
        raise EncodingError(f"{what} is not in canonical form (re-encoding gives other bytes)")
    return value


def _is_canonical(value: Any, depth: int) -> bool:
    """True if `canonical` would return ``value`` unchanged: maps sorted, text NFC, numbers canonical, in bounds.

    It accepts exactly what `_fast` passes through unchanged and says False for everything else (floats, keys that
    are not ASCII text, ...), which then takes the normalising path and its messages. Scalars in containers are
    checked inline: a function call per scalar would cost more than the check.
    """
    t = type(value)
    if t is dict:
        if depth >= MAX_DEPTH:
            return False
        keys = list(value)
        try:
            ascii_text = "".join(keys).isascii()  # one C call instead of a test per key; bytes keys raise
        except TypeError:
            return False
        if not ascii_text or keys != sorted(keys):
            return False
        items: Any = value.values()
    elif t is list:
        if depth >= MAX_DEPTH:
            return False
        items = value
    else:
        return _is_canonical_scalar(value)
    d = depth + 1
    for v in items:
        tv = type(v)
        if tv is str:
            if not v.isascii() and not unicodedata.is_normalized("NFC", v):
                return False
        elif tv is int:
            if not _INT_MIN <= v <= _INT_MAX:
                return False
        elif tv is dict or tv is list:
            if not _is_canonical(v, d):
                return False
        elif not (tv is bytes or tv is bool or v is None or _is_canonical_scalar(v)):
            return False
    return True


def _is_canonical_scalar(value: Any) -> bool:
    t = type(value)
    if t is str:
        return bool(value.isascii() or unicodedata.is_normalized("NFC", value))
    if t is int:
        return bool(_INT_MIN <= value <= _INT_MAX)
    if t is bytes or t is bool or value is None:
        return True
    if t is Decimal:
        try:
            normal = canonical_decimal(value)
        except EncodingError:
            return False
        return type(normal) is Decimal and f"{normal:f}" == f"{value:f}"
    return False


def encode_entry(version: int, index: int, prev: bytes, kind: str, body: Any) -> bytes:
    """An entry's bytes: the canonical array [version, index, previous leaf hash, kind, body]."""
    if (
        type(body) is bytes
        and type(prev) is bytes
        and type(kind) is str
        and kind.isascii()
        and type(version) is int
        and type(index) is int
        and _INT_MIN <= version <= _INT_MAX
        and _INT_MIN <= index <= _INT_MAX
    ):
        # An event entry, on the append path of every event: five scalars that are canonical as they stand (the
        # conditions above are what `canonical` would check), so msgpack packs them without the normalising walk.
        return _packer().pack([version, index, prev, kind, body])  # type: ignore[no-any-return]
    return encode([version, index, prev, kind, body])


def decode_entry(data: bytes) -> tuple[int, int, bytes, str, Any]:
    """Read an entry's five fields, checking canonical form and field types."""
    value = decode(data, what="entry")
    if type(value) is not list or len(value) != 5:
        raise EncodingError(f"an entry is an array of 5 fields, found {type(value).__name__} of {_length(value)}")
    version, index, prev, kind, body = value
    if type(version) is not int or type(index) is not int or type(prev) is not bytes or type(kind) is not str:
        raise EncodingError("an entry's fields are [int version, int index, bin previous hash, str kind, body]")
    return version, index, prev, kind, body


def _length(value: object) -> str:
    return str(len(value)) if isinstance(value, (list, dict, str, bytes)) else "n/a"


def decode_verified(data: bytes, *, what: str = "value") -> Any:
    """Read bytes already found canonical (by a verification of the same stored bytes) without checking it again.

    For canonical bytes it gives exactly what `decode` gives; it is for a second reader of a verified ledger (the
    audit's rules, after the audit's own verify), which would otherwise spend most of its time re-proving the form.
    Bytes that are not msgpack still raise `EncodingError`; bytes that are msgpack but not canonical are read as
    they are, which is why only verified bytes may be given to it.
    """
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=True, ext_hook=_ext_hook, use_list=True)
    except EncodingError:
        raise
    except (ValueError, TypeError, msgpack.UnpackException, msgpack.ExtraData, RecursionError) as e:
        raise EncodingError(f"{what} is not valid msgpack: {e}") from e
