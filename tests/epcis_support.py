"""Shared by the EPCIS tests: the project's own documents, GS1's material when present, the reference implementation.

GS1's reference implementation (``epcis-event-hash-generator``, a test-only dependency) is driven through its
JSON reader and pre-hash builder. Two of its habits are neutralised here, not in tracechain: it keeps the prefixes
of every document it has read in a module-level dict (so one test's prefixes would leak into the next), and it
logs every event it fails on instead of raising (so a lost event shows up here as a shorter list).
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED
from tracechain.epcis import GS1_CONTEXT
from tracechain.events import to_json

HERE = Path(__file__).resolve().parent
VALID = HERE / "epcis" / "valid"
REFUSED = HERE / "epcis" / "refused"
GS1 = SHARED / "epcis"
needs_shared = pytest.mark.skipif(
    not (GS1 / "EPCIS-JSON-Schema.json").exists(),
    reason=f"GS1's EPCIS material is not beside the checkout ({GS1}); the project's own documents still run",
)
EX = "https://ns.example.com/epcis/"


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def document(*events: dict[str, Any], context: list[Any] | None = None, **extra: Any) -> dict[str, Any]:
    """An EPCISDocument around ``events`` declaring ``ex`` (and, unless ``context`` says otherwise, nothing else)."""
    doc: dict[str, Any] = {
        "@context": context if context is not None else [GS1_CONTEXT, {"ex": EX}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2025-03-01T00:00:00Z",
        "epcisBody": {"eventList": list(events)},
    }
    doc.update(extra)
    return doc


def reference_prehashes(doc: dict[str, Any] | str) -> list[str]:
    """The pre-hash strings GS1's reference implementation (1.9.3) computes for a document's events."""
    from epcis_event_hash_generator import hash_generator, json_to_py

    text = doc if isinstance(doc, str) else to_json(doc)
    json_to_py._namespaces.clear()  # module-level state: one document's prefixes would otherwise leak into the next
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)  # it logs (and skips) events it fails on; the caller compares counts
    try:
        with warnings.catch_warnings():
            # Its context loader uses importlib.resources.open_text, deprecated since Python 3.11; the suite turns
            # warnings into errors, which would make the loader fail and pyld fetch GS1's context from the web.
            warnings.simplefilter("ignore", DeprecationWarning)
            events = json_to_py.event_list_from_epcis_document_str(text)
            return list(hash_generator.derive_prehashes_from_events(events, ""))
    finally:
        logging.disable(previous)
        json_to_py._namespaces.clear()


def reference_ids(doc: dict[str, Any] | str) -> list[str]:
    return [ni(p) for p in reference_prehashes(doc)]


def ni(prehash: str) -> str:
    return f"ni:///sha-256;{hashlib.sha256(prehash.encode()).hexdigest()}?ver=CBV2.0"


@cache
def schema_validator() -> Any:
    """GS1's EPCIS 2.0 JSON schema with formats (uri, date-time) checked."""
    from jsonschema import Draft7Validator, FormatChecker

    return Draft7Validator(load(GS1 / "EPCIS-JSON-Schema.json"), format_checker=FormatChecker())


def schema_errors(doc: dict[str, Any]) -> list[str]:
    """Every way ``doc`` (as JSON text would carry it) breaks GS1's schema."""
    plain = json.loads(to_json(doc))
    return [f"{list(e.absolute_path)}: {e.message}" for e in schema_validator().iter_errors(plain)]


def python_booleans(value: Any) -> Any:
    """``value`` with every JSON boolean replaced by the text Python prints for it, as the reference writes them
    (docs/epcis.md, D1): tracechain's ID of the result is the reference's ID of the original."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        return {k: python_booleans(v) for k, v in value.items()}
    if isinstance(value, list):
        return [python_booleans(v) for v in value]
    return value


_VOCABULARY_FIELDS = ("bizStep", "disposition")


def reference_view(event: dict[str, Any]) -> dict[str, Any]:
    """``event`` as GS1's reference implementation 1.9.3 effectively hashes it, for events in tracechain's form.

    Three of its departures from the standard (docs/epcis.md) change what it hashes: JSON booleans become Python's
    text (D1), a string of more digits than a binary float holds becomes the nearest float's digits (D8: a
    24-digit veterinary drug trace code loses its last eight), and any other string equal to a bare vocabulary
    word the event uses in a vocabulary field becomes that word's URI (D18). tracechain's ID of the result is the
    reference's ID of the original.
    """
    from tracechain.epcis._vocab import BY_KIND

    words: dict[str, str] = {}
    for key, kind in (("bizStep", "bizStep"), ("disposition", "disposition")):
        if isinstance(event.get(key), str) and event[key] in BY_KIND[kind].words:
            words[event[key]] = BY_KIND[kind].uri(event[key])
    for key, kind in (("bizTransactionList", "bizTransactionType"), ("sourceList", "sourceDestType"),
                      ("destinationList", "sourceDestType")):  # fmt: skip
        for link in event.get(key, []):
            if link.get("type") in BY_KIND[kind].words:
                words[link["type"]] = BY_KIND[kind].uri(link["type"])

    def view(value: Any, vocabulary_field: bool = False) -> Any:
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and value.isdigit() and len(value.lstrip("0")) > 15:
            return str(int(float(value)))
        if isinstance(value, str) and not vocabulary_field:
            return words.get(value, value)
        if isinstance(value, dict):
            return {k: view(v, k == "type") for k, v in value.items()}
        if isinstance(value, list):
            return [view(v, vocabulary_field) for v in value]
        return value

    return {k: v if k in _VOCABULARY_FIELDS else view(v) for k, v in event.items()}


SOME_ID = "urn:uuid:0b6f8f26-7e0c-4cf8-9f0a-2d0d0a6b0002"

# Each refused document of tests/epcis/refused: where the message must point, and what it must say.
REFUSED_CASES: dict[str, tuple[str, str]] = {
    "bare_non_cbv_bizstep": (f"event 1 (eventID {SOME_ID}), field bizStep", "must be a URI"),
    "bare_non_cbv_disposition": ("event 0, field disposition", "'sold_out' is not a CBV disposition"),
    "ilmd_without_namespace": ("event 0, field ilmd.lotNumber", "has no namespace"),
    "extension_without_namespace": ("event 0, field myField", "namespaced extension"),
    "nested_extension_without_namespace": ("event 0, field ex:weights.gross", "has no namespace"),
    "undeclared_prefix": ("event 0, field acme:colour", "prefix 'acme'"),
    "time_not_datetime": ("event 0, field eventTime", "date-time with offset"),
    "time_without_offset": ("event 0, field eventTime", "date-time with offset"),
    "impossible_date": ("event 0, field eventTime", "expected a real calendar date and time"),
    "quantity_as_text": ("event 0, field quantityList[0].quantity", "expected a JSON number, found '10' (text)"),
    "missing_action": ("event 0, field action", "required"),
    "missing_event_time": ("event 0, field eventTime", "required"),
    "no_identifier": ("event 0, field epcList", "no identifier at all"),
    "empty_epc_list": ("event 0, field epcList", "no identifier at all"),
    "aggregation_add_without_parent": ("event 0, field parentID", "action is ADD"),
    "transformation_half_without_id": ("event 0, field transformationID", "only inputs or only outputs"),
    "transaction_without_biztransaction": ("event 0, field bizTransactionList", "names its transactions"),
    "cbv_urn_in_json": ("event 0, field bizStep", "EPCIS 1.x URN form"),
    "unknown_cbv_term": ("event 0, field disposition", "is not a CBV disposition"),
    "epc_bad_check_digit": ("event 0, field epcList[0]", "check digit should be 5"),
    "epc_not_a_uri": ("event 0, field epcList[0]", "EPC URI or GS1 Digital Link URI"),
    "ilmd_with_observe": ("event 0, field ilmd", "only with action ADD"),
    "null_value": ("event 0, field ex:note", "null is not a value"),
    "unknown_event_type": ("event 0, field type", "five EPCIS 2.0 event types"),
    "field_of_another_type": ("event 0, field childEPCs", "not a field of ObjectEvent"),
    "sensor_report_without_type": ("event 0, field sensorElementList[0].sensorReport[0].type", "measurement type"),
    "bad_offset": ("event 0, field eventTimeZoneOffset", "UTC offset"),
    "duplicate_epc": ("event 0, field epcList[1]", "listed twice"),
    "unknown_tracechain_field": ("event 0, field tc:colour", "not a tracechain field"),
    "duplicate_key": ("event 0 (eventID urn:uuid:0b6f8f26-7e0c-4cf8-9f0a-2d0d0a6b0003)", "key 'bizStep' appears twice"),
    "remote_context": ("$.@context[2]", "would have to be fetched"),
    "no_gs1_context": ("$.@context", "must name GS1's EPCIS context"),
    "protected_term_redefined": ("$.@context[2].cbvmda", "protected term"),
    "tracechain_prefix_rebound": ("$.@context[2].tc", "tracechain's own"),
    "not_epcis_document": ("$.type", "expected EPCISDocument or EPCISQueryDocument"),
    "not_json": ("not_json", "not valid JSON"),
}

# The refused documents that are not EPCIS documents tracechain can read at all (DocumentError, a usage error on
# the command line), as opposed to documents with an event that breaks the standard's rules.
DOCUMENT_LEVEL = frozenset(
    {
        "duplicate_key",
        "remote_context",
        "no_gs1_context",
        "protected_term_redefined",
        "tracechain_prefix_rebound",
        "not_epcis_document",
        "not_json",
    }
)


def hash_spelled(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` (as its JSON carries it) with every GS1 key written as the event hash writes it: the constrained
    canonical Digital Link, escapes decoded and re-encoded (rule 18). tracechain's IDs do not change; GS1's
    reference 1.9.3, which keeps a link's escapes as written (docs/epcis.md, D16), then hashes what tracechain does.
    A ledger's canonical codes escape a few characters the hash writes literally (``;`` in a lot, for one)."""
    from tracechain.epcis._codes import hash_code

    def spelled(value: Any) -> Any:
        if isinstance(value, str):
            return hash_code(value) or value
        if isinstance(value, dict):
            return {k: spelled(v) for k, v in value.items()}
        if isinstance(value, list):
            return [spelled(v) for v in value]
        return value

    plain = json.loads(to_json(doc))
    plain["epcisBody"]["eventList"] = spelled(plain["epcisBody"]["eventList"])
    return plain
