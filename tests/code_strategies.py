"""Hypothesis strategies for item codes in every spelling people write them, valid and faulty.

Each family (Digital Links, element strings, EPC URNs, bare digits) is drawn as a valid code in one of its
common shapes with at most one fault, chosen from a catalogue of the faults real input has: a wrong check digit or
length, a lot outside character set 82 or too long, bad percent-encoding, an unknown or repeated AI, an impossible
date, a stray path segment, a non-ASCII or uppercased host, and so on. One fault at a time keeps most of the codes
near the edge of what the fast reading accepts, where a mistake in it would show; `damaged` then adds the
character-level faults (an inserted, dropped or replaced character, case changes, whitespace around).

``label_spelling`` draws only valid codes, in the spellings labels and producer systems send. The module runs
past 400 lines because it is the one catalogue of spellings and faults the tests draw from; split, each part
would need most of the others' pieces.
"""

from __future__ import annotations

import string
from datetime import date, timedelta
from urllib.parse import quote

from biip.gs1_application_identifiers import _GS1_APPLICATION_IDENTIFIERS
from hypothesis import strategies as st

from tracechain.identifiers import GS1_CHARSET_82, gtin_check_digit

__all__ = [
    "any_code",
    "damaged",
    "digital_link",
    "digits",
    "element_string",
    "element_values",
    "epc_urn",
    "label_spelling",
    "link_keys",
    "link_names",
]

DIGITS = string.digits
PLAIN = string.ascii_letters + string.digits + "-._"
CHARSET_82 = "".join(sorted(GS1_CHARSET_82))
# One character off plain: the edge of what a link may carry unescaped, and of character set 82.
NEAR_PLAIN = "~%+!*'(),;:=@$&/?# \"<>"
# Characters real input brings that codes must not silently absorb: URI delimiters, escapes, brackets, separators,
# whitespace inside and around, full-width and combining characters, an ideographic space.
NASTY = "/%?#&=+()[]@:;,'\" \t\n\x1d\x1e~é０\u3000\u00a0\u0301批"
DATE_AIS = ("11", "12", "13", "15", "16", "17")


def _fault(draw: st.DrawFn, only: tuple[str, ...] | None, *names: str) -> str:
    """Which one piece of a code is faulty: one of ``only`` when given, else "none" half the time or one of
    ``names``. A property that forces one kind of fault explores that kind far more than the mix would."""
    if only:
        return draw(st.sampled_from(only))
    return draw(st.sampled_from(["none"] * len(names) + list(names)))


def with_check(body: str) -> str:
    return body + str(gtin_check_digit(body))


# -------------------------------------------------------------------------------------------------------------
# Pieces


@st.composite
def valid_key(draw: st.DrawFn, length: int) -> str:
    body = draw(st.text(DIGITS, min_size=length - 1, max_size=length - 1))
    # Prefixes where GS1 parsers treat keys specially: leading zeros (GTIN-8/12 inside GTIN-14), restricted
    # circulation numbers (02, 04, 2x), ISSN/ISBN (977–979), China (690–699).
    prefix = draw(st.sampled_from(["", "", "0", "00", "000", "0000000", "02", "04", "2", "977", "978", "69", "1"]))
    return with_check((prefix + body)[: length - 1])


@st.composite
def broken_key(draw: st.DrawFn, length: int) -> str:
    """A key broken as keyed-in or misread keys are: a wrong check digit, most often, or a wrong length (with a
    right check digit, so that only the length is wrong), or a character that is no ASCII digit."""
    text = draw(valid_key(length))
    damage = draw(st.sampled_from(["check", "check", "length", "letter"]))
    if damage == "check":
        return text[:-1] + str((int(text[-1]) + draw(st.integers(1, 9))) % 10)
    if damage == "length":
        return draw(valid_key(draw(st.integers(2, 20).filter(lambda n: n != length))))
    at = draw(st.integers(0, length - 1))
    return text[:at] + draw(st.sampled_from(["A", "０", " ", "-", "٣"])) + text[at + 1 :]


def yymmdd(day: date) -> str:
    return day.strftime("%y%m%d")


def valid_date() -> st.SearchStrategy[str]:
    # Day 00 is how GS1 writes "the end of the month" on a best-before or expiry date.
    real = st.dates(date(1980, 1, 1), date(2070, 12, 31)).filter(lambda d: (d.month, d.day) != (2, 29))
    return real.map(yymmdd) | st.tuples(st.integers(0, 99), st.integers(1, 12)).map(lambda t: f"{t[0]:02d}{t[1]:02d}00")


def broken_date() -> st.SearchStrategy[str]:
    # 29 February of a year divisible by 4 is valid in every century but 1900 and 2100: the general path decides.
    special = ["000229", "040229", "250229", "960229", "270431", "270631", "271301", "270001", "270132", "270230"]
    return st.sampled_from(special) | st.text(DIGITS + "A", min_size=5, max_size=7)


def valid_text() -> st.SearchStrategy[str]:
    """A lot or serial as producers write them: sequential, random (as anti-counterfeit serials are), or any
    plain text of 1 to 20 characters."""
    return st.one_of(
        st.text(PLAIN, min_size=1, max_size=20),
        st.integers(0, 10**12).map(lambda n: f"S{n:012d}"),
        st.text(string.ascii_uppercase + string.digits, min_size=8, max_size=16),
    )


def odd_text() -> st.SearchStrategy[str]:
    """Lots and serials at or past the edge: one character off plain, the rest of character set 82, 20 and more
    characters, empty, and characters from outside character set 82."""
    near = st.tuples(st.text(PLAIN, max_size=10), st.sampled_from(NEAR_PLAIN), st.text(PLAIN, max_size=9))
    return st.one_of(
        near.map("".join),
        near.map("".join),
        st.text(CHARSET_82, min_size=1, max_size=20),
        st.sampled_from([20, 21, 21, 22, 30]).flatmap(lambda n: st.text(PLAIN, min_size=n, max_size=n)),
        st.just(""),
        st.text(PLAIN + NASTY, min_size=1, max_size=8),
    )


@st.composite
def escaped(draw: st.DrawFn, value: str) -> str:
    """``value`` in a link path percent-encoded some way: fully, in lower-case hex, one character, or badly."""
    how = draw(st.sampled_from(["quote", "lower", "some", "bad"]))
    if how == "quote":
        return quote(value, safe="")
    if how == "lower":
        return "".join(f"%{b:02x}" for b in value.encode())
    if how == "some" and value:
        at = draw(st.integers(0, len(value) - 1))
        return value[:at] + quote(value[at], safe="") + value[at + 1 :]
    return value + draw(st.sampled_from(["%", "%G1", "%FF", "%C3", "%2", "%E6%89"]))


# -------------------------------------------------------------------------------------------------------------
# Digital Links

HOSTS = ("id.gs1.org", "ID.GS1.ORG", "qr.brand.example.cn", "Brand.Example.CN", "b.cn:8443", "", "127.0.0.1")
ODD_HOSTS = ("xn--fiq228c.cn", "例子.cn", "user@brand.example.cn", "[::1]", "[bad", "a b", "b.cn:x", "b.cn%2F")
PREFIXES = ("", "", "/p", "/a/b-c", "/trace~1", "/01x", "/0", "/lot", "/21")
ODD_PREFIXES = ("/gtin", "/01/abc", "//", "/%70", "/414", "/ser/1", "/00/0", "/a b", "/Ab/01", "/gln/x", "/p/")
ODD_QUERY = (
    "3103=000195",
    "10=LOT9",
    "21=SER9",
    "02=06901234567892",
    "37=12",
    "99=x",
    "17=",
    "",
    "foo",
    "%31%37=270101",
    "a=b=c",
    "x=1+2",
    "14=270101",
    "17=270101#",
    "17=２70101",
    "1a=2",
    "exp=27%2",
)
NAMES = {"01": "gtin", "00": "sscc", "414": "gln", "10": "lot", "21": "ser", "22": "cpv", "254": "glnx"}


@st.composite
def digital_link(draw: st.DrawFn, faults: tuple[str, ...] | None = None) -> str:
    fault = _fault(
        draw, faults, "scheme", "host", "prefix", "key", "names", "qualifiers", "text", "escape", "query", "date", "end"
    )
    scheme = draw(st.sampled_from(["https://", "https://", "http://", "HTTPS://", "HtTp://"]))
    if fault == "scheme":
        scheme = draw(st.sampled_from(["https:/", "ftp://", "http:", "HTTPS//", "https:///", "httpss://", "://"]))
    host = draw(st.sampled_from(ODD_HOSTS if fault == "host" else HOSTS))
    prefix = draw(st.sampled_from(ODD_PREFIXES if fault == "prefix" else PREFIXES))
    primary = draw(st.sampled_from(["01", "01", "01", "00", "414"]))
    length = {"01": draw(st.sampled_from([8, 12, 13, 14])), "00": 18, "414": 13}[primary]
    key = draw(broken_key(length) if fault == "key" else valid_key(length))
    short = draw(st.booleans())

    def name(ai: str) -> str:
        if fault == "names" and ai in NAMES:
            return draw(st.sampled_from([NAMES[ai].upper(), NAMES[ai].title(), NAMES[ai] + "s", "0" + ai]))
        return NAMES.get(ai, ai) if short else ai

    def text() -> str:
        value = draw(odd_text() if fault == "text" else valid_text())
        return draw(escaped(value)) if fault == "escape" else value

    if primary == "01":
        shapes = [[], ["10"], ["21"], ["10", "21"], ["10", "21"], ["10", "21"]]
        if fault == "qualifiers":
            shapes = [["21", "10"], ["22", "10", "21"], ["235"], ["10", "10"], ["17"], ["21", "21"], ["10", "", "21"]]
    elif primary == "414":
        shapes = [["254"]] if fault != "qualifiers" else [["7040"], ["21"], ["254", "254"], ["10"]]
        shapes += [[]]
    else:
        shapes = [[]] if fault != "qualifiers" else [["21"], ["10"], ["02"]]
    path = f"{prefix}/{name(primary)}/{key}"
    for ai in draw(st.sampled_from(shapes)):
        path += f"/{name(ai)}/{text()}" if ai else "/"
    pairs = draw(st.lists(st.sampled_from(["exp=270101", "linkType=gs1:pip", "utm_source=qr", "s=a%20b"]), max_size=1))
    pairs += [f"{ai}={draw(valid_date())}" for ai in draw(st.lists(st.sampled_from(DATE_AIS), max_size=2))]
    if fault == "query":
        pairs.insert(draw(st.integers(0, len(pairs))), draw(st.sampled_from(ODD_QUERY)))
    if fault == "date":
        pairs.append(f"{draw(st.sampled_from(DATE_AIS))}={draw(broken_date())}")
    query = "?" + "&".join(pairs) if pairs or draw(st.integers(0, 5)) == 0 else ""
    fragment = draw(st.sampled_from(["", "", "", "#top", "#"]))
    if fault == "end":
        fragment = draw(st.sampled_from(["#a b", "#%", "#é", "/", "//", "?#", "/?17=270101"]))
    return f"{scheme}{host}{path}{query}{fragment}"


# -------------------------------------------------------------------------------------------------------------
# Element strings

SYMBOLOGIES = ("", "", "", "]C1", "]e0", "]d2", "]Q3", "]J1")
ODD_SYMBOLOGIES = ("]d1", "]X9", "]C0", "]e3", "]", "]d2 ", "]D2", "]d2\x1d")
ODD_ELEMENTS = (
    ("22", "V1"),
    ("99", "INTERNAL"),
    ("240", "ADD-ID"),
    ("3103", "000195"),
    ("7003", "2701011200"),
    ("14", "270101"),
    ("02", "06901234567893"),
    ("37", "123456789"),
    ("10", ""),
    ("8006", "069012345678920102"),
)


def variable_length(ai: str) -> bool:
    known = _GS1_APPLICATION_IDENTIFIERS.get(ai)
    return known is None or known.separator_required


@st.composite
def element_pairs(draw: st.DrawFn, fault: str) -> list[tuple[str, str]]:
    kind = draw(st.sampled_from(["gtin", "gtin", "gtin", "logistic", "location"]))

    def key(length: int, faulty: bool = True) -> str:
        return draw(broken_key(length) if fault == "key" and faulty else valid_key(length))

    def text() -> str:
        return draw(odd_text() if fault == "text" else valid_text())

    def day() -> str:
        return draw(broken_date() if fault == "date" else valid_date())

    if kind == "gtin":
        pairs = [("01", key(14))] + [(ai, day()) for ai in draw(st.lists(st.sampled_from(DATE_AIS), max_size=2))]
        pairs += [(ai, text()) for ai in draw(st.sampled_from([[], ["10"], ["21"], ["10", "21"], ["10", "21"]]))]
    elif kind == "logistic":
        pairs = [("00", key(18))] + draw(st.sampled_from([[], [("02", key(14, False)), ("37", "12")]]))
        pairs += [("10", text())] if draw(st.booleans()) else []
    else:
        pairs = [("414", key(13))] + ([("254", text())] if draw(st.booleans()) else [])
    if fault == "order" or draw(st.integers(0, 4)) == 0:
        pairs = draw(st.permutations(pairs))
    if fault == "ai":
        pairs.insert(draw(st.integers(0, len(pairs))), draw(st.sampled_from(ODD_ELEMENTS)))
    if fault == "repeat":
        ai, value = draw(st.sampled_from(pairs))
        pairs.insert(draw(st.integers(0, len(pairs))), (ai, draw(st.sampled_from([value, value + "1", value[:-1]]))))
    if fault == "both":
        pairs.append(draw(st.sampled_from([("00", "106141412345678908"), ("01", "06901234567892")])))
    return pairs


@st.composite
def element_string(draw: st.DrawFn, faults: tuple[str, ...] | None = None) -> str:
    fault = _fault(draw, faults, "key", "text", "date", "order", "ai", "repeat", "both", "separator", "symbology")
    pairs = draw(element_pairs(fault))
    if draw(st.booleans()):
        return "".join(f"({ai}){value}" for ai, value in pairs)
    separators = "needed"
    if fault == "separator":
        separators = draw(st.sampled_from(["never", "never", "always", "doubled", "leading"]))
    elif draw(st.integers(0, 3)) == 0:
        separators = "always"
    out = "\x1d" if separators == "leading" else ""
    for index, (ai, value) in enumerate(pairs):
        out += ai + value
        if index < len(pairs) - 1 and (separators == "always" or (separators != "never" and variable_length(ai))):
            out += "\x1d\x1d" if separators == "doubled" else "\x1d"
    return draw(st.sampled_from(ODD_SYMBOLOGIES if fault == "symbology" else SYMBOLOGIES)) + out


# -------------------------------------------------------------------------------------------------------------
# EPC URNs, bare digits, veterinary drug trace codes

EPC_SCHEMES = (
    ("urn:epc:id:sgtin:", 13),
    ("urn:epc:id:sgtin:", 13),
    ("urn:epc:class:lgtin:", 13),
    ("urn:epc:idpat:sgtin:", 13),
    ("urn:epc:id:sscc:", 17),
    ("urn:epc:id:sgln:", 12),
)
ODD_EPC_SCHEMES = (("URN:EPC:ID:SGTIN:", 13), ("urn:epc:id:sgtin-96:", 13), ("urn:epc:id:grai:", 12))


def epc_escaped(value: str) -> str:
    """A serial or lot as the Tag Data Standard writes it in a URN: %XX for the characters a URN reserves."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.:;='()*+,!") else quote(c, safe="") for c in value)


@st.composite
def epc_urn(draw: st.DrawFn, faults: tuple[str, ...] | None = None) -> str:
    fault = _fault(draw, faults, "scheme", "partition", "company", "text", "escape", "tail")
    scheme, total = draw(st.sampled_from(ODD_EPC_SCHEMES if fault == "scheme" else EPC_SCHEMES))
    company_length = draw(st.sampled_from([5, 13]) if fault == "company" else st.integers(6, 12))
    rest_length = max(0, total - company_length + (draw(st.sampled_from([-1, 1])) if fault == "partition" else 0))
    company = draw(st.text(DIGITS, min_size=company_length, max_size=company_length))
    urn = f"{scheme}{company}.{draw(st.text(DIGITS, min_size=rest_length, max_size=rest_length))}"
    if "sscc" in scheme:
        return urn + (".1" if fault == "tail" else "")
    if "idpat" in scheme:
        return urn + (draw(st.sampled_from([".1", "", ".**", ".*."])) if fault == "tail" else ".*")
    value = draw(odd_text() if fault == "text" else valid_text())
    if "sgln" in scheme and draw(st.booleans()):
        value = "0"
    if fault == "escape":
        value = draw(st.sampled_from([epc_escaped(value + "/"), value + "%", value + "%FF", value + "%2"]))
    elif fault == "text":
        value = draw(st.sampled_from([value, epc_escaped(value)]))
    return f"{urn}.{value}" + (draw(st.sampled_from([".", "/", ".x"])) if fault == "tail" else "")


@st.composite
def digits(draw: st.DrawFn) -> str:
    """Bare digits: GTINs, SSCCs and vet drug trace codes, broken or not, digit strings of every length, and
    tracechain's URN for vet drug trace codes."""
    choice = draw(st.sampled_from(["key", "key", "broken", "any", "vet", "vet-urn"]))
    if choice == "key":
        return draw(valid_key(draw(st.sampled_from([8, 12, 13, 14, 18]))))
    if choice == "broken":
        return draw(broken_key(draw(st.sampled_from([8, 12, 13, 14, 18]))))
    if choice == "any":
        return draw(st.text(DIGITS, min_size=1, max_size=30))
    number = draw(st.text(DIGITS, min_size=24, max_size=24))
    if choice == "vet":
        return number
    return "urn:tracechain:vetdrug:" + draw(st.sampled_from([number, number[1:], number + "0", number[:23] + "A"]))


# -------------------------------------------------------------------------------------------------------------
# Edges, one dimension at a time: everything else in the code common, one piece swept over its whole range


@st.composite
def link_keys(draw: st.DrawFn) -> str:
    """A common Digital Link whose key is any run of 1 to 20 digits, with a right check digit or not."""
    length = draw(st.integers(1, 20))
    any_digits = st.text(DIGITS, min_size=length, max_size=length)
    key = draw(valid_key(length) if length > 1 and draw(st.booleans()) else any_digits)
    primary = draw(st.sampled_from(["01", "gtin", "00", "sscc", "414", "gln"]))
    tail = draw(st.sampled_from(["", "/21/S1", "/10/L1/21/S1", "/254/A1", "?17=270101"]))
    return f"https://{draw(st.sampled_from(HOSTS))}/{primary}/{key}{tail}"


@st.composite
def link_names(draw: st.DrawFn) -> str:
    """A common Digital Link whose key and qualifier names are numeric, short or either in any case."""

    def name(ai: str) -> str:
        spelled = draw(st.sampled_from([ai, NAMES[ai]]))
        return draw(st.sampled_from([spelled, spelled, spelled.upper(), spelled.title(), spelled.swapcase()]))

    primary = draw(st.sampled_from(["01", "01", "00", "414"]))
    key = draw(valid_key({"01": 14, "00": 18, "414": 13}[primary]))
    qualifiers = {"01": ["10", "21"], "00": [], "414": ["254"]}[primary]
    path = "".join(f"/{name(ai)}/V{index}" for index, ai in enumerate(qualifiers) if draw(st.booleans()))
    return f"https://b.cn/{name(primary)}/{key}{path}"


@st.composite
def element_values(draw: st.DrawFn) -> str:
    """A GTIN element string whose lot and serial run 1 to 22 characters, with a GS after each, or none, or two."""
    gtin = draw(valid_key(14))

    def value() -> str:
        length = draw(st.integers(1, 22))
        return draw(st.text(PLAIN + "!%&*+,/:;=?", min_size=length, max_size=length))

    def separator() -> str:
        return draw(st.sampled_from(["\x1d", "\x1d", "", "\x1d\x1d"]))

    dates = [(ai, draw(valid_date())) for ai in draw(st.lists(st.sampled_from(DATE_AIS), max_size=2))]
    if draw(st.booleans()):
        return f"(01){gtin}" + "".join(f"({ai}){day}" for ai, day in dates) + f"(10){value()}(21){value()}"
    body = f"01{gtin}" + "".join(ai + day for ai, day in dates) + f"10{value()}{separator()}21{value()}"
    return draw(st.sampled_from(["", "]d2"])) + body


# -------------------------------------------------------------------------------------------------------------
# Valid codes in the spellings labels carry

PLAIN_VALUE = st.one_of(
    st.text(PLAIN, min_size=1, max_size=20),
    st.integers(0, 10**12).map(lambda n: f"{n:010d}"),
    st.text(string.ascii_uppercase + string.digits, min_size=8, max_size=16),
)
BRACKETED_VALUE = st.text(CHARSET_82.replace("(", "").replace(")", ""), min_size=1, max_size=20)
NEAR_TODAY = st.dates(date.today() - timedelta(days=3000), date.today() + timedelta(days=3000))


@st.composite
def label_spelling(draw: st.DrawFn) -> tuple[str, bool]:
    """A valid code in one of the spellings labels and producer systems send, and whether biip can read it as it
    is (biip knows numeric AIs only, not the short names of Digital Link 1.0)."""
    gtin = draw(valid_key(draw(st.sampled_from([8, 12, 13, 14]))))
    gtin14 = gtin.zfill(14)
    lot, serial = draw(PLAIN_VALUE), draw(PLAIN_VALUE)
    day = NEAR_TODAY.filter(lambda d: (d.month, d.day) != (2, 29)).map(yymmdd) | st.just("270100")
    dates = [(ai, draw(day)) for ai in draw(st.lists(st.sampled_from(DATE_AIS), max_size=2, unique=True))]
    kind = draw(st.sampled_from(["link", "link", "link", "hri", "plain", "epc", "bare", "sscc", "gln", "vet"]))
    if kind == "link":
        host = draw(st.sampled_from(["id.gs1.org", "qr.brand.example.cn", "Brand.Example.CN:8443/p", "b.cn/a/b"]))
        short = draw(st.integers(0, 4)) == 0
        path = f"/{'gtin' if short else '01'}/{gtin}"
        with_lot, with_serial = draw(st.sampled_from([(True, True), (True, True), (False, True), (True, False)]))
        path += f"/{'lot' if short else '10'}/{lot}" if with_lot else ""
        path += f"/{'ser' if short else '21'}/{serial}" if with_serial else ""
        params = [f"{ai}={value}" for ai, value in dates] + draw(st.sampled_from([[], [], ["linkType=all"]]))
        scheme = draw(st.sampled_from(["https", "http", "HTTPS"]))
        return f"{scheme}://{host}{path}" + ("?" + "&".join(params) if params else ""), not short
    if kind in ("hri", "plain"):
        lot, serial = draw(BRACKETED_VALUE), draw(BRACKETED_VALUE)
        pairs = [("01", gtin14), *dates, ("10", lot), ("21", serial)]
        if draw(st.booleans()):
            pairs = [pairs[0], *draw(st.permutations(pairs[1:]))]
        if kind == "hri":
            return "".join(f"({ai}){value}" for ai, value in pairs), True
        body = "".join(ai + value + ("\x1d" if ai in ("10", "21") else "") for ai, value in pairs).rstrip("\x1d")
        return draw(st.sampled_from(["", "]d2", "]C1", "]Q3"])) + body, True
    if kind == "epc":
        cut = draw(st.integers(6, 12))
        company, item = gtin14[1 : 1 + cut], gtin14[0] + gtin14[1 + cut : 13]
        urns = [
            f"urn:epc:id:sgtin:{company}.{item}.{serial}",
            f"urn:epc:class:lgtin:{company}.{item}.{lot}",
            f"urn:epc:idpat:sgtin:{company}.{item}.*",
        ]
        return draw(st.sampled_from(urns)), False
    if kind == "bare":
        return gtin, False
    if kind == "sscc":
        sscc = draw(valid_key(18))
        cut = draw(st.integers(6, 12))
        spellings = [
            sscc,
            f"(00){sscc}(02){gtin14}(37)12",
            f"00{sscc}02{gtin14}3712",
            f"(01){gtin14}(00){sscc}",
            f"01{gtin14}00{sscc}",
            f"https://logistics.example.cn/00/{sscc}",
            f"urn:epc:id:sscc:{sscc[1 : 1 + cut]}.{sscc[0]}{sscc[1 + cut : 17]}",
        ]
        return draw(st.sampled_from(spellings)), False
    if kind == "gln":
        gln = draw(valid_key(13))
        cut = draw(st.integers(6, 12))
        ext = draw(st.sampled_from(["0", "0", "DOCK-3", "1"]))
        spellings = [
            f"urn:epc:id:sgln:{gln[:cut]}.{gln[cut:12]}.{ext}",
            f"https://id.gs1.org/414/{gln}",
            f"https://x.example.cn/414/{gln}/254/A-{ext}",
            f"(414){gln}(254)A{ext}",
        ]
        return draw(st.sampled_from(spellings)), False
    number = draw(st.text(DIGITS, min_size=24, max_size=24))
    return draw(st.sampled_from([number, f"urn:tracechain:vetdrug:{number}"])), False


# -------------------------------------------------------------------------------------------------------------
# Character-level damage, and every spelling together


@st.composite
def damaged(draw: st.DrawFn, code: str) -> str:
    """``code`` with one of the faults of real input at character level: an inserted, dropped or replaced
    character, a change of case, whitespace around it, or the end cut off."""
    fault = draw(st.sampled_from(["insert", "delete", "replace", "case", "around", "cut"]))
    at = draw(st.integers(0, len(code)))
    if fault == "insert":
        return code[:at] + draw(st.sampled_from(NASTY + NEAR_PLAIN + "0A")) + code[at:]
    if fault == "delete" and code:
        at = min(at, len(code) - 1)
        return code[:at] + code[at + 1 :]
    if fault == "replace" and code:
        at = min(at, len(code) - 1)
        return code[:at] + draw(st.sampled_from(NASTY + NEAR_PLAIN + "09Az")) + code[at + 1 :]
    if fault == "case":
        return draw(st.sampled_from([code.upper(), code.lower(), code.swapcase()]))
    if fault == "around":
        before = draw(st.sampled_from([" ", "\t", "\n", "\x1d", "\u3000", "\u00a0", ""]))
        return before + code + draw(st.sampled_from(["", " ", "\r\n", "\x1d", "\u2028"]))
    return code[:at]


def any_code() -> st.SearchStrategy[str]:
    """A code of any family, valid or with one structural fault, or a label spelling, damaged at character level."""
    labels = label_spelling().map(lambda spelling: spelling[0])
    return st.one_of(digital_link(), element_string(), epc_urn(), digits(), labels).flatmap(damaged)
