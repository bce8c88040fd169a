"""Identifiers: check digits, USCC, licences, trace codes, and one canonical spelling per item code."""

from __future__ import annotations

import string
from datetime import date

import biip
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracechain.errors import IdentifierError
from tracechain.identifiers import (
    GS1_CHARSET_82,
    USCC_ALPHABET,
    VET_DRUG_URN_PREFIX,
    DigitalLink,
    canonical_code,
    digital_link,
    gtin_check_digit,
    parse_digital_link,
    uscc_check_char,
    validate_gln,
    validate_gtin,
    validate_sc_licence,
    validate_sscc,
    validate_uscc,
    validate_vet_trace_code,
)

GTIN13 = "6901234567892"
GTIN14 = "0" + GTIN13
SERIAL_URI = f"https://id.gs1.org/01/{GTIN14}/21/SER1"
LOT_URI = f"https://id.gs1.org/01/{GTIN14}/10/LOT1"
USCC_EXAMPLES = ["91350100M000100Y43", "91512081MA62K0260E"]
VET_CODE = "202503021023400000000157"


# -------------------------------------------------------------------------------------------------------------
# GS1 check digits


@pytest.mark.parametrize(
    ("data", "check"),
    [
        ("690123456789", 2),  # GTIN-13 6901234567892
        ("9638507", 4),  # GTIN-8 96385074
        ("03600029145", 2),  # GTIN-12 (UPC-A) 036000291452
        ("0952123454321", 3),  # GTIN-14 09521234543213
        ("10614141234567890", 8),  # SSCC 106141412345678908
    ],
)
def test_gtin_check_digit_matches_known_keys(data: str, check: int) -> None:
    assert gtin_check_digit(data) == check


def test_gtin_check_digit_rejects_non_digits() -> None:
    with pytest.raises(IdentifierError, match="ASCII digits"):
        gtin_check_digit("69012345678X")
    with pytest.raises(IdentifierError):
        gtin_check_digit("６９０")  # full-width digits are not GS1 digits
    with pytest.raises(IdentifierError, match="found nothing"):
        gtin_check_digit("")


@pytest.mark.parametrize("code", ["96385074", "036000291452", GTIN13, GTIN14])
def test_validate_gtin_returns_gtin14(code: str) -> None:
    assert validate_gtin(code) == code.zfill(14)


def test_validate_gtin_names_code_and_expected_and_found_check_digit() -> None:
    with pytest.raises(IdentifierError) as caught:
        validate_gtin("6901234567893")
    assert "6901234567893" in str(caught.value)
    assert "should be 2" in str(caught.value)
    assert "found 3" in str(caught.value)


@pytest.mark.parametrize("code", ["69012345678", "123456789", "690123456789012", "", "69012345678a2"])
def test_validate_gtin_rejects_wrong_lengths_and_characters(code: str) -> None:
    with pytest.raises(IdentifierError, match="expected 8, 12, 13 or 14 digits"):
        validate_gtin(code)


def test_validate_sscc_and_gln() -> None:
    assert validate_sscc("106141412345678908") == "106141412345678908"
    assert validate_gln("6901234567892") == "6901234567892"
    with pytest.raises(IdentifierError, match="should be 8, found 9"):
        validate_sscc("106141412345678909")
    with pytest.raises(IdentifierError, match="expected 18 digits, found 17"):
        validate_sscc("10614141234567890")
    with pytest.raises(IdentifierError, match="expected 13 digits, found 14"):
        validate_gln(GTIN14)


def test_validators_reject_non_strings_with_identifier_error() -> None:
    for check in (validate_gtin, validate_sscc, validate_gln, validate_uscc, validate_sc_licence, canonical_code):
        with pytest.raises(IdentifierError, match="expected a string"):
            check(6901234567892)  # type: ignore[arg-type]


# -------------------------------------------------------------------------------------------------------------
# Unified Social Credit Code (GB 32100-2015)


@pytest.mark.parametrize("code", USCC_EXAMPLES)
def test_uscc_examples_are_valid(code: str) -> None:
    assert validate_uscc(code) == code
    assert uscc_check_char(code[:17]) == code[17]


@pytest.mark.parametrize("code", USCC_EXAMPLES)
@pytest.mark.parametrize("position", range(18))
def test_uscc_with_any_one_symbol_changed_is_rejected(code: str, position: int) -> None:
    for symbol in USCC_ALPHABET:
        if symbol == code[position]:
            continue
        changed = code[:position] + symbol + code[position + 1 :]
        with pytest.raises(IdentifierError, match=changed):
            validate_uscc(changed)


@pytest.mark.parametrize("bad", ["I", "O", "Z", "S", "V", "a", "-", "统"])
def test_uscc_outside_the_alphabet_is_rejected_with_position(bad: str) -> None:
    code = USCC_EXAMPLES[0]
    changed = code[:8] + bad + code[9:]
    with pytest.raises(IdentifierError, match="position 9"):
        validate_uscc(changed)


def test_uscc_lowercase_is_rejected_with_a_hint() -> None:
    with pytest.raises(IdentifierError, match="uppercase"):
        validate_uscc(USCC_EXAMPLES[1].lower())


def test_uscc_wrong_length_says_how_long() -> None:
    with pytest.raises(IdentifierError, match="expected 18 characters, found 17"):
        validate_uscc(USCC_EXAMPLES[0][:17])
    with pytest.raises(IdentifierError, match="expected 17 characters, found 18"):
        uscc_check_char(USCC_EXAMPLES[0])


def test_uscc_check_char_maps_31_to_zero() -> None:
    # Search a body whose weighted sum is 0 mod 31: its check value 31 must be written as '0'.
    body = next(
        f"9144172{a}{b}MA4XXXXX"
        for a in USCC_ALPHABET[:10]
        for b in USCC_ALPHABET[:10]
        if uscc_check_char(f"9144172{a}{b}MA4XXXXX") == "0"
    )
    assert validate_uscc(body + "0")


# -------------------------------------------------------------------------------------------------------------
# Licence numbers and veterinary drug trace codes


def test_sc_licence() -> None:
    assert validate_sc_licence("SC10644172100015") == "SC10644172100015"
    with pytest.raises(IdentifierError, match="found 13 digits after SC"):
        validate_sc_licence("SC1064417210001")
    with pytest.raises(IdentifierError, match="'SC' followed by 14 digits"):
        validate_sc_licence("sc10644172100015")


def test_vet_trace_code_says_how_many_digits() -> None:
    assert validate_vet_trace_code(VET_CODE) == VET_CODE
    with pytest.raises(IdentifierError, match="expected exactly 24 digits, found 23"):
        validate_vet_trace_code(VET_CODE[:23])
    with pytest.raises(IdentifierError, match="non-digit"):
        validate_vet_trace_code(VET_CODE[:23] + "A")


# -------------------------------------------------------------------------------------------------------------
# canonical_code: every spelling of one item gives one code


@pytest.mark.parametrize(
    "spelling",
    [
        SERIAL_URI,
        f"https://example.cn/01/{GTIN13}/21/SER1?17=270101",
        f"http://trace.example.cn/some/prefix/01/{GTIN14}/21/SER1",
        f"https://example.cn/gtin/{GTIN13}/ser/SER1",
        f"https://example.cn/01/{GTIN14}/10/LOT1/21/SER1?11=250101",
        f"https://example.cn/01/{GTIN14}/22/V2/10/LOT1/21/SER1",
        f"(01){GTIN14}(21)SER1",
        f"(01){GTIN14}(17)270101(10)LOT1(21)SER1",
        f"01{GTIN14}21SER1",
        f"01{GTIN14}10LOT1\x1d21SER1",
        f"]d201{GTIN14}17270101\x1d21SER1",
        "urn:epc:id:sgtin:6901234.056789.SER1",
        f"  {SERIAL_URI}\n",
    ],
)
def test_every_spelling_of_a_serialised_item_is_one_code(spelling: str) -> None:
    assert canonical_code(spelling) == SERIAL_URI


@pytest.mark.parametrize(
    "spelling",
    [
        LOT_URI,
        f"https://example.cn/01/{GTIN13}/10/LOT1?17=270101&11=250101",
        f"(01){GTIN14}(10)LOT1",
        f"(01){GTIN14}(10)LOT1(17)270101",
        "urn:epc:class:lgtin:6901234.056789.LOT1",
    ],
)
def test_every_spelling_of_a_lot_is_one_code(spelling: str) -> None:
    assert canonical_code(spelling) == LOT_URI


@pytest.mark.parametrize(
    "spelling",
    [
        f"https://id.gs1.org/01/{GTIN14}",
        GTIN13,
        GTIN14,
        f"https://example.cn/01/{GTIN13}",
        f"(01){GTIN14}",
        f"01{GTIN14}",
        "urn:epc:idpat:sgtin:6901234.056789.*",
    ],
)
def test_every_spelling_of_a_product_class_is_one_code(spelling: str) -> None:
    assert canonical_code(spelling) == f"https://id.gs1.org/01/{GTIN14}"


def test_gtin_8_and_12_are_padded_to_14() -> None:
    assert canonical_code("96385074") == "https://id.gs1.org/01/00000096385074"
    assert canonical_code("https://example.cn/01/036000291452/21/7") == "https://id.gs1.org/01/00036000291452/21/7"


@pytest.mark.parametrize(
    "spelling",
    [
        "https://id.gs1.org/00/106141412345678908",
        "106141412345678908",
        "(00)106141412345678908",
        "(00)106141412345678908(02)06901234567892(37)12",
        "https://logistics.example.cn/00/106141412345678908",
        "urn:epc:id:sscc:0614141.1234567890",
    ],
)
def test_every_spelling_of_an_sscc_is_one_code(spelling: str) -> None:
    assert canonical_code(spelling) == "https://id.gs1.org/00/106141412345678908"


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("urn:epc:id:sgln:6901234.56789.0", "https://id.gs1.org/414/6901234567892"),
        ("https://example.cn/414/6901234567892", "https://id.gs1.org/414/6901234567892"),
        ("(414)6901234567892", "https://id.gs1.org/414/6901234567892"),
        ("urn:epc:id:sgln:6901234.56789.DOCK-3", "https://id.gs1.org/414/6901234567892/254/DOCK-3"),
        ("https://example.cn/414/6901234567892/254/DOCK-3", "https://id.gs1.org/414/6901234567892/254/DOCK-3"),
    ],
)
def test_locations_canonicalise_to_gln_links(spelling: str, expected: str) -> None:
    assert canonical_code(spelling) == expected


@pytest.mark.parametrize("spelling", [VET_CODE, f"{VET_DRUG_URN_PREFIX}{VET_CODE}", f" {VET_CODE} "])
def test_vet_trace_codes_have_a_urn_form(spelling: str) -> None:
    assert canonical_code(spelling) == f"urn:tracechain:vetdrug:{VET_CODE}"


def test_lot_and_serial_values_are_percent_encoded_once() -> None:
    expected = f"https://id.gs1.org/01/{GTIN14}/21/A%2FB%25C"
    assert canonical_code(f"https://example.cn/01/{GTIN14}/21/A%2FB%25C") == expected
    assert canonical_code(f"(01){GTIN14}(21)A/B%C") == expected
    assert canonical_code("urn:epc:id:sgtin:6901234.056789.A%2FB%25C") == expected
    assert canonical_code(expected) == expected


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        (f"https://example.cn/01/{GTIN13[:-1]}3/21/S", "should be 2, found 3"),
        (f"(01){GTIN14[:-1]}3(21)S", "Expected 2, got 3"),
        ("urn:epc:id:sgtin:6901234.05678.S", "13 digits together, found 7 + 5"),
        ("urn:epc:id:sgtin:69012.0567891.S", "6 to 12 digits, found 5"),
        ("urn:epc:id:sscc:0614141.123456789", "17 digits together"),
        ("https://example.cn/00/106141412345678909", "should be 8, found 9"),
        ("106141412345678909", "should be 8, found 9"),
        ("6901234567893", "should be 2, found 3"),
        ("https://example.cn/01/123/21/S", "found 3"),
        (f"https://example.cn/01/{GTIN14}/21/S/10/L", "qualifier"),
        (f"https://example.cn/01/{GTIN14}/21/{'X' * 21}", "21"),
        ("urn:epc:id:sgtin:6901234.056789." + "X" * 21, "1 to 20 characters, found 21"),
        ("urn:epc:id:sgtin:6901234.056789.%FF", "UTF-8"),
        (f"{VET_DRUG_URN_PREFIX}{VET_CODE[:23]}", "found 23"),
    ],
)
def test_recognised_but_invalid_codes_raise_naming_the_problem(code: str, fragment: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        canonical_code(code)
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    "code",
    [
        "LOT-2025-03",
        "批号20250301",
        "https://example.cn/products/peanut-oil",
        "https://example.cn/01/abc",
        "urn:epc:id:sgtin:not-an-sgtin",
        "urn:uuid:6f1c2b1e-7d3a-4c5e-9f00-1a2b3c4d5e6f",
        "]abc",
        "12345",
        "(note) keep dry",
    ],
)
def test_unrecognised_codes_are_returned_unchanged(code: str) -> None:
    assert canonical_code(code) == code


def test_unrecognised_codes_are_nfc_normalised_and_stripped() -> None:
    assert canonical_code("  Cafe\u0301 lot\t") == "Caf\u00e9 lot"


@pytest.mark.parametrize("code", ["", "   ", "\n\t"])
def test_empty_codes_are_rejected(code: str) -> None:
    with pytest.raises(IdentifierError, match="non-empty"):
        canonical_code(code)


_ai_text = st.text(alphabet=sorted(GS1_CHARSET_82), min_size=1, max_size=20)
_gtin13 = st.from_regex(r"69[0-9]{10}", fullmatch=True).map(lambda body: body + str(gtin_check_digit(body)))


@st.composite
def _code_like(draw: st.DrawFn) -> str:
    """Text that often looks like an item code, with random damage."""
    gtin = draw(_gtin13)
    text = draw(_ai_text)
    shape = draw(
        st.sampled_from(
            [
                f"https://x.cn/01/{gtin}/21/{text}",
                f"https://x.cn/01/{gtin}/10/{text}?17=250101",
                f"(01)0{gtin}(21){text}",
                f"010{gtin}21{text}",
                f"urn:epc:id:sgtin:{gtin[:7]}.0{gtin[7:12]}.{text}",
                f"urn:epc:class:lgtin:{gtin[:7]}.0{gtin[7:12]}.{text}",
                text,
                gtin,
            ]
        )
    )
    cut = draw(st.integers(min_value=0, max_value=len(shape)))
    noise = draw(st.text(max_size=3))
    return draw(st.sampled_from([shape, shape[:cut] + noise + shape[cut:], shape[:cut]]))


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), _code_like()))
def test_canonical_code_is_idempotent_and_raises_only_identifier_error(text: str) -> None:
    try:
        once = canonical_code(text)
    except IdentifierError:
        return
    assert canonical_code(once) == once


@settings(max_examples=200, deadline=None)
@given(gtin=_gtin13, serial=_ai_text)
def test_element_string_urn_and_link_of_one_instance_agree(gtin: str, serial: str) -> None:
    from urllib.parse import quote

    link = f"https://brand.example.cn/01/{gtin}/21/{quote(serial, safe='')}"
    epc_serial = "".join(ch if ch.isalnum() or ch in "-_.:;='()*+,!" else f"%{ord(ch):02X}" for ch in serial)
    urn = f"urn:epc:id:sgtin:{gtin[:7]}.0{gtin[7:12]}.{epc_serial}"
    element = f"(01)0{gtin}(21){serial}"
    codes = {canonical_code(link), canonical_code(urn)}
    if "(" not in serial and ")" not in serial:  # brackets would read as the next AI in the bracketed form
        codes.add(canonical_code(element))
    assert codes == {f"https://id.gs1.org/01/0{gtin}/21/{quote(serial, safe='')}"}


# -------------------------------------------------------------------------------------------------------------
# Building and parsing Digital Links


def test_digital_link_builds_the_documented_form() -> None:
    uri = digital_link(
        GTIN13, lot="L/1", serial="S 1".replace(" ", "-"), expiry=date(2027, 2, 28), production=date(2025, 3, 1)
    )
    assert uri == f"https://id.gs1.org/01/{GTIN14}/10/L%2F1/21/S-1?11=250301&17=270228"


def test_digital_link_on_a_custom_domain_canonicalises_to_id_gs1_org() -> None:
    uri = digital_link(GTIN13, serial="SER1", expiry=date(2027, 1, 1), domain="qr.example.cn/p")
    assert uri.startswith("https://qr.example.cn/p/01/")
    assert canonical_code(uri) == SERIAL_URI


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"lot": "LOT 1"}, "character set 82"),
        ({"serial": "X" * 21}, "found 21"),
        ({"serial": ""}, "found 0"),
        ({"domain": "bad domain"}, "host name"),
        ({"expiry": "2027-01-01"}, "datetime.date"),
        ({"production": date(1900, 1, 1)}, "GS1 two-digit years"),
    ],
)
def test_digital_link_rejects_bad_parts(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        digital_link(GTIN13, **kwargs)  # type: ignore[arg-type]
    assert fragment in str(caught.value)


def test_parse_digital_link_reads_every_part() -> None:
    link = parse_digital_link(f"https://example.cn/01/{GTIN13}/10/LOT1/21/SER1?17=270228&11=250301&15=261231")
    assert isinstance(link, DigitalLink)
    assert (link.gtin, link.lot, link.serial) == (GTIN14, "LOT1", "SER1")
    assert (link.production, link.best_before, link.expiry) == (date(2025, 3, 1), date(2026, 12, 31), date(2027, 2, 28))
    assert link.canonical == SERIAL_URI
    assert ("17", "270228") in link.attributes


def test_parse_digital_link_reads_sscc_and_gln() -> None:
    assert parse_digital_link("https://x.cn/00/106141412345678908").sscc == "106141412345678908"
    gln = parse_digital_link("https://x.cn/414/6901234567892/254/A1")
    assert (gln.gln, gln.gln_extension) == ("6901234567892", "A1")


@pytest.mark.parametrize(
    "uri", ["urn:epc:id:sgtin:6901234.056789.1", "https://example.cn/about", f"https://x.cn/01/{GTIN13[:-1]}0"]
)
def test_parse_digital_link_rejects_what_is_not_a_valid_link(uri: str) -> None:
    with pytest.raises(IdentifierError):
        parse_digital_link(uri)


@settings(max_examples=200, deadline=None)
@given(
    gtin=_gtin13,
    lot=st.none() | _ai_text,
    serial=st.none() | _ai_text,
    expiry=st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31)),
    production=st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31)),
    domain=st.sampled_from(["id.gs1.org", "qr.example.cn", "example.cn:8443/trace"]),
)
def test_digital_link_round_trips_through_parse_and_biip(
    gtin: str, lot: str | None, serial: str | None, expiry: date | None, production: date | None, domain: str
) -> None:
    uri = digital_link(gtin, lot=lot, serial=serial, expiry=expiry, production=production, domain=domain)
    link = parse_digital_link(uri)
    assert (link.gtin, link.lot, link.serial, link.expiry, link.production) == (
        "0" + gtin,
        lot,
        serial,
        expiry,
        production,
    )
    parsed = biip.parse(uri).gs1_digital_link_uri
    assert parsed is not None
    by_ai = {es.ai.ai: es for es in parsed.element_strings}
    assert by_ai["01"].value == "0" + gtin
    assert (by_ai["10"].value if "10" in by_ai else None) == lot
    assert (by_ai["21"].value if "21" in by_ai else None) == serial
    assert (by_ai["17"].date if "17" in by_ai else None) == expiry
    assert canonical_code(uri) == canonical_code(parsed.as_canonical_uri())


def test_canonical_form_characters_need_no_encoding_on_the_fast_path() -> None:
    plain = string.ascii_letters + string.digits + "-._"
    assert canonical_code(f"https://id.gs1.org/01/{GTIN14}/21/{plain[:20]}").endswith(plain[:20])
