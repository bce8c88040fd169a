"""The common spellings of item codes, read without a general parser: the first step of ``canonical_code``.

``identifiers.canonical_code`` must give one answer for an item however it is written, and the general path that
decides every spelling (biip's GS1 parsers behind tracechain's own checks) costs about 100 µs a code — most of an
append's time when the codes come as labels carry them. The spellings that labels, scanners and producer systems
actually send are read here with a few precompiled patterns and the check digit, in a few µs:

- GS1 Digital Links on any host (http or https, any case, a plain path prefix), primary key ``01``/``00``/``414``
  or its short name, the qualifiers ``/10/`` and ``/21/`` (``/254/`` for a GLN) with plain values, and a query of
  date attributes (AI 11, 12, 13, 15, 16, 17) and non-GS1 parameters, with an optional fragment;
- element strings, bracketed ``(01)…(21)…`` or plain with GS separators and an optional symbology identifier,
  of the AIs 00, 01, 02, 10, 11, 12, 13, 15, 16, 17, 21, 37, 254 and 414;
- EPC pure identity URNs (sgtin, lgtin, sgtin pattern, sscc, sgln) with plain serials;
- bare GTINs and SSCCs, and veterinary drug trace codes bare or as tracechain's URN.

:func:`read` answers only when it is sure. For a code it reads, the answer is the item the general path finds;
for anything else — any invalid code, percent-escapes, a GS1 attribute it does not check, non-ASCII text, a
repeated AI, a 29 February whose century matters — it returns None and the general path decides, with its own
error messages. ``tests/test_code_spellings.py`` checks the two against each other (and against biip) with
Hypothesis over every spelling, valid and damaged.

This module imports no outside library and nothing of tracechain: ``identifiers`` builds the canonical strings.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["GLN", "GTIN", "SSCC", "VET", "Item", "check_digit", "checks", "read"]

GTIN: Final = "01"
SSCC: Final = "00"
GLN: Final = "414"
VET: Final = "vet"

Item = tuple[str, str, str | None, str | None]
"""What a code names: (kind, key, lot or GLN extension, serial), the values decoded. Kinds: GTIN (key a GTIN-14),
SSCC, GLN, VET (key the 24 digits)."""

_DIGITS_RE: Final = re.compile(r"[0-9]+")
# YYMMDD as the general path accepts it: a real month, and a real day or 00 (the month's last day). 29 February is
# left to the general path: whether it exists depends on the century GS1's sliding window gives the year, and so
# on today's date.
_DATE = r"[0-9]{2}(?:(?:0[13578]|1[02])(?:[0-2][0-9]|3[01])|(?:0[469]|11)(?:[0-2][0-9]|30)|02(?:[01][0-9]|2[0-8]))"
# Plain values: the characters that are both RFC 3986 unreserved and in GS1 character set 82. Percent-decoding
# leaves them as they are, so the value in the link is the value of the AI.
_PLAIN = r"[A-Za-z0-9._\-]{1,20}"

# A Digital Link. The path prefix may not hold a segment named like a primary key: the general path takes the
# first such segment followed by digits as the key, and with none in the prefix the key is the one matched here.
_DIGITAL_LINK_RE: Final = re.compile(
    r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.\-]*(?::[0-9]*)?"
    r"(?:/(?!(?:01|00|414|gtin|sscc|gln)/)[A-Za-z0-9._~\-]+)*"
    rf"/(?:(?:01|gtin)/([0-9]+)(?:/(?:10|lot)/({_PLAIN}))?(?:/(?:21|ser)/({_PLAIN}))?"
    r"|(?:00|sscc)/([0-9]+)"
    rf"|(?:414|gln)/([0-9]+)(?:/(?:254|glnx)/({_PLAIN}))?)"
    r"(?:\?([A-Za-z0-9._~%+\-:/,=&]*))?(?:#[A-Za-z0-9._~%+\-:/,=&?]*)?"
)
# One query parameter: a date attribute, or a parameter whose name cannot be a GS1 AI (AIs are digits), which
# the general path ignores.
_QUERY_PAIR_RE: Final = re.compile(rf"1[1-35-7]={_DATE}|[A-Za-z][A-Za-z0-9._\-]*=[A-Za-z0-9._~%+\-:/,]*")

_HRI_RE: Final = re.compile(r"(?:\([0-9]{2,4}\)[^()]+)+")
_HRI_ELEMENT_RE: Final = re.compile(r"\(([0-9]{2,4})\)([^()]+)")
_SYMBOLOGY_RE: Final = re.compile(r"\](?:C1|e[0-2]|d2|Q3|J1)")
_ELEMENT_STRING_START_RE: Final = re.compile(r"01[0-9]{14}|00[0-9]{18}|414[0-9]{13}")
_GS: Final = "\x1d"
_DATE_RE: Final = re.compile(_DATE)
# The shapes GS1 labels print most, read in one match: a GTIN, then dates, lot and serial with the lot before the
# serial. In brackets a value runs to the next bracket; without, a lot or serial runs to a GS or the end (the
# general parser reads them so too). Other orders and AIs take the element-by-element reading below.
_TEXT = r"[!-\"%-?A-Z_a-z]{1,20}"
_BRACKETED_TEXT = r"[!-\"%-'*-?A-Z_a-z]{1,20}"
_DATES_BRACKETED = rf"(?:\(1[1-35-7]\){_DATE})*"
_DATES_PLAIN = rf"(?:1[1-35-7]{_DATE}\x1d*)*"
_HRI_COMMON_RE: Final = re.compile(
    rf"\(01\)([0-9]{{14}}){_DATES_BRACKETED}(?:\(10\)({_BRACKETED_TEXT}))?{_DATES_BRACKETED}"
    rf"(?:\(21\)({_BRACKETED_TEXT}))?{_DATES_BRACKETED}"
)
_PLAIN_COMMON_RE: Final = re.compile(
    rf"01([0-9]{{14}})\x1d*{_DATES_PLAIN}(?:10({_TEXT})(?:\x1d+|\Z))?{_DATES_PLAIN}"
    rf"(?:21({_TEXT})(?:\x1d+|\Z))?{_DATES_PLAIN}"
)
# An SSCC on its own: the GS1-128 barcode of a case or pallet label carries it alone.
_SSCC_PLAIN_RE: Final = re.compile(r"00([0-9]{18})")
_SSCC_BRACKETED_RE: Final = re.compile(r"\(00\)([0-9]{18})")
_TEXT_RE: Final = re.compile(_TEXT)  # GS1 character set 82, 1 to 20 characters
# The AIs read here, each with the pattern its value must match and whether it is a key with a check digit
# (its length then comes from _FIXED).
_ELEMENTS: Final = {
    "00": (_DIGITS_RE, True),
    "01": (_DIGITS_RE, True),
    "02": (_DIGITS_RE, True),
    "414": (_DIGITS_RE, True),
    "11": (_DATE_RE, False),
    "12": (_DATE_RE, False),
    "13": (_DATE_RE, False),
    "15": (_DATE_RE, False),
    "16": (_DATE_RE, False),
    "17": (_DATE_RE, False),
    "10": (_TEXT_RE, False),
    "21": (_TEXT_RE, False),
    "254": (_TEXT_RE, False),
    "37": (re.compile(r"[0-9]{1,8}"), False),
}
# The lengths of the fixed-length AIs among them: in a plain element string these run on into the next AI; the
# others end at a GS separator or at the end of the string.
_FIXED: Final = {"00": 18, "01": 14, "02": 14, "414": 13, "11": 6, "12": 6, "13": 6, "15": 6, "16": 6, "17": 6}

_EPC_SGTIN_RE: Final = re.compile(rf"urn:epc:id:sgtin:([0-9]{{6,12}})\.([0-9]+)\.({_PLAIN})")
_EPC_LGTIN_RE: Final = re.compile(rf"urn:epc:class:lgtin:([0-9]{{6,12}})\.([0-9]+)\.({_PLAIN})")
_EPC_PATTERN_RE: Final = re.compile(r"urn:epc:idpat:sgtin:([0-9]{6,12})\.([0-9]+)\.\*")
_EPC_SSCC_RE: Final = re.compile(r"urn:epc:id:sscc:([0-9]{6,12})\.([0-9]+)")
_EPC_SGLN_RE: Final = re.compile(rf"urn:epc:id:sgln:([0-9]{{6,12}})\.([0-9]*)\.({_PLAIN})")
_VET_URN_RE: Final = re.compile(r"urn:tracechain:vetdrug:([0-9]{24})")


def check_digit(data: str) -> int:
    """The GS1 mod-10 check digit of ASCII digits ``data``: weight 3 on the rightmost, alternating with 1 leftwards."""
    # Summing byte slices runs in C; each digit's byte is its value plus 48.
    raw = data.encode("ascii")
    odd, even = raw[-1::-2], raw[-2::-2]
    return -(3 * (sum(odd) - 48 * len(odd)) + sum(even) - 48 * len(even)) % 10


def checks(key: str) -> bool:
    """Whether the last digit of ASCII digits ``key`` is its check digit: the weighted sum of all, the check digit
    with weight 1, is then a multiple of 10."""
    raw = key.encode("ascii")
    triple = raw[-2::-2]
    return (sum(raw) + 2 * sum(triple) - 48 * (len(raw) + 2 * len(triple))) % 10 == 0


def _gtin(key: str) -> str | None:
    if len(key) not in (8, 12, 13, 14) or not checks(key):
        return None
    return key.zfill(14)


def read(text: str) -> Item | None:
    """The item a common spelling of a valid code names, or None to leave ``text`` to the general path.

    ``text`` must be stripped and ASCII (so already NFC).
    """
    first = text[:1]
    if first in ("h", "H"):
        return _digital_link(text)
    if first == "(":
        return _hri(text)
    if first == "u":
        return _urn(text)
    if first == "]":
        return _plain(text[3:]) if _SYMBOLOGY_RE.match(text) else None
    if _DIGITS_RE.fullmatch(text):
        return _digits(text)
    if _ELEMENT_STRING_START_RE.match(text):
        return _plain(text)
    return None


def _digits(text: str) -> Item | None:
    length = len(text)
    if length in (8, 12, 13, 14):
        gtin = _gtin(text)
        return None if gtin is None else (GTIN, gtin, None, None)
    if length == 18:
        return (SSCC, text, None, None) if checks(text) else None
    if length == 24:
        return (VET, text, None, None)
    # Other lengths are element strings when they start like one (a GTIN and a date, say), or no code at all.
    return _plain(text) if _ELEMENT_STRING_START_RE.match(text) else None


def _digital_link(text: str) -> Item | None:
    m = _DIGITAL_LINK_RE.fullmatch(text)
    if m is None:
        return None
    query = m[7]
    if query:
        for pair in query.split("&"):
            if _QUERY_PAIR_RE.fullmatch(pair) is None:
                return None
    if m[1] is not None:
        gtin = _gtin(m[1])
        return None if gtin is None else (GTIN, gtin, m[2], m[3])
    if m[4] is not None:
        sscc = m[4]
        return (SSCC, sscc, None, None) if len(sscc) == 18 and checks(sscc) else None
    gln = m[5]
    return (GLN, gln, m[6], None) if len(gln) == 13 and checks(gln) else None


def _valid_element(ai: str, value: str) -> bool:
    """Whether ``value`` is valid for ``ai`` as the general path checks it: pattern, length, date, check digit."""
    pattern, key = _ELEMENTS[ai]
    if pattern.fullmatch(value) is None:
        return False
    return not key or (len(value) == _FIXED[ai] and checks(value))


def _item(values: dict[str, str]) -> Item | None:
    # The identity an element string names, in the general path's order: a logistic unit's SSCC comes first
    # (its label also carries the GTIN of its contents), then a GTIN with its lot and serial, then a GLN.
    if SSCC in values:
        return SSCC, values[SSCC], None, None
    if GTIN in values:
        return GTIN, values[GTIN], values.get("10"), values.get("21")
    if GLN in values:
        return GLN, values[GLN], values.get("254"), None
    return None


def _common(m: re.Match[str]) -> Item | None:
    gtin = m[1]
    return (GTIN, gtin, m[2], m[3]) if checks(gtin) else None


def _sscc(m: re.Match[str]) -> Item | None:
    return (SSCC, m[1], None, None) if checks(m[1]) else None


def _hri(text: str) -> Item | None:
    if (m := _HRI_COMMON_RE.fullmatch(text)) is not None:
        return _common(m)
    if (m := _SSCC_BRACKETED_RE.fullmatch(text)) is not None:
        return _sscc(m)
    if _HRI_RE.fullmatch(text) is None:
        return None
    values: dict[str, str] = {}
    for ai, value in _HRI_ELEMENT_RE.findall(text):
        if ai in values or ai not in _ELEMENTS or not _valid_element(ai, value):
            return None
        values[ai] = value
    return _item(values)


def _plain(body: str) -> Item | None:
    """An element string without brackets: fixed-length AIs run on, variable ones end at GS or the end."""
    if (m := _SSCC_PLAIN_RE.fullmatch(body)) is not None:
        return _sscc(m)
    if (m := _PLAIN_COMMON_RE.fullmatch(body)) is not None:
        return _common(m)
    values: dict[str, str] = {}
    position, end = 0, len(body)
    while position < end:
        ai = body[position : position + 2]
        if ai not in _ELEMENTS:
            ai = body[position : position + 3]
            if ai not in _ELEMENTS:
                return None
        start = position + len(ai)
        length = _FIXED.get(ai)
        if length is not None:
            position = start + length
        else:
            separator = body.find(_GS, start)
            position = end if separator < 0 else separator
        value = body[start:position]
        if ai in values or not _valid_element(ai, value):
            return None
        values[ai] = value
        while body.startswith(_GS, position):
            position += 1
    return _item(values)


def _company_key(company: str, reference: str, total: int) -> str | None:
    """A GS1 key's data digits from an EPC's company prefix and reference (indicator or extension digit first)."""
    if len(company) + len(reference) != total:
        return None
    return reference[:1] + company + reference[1:]


def _urn(text: str) -> Item | None:
    if m := _EPC_SGTIN_RE.fullmatch(text):
        data = _company_key(m[1], m[2], 13)
        return None if data is None else (GTIN, f"{data}{check_digit(data)}", None, m[3])
    if m := _VET_URN_RE.fullmatch(text):
        return VET, m[1], None, None
    if m := _EPC_SSCC_RE.fullmatch(text):
        data = _company_key(m[1], m[2], 17)
        return None if data is None else (SSCC, f"{data}{check_digit(data)}", None, None)
    if m := _EPC_LGTIN_RE.fullmatch(text):
        data = _company_key(m[1], m[2], 13)
        return None if data is None else (GTIN, f"{data}{check_digit(data)}", m[3], None)
    if m := _EPC_PATTERN_RE.fullmatch(text):
        data = _company_key(m[1], m[2], 13)
        return None if data is None else (GTIN, f"{data}{check_digit(data)}", None, None)
    if m := _EPC_SGLN_RE.fullmatch(text):
        # The SGLN has no indicator digit: the GLN is the company prefix and the location reference as they stand.
        company, location = m[1], m[2]
        if len(company) + len(location) != 12:
            return None
        data = company + location
        # TDS: extension "0" means "no extension" (AI 254 absent).
        return GLN, f"{data}{check_digit(data)}", None if m[3] == "0" else m[3], None
    return None
