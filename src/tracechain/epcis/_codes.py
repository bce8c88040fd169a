"""GS1 keys as the event hash ID writes them: the constrained canonical GS1 Digital Link URI (CBV 2.0 rules 17-18).

Any EPC URI (``urn:epc:id:…``), EPC class URI (``urn:epc:class:lgtin:…``), EPC pattern URI with one trailing ``*``
(``urn:epc:idpat:sgtin:…``) or GS1 Digital Link URI (any host, numeric AIs or GS1 Digital Link 1.0 short names,
with or without a query) becomes ``https://id.gs1.org/{key}/{value}[/{qualifier}/{value}]`` holding only the finest
level of identification. Anything else is not a GS1 key and is left alone (`hash_code` returns None).

This is the hash's own normal form, deliberately independent of `tracechain.identifiers.canonical_code`: it covers
every GS1 key (GRAI, GIAI, GDTI, CPID, ITIP, …), never raises, and does not check the check digits it is given.
Serial-like values are percent-decoded and re-encoded: the characters GS1 Digital Link requires to be escaped
(``! " # % & ( ) * + , / : < > ?``, space, and anything outside ASCII) become upper-case ``%XX``; everything else of
GS1 character set 82 is written as itself (so ``'``, ``;``, ``=`` stay literal, as GS1's reference implementation
writes them).
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import quote, unquote

__all__ = ["gs1_check_digit", "hash_code", "spelled_code"]

_DL_HOST: Final = "https://id.gs1.org/"
# Unreserved characters plus the three sub-delimiters GS1's reference implementation leaves literal.
_SAFE: Final = "-._~';="

_SHORT_NAMES: Final = {
    "gtin": "01",
    "itip": "8006",
    "cpv": "22",
    "lot": "10",
    "ser": "21",
    "sscc": "00",
    "gln": "414",
    "glnx": "254",
    "party": "417",
    "gdti": "253",
    "gcn": "255",
    "ginc": "401",
    "gsin": "402",
    "grai": "8003",
    "giai": "8004",
    "cpid": "8010",
    "cpsn": "8011",
    "gsrn": "8018",
    "gsrnp": "8017",
}
# Primary keys and the qualifiers GS1 Digital Link allows after each, finest first; the constrained form keeps
# the first qualifier of the list that is present (a serial outranks a lot; a consumer product variant is dropped).
_QUALIFIERS: Final = {
    "01": ("21", "235", "10", "22"),
    "8006": ("21", "10", "22"),
    "414": ("254",),
    "8010": ("8011",),
    "00": (),
    "253": (),
    "255": (),
    "401": (),
    "402": (),
    "417": (),
    "8003": (),
    "8004": (),
    "8017": (),
    "8018": (),
}
_DROPPED: Final = frozenset({"22"})
# The longest value each AI holds (GS1 General Specifications), for the keys and qualifiers of links.
_LONGEST: Final = {"01": 14, "00": 18, "414": 13, "417": 13, "402": 17, "8017": 18, "8018": 18, "8006": 18,
                   "253": 30, "255": 25, "8003": 30, "21": 20, "10": 20, "22": 20, "235": 28, "254": 20,
                   "8011": 12}  # fmt: skip
# The digits each primary key's value starts with (the whole value for keys that are numbers only).
_KEY_VALUE: Final = {
    "01": re.compile(r"(?:\d{8}|\d{12,14})\Z"),
    "8006": re.compile(r"\d{18}\Z"),
    "00": re.compile(r"\d{18}\Z"),
    "414": re.compile(r"\d{13}\Z"),
    "417": re.compile(r"\d{13}\Z"),
    "402": re.compile(r"\d{17}\Z"),
    "8017": re.compile(r"\d{18}\Z"),
    "8018": re.compile(r"\d{18}\Z"),
    "253": re.compile(r"\d{13}"),
    "255": re.compile(r"\d{13}"),
    "8003": re.compile(r"\d{14}"),
    "8004": re.compile(r"\d{4}"),
    "401": re.compile(r"\d{4}"),
    "8010": re.compile(r"\d{4}"),
}
# Components of each EPC scheme's URI (TDS 2.0 §6); a pattern has the same count with '*' last.
_FIELD_COUNTS: Final = {
    **dict.fromkeys(("sgtin", "sgln", "grai", "gdti", "sgcn", "cpi", "upui", "lgtin"), 3),
    **dict.fromkeys(("sscc", "pgln", "giai", "gsrn", "gsrnp", "ginc", "gsin"), 2),
    "itip": 5,
}
_DL_RE: Final = re.compile(r"(?i:https?)://[^/?#]+(/[^?#]*)(?:[?#].*)?", re.DOTALL)
_EPC_RE: Final = re.compile(r"urn:epc:(id|class|idpat):([a-z]+):(.*)", re.DOTALL)
_DIGITS_RE: Final = re.compile(r"[0-9]*")
# Links already in constrained canonical form, whose values need no escaping: a GTIN-14 alone or with a serial or
# a lot, a GLN, a party GLN, an SSCC. They come out as they went in.
_CANONICAL_RE: Final = re.compile(
    r"https://id\.gs1\.org/(?:01/[0-9]{14}(?:/(?:21|10)/[A-Za-z0-9_.~';=-]{1,20})?|41[47]/[0-9]{13}|00/[0-9]{18})\Z"
)


def gs1_check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit of ``digits`` (weights 3, 1, 3, … from the right)."""
    odd = sum(map(int, digits[-1::-2]))
    even = sum(map(int, digits[-2::-2]))
    return str((10 - (3 * odd + even) % 10) % 10)


def _escape(raw: str) -> str:
    """Percent-decode, then encode what a Digital Link path must escape, in upper-case hex."""
    return quote(unquote(raw, errors="surrogateescape"), safe=_SAFE, errors="surrogateescape")


def _text(raw: str, longest: int) -> str | None:
    """A serial-like component escaped, if its decoded length is what GS1 allows for it (else it is no key)."""
    length = len(unquote(raw, errors="surrogateescape"))
    return _escape(raw) if 1 <= length <= longest else None


def hash_code(value: str) -> str | None:
    """The constrained canonical Digital Link of a GS1 key in any spelling, or None if ``value`` is not one."""
    if _CANONICAL_RE.match(value):
        return value  # already what `spelled_code` would write (most codes tracechain records are)
    return spelled_code(value)


def spelled_code(value: str) -> str | None:
    """`hash_code` by the rules alone, for any spelling (a test holds its shortcut to this)."""
    if value.startswith("urn:epc:"):
        m = _EPC_RE.fullmatch(value)
        if m is None:
            return None
        # The last component may itself hold dots (TDS allows '.' in serials and asset references).
        count = _FIELD_COUNTS.get(m[2], 2 if m[1] == "id" else 3)
        return _from_epc(m[1], m[2], m[3].split(".", count - 1))
    m = _DL_RE.fullmatch(value)
    return _from_digital_link(m[1]) if m else None


def _digits(*parts: str) -> bool:
    return all(_DIGITS_RE.fullmatch(p) for p in parts)


def _gtin(company: str, item: str) -> str | None:
    # An EPC item reference carries the GTIN's indicator digit first: GTIN = indicator, company prefix, rest, check.
    if not item or not _digits(company, item) or len(company) + len(item) != 13:
        return None
    data = item[0] + company + item[1:]
    return data + gs1_check_digit(data)


def _keyed(company: str, reference: str, length: int) -> str | None:
    """company prefix + reference + check digit, when they are digits of the given total length."""
    if not _digits(company, reference) or len(company) + len(reference) != length:
        return None
    return company + reference + gs1_check_digit(company + reference)


def _from_epc(kind: str, scheme: str, fields: list[str]) -> str | None:
    if kind == "idpat":
        # A pattern names a class only when just the last field is '*'.
        if not fields or fields[-1] != "*" or "*" in fields[:-1]:
            return None
        return _from_epc_class(scheme, fields[:-1])
    if kind == "class":
        if scheme == "lgtin" and len(fields) == 3 and (gtin := _gtin(fields[0], fields[1])):
            lot = _text(fields[2], 20)
            return lot and f"{_DL_HOST}01/{gtin}/10/{lot}"
        return None
    return _from_epc_id(scheme, fields)


def _from_epc_class(scheme: str, fields: list[str]) -> str | None:
    path: str | bool | None = None
    if scheme == "sgtin" and len(fields) == 2:
        path = (gtin := _gtin(fields[0], fields[1])) and f"01/{gtin}"
    elif scheme == "grai" and len(fields) == 2:
        path = (key := _keyed("0" + fields[0], fields[1], 13)) and f"8003/{key}"
    elif scheme == "gdti" and len(fields) == 2:
        path = (key := _keyed(fields[0], fields[1], 12)) and f"253/{key}"
    elif scheme == "sgcn" and len(fields) == 2:
        path = (key := _keyed(fields[0], fields[1], 12)) and f"255/{key}"
    elif scheme == "cpi" and len(fields) == 2 and _digits(fields[0]):
        path = (part := _text(fields[0] + fields[1], 30)) and f"8010/{part}"
    elif scheme == "itip" and len(fields) == 4 and _digits(fields[2], fields[3]):
        path = (gtin := _gtin(fields[0], fields[1])) and f"8006/{gtin}{fields[2]}{fields[3]}"
    return _DL_HOST + path if isinstance(path, str) and path else None


def _from_epc_id(scheme: str, fields: list[str]) -> str | None:
    """EPC pure identity URIs of GS1 Tag Data Standard 2.0, field by field."""
    n = len(fields)
    path: str | bool | None = None  # each branch: the DL path, or a false value when the URI is no key
    if scheme == "sgtin" and n == 3:
        serial = _text(fields[2], 20)
        path = serial and (gtin := _gtin(fields[0], fields[1])) and f"01/{gtin}/21/{serial}"
    elif scheme == "sscc" and n == 2 and fields[1] and _digits(*fields) and len(fields[0]) + len(fields[1]) == 17:
        data = fields[1][0] + fields[0] + fields[1][1:]
        path = f"00/{data}{gs1_check_digit(data)}"
    elif scheme == "sgln" and n == 3:
        gln = _keyed(fields[0], fields[1], 12)
        # TDS: the extension "0" means no extension (AI 254 absent).
        extension = "" if fields[2] == "0" else (part := _text(fields[2], 20)) and f"/254/{part}"
        path = gln and extension is not None and f"414/{gln}{extension}"
    elif scheme == "pgln" and n == 2:
        path = (gln := _keyed(fields[0], fields[1], 12)) and f"417/{gln}"
    elif scheme == "grai" and n == 3:
        serial = _text(fields[2], 16)
        path = serial is not None and (key := _keyed("0" + fields[0], fields[1], 13)) and f"8003/{key}{serial}"
    elif scheme == "giai" and n == 2 and _digits(fields[0]):
        path = (part := _text(fields[0] + fields[1], 30)) and f"8004/{part}"
    elif scheme in ("gsrn", "gsrnp") and n == 2:
        ai = "8018" if scheme == "gsrn" else "8017"
        path = (key := _keyed(fields[0], fields[1], 17)) and f"{ai}/{key}"
    elif scheme == "gdti" and n == 3:
        serial = _text(fields[2], 17)
        path = serial is not None and (key := _keyed(fields[0], fields[1], 12)) and f"253/{key}{serial}"
    elif scheme == "sgcn" and n == 3 and _digits(fields[2]) and 1 <= len(fields[2]) <= 12:
        path = (key := _keyed(fields[0], fields[1], 12)) and f"255/{key}{fields[2]}"
    elif scheme == "cpi" and n == 3 and _digits(fields[0], fields[2]) and 1 <= len(fields[2]) <= 12:
        path = (part := _text(fields[0] + fields[1], 30)) and f"8010/{part}/8011/{fields[2]}"
    elif scheme == "ginc" and n == 2 and _digits(fields[0]):
        path = (part := _text(fields[0] + fields[1], 30)) and f"401/{part}"
    elif scheme == "gsin" and n == 2:
        path = (key := _keyed(fields[0], fields[1], 16)) and f"402/{key}"
    elif scheme == "itip" and n == 5 and _digits(fields[2], fields[3]) and len(fields[2]) == len(fields[3]) == 2:
        gtin, serial = _gtin(fields[0], fields[1]), _text(fields[4], 20)
        path = gtin and serial and f"8006/{gtin}{fields[2]}{fields[3]}/21/{serial}"
    elif scheme == "upui" and n == 3:
        path = (gtin := _gtin(fields[0], fields[1])) and (tpx := _text(fields[2], 28)) and f"01/{gtin}/235/{tpx}"
    return _DL_HOST + path if isinstance(path, str) and path else None


def _from_digital_link(path: str) -> str | None:
    segments = path.split("/")
    # The primary key may follow any path prefix of a custom resolver; take the first place the rest parses.
    for start in range(1, len(segments) - 1):
        key = _SHORT_NAMES.get(segments[start], segments[start])
        if key in _QUALIFIERS and (found := _key_path(key, segments[start + 1 :])):
            return _DL_HOST + found
    return None


def _key_path(key: str, rest: list[str]) -> str | None:
    """``{key}/{value}[/{qualifier}/{value}]`` in constrained form, or None if ``rest`` is not the key's path."""
    if rest and rest[-1] == "":
        rest = rest[:-1]  # a trailing slash
    if len(rest) % 2 == 0 or not rest[0]:
        return None
    value = rest[0]
    if not _KEY_VALUE[key].match(value):
        return None
    if key == "01" and len(value) < 14:
        value = value.zfill(14)  # GTIN-8/12/13 are written as GTIN-14 in canonical links
    allowed = _QUALIFIERS[key]
    qualifiers: dict[str, str] = {}
    for i in range(1, len(rest), 2):
        name = _SHORT_NAMES.get(rest[i], rest[i])
        if name not in allowed or name in qualifiers or not rest[i + 1]:
            return None
        qualifiers[name] = rest[i + 1]
    escaped = _text(value, _LONGEST.get(key, 30))
    if escaped is None:
        return None
    for name in allowed:
        if name in qualifiers and name not in _DROPPED:
            part = _text(qualifiers[name], _LONGEST[name])
            return part and f"{key}/{escaped}/{name}/{part}"
    return f"{key}/{escaped}"
