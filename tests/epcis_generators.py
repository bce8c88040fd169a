"""Hypothesis strategies for EPCIS 2.0 documents: every event type and field family, GS1 keys in URN and Digital
Link spellings, CBV values bare, compact and in full, namespaced extensions nested in objects and arrays.

They stay inside what GS1's reference implementation 1.9.3 handles as the standard says, so that its IDs can be
required to equal tracechain's: no JSON booleans, every bizTransaction typed and written type first, GS1 prefixes
used in values declared by the document, nested extension namespaces ending in '/', extension text that is no
vocabulary word, times that are not half-way between two milliseconds, decimals a binary float writes exactly.
Each of those habits of the reference has its own test in test_epcis_reference.py and an entry in docs/epcis.md.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from tracechain._schema import BIZ_STEPS, BIZ_TRANSACTION_TYPES, DISPOSITIONS, SOURCE_DEST_TYPES
from tracechain.epcis import GS1_CONTEXT
from tracechain.epcis._codes import gs1_check_digit

NAMESPACES = {
    "ex": "https://ns.example.com/epcis/",
    "acme": "https://acme.example.org/voc/",
    "rail": "urn:gs1:epcisapp:rail:",  # top level only: the reference misplaces nested ones not ending in '/'
    "frag": "http://frag.example.org/ns#",
}
NESTED_PREFIXES = ("ex", "acme")
CONTEXT = [
    GS1_CONTEXT,
    {
        **NAMESPACES,
        "cbv": "https://ref.gs1.org/cbv/",
        "gs1": "https://gs1.org/voc/",
        "cbvmda": "urn:epcglobal:cbv:mda:",
    },
]
MEASUREMENTS = ("Temperature", "RelativeHumidity", "Mass", "Speed", "Dimensionless", "Illuminance")
COMPONENTS = ("x", "y", "z", "latitude", "longitude", "altitude")
_MEASURED = st.sampled_from(MEASUREMENTS)
_MEASUREMENT = st.one_of(_MEASURED, _MEASURED.map(lambda m: f"gs1:{m}"), st.just("ex:Sweetness"))

# GS1 character set 82 without the characters EPC URIs escape, plus those escapes drawn separately.
_PLAIN = "!'()*+,-.0123456789:;=ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_ESCAPED = '"%&/<>?'
_SERIAL = st.text(_PLAIN + _ESCAPED, min_size=1, max_size=20).filter(lambda s: "*" not in s or len(s) > 1)


def _urn_text(value: str) -> str:
    return "".join(f"%{ord(c):02X}" if c in _ESCAPED else c for c in value)


def _dl_text(value: str) -> str:
    return quote(value, safe="-._~';=")


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=n, max_size=n)


_COMPANY = st.sampled_from(["6903215", "4012345", "0614141", "690321", "95200538512"])
_HOSTS = st.sampled_from(["https://id.gs1.org", "https://resolver.example.cn", "http://scan.example.com/dl"])
_QUERY = st.sampled_from(["", "", "?17=270228", "?linkType=all"])
_CANONICAL_HOST = "https://id.gs1.org"


def _link_dress(value: str) -> st.SearchStrategy[tuple[str, str]]:
    """(host, query) for a Digital Link holding ``value``: any, unless the value needs escapes.

    The reference recognises no Digital Link with a percent-escape in it, so such links are written in the
    canonical form it leaves alone (test_the_reference_recognises_no_digital_link_with_an_escape).
    """
    if _dl_text(value) != value:
        return st.just((_CANONICAL_HOST, ""))
    return st.tuples(_HOSTS, _QUERY)


@st.composite
def gtin_parts(draw: st.DrawFn) -> tuple[str, str, str]:
    """(company prefix, indicator + item reference, GTIN-14) with a correct check digit."""
    company = draw(_COMPANY)
    item = draw(_digits(13 - len(company)))
    body = item[0] + company + item[1:]
    return company, item, body + gs1_check_digit(body)


@st.composite
def object_code(draw: st.DrawFn) -> str:
    """An instance identifier: SGTIN, SSCC, GRAI, GIAI, GSRN, GDTI, ITIP or UPUI, as URN or Digital Link."""
    kind = draw(st.sampled_from(["sgtin", "sgtin", "sscc", "grai", "giai", "gsrn", "gdti", "itip", "upui"]))
    company, item, gtin = draw(gtin_parts())
    serial = draw(_SERIAL)
    if kind in ("grai", "gdti"):
        serial = serial[:16]  # their serials are at most 16 and 17 characters
    as_link = draw(st.booleans())
    host, query = draw(_link_dress(serial))
    if kind == "sgtin":
        if as_link:
            # The reference reads a link with a /22/ qualifier only when what follows it is short (D16).
            short = serial.isalnum() and len(serial) <= 8
            qualifiers = ["", "/10/L1", "/22/V2/10/L"] if short else ["", "/10/L1"]
            lot = draw(st.sampled_from(qualifiers)) if _dl_text(serial) == serial else ""
            return f"{host}/01/{gtin}{lot}/21/{_dl_text(serial)}{query}"
        return f"urn:epc:id:sgtin:{company}.{item}.{_urn_text(serial)}"
    if kind == "sscc":
        rest = draw(_digits(17 - len(company)))
        body = rest[0] + company + rest[1:]
        return f"{host}/00/{body}{gs1_check_digit(body)}" if as_link else f"urn:epc:id:sscc:{company}.{rest}"
    if kind in ("grai", "gdti"):
        kind_ref = draw(_digits(12 - len(company)))
        lead = "0" if kind == "grai" else ""
        key = lead + company + kind_ref
        ai = "8003" if kind == "grai" else "253"
        link = f"{host}/{ai}/{key}{gs1_check_digit(key)}{_dl_text(serial)}{query}"
        return link if as_link else f"urn:epc:id:{kind}:{company}.{kind_ref}.{_urn_text(serial)}"
    if kind == "giai":
        return (
            f"{host}/8004/{company}{_dl_text(serial)}" if as_link else f"urn:epc:id:giai:{company}.{_urn_text(serial)}"
        )
    if kind == "gsrn":
        ref = draw(_digits(17 - len(company)))
        key = company + ref
        return f"{host}/8018/{key}{gs1_check_digit(key)}" if as_link else f"urn:epc:id:gsrn:{company}.{ref}"
    if kind == "itip":
        piece, total = draw(st.sampled_from([("01", "02"), ("02", "02"), ("03", "10")]))
        if as_link:
            return f"{host}/8006/{gtin}{piece}{total}/21/{_dl_text(serial)}"
        return f"urn:epc:id:itip:{company}.{item}.{piece}.{total}.{_urn_text(serial)}"
    return (
        f"{host}/01/{gtin}/235/{_dl_text(serial)}"
        if as_link
        else f"urn:epc:id:upui:{company}.{item}.{_urn_text(serial)}"
    )


@st.composite
def class_code(draw: st.DrawFn) -> str:
    """A class identifier: LGTIN, GTIN pattern or GTIN, as URN or Digital Link."""
    company, item, gtin = draw(gtin_parts())
    lot = draw(_SERIAL)
    host, query = draw(_link_dress(lot))
    return draw(
        st.sampled_from(
            [
                f"urn:epc:class:lgtin:{company}.{item}.{_urn_text(lot)}",
                f"{host}/01/{gtin}/10/{_dl_text(lot)}{query}",
                f"urn:epc:idpat:sgtin:{company}.{item}.*",
                f"{host}/01/{gtin}",
            ]
        )
    )


@st.composite
def location_code(draw: st.DrawFn) -> str:
    company = draw(_COMPANY)
    ref = draw(_digits(12 - len(company)))
    gln = company + ref + gs1_check_digit(company + ref)
    extension = draw(st.sampled_from(["0", "0", "1", "dock-3"]))
    if draw(st.booleans()):
        suffix = "" if extension == "0" else f"/254/{extension}"
        return f"{draw(_HOSTS)}/414/{gln}{suffix}"
    return f"urn:epc:id:sgln:{company}.{ref}.{extension}"


@st.composite
def party_code(draw: st.DrawFn) -> str:
    company = draw(_COMPANY)
    ref = draw(_digits(12 - len(company)))
    gln = company + ref + gs1_check_digit(company + ref)
    return draw(st.sampled_from([f"urn:epc:id:pgln:{company}.{ref}", f"https://id.gs1.org/417/{gln}"]))


@functools.cache
def vocabulary(words: frozenset[str], web: str, compact: str) -> st.SearchStrategy[str]:
    """A standard word bare, as a compact IRI or as its web URI; or a URI outside the standard."""
    word = st.sampled_from(sorted(words))
    return st.one_of(
        word,
        word.map(lambda w: f"cbv:{compact}{w}"),
        word.map(lambda w: f"{web}{w}"),
        st.sampled_from(["https://voc.example.cn/steps/pressing", "ex:internalCode"]),
    )


_URI = st.sampled_from(
    ["https://erp.example.cn/po/4711", "urn:uuid:1b4e28ba-2fa1-41d2-883f-0016d3cca427", "https://devices.example.cn/t7"]
)
# JSON numbers as the strict parser reads them: integral ones as int, others as exact decimals.
_DECIMAL = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("999999999"), places=4).map(
    lambda d: int(d) if d == d.to_integral_value() else d
)
_NUMBER = st.one_of(st.integers(min_value=-(10**12), max_value=10**12), _DECIMAL, _DECIMAL.map(lambda d: -d))


@st.composite
def event_time(draw: st.DrawFn) -> tuple[str, str]:
    """(eventTime, eventTimeZoneOffset): any instant this century, written at some offset with 0, 3 or 6 decimals.

    Microseconds stay off the exact half-millisecond and off the last half-millisecond of a second: the reference
    rounds the first to even and fails on the second.
    """
    moment = draw(
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC))
    )
    micros = moment.microsecond
    if micros % 1000 == 500 or micros >= 999_500:
        moment = moment.replace(microsecond=micros - 600 if micros >= 1000 else 0)
    minutes = draw(st.sampled_from([480, 0, -300, -330, 345, 840, -720]))
    offset = timezone(timedelta(minutes=minutes))
    local = moment.astimezone(offset)
    spec = draw(st.sampled_from(["seconds", "milliseconds", "microseconds"]))
    text = local.isoformat(timespec=spec)
    sign = "-" if minutes < 0 else "+"
    written_offset = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    if minutes == 0 and draw(st.booleans()):
        text = text[:-6] + "Z"
    return text, written_offset


_NAME = st.from_regex(r"[a-z][A-Za-z0-9_-]{0,8}", fullmatch=True).filter(
    lambda n: not any(w in n.lower() for w in ("action", "eventtime", "comment")) and not n.endswith("List")
)
_LOCAL_NAME = st.one_of(_NAME, _NAME.map(lambda n: n + "List"))
_TEXT = st.one_of(
    st.from_regex(r"[A-Za-z0-9\u4e00-\u9fa5]{1,6} [A-Za-z0-9 .,\u4e00-\u9fa5-]{0,10}", fullmatch=True),
    st.from_regex(r" ?[0-9]{1,6}(\.[0-9]{1,4})? ?", fullmatch=True),  # numeric text
    st.sampled_from(["ex:someValue", "acme:grade-A", "urn:epc:id:sgtin:6903215.012345.X1"]),
)
_WORDS = st.from_regex(r"[A-Za-z\u4e00-\u9fa5]{1,6} [A-Za-z0-9 .,\u4e00-\u9fa5-]{0,10}", fullmatch=True)
_HEX = st.from_regex(r"[A-F][0-9A-F]{1,7}", fullmatch=True).filter(lambda h: "E" not in h[1:])
_LEAF = st.one_of(_TEXT, _NUMBER)


@functools.cache
def extension_object(prefixes: tuple[str, ...], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """Namespaced fields nested up to three levels, in objects and arrays (never arrays of arrays)."""
    key = st.tuples(st.sampled_from(prefixes), _LOCAL_NAME).map(lambda t: f"{t[0]}:{t[1]}")
    if depth >= 2:
        value: st.SearchStrategy[Any] = _LEAF
    else:
        inner = extension_object(NESTED_PREFIXES, depth + 1)
        value = st.one_of(_LEAF, _LEAF, inner, st.lists(st.one_of(_LEAF, inner), min_size=1, max_size=3))
    return st.dictionaries(key, value, min_size=1, max_size=3)


@st.composite
def quantity_list(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(1, 3))):
        element: dict[str, Any] = {"epcClass": draw(class_code())}
        if draw(st.booleans()):
            element["quantity"] = draw(_DECIMAL)
            if draw(st.booleans()):
                element["uom"] = draw(st.sampled_from(["KGM", "LTR", "EA", "H87"]))
        out.append(element)
    return out


@st.composite
def sensor_element_list(draw: st.DrawFn) -> list[dict[str, Any]]:
    elements = []
    for _ in range(draw(st.integers(1, 2))):
        element: dict[str, Any] = {}
        if draw(st.booleans()):
            metadata: dict[str, Any] = {"time": draw(event_time())[0]}
            for key in draw(st.sets(st.sampled_from(["deviceID", "rawData", "bizRules", "startTime", "endTime"]))):
                metadata[key] = draw(event_time())[0] if key.endswith("Time") else draw(_URI)
            if draw(st.booleans()):
                metadata.update(draw(extension_object(NESTED_PREFIXES)))
            element["sensorMetadata"] = metadata
        reports = []
        for _ in range(draw(st.integers(1, 3))):
            report: dict[str, Any] = {"type": draw(_MEASUREMENT)}
            for key in draw(st.sets(st.sampled_from(["value", "minValue", "maxValue", "sDev", "uom", "time"]))):
                report[key] = draw(event_time())[0] if key == "time" else "CEL" if key == "uom" else draw(_NUMBER)
            if draw(st.booleans()):
                report["component"] = draw(st.sampled_from([*COMPONENTS, "cbv:Comp-x"]))
            if draw(st.booleans()):
                report["exception"] = "ALARM_CONDITION"
            if draw(st.booleans()):
                report["stringValue"] = draw(_WORDS)
            if draw(st.booleans()):
                report["hexBinaryValue"] = draw(_HEX)
            if draw(st.booleans()):
                report.update(draw(extension_object(NESTED_PREFIXES)))
            reports.append(report)
        element["sensorReport"] = reports
        if draw(st.booleans()):
            element.update(draw(extension_object(NESTED_PREFIXES)))
        elements.append(element)
    return elements


@st.composite
def typed_links(draw: st.DrawFn, value_key: str, types: frozenset[str], compact: str) -> list[dict[str, str]]:
    kind = vocabulary(types, f"https://ref.gs1.org/cbv/{compact}", compact)
    values = party_code() if value_key != "bizTransaction" else st.one_of(_URI, object_code())
    return [{"type": draw(kind), value_key: draw(values)} for _ in range(draw(st.integers(1, 3)))]


_CODES = st.lists(object_code(), min_size=1, max_size=4, unique=True)


@st.composite
def event(draw: st.DrawFn) -> dict[str, Any]:
    """One event of any of the five types, with a random choice of the fields its type allows."""
    kind = draw(
        st.sampled_from(
            ["ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"]
        )
    )
    when, offset = draw(event_time())
    e: dict[str, Any] = {"type": kind, "eventTime": when, "eventTimeZoneOffset": offset}
    codes = _CODES
    if kind == "ObjectEvent":
        e["action"] = draw(st.sampled_from(["ADD", "OBSERVE", "DELETE"]))
        e["epcList"] = draw(codes)
        if draw(st.booleans()):
            e["quantityList"] = draw(quantity_list())
        if e["action"] == "ADD" and draw(st.booleans()):
            ilmd = draw(extension_object(NESTED_PREFIXES))
            if draw(st.booleans()):
                ilmd["cbvmda:lotNumber"] = draw(_SERIAL)
            e["ilmd"] = ilmd
    elif kind in ("AggregationEvent", "AssociationEvent"):
        e["action"] = draw(st.sampled_from(["ADD", "OBSERVE", "DELETE"]))
        e["parentID"] = draw(object_code())
        e["childEPCs"] = draw(codes)
        if draw(st.booleans()):
            e["childQuantityList"] = draw(quantity_list())
    elif kind == "TransactionEvent":
        e["action"] = draw(st.sampled_from(["ADD", "OBSERVE", "DELETE"]))
        e["bizTransactionList"] = draw(typed_links("bizTransaction", BIZ_TRANSACTION_TYPES, "BTT-"))
        e["epcList"] = draw(codes)
        if draw(st.booleans()):
            e["parentID"] = draw(object_code())
    else:
        e["inputEPCList"] = draw(codes)
        e["outputQuantityList"] = draw(quantity_list())
        if draw(st.booleans()):
            e["transformationID"] = draw(
                st.sampled_from(["urn:epc:id:gdti:6903215.00009.TF-1", "https://mes.example.cn/tf/1"])
            )
        if draw(st.booleans()):
            e["ilmd"] = draw(extension_object(NESTED_PREFIXES))
    if draw(st.booleans()):
        e["bizStep"] = draw(vocabulary(BIZ_STEPS, "https://ref.gs1.org/cbv/BizStep-", "BizStep-"))
    if draw(st.booleans()):
        e["disposition"] = draw(vocabulary(DISPOSITIONS, "https://ref.gs1.org/cbv/Disp-", "Disp-"))
    if kind in ("ObjectEvent", "TransformationEvent") and draw(st.booleans()):
        disposition = st.sampled_from(sorted(DISPOSITIONS))
        e["persistentDisposition"] = {"set": draw(st.lists(disposition, min_size=1, max_size=2, unique=True))}
    for key in ("readPoint", "bizLocation"):
        if draw(st.booleans()):
            e[key] = {"id": draw(location_code())}
            if draw(st.booleans()):
                e[key].update(draw(extension_object(NESTED_PREFIXES)))
    if kind != "TransactionEvent" and draw(st.booleans()):
        e["bizTransactionList"] = draw(typed_links("bizTransaction", BIZ_TRANSACTION_TYPES, "BTT-"))
    if draw(st.booleans()):
        e["sourceList"] = draw(typed_links("source", SOURCE_DEST_TYPES, "SDT-"))
    if draw(st.booleans()):
        e["destinationList"] = draw(typed_links("destination", SOURCE_DEST_TYPES, "SDT-"))
    if draw(st.booleans()):
        e["sensorElementList"] = draw(sensor_element_list())
    if draw(st.booleans()):
        e["certificationInfo"] = draw(st.one_of(_URI, st.lists(_URI, min_size=1, max_size=2, unique=True)))
    if draw(st.booleans()):
        e.update(draw(extension_object(tuple(NAMESPACES))))
    if draw(st.booleans()):
        e["eventID"] = "urn:uuid:" + draw(st.uuids()).hex
    if draw(st.booleans()):
        e["recordTime"] = draw(event_time())[0]
    return e


def epcis_document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2025-03-01T00:00:00Z",
        "epcisBody": {"eventList": events},
    }
