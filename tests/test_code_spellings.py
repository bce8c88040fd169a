"""canonical_code's fast reading of the common spellings gives what the general path gives, on every input.

``identifiers.canonical_code`` reads the spellings labels carry with a few patterns (``tracechain._spellings``) and
leaves everything else to the general path — biip's parsers behind tracechain's own checks, kept callable as
``identifiers._canonical_code_slow``. These tests draw codes in every spelling, valid and faulty the ways real input
is (``tests/code_strategies.py``), and require the same outcome from both: the same canonical string, or an
IdentifierError with the same message. They also require that the fast reading does take the common spellings
(else the agreement would hold because nothing ever took the fast path), and compare valid links and element
strings with biip's own reading.

Hypothesis runs a few hundred examples per property here; TRACECHAIN_EXAMPLES=N or TRACECHAIN_LONG=1 (10,000)
raise it, as in the battery.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import pytest
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_messages import GS1Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.battery.support import examples
from tests.code_strategies import (
    any_code,
    digital_link,
    digits,
    element_string,
    element_values,
    epc_urn,
    label_spelling,
    link_keys,
    link_names,
)
from tracechain import _spellings
from tracechain.errors import IdentifierError
from tracechain.identifiers import _canonical_code_slow, canonical_code, gtin_check_digit

PROPERTY = settings(
    max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def outcome(code: str, canonical: Callable[[str], str]) -> tuple[str, str]:
    try:
        return "ok", canonical(code)
    except IdentifierError as e:
        return "error", str(e)


def agree(code: str) -> None:
    assert outcome(code, canonical_code) == outcome(code, _canonical_code_slow)


@PROPERTY
@given(digital_link())
def test_digital_links_agree_with_the_general_path(code: str) -> None:
    agree(code)


@PROPERTY
@given(element_string())
def test_element_strings_agree_with_the_general_path(code: str) -> None:
    agree(code)


# The same families with one kind of fault forced: each fault of the mix above is rare in a few hundred examples,
# and a mistake at one edge (a key's length, a value's last allowed character, a date) shows only there.


@PROPERTY
@given(st.one_of(digital_link(("key",)), element_string(("key",)), digits()))
def test_codes_with_wrong_keys_agree_with_the_general_path(code: str) -> None:
    agree(code)


@PROPERTY
@given(st.one_of(digital_link(("text", "escape")), element_string(("text",)), epc_urn(("text", "escape"))))
def test_codes_with_odd_lots_and_serials_agree_with_the_general_path(code: str) -> None:
    agree(code)


@PROPERTY
@given(st.one_of(digital_link(("query", "date", "end")), element_string(("date",))))
def test_codes_with_odd_dates_and_attributes_agree_with_the_general_path(code: str) -> None:
    agree(code)


@PROPERTY
@given(st.one_of(digital_link(("scheme", "host", "prefix", "names", "qualifiers")), epc_urn()))
def test_links_of_odd_shape_and_epc_urns_agree_with_the_general_path(code: str) -> None:
    agree(code)


@PROPERTY
@given(st.one_of(link_keys(), link_names(), element_values()))
def test_keys_of_every_length_names_in_every_case_and_values_of_every_length_agree(code: str) -> None:
    agree(code)


@PROPERTY
@given(element_string(("order", "ai", "repeat", "both", "separator", "symbology")))
def test_element_strings_of_odd_shape_agree_with_the_general_path(code: str) -> None:
    agree(code)


@PROPERTY
@given(any_code())
def test_codes_damaged_at_character_level_agree_with_the_general_path(code: str) -> None:
    agree(code)


@PROPERTY
@given(st.text())
def test_arbitrary_text_agrees_with_the_general_path(code: str) -> None:
    agree(code)


# -------------------------------------------------------------------------------------------------------------
# The common spellings are read fast, and mean what biip reads in them


def biip_reading(code: str) -> str:
    """The canonical code built from what biip reads in ``code``: the identity, as docs/identifiers.md defines it."""
    if code.lower().startswith("http"):
        found = GS1DigitalLinkURI.parse(code).element_strings
    elif code.startswith("("):
        found = GS1Message.parse_hri(code).element_strings
    else:
        found = GS1Message.parse(code[3:] if code.startswith("]") else code).element_strings
    values: dict[str, str] = {}
    for es in found:
        assert not (es.gtin_error or es.sscc_error or es.gln_error), code
        values.setdefault(es.ai.ai, es.value)
    base = "https://id.gs1.org"
    if "00" in values:
        return f"{base}/00/{values['00']}"
    if "414" in values:
        return f"{base}/414/{values['414']}" + (f"/254/{quote(values['254'], safe='')}" if "254" in values else "")
    identity = f"{base}/01/{values['01']}"
    if "21" in values:
        return f"{identity}/21/{quote(values['21'], safe='')}"
    return f"{identity}/10/{quote(values['10'], safe='')}" if "10" in values else identity


@PROPERTY
@given(label_spelling())
def test_the_spellings_labels_carry_are_read_fast_and_mean_what_biip_reads(spelling: tuple[str, bool]) -> None:
    code, biip_reads_it = spelling
    assert _spellings.read(code) is not None, f"{code!r} should take the fast path"
    fast = canonical_code(code)
    assert fast == _canonical_code_slow(code)
    if biip_reads_it:
        assert fast == biip_reading(code)


# -------------------------------------------------------------------------------------------------------------
# Edges the fast reading must leave to the general path (or read exactly as it does)


GTIN14 = "06901234567892"


@pytest.mark.parametrize(
    "code",
    [
        f"https://x.cn/01/{GTIN14}/21/A%2FB",  # escapes: the general path decodes and re-encodes
        f"https://x.cn/01/{GTIN14}/21/SER1?17=000229",  # 29 February: the century depends on today's date
        f"https://x.cn/01/{GTIN14}/21/SER1?3103=000195",  # a GS1 attribute the fast reading does not check
        f"https://x.cn/01/{GTIN14}/21/SER1?10=OTHER",  # a lot in the query
        f"https://x.cn/gtin/info/01/{GTIN14}/21/SER1",  # a key's short name in the path prefix
        f"https://x.cn/01/{GTIN14}/22/V1/21/SER1",  # a consumer product variant
        f"https://例子.cn/01/{GTIN14}/21/SER1",  # a non-ASCII host
        f"(01){GTIN14}(10)L1(10)L2",  # a repeated AI: the general path keeps the first
        f"(01){GTIN14}(21)SER 1",  # a space inside: biip's HRI reading removes it
        f"]d2\x1d01{GTIN14}21SER1",  # a GS before the first AI
        f"01{GTIN14}10{'L' * 25}",  # a lot longer than 20 without a separator
        "urn:epc:id:sgtin:6901234.056789.A%2FB",
    ],
)
def test_unusual_spellings_are_left_to_the_general_path(code: str) -> None:
    assert _spellings.read(code.strip()) is None
    agree(code)


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        (f"https://x.cn/01/{GTIN14[:-1]}3/21/S", "check digit should be 2, found 3"),
        (f"https://x.cn/01/{GTIN14}/21/S?17=271301", "AI (17) Expiration date (YYMMDD): expected 6 digits"),
        (f"(01){GTIN14}(17)270431(21)S", "AI (17) date/time from '270431'"),
        (f"01{GTIN14}21{'S' * 21}", "Application Identifier from 'S'"),
        ("urn:epc:id:sgtin:6901234.05678.S", "13 digits together"),
    ],
)
def test_invalid_common_spellings_raise_the_general_paths_error(code: str, fragment: str) -> None:
    assert _spellings.read(code) is None
    with pytest.raises(IdentifierError) as caught:
        canonical_code(code)
    assert fragment in str(caught.value)
    agree(code)


@settings(max_examples=examples(300), deadline=None)
@given(st.text("0123456789", min_size=1, max_size=19))
def test_the_check_digit_and_its_check_match_the_general_ones_on_every_length(body: str) -> None:
    expected = gtin_check_digit(body)
    assert _spellings.check_digit(body) == expected
    for digit in range(10):
        assert _spellings.checks(f"{body}{digit}") == (digit == expected)
