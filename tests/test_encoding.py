"""Canonical msgpack: one byte string per value, and nothing else accepted."""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Any

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracechain import encoding
from tracechain.errors import EncodingError

text = st.text(max_size=20)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1),
    text,
    st.binary(max_size=40),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**9), max_value=10**9),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(text, inner, max_size=5)),
    max_leaves=30,
)


@given(values)
def test_round_trip_gives_the_same_bytes(value: Any) -> None:
    data = encoding.encode(value)
    assert encoding.encode(encoding.decode(data)) == data


@given(st.dictionaries(text, st.integers(0, 9), min_size=2, max_size=8))
def test_key_order_does_not_change_the_bytes(d: dict[str, int]) -> None:
    reversed_d = dict(reversed(list(d.items())))
    assert encoding.encode(d) == encoding.encode(reversed_d)


def test_maps_are_sorted_by_utf8_bytes_and_integers_are_shortest() -> None:
    assert encoding.encode({"b": 1, "a": 300, "é": -1}).hex() == "83a161cd012ca16201a2c3a9ff"


def test_text_is_nfc_normalised() -> None:
    decomposed = "e\u0301"
    assert encoding.encode(decomposed) == encoding.encode("\u00e9")


def test_decimals_are_ext_1_in_plain_form_and_integral_values_are_integers() -> None:
    assert encoding.encode(Decimal("2.50")) == msgpack.packb(msgpack.ExtType(1, b"2.5"))
    assert encoding.encode(Decimal("1E+3")) == encoding.encode(1000)
    assert encoding.encode(Decimal("-0.000")) == encoding.encode(0)
    assert encoding.decode(encoding.encode(Decimal("0.125"))) == Decimal("0.125")


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        (1.5, "floats"),
        ({1: "x"}, "keys must be text"),
        (1 << 63, "integers"),
        (Decimal("NaN"), "finite"),
        (Decimal("1E+100"), "digits"),
        ({"e\u0301": 1, "\u00e9": 2}, "twice"),
        (object(), "cannot encode"),
    ],
)
def test_values_without_a_canonical_form_are_refused(value: Any, complaint: str) -> None:
    with pytest.raises(EncodingError, match=complaint):
        encoding.encode(value)


def test_nesting_is_bounded() -> None:
    deep: Any = "x"
    for _ in range(encoding.MAX_DEPTH + 2):
        deep = [deep]
    with pytest.raises(EncodingError, match="deeper"):
        encoding.encode(deep)


@pytest.mark.parametrize(
    "data",
    [
        msgpack.packb({"b": 1, "a": 2}),  # unsorted keys
        bytes.fromhex("d000"),  # int8 0 where a fixint is shortest
        bytes.fromhex("d90161"),  # str8 for a 1-byte string
        msgpack.packb(1.5),  # a float
        msgpack.packb(msgpack.ExtType(1, b"2.50")),  # trailing zero
        msgpack.packb(msgpack.ExtType(1, b"2")),  # integral decimal
        msgpack.packb(msgpack.ExtType(1, b"1e3")),  # exponent
        msgpack.packb(msgpack.ExtType(2, b"x")),  # unknown ext
        msgpack.packb("e\u0301"),  # not NFC
        bytes.fromhex("82a16101a16102"),  # duplicate key
        msgpack.packb(1) + b"\x00",  # trailing bytes
        b"",
        b"\xc1",  # never-used byte
    ],
)
def test_non_canonical_bytes_are_refused(data: bytes) -> None:
    with pytest.raises(EncodingError):
        encoding.decode(data)


@given(st.binary(max_size=64))
def test_arbitrary_bytes_only_raise_encoding_error(data: bytes) -> None:
    try:
        value = encoding.decode(data)
    except EncodingError:
        return
    assert encoding.encode(value) == data


def test_entry_fields_are_type_checked() -> None:
    data = encoding.encode_entry(1, 5, bytes(32), "event", b"x")
    assert encoding.decode_entry(data) == (1, 5, bytes(32), "event", b"x")
    with pytest.raises(EncodingError, match="array of 5"):
        encoding.decode_entry(encoding.encode([1, 2]))
    with pytest.raises(EncodingError, match="fields are"):
        encoding.decode_entry(encoding.encode(["1", 2, b"", "k", None]))


_BOUNDARY_INTS = st.sampled_from([0, 1, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, 2**32 - 1, 2**32, 2**63 - 1])
_BODY_LENGTHS = st.sampled_from([0, 1, 31, 255, 256, 65_535, 65_536])


@given(
    st.integers(-(2**63), 2**63 - 1),
    st.one_of(_BOUNDARY_INTS, st.integers(-(2**63), 2**63 - 1)),
    st.one_of(st.binary(max_size=40), st.binary(min_size=250, max_size=300)),
    st.text(max_size=40),
    _BODY_LENGTHS,
)
def test_entry_bytes_written_out_directly_match_msgpack(
    version: int, index: int, prev: bytes, kind: str, length: int
) -> None:
    """encode_entry packs event entries without the normalising walk; the bytes must be msgpack's own."""
    body = bytes(range(256)) * (length // 256) + bytes(length % 256)
    normal = [version, index, prev, unicodedata.normalize("NFC", kind), body]  # text is always NFC-normalised
    expected = msgpack.packb(normal, use_bin_type=True)
    assert encoding.encode_entry(version, index, prev, kind, body) == expected
    assert encoding.decode_entry(expected) == tuple(normal)
