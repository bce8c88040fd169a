"""Identifiers: check digits, validation and the one canonical spelling of every item code.

This module owns GS1 keys (GTIN, SSCC, GLN), GS1 Digital Link URIs and element strings, EPC URNs, the Unified
Social Credit Code (GB 32100-2015), the food production licence number and the 24-digit veterinary drug trace
code. It is the only module that imports ``biip``, and imports it only to parse an element string or a Digital
Link that is not already canonical (biip loads GS1's prefix tables, a tenth of a second: a lookup of a canonical
code should not pay for that); everything it returns is a plain string or a tracechain
dataclass, and every failure on bad input is an :class:`~tracechain.errors.IdentifierError`.

``canonical_code`` reads the spellings labels and producer systems send without biip, through
``tracechain._spellings``; everything else, and every error, takes the general path here (``_canonical_code_slow``),
and the two agree on every input (``tests/test_code_spellings.py``). The module is longer than most because every
rule of every identifier family lives here, next to the checks that share them; the canonical forms are
documented in ``docs/identifiers.md``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final
from urllib.parse import quote, unquote, urlsplit

from tracechain import _spellings
from tracechain.errors import IdentifierError

__all__ = [
    "CANONICAL_DOMAIN",
    "GS1_CHARSET_82",
    "USCC_ALPHABET",
    "VET_DRUG_URN_PREFIX",
    "DigitalLink",
    "canonical_code",
    "digital_link",
    "gtin_check_digit",
    "lot_of",
    "parse_digital_link",
    "uscc_check_char",
    "validate_gln",
    "validate_gtin",
    "validate_sc_licence",
    "validate_sscc",
    "validate_uscc",
    "validate_vet_trace_code",
]

CANONICAL_DOMAIN: Final = "id.gs1.org"
"""The host every canonical GS1 Digital Link uses, whatever host the input used."""

VET_DRUG_URN_PREFIX: Final = "urn:tracechain:vetdrug:"
"""Prefix of the canonical form of a 24-digit veterinary drug trace code (tracechain's choice, not GS1)."""

GS1_CHARSET_82: Final = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
"""GS1 AI encodable character set 82: the characters a lot (AI 10) or serial (AI 21) may contain."""

USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""GB 32100-2015 code alphabet: digits and capitals without I, O, Z, S, V; a symbol's value is its index."""

_USCC_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_VALUES: Final = {symbol: value for value, symbol in enumerate(USCC_ALPHABET)}
_GTIN_LENGTHS: Final = (8, 12, 13, 14)
_GS1_TEXT_MAX: Final = 20

# The fast path: input already in canonical form. Only characters that need no percent-encoding are allowed in
# lot/serial/extension here, so a match is canonical as it stands once the check digit is right; anything else
# (percent escapes included) takes the slow path, which re-encodes.
_PLAIN_TEXT = r"[A-Za-z0-9_.\-]{1,20}"
_CANONICAL_RE: Final = re.compile(
    rf"https://id\.gs1\.org/(?:01/(\d{{14}})(?:/(?:10|21)/{_PLAIN_TEXT})?|00/(\d{{18}})"
    rf"|414/(\d{{13}})(?:/254/{_PLAIN_TEXT})?)"
)
_CANONICAL_START: Final = f"https://{CANONICAL_DOMAIN}/"
_ASCII_DIGITS_RE: Final = re.compile(r"[0-9]+")
_HRI_RE: Final = re.compile(r"\(\d{2,4}\)")
# Symbology identifiers of the GS1 carriers that hold element strings (GS1-128, DataBar, DataMatrix, QR, DotCode).
_SYMBOLOGY_RE: Final = re.compile(r"\](?:C1|e[0-2]|d2|Q3|J1)")
_ELEMENT_STRING_START_RE: Final = re.compile(r"(?:01\d{14}|00\d{18}|414\d{13})")
_HTTP_RE: Final = re.compile(r"https?://", re.IGNORECASE)
_VET_URN_RE: Final = re.compile(r"urn:tracechain:vetdrug:(.*)", re.DOTALL)
_SC_LICENCE_RE: Final = re.compile(r"SC[0-9]{14}")
_DOMAIN_RE: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~\-]+)*")

# EPC pure identity URNs (GS1 Tag Data Standard). The shape decides recognition; lengths and characters
# are then checked, so that a recognised URN of a wrong length is an error, not a silently distinct item.
_EPC_SGTIN_RE: Final = re.compile(r"urn:epc:id:sgtin:([0-9]+)\.([0-9]+)\.(.+)", re.DOTALL)
_EPC_LGTIN_RE: Final = re.compile(r"urn:epc:class:lgtin:([0-9]+)\.([0-9]+)\.(.+)", re.DOTALL)
_EPC_GTIN_PATTERN_RE: Final = re.compile(r"urn:epc:idpat:sgtin:([0-9]+)\.([0-9]+)\.\*")
_EPC_SSCC_RE: Final = re.compile(r"urn:epc:id:sscc:([0-9]+)\.([0-9]+)")
_EPC_SGLN_RE: Final = re.compile(r"urn:epc:id:sgln:([0-9]+)\.([0-9]*)\.(.+)", re.DOTALL)
_EPC_ESCAPE_RE: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")
_COMPANY_PREFIX_LENGTHS: Final = range(6, 13)

# Digital Link path names: numeric AIs, plus the short names of GS1 Digital Link 1.0 that scanners still meet.
_DL_SHORT_NAMES: Final = {
    "gtin": "01",
    "sscc": "00",
    "gln": "414",
    "cpv": "22",
    "lot": "10",
    "ser": "21",
    "glnx": "254",
}
_DL_PRIMARY_KEYS: Final = frozenset({"01", "00", "414"})


def _check_digit(data: str) -> int:
    # GS1 mod-10: weight 3 on the rightmost data digit, alternating with 1 leftwards.
    odd = sum(map(int, data[-1::-2]))
    even = sum(map(int, data[-2::-2]))
    return (10 - (3 * odd + even) % 10) % 10


def _is_ascii_digits(text: str) -> bool:
    return _ASCII_DIGITS_RE.fullmatch(text) is not None


def _require_str(code: object, what: str) -> str:
    if not isinstance(code, str):
        raise IdentifierError(f"{what}: expected a string, found {type(code).__name__} {code!r}")
    return code


def gtin_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit of ``digits``, a GTIN, SSCC or GLN without its check digit."""
    digits = _require_str(digits, "GS1 check digit")
    if not _is_ascii_digits(digits):
        found = "nothing" if not digits else "other characters"
        raise IdentifierError(f"GS1 check digit of {digits!r}: expected ASCII digits only, found {found}")
    return _check_digit(digits)


def _validate_gs1_key(code: object, name: str, lengths: tuple[int, ...]) -> str:
    text = _require_str(code, name)
    *first, last = (str(n) for n in lengths)
    expected_lengths = f"{', '.join(first)} or {last}" if first else last
    if not _is_ascii_digits(text):
        raise IdentifierError(f"{name} {text!r}: expected {expected_lengths} digits, found non-digit characters")
    if len(text) not in lengths:
        raise IdentifierError(f"{name} {text!r}: expected {expected_lengths} digits, found {len(text)}")
    expected = _check_digit(text[:-1])
    found = int(text[-1])
    if expected != found:
        raise IdentifierError(f"{name} {text!r}: check digit should be {expected}, found {found}")
    return text


def validate_gtin(code: str) -> str:
    """Check a GTIN-8, -12, -13 or -14 and return it as a GTIN-14 (left-padded with zeros)."""
    return _validate_gs1_key(code, "GTIN", _GTIN_LENGTHS).zfill(14)


def validate_sscc(code: str) -> str:
    """Check an SSCC (18 digits, the last a GS1 check digit) and return it."""
    return _validate_gs1_key(code, "SSCC", (18,))


def validate_gln(code: str) -> str:
    """Check a GLN (13 digits, the last a GS1 check digit) and return it."""
    return _validate_gs1_key(code, "GLN", (13,))


def _uscc_sum(first17: str) -> int:
    return sum(_USCC_VALUES[ch] * weight for ch, weight in zip(first17, _USCC_WEIGHTS, strict=True))


def _uscc_bad_symbol(text: str) -> str | None:
    for position, ch in enumerate(text, start=1):
        if ch not in _USCC_VALUES:
            hint = " (letters must be uppercase)" if ch.upper() in _USCC_VALUES else ""
            return (
                f"expected symbols from {USCC_ALPHABET} (no I, O, Z, S, V), found {ch!r} at position {position}{hint}"
            )
    return None


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a Unified Social Credit Code."""
    text = _require_str(first17, "USCC check character")
    if len(text) != 17:
        raise IdentifierError(f"USCC check character of {text!r}: expected 17 characters, found {len(text)}")
    problem = _uscc_bad_symbol(text)
    if problem is not None:
        raise IdentifierError(f"USCC check character of {text!r}: {problem}")
    return _uscc_check(text)


def _uscc_check(first17: str) -> str:
    return USCC_ALPHABET[(31 - _uscc_sum(first17) % 31) % 31]


def validate_uscc(code: str) -> str:
    """Check a Unified Social Credit Code (统一社会信用代码, GB 32100-2015) and return it.

    18 uppercase symbols from :data:`USCC_ALPHABET`; the 18th is the mod-31 check character.
    """
    text = _require_str(code, "USCC")
    if len(text) != 18:
        raise IdentifierError(f"USCC {text!r}: expected 18 characters, found {len(text)}")
    problem = _uscc_bad_symbol(text)
    if problem is not None:
        raise IdentifierError(f"USCC {text!r}: {problem}")
    expected = _uscc_check(text[:17])
    if text[17] != expected:
        raise IdentifierError(f"USCC {text!r}: check character should be {expected!r}, found {text[17]!r}")
    return text


def validate_sc_licence(code: str) -> str:
    """Check a food production licence number (食品生产许可证编号): ``SC`` and 14 digits; return it."""
    text = _require_str(code, "SC licence")
    if _SC_LICENCE_RE.fullmatch(text) is None:
        rest = text[2:] if text.startswith("SC") else text
        found = f"{len(rest)} digits after SC" if text.startswith("SC") and _is_ascii_digits(rest) else repr(text)
        raise IdentifierError(f"SC licence {text!r}: expected 'SC' followed by 14 digits, found {found}")
    return text


def validate_vet_trace_code(code: str) -> str:
    """Check a veterinary drug trace code (兽药产品追溯码): exactly 24 digits; return it."""
    text = _require_str(code, "veterinary drug trace code")
    if not _is_ascii_digits(text):
        raise IdentifierError(
            f"veterinary drug trace code {text!r}: expected exactly 24 digits, found non-digit characters"
        )
    if len(text) != 24:
        raise IdentifierError(f"veterinary drug trace code {text!r}: expected exactly 24 digits, found {len(text)}")
    return text


def _gs1_text(value: str, what: str, source: str) -> str:
    """Check a lot, serial or extension (decoded) against GS1 character set 82 and the 20-character limit."""
    if not value or len(value) > _GS1_TEXT_MAX:
        raise IdentifierError(f"{what} in {source!r}: expected 1 to 20 characters, found {len(value)}")
    bad = sorted({ch for ch in value if ch not in GS1_CHARSET_82})
    if bad:
        raise IdentifierError(
            f"{what} in {source!r}: expected characters of GS1 character set 82, found {''.join(bad)!r}"
        )
    return value


def _enc(value: str) -> str:
    # One percent-encoding for every path value: RFC 3986 unreserved characters stay, all else is %XX (upper
    # case). This is what makes canonical_code idempotent whatever escaping the input used.
    return quote(value, safe="")


def _gtin_uri(gtin14: str, lot: str | None = None, serial: str | None = None) -> str:
    # The item identity follows EPCIS 2.0's constrained Digital Link form: the finest level only. A serial
    # identifies an instance within a GTIN on its own, so a lot beside it is not part of the identity.
    if serial is not None:
        return f"https://{CANONICAL_DOMAIN}/01/{gtin14}/21/{_enc(serial)}"
    if lot is not None:
        return f"https://{CANONICAL_DOMAIN}/01/{gtin14}/10/{_enc(lot)}"
    return f"https://{CANONICAL_DOMAIN}/01/{gtin14}"


def lot_of(code: str) -> str | None:
    """The lot number a canonical lot-level code names (``https://id.gs1.org/01/{gtin14}/10/{lot}``), decoded; None
    for any other code. Instance codes (``/21/{serial}``) carry no lot: their lot is what their events say."""
    head, sep, lot = code.partition("/10/")
    if not sep or not head.startswith(f"https://{CANONICAL_DOMAIN}/01/") or "/" in lot:
        return None
    return unquote(lot)


def _sscc_uri(sscc: str) -> str:
    return f"https://{CANONICAL_DOMAIN}/00/{sscc}"


def _gln_uri(gln: str, extension: str | None = None) -> str:
    if extension is None:
        return f"https://{CANONICAL_DOMAIN}/414/{gln}"
    return f"https://{CANONICAL_DOMAIN}/414/{gln}/254/{_enc(extension)}"


# ----------------------------------------------------------------------------------------------------
# EPC URNs


def _epc_text(raw: str, what: str, source: str) -> str:
    # EPC URIs escape a few characters as %XX (TDS §5); any other '%' is malformed.
    if _EPC_ESCAPE_RE.search(raw):
        raise IdentifierError(f"{what} in {source!r}: expected '%' only as a %XX escape, found a bare '%'")
    try:
        decoded = unquote(raw, errors="strict")
    except UnicodeDecodeError as e:
        raise IdentifierError(f"{what} in {source!r}: expected %XX escapes of UTF-8 text, found {e.reason}") from e
    return _gs1_text(decoded, what, source)


def _epc_company_split(source: str, prefix: str, rest: str, total: int, rest_name: str) -> None:
    if len(prefix) not in _COMPANY_PREFIX_LENGTHS:
        raise IdentifierError(
            f"EPC URN {source!r}: expected a GS1 company prefix of 6 to 12 digits, found {len(prefix)}"
        )
    if len(prefix) + len(rest) != total:
        raise IdentifierError(
            f"EPC URN {source!r}: expected company prefix and {rest_name} of {total} digits together, "
            f"found {len(prefix)} + {len(rest)} = {len(prefix) + len(rest)}"
        )


def _epc_gtin(source: str, company: str, item: str) -> str:
    # The item reference carries the indicator digit in front; the GTIN is indicator, prefix, rest, check.
    _epc_company_split(source, company, item, 13, "item reference")
    data = item[0] + company + item[1:]
    return data + str(_check_digit(data))


def _canonical_epc(text: str) -> str | None:
    """The canonical form of a recognised EPC URN, or None when ``text`` has none of the shapes converted."""
    if m := _EPC_SGTIN_RE.fullmatch(text):
        gtin = _epc_gtin(text, m[1], m[2])
        return _gtin_uri(gtin, serial=_epc_text(m[3], "serial", text))
    if m := _EPC_LGTIN_RE.fullmatch(text):
        gtin = _epc_gtin(text, m[1], m[2])
        return _gtin_uri(gtin, lot=_epc_text(m[3], "lot", text))
    if m := _EPC_GTIN_PATTERN_RE.fullmatch(text):
        return _gtin_uri(_epc_gtin(text, m[1], m[2]))
    if m := _EPC_SSCC_RE.fullmatch(text):
        company, serial_ref = m[1], m[2]
        _epc_company_split(text, company, serial_ref, 17, "serial reference")
        data = serial_ref[0] + company + serial_ref[1:]
        return _sscc_uri(data + str(_check_digit(data)))
    if m := _EPC_SGLN_RE.fullmatch(text):
        company, location_ref, extension = m[1], m[2], m[3]
        _epc_company_split(text, company, location_ref, 12, "location reference")
        data = company + location_ref
        gln = data + str(_check_digit(data))
        # TDS: extension "0" means "no extension" (AI 254 absent).
        return _gln_uri(gln, None if extension == "0" else _epc_text(extension, "GLN extension", text))
    return None


# ----------------------------------------------------------------------------------------------------
# GS1 element strings and Digital Link URIs (parsed by biip)


def _element_values(element_strings: Any, source: str) -> dict[str, str]:
    """AI → value from biip element strings, turning biip's soft check-digit errors into IdentifierError."""
    values: dict[str, str] = {}
    for es in element_strings:
        for error in (es.gtin_error, es.sscc_error, es.gln_error):
            if error:
                raise IdentifierError(f"{source!r}: {error}")
        values.setdefault(str(es.ai.ai), str(es.value))
    return values


def _canonical_from_values(values: dict[str, str], source: str) -> str | None:
    # A logistic unit label carries (00) with (02) for its contents; the SSCC is the identity.
    if "00" in values:
        return _sscc_uri(validate_sscc(values["00"]))
    if "01" in values:
        gtin = validate_gtin(values["01"])
        serial = values.get("21")
        lot = values.get("10")
        return _gtin_uri(
            gtin,
            lot=None if lot is None else _gs1_text(lot, "lot (AI 10)", source),
            serial=None if serial is None else _gs1_text(serial, "serial (AI 21)", source),
        )
    if "414" in values:
        extension = values.get("254")
        return _gln_uri(
            validate_gln(values["414"]),
            None if extension is None else _gs1_text(extension, "GLN extension (AI 254)", source),
        )
    return None


# biip names a value that does not fit an AI by quoting the AI's regular expression; people need the AI's format.
_BIIP_MISMATCH_RE: Final = re.compile(r"Failed to match '(.*)' with GS1 AI \(([0-9]+)\) pattern .*", re.DOTALL)
_AI_FORMAT_PART_RE: Final = re.compile(r"(\[\+)?([NX])(\.\.)?([0-9]+)")


def _readable(error: Exception) -> str:
    """biip's message, with a value that does not fit its AI described by the AI's format, never its regex."""
    m = _BIIP_MISMATCH_RE.fullmatch(str(error))
    if m is None:
        return str(error)
    ai = m[2]
    value = m[1][len(ai) :] if m[1].startswith(ai) else m[1]
    from biip import ParseError  # here, as elsewhere in this module: only a failed parse needs biip's tables
    from biip.gs1_application_identifiers import GS1ApplicationIdentifier

    try:
        info = GS1ApplicationIdentifier.extract(ai)
    except (ParseError, ValueError):
        return f"AI ({ai}): the value {value!r} does not have the form this AI takes"
    parts = []
    for p in list(_AI_FORMAT_PART_RE.finditer(info.format))[1:]:  # the first part is the AI itself
        kind = "digits" if p[2] == "N" else "characters of GS1's set 82"
        count = f"up to {p[4]}" if p[3] else p[4]
        parts.append(f"{'optionally ' if p[1] else ''}{count} {kind}")
    expected = ", then ".join(parts) or info.format
    if "YYMMDD" in info.description:
        expected += " as a real date YYMMDD"
    return f"AI ({ai}) {info.description}: expected {expected}, found {value!r}"


def _parse_element_string(text: str) -> Any:
    from biip import ParseError  # here: a lookup of a canonical code never loads biip's tables
    from biip.gs1_messages import GS1Message

    try:
        if text.startswith("("):
            return GS1Message.parse_hri(text).element_strings
        body = text[3:] if _SYMBOLOGY_RE.match(text) else text
        return GS1Message.parse(body).element_strings
    except (ParseError, ValueError) as e:
        raise IdentifierError(f"GS1 element string {text!r}: {_readable(e)}") from e


def _looks_like_element_string(text: str) -> bool:
    return (
        _HRI_RE.match(text) is not None
        or _SYMBOLOGY_RE.match(text) is not None
        or ("\x1d" in text and _is_ascii_digits(text[:2]))
        or _ELEMENT_STRING_START_RE.match(text) is not None
    )


def _dl_path(text: str) -> tuple[str, list[str]] | None:
    """Find the Digital Link part of a URI's path: (raw primary key value, rewritten path from the key on).

    Returns None when the path holds no primary key (01, 00, 414 or their short names) followed by a segment
    of digits: then the URI is not a Digital Link at all.
    """
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    segments = parts.path.split("/")
    for index, segment in enumerate(segments[:-1]):
        ai = _DL_SHORT_NAMES.get(segment, segment)
        if ai in _DL_PRIMARY_KEYS and _is_ascii_digits(segments[index + 1]):
            rest = segments[index:]
            # Short names are rewritten to AIs so that biip, which knows only numeric AIs, can parse the rest.
            rest[::2] = [_DL_SHORT_NAMES.get(name, name) for name in rest[::2]]
            return segments[index + 1], rest
    return None


def _parse_dl(text: str) -> tuple[str, dict[str, str], Any]:
    """Parse a recognised Digital Link: (primary AI, AI → value, biip element strings)."""
    found = _dl_path(text)
    if found is None:
        raise IdentifierError(
            f"GS1 Digital Link {text!r}: expected a path with /01/{{GTIN}}, /00/{{SSCC}} or /414/{{GLN}}"
        )
    raw_key, rest = found
    parts = urlsplit(text)
    primary = rest[0]
    # biip pads any GTIN to 14 digits; the length must be checked on the value as written.
    if primary == "01":
        validate_gtin(raw_key)
    elif primary == "00":
        validate_sscc(raw_key)
    else:
        validate_gln(raw_key)
    rebuilt = f"https://{CANONICAL_DOMAIN}/{'/'.join(rest)}" + (f"?{parts.query}" if parts.query else "")
    from biip import ParseError
    from biip.gs1_digital_link_uris import GS1DigitalLinkURI

    try:
        element_strings = GS1DigitalLinkURI.parse(rebuilt).element_strings
    except (ParseError, ValueError) as e:
        raise IdentifierError(f"GS1 Digital Link {text!r}: {_readable(e)}") from e
    return primary, _element_values(element_strings, text), element_strings


def _canonical_dl(text: str) -> str:
    primary, values, _ = _parse_dl(text)
    if primary == "00":
        return _sscc_uri(values["00"])
    if primary == "414":
        extension = values.get("254")
        return _gln_uri(values["414"], None if extension is None else _gs1_text(extension, "GLN extension", text))
    lot = values.get("10")
    serial = values.get("21")
    return _gtin_uri(
        values["01"],
        lot=None if lot is None else _gs1_text(lot, "lot (AI 10)", text),
        serial=None if serial is None else _gs1_text(serial, "serial (AI 21)", text),
    )


# ----------------------------------------------------------------------------------------------------
# canonical_code


def _canonical_digits(text: str) -> str | None:
    length = len(text)
    if length in _GTIN_LENGTHS:
        return _gtin_uri(validate_gtin(text))
    if length == 18:
        return _sscc_uri(validate_sscc(text))
    if length == 24:
        return VET_DRUG_URN_PREFIX + text
    return None


def canonical_code(code: str) -> str:
    """The one canonical spelling of an item code, so that every way of writing an item indexes as one item.

    - GS1 Digital Link (any host, http or https, short or numeric AI names), GS1 element strings
      (``(01)…(21)…`` or the FNC1/GS form) and EPC URNs (sgtin, lgtin, sscc, sgln, sgtin pattern) become
      a Digital Link on ``id.gs1.org`` holding the identity only: ``/01/{gtin14}/21/{serial}``,
      ``/01/{gtin14}/10/{lot}``, ``/01/{gtin14}``, ``/00/{sscc}`` or ``/414/{gln}[/254/{ext}]``; data
      attributes (expiry, dates, …) are dropped.
    - Bare digits: 8, 12, 13 or 14 → GTIN product class; 18 → SSCC; 24 → ``urn:tracechain:vetdrug:{code}``.
    - Anything else is returned NFC-normalised and stripped.

    The spellings labels and producer systems send are read without a general parser (``_spellings``, a few µs a
    code); every other spelling, and every invalid code, takes the general path below, which decides errors.

    Raises IdentifierError for an empty code and for a recognised code that is invalid (check digit, length,
    characters). ``canonical_code(canonical_code(x)) == canonical_code(x)``.
    """
    if type(code) is str:
        # Already canonical, the commonest case once codes have been through a ledger: one match and the check.
        # (startswith first: a failed match costs more than the test, and most other codes fail it at once.)
        if (
            code.startswith(_CANONICAL_START)
            and (m := _CANONICAL_RE.fullmatch(code))
            and _spellings.checks(m[1] or m[2] or m[3])
        ):
            return code
        text = code.strip()
        # ASCII text is already NFC, so the general path would see the same text.
        if text.isascii() and (item := _spellings.read(text)) is not None:
            return _canonical_item(item)
    return _canonical_code_slow(code)


def _canonical_item(item: _spellings.Item) -> str:
    kind, key, qualifier, serial = item
    if kind == _spellings.GTIN:
        return _gtin_uri(key, lot=qualifier, serial=serial)
    if kind == _spellings.SSCC:
        return _sscc_uri(key)
    if kind == _spellings.GLN:
        return _gln_uri(key, qualifier)
    return VET_DRUG_URN_PREFIX + key


def _canonical_code_slow(code: str) -> str:
    """canonical_code by the general path, for every spelling: biip's parsers behind tracechain's own checks.

    canonical_code gives the same answer for every input (tests/test_code_spellings.py checks it); this stays
    callable on its own so that the tests can compare the two.
    """
    if type(code) is str and (m := _CANONICAL_RE.fullmatch(code)):
        key = m[1] or m[2] or m[3]
        if _check_digit(key[:-1]) == ord(key[-1]) - 48:
            return code
    text = unicodedata.normalize("NFC", _require_str(code, "item code").strip())
    if not text:
        raise IdentifierError(f"item code {code!r}: expected a non-empty code, found only whitespace")
    if _is_ascii_digits(text):
        digits_form = _canonical_digits(text)
        if digits_form is not None:
            return digits_form
    if text.startswith("urn:"):
        if m := _VET_URN_RE.fullmatch(text):
            return VET_DRUG_URN_PREFIX + validate_vet_trace_code(m[1])
        return _canonical_epc(text) or text
    if _HTTP_RE.match(text):
        return _canonical_dl(text) if _dl_path(text) is not None else text
    if _looks_like_element_string(text):
        values = _element_values(_parse_element_string(text), text)
        return _canonical_from_values(values, text) or text
    return text


# ----------------------------------------------------------------------------------------------------
# Building and parsing Digital Links


@dataclass(frozen=True, slots=True)
class DigitalLink:
    """What a GS1 Digital Link URI says. Dates are decoded with GS1's two-digit-year rule."""

    uri: str
    """The URI as given."""
    canonical: str
    """Its canonical item code (see :func:`canonical_code`)."""
    gtin: str | None = None
    """GTIN-14 (AI 01)."""
    lot: str | None = None
    """Batch or lot number (AI 10), percent-decoded."""
    serial: str | None = None
    """Serial number (AI 21), percent-decoded."""
    cpv: str | None = None
    """Consumer product variant (AI 22)."""
    sscc: str | None = None
    """SSCC (AI 00)."""
    gln: str | None = None
    """GLN (AI 414)."""
    gln_extension: str | None = None
    """GLN extension component (AI 254)."""
    production: date | None = None
    """Production date (AI 11)."""
    best_before: date | None = None
    """Best-before date (AI 15)."""
    expiry: date | None = None
    """Expiry date (AI 17)."""
    attributes: tuple[tuple[str, str], ...] = ()
    """Every element string as (AI, raw value), in the order found."""


def parse_digital_link(uri: str) -> DigitalLink:
    """Parse a GS1 Digital Link URI (any host, with a GTIN, SSCC or GLN key) into a :class:`DigitalLink`."""
    text = unicodedata.normalize("NFC", _require_str(uri, "GS1 Digital Link").strip())
    if not _HTTP_RE.match(text):
        raise IdentifierError(f"GS1 Digital Link {text!r}: expected an http or https URI")
    _, values, element_strings = _parse_dl(text)
    dates: dict[str, date] = {}
    for es in element_strings:
        if es.date is not None:
            dates.setdefault(str(es.ai.ai), es.date)
    return DigitalLink(
        uri=uri,
        canonical=_canonical_dl(text),
        gtin=values.get("01"),
        lot=values.get("10"),
        serial=values.get("21"),
        cpv=values.get("22"),
        sscc=values.get("00"),
        gln=values.get("414"),
        gln_extension=values.get("254"),
        production=dates.get("11"),
        best_before=dates.get("15"),
        expiry=dates.get("17"),
        attributes=tuple((str(es.ai.ai), str(es.value)) for es in element_strings),
    )


def _yymmdd(value: date, what: str) -> str:
    # GS1 General Specifications §7.12 read YY as within 49 years back and 50 years ahead of today; a date
    # outside that window would read back as another century.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise IdentifierError(f"{what}: expected a datetime.date, found {type(value).__name__} {value!r}")
    this_year = datetime.now(tz=UTC).year
    if not this_year - 49 <= value.year <= this_year + 50:
        raise IdentifierError(
            f"{what} {value.isoformat()}: expected a year from {this_year - 49} to {this_year + 50} "
            f"(GS1 two-digit years), found {value.year}"
        )
    return value.strftime("%y%m%d")


def digital_link(
    gtin: str,
    *,
    lot: str | None = None,
    serial: str | None = None,
    expiry: date | None = None,
    production: date | None = None,
    domain: str = CANONICAL_DOMAIN,
) -> str:
    """Build a GS1 Digital Link URI: ``https://{domain}/01/{gtin14}[/10/{lot}][/21/{serial}][?11=…&17=…]``.

    ``domain`` is a host name, optionally with a port and a path prefix. Lot and serial must be 1–20
    characters of GS1 character set 82; they are percent-encoded. Dates go to the query string as YYMMDD.
    """
    gtin14 = validate_gtin(gtin)
    domain = _require_str(domain, "Digital Link domain")
    if _DOMAIN_RE.fullmatch(domain) is None:
        raise IdentifierError(f"Digital Link domain {domain!r}: expected a host name, optionally :port and /path")
    path = f"/01/{gtin14}"
    if lot is not None:
        path += f"/10/{_enc(_gs1_text(_require_str(lot, 'lot'), 'lot', gtin))}"
    if serial is not None:
        path += f"/21/{_enc(_gs1_text(_require_str(serial, 'serial'), 'serial', gtin))}"
    query = []
    if production is not None:
        query.append(f"11={_yymmdd(production, 'production date')}")
    if expiry is not None:
        query.append(f"17={_yymmdd(expiry, 'expiry date')}")
    return f"https://{domain}{path}" + (f"?{'&'.join(query)}" if query else "")
