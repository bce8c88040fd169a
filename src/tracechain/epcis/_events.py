"""One EPCIS 2.0 event checked against the standard and turned into tracechain's input form.

The checks are the JSON schema's (fields per event type, URIs, numbers, required fields) plus the rules of the
standard the schema does not encode: a vocabulary value outside CBV must be a URI, ILMD and extension fields must
be namespaced (at every depth, or JSON-LD drops them), times must be ``xsd:dateTime`` with an offset, an event must
identify something, an AggregationEvent that adds or deletes needs its parent. Every problem is collected with its
JSON path; the caller raises one error naming the event.

tracechain's form differs from the document's only where the standard allows several spellings: vocabulary values
become bare words, fields in tracechain's namespace are written ``tc:…`` (``tc:kde`` members bare), and the event
carries an ``@context`` object declaring exactly the non-GS1 prefixes it uses, so it still means the same on its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final

from tracechain import identifiers
from tracechain.epcis import _vocab
from tracechain.epcis._context import GS1_PREFIXES, TC_NAMESPACE, TC_PREFIX, Namespaces
from tracechain.errors import IdentifierError, ValidationError
from tracechain.events import parse_time

__all__ = ["LEDGER_FIELDS", "EventReader"]

LEDGER_FIELDS: Final = ("tc:ledgerIndex", "tc:leafHash", "tc:eventID")
"""What tracechain's export adds to an event: where it sat in the ledger, and the eventID it had before."""

_URI_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s\"<>\\^`{|}]+\Z")
_OFFSET_RE: Final = re.compile(r"[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00)\Z")
_UOM_RE: Final = re.compile(r"[A-Z0-9]{2,3}\Z")
_HEX_RE: Final = re.compile(r"[A-Fa-f0-9]+\Z")
_MAX_DEPTH: Final = 32
_ACTIONS: Final = frozenset({"ADD", "OBSERVE", "DELETE"})
_COMMON: Final = frozenset(
    "@context type eventTime recordTime eventTimeZoneOffset eventID certificationInfo errorDeclaration".split()
)
_WHERE: Final = tuple(
    "bizStep disposition readPoint bizLocation bizTransactionList sourceList destinationList sensorElementList".split()
)
_FIELDS: Final = {
    "ObjectEvent": {"action", "epcList", "quantityList", "persistentDisposition", "ilmd", *_WHERE},
    "AggregationEvent": {"action", "parentID", "childEPCs", "childQuantityList", *_WHERE},
    "TransactionEvent": {"action", "parentID", "epcList", "quantityList", *_WHERE},
    "TransformationEvent": {
        *"inputEPCList inputQuantityList outputEPCList outputQuantityList transformationID".split(),
        *("persistentDisposition", "ilmd", *_WHERE),
    },
    "AssociationEvent": {"action", "parentID", "childEPCs", "childQuantityList", *_WHERE},
}
# The fields of sensorMetadata and sensorReport, by the kind of value each holds.
_SENSOR_METADATA: Final = {
    **dict.fromkeys(("time", "startTime", "endTime"), "time"),
    **dict.fromkeys(("deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules"), "uri"),
}
_SENSOR_REPORT: Final = {
    **{k: v for k, v in _SENSOR_METADATA.items() if k not in ("startTime", "endTime")},
    **dict.fromkeys(("microorganism", "chemicalSubstance", "coordinateReferenceSystem", "uriValue"), "uri"),
    **dict.fromkeys(("value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"), "number"),
    **{"type": "measurementType", "exception": "alertType", "component": "component"},
    **{"stringValue": "text", "uom": "text", "booleanValue": "boolean", "hexBinaryValue": "hex"},
}


class EventReader:
    """Reads one event; ``problems`` collects (JSON path, message) and ``used`` the prefixes the event needs."""

    def __init__(self, names: Namespaces, path: str, ignore: frozenset[str]) -> None:
        self.names = names
        self.path = path
        self.ignore = ignore
        self.problems: list[tuple[str, str]] = []
        self.used: set[str] = set()

    def problem(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    # --- the event -----------------------------------------------------------------------------------------

    def read(self, event: Mapping[str, Any]) -> dict[str, Any] | None:
        """The event in tracechain's form, or None when it has problems (then ``problems`` says which)."""
        event_type = event.get("type")
        if event_type not in _FIELDS:
            self.problem(
                f"{self.path}.type",
                f"expected one of {', '.join(sorted(_FIELDS))} (tracechain records the five EPCIS 2.0 event types), "
                f"found {_shown(event_type)}",
            )
            return None
        if "@context" in event:
            try:
                self.names = self.names.with_context(event["@context"], f"{self.path}.@context")
            except ValidationError as e:
                self.problems.extend(e.problems)
                return None
        allowed = _FIELDS[event_type]
        out: dict[str, Any] = {}
        for key, value in event.items():
            at = f"{self.path}.{key}"
            if key == "@context":
                continue
            if key in _COMMON or key in allowed:
                converted = self._standard(key, value, at)
                if converted is not _SKIP:
                    out[key] = converted
            elif (name := self._extension_key(key, at, known=True)) is not None:
                if name != "tc:eventID" and (self._expanded(key) in self.ignore or name in LEDGER_FIELDS):
                    continue  # outside the event's identity: listed by the document, or another ledger's position
                converted = self._tracechain(name, value, at) if name.startswith("tc:") else self._free(value, at)
                if converted is not _SKIP:
                    out[name] = converted
            elif key in _ALL_STANDARD:
                self.problem(at, f"not a field of {event_type}")
        self._required(event_type, event, out)
        if self.problems:
            return None
        context = self._context()
        return {"@context": context, **out} if context else out

    def _required(self, event_type: str, event: Mapping[str, Any], out: Mapping[str, Any]) -> None:
        for key in ("eventTime", "eventTimeZoneOffset"):
            if key not in event:
                self.problem(f"{self.path}.{key}", "required")
        if event_type != "TransformationEvent" and "action" not in event:
            self.problem(f"{self.path}.action", "required: one of ADD, OBSERVE, DELETE")
        if "ilmd" in event and event.get("action", "ADD") != "ADD":
            self.problem(f"{self.path}.ilmd", "ILMD describes objects being created: only with action ADD")
        if event_type == "TransactionEvent" and not out.get("bizTransactionList"):
            self.problem(f"{self.path}.bizTransactionList", "required: a TransactionEvent names its transactions")

        def has(*keys: str) -> bool:
            return any(out.get(k) for k in keys)

        action = event.get("action")
        nothing = "no identifier at all: "
        if event_type == "ObjectEvent" and not has("epcList", "quantityList"):
            if not (has("sensorElementList") and has("readPoint")):
                self.problem(
                    f"{self.path}.epcList",
                    nothing + "an ObjectEvent names EPCs or quantities (or, for sensor readings alone, a readPoint)",
                )
        elif event_type == "AggregationEvent":
            if action in ("ADD", "DELETE") and not has("parentID"):
                self.problem(f"{self.path}.parentID", f"required when an AggregationEvent's action is {action}")
            elif action != "DELETE" and not has("childEPCs", "childQuantityList"):
                self.problem(f"{self.path}.childEPCs", nothing + "no childEPCs and no childQuantityList")
        elif event_type == "AssociationEvent":
            if not has("parentID"):
                self.problem(f"{self.path}.parentID", "required: an AssociationEvent names the parent")
            elif action != "DELETE" and not has("childEPCs", "childQuantityList"):
                self.problem(f"{self.path}.childEPCs", nothing + "no childEPCs and no childQuantityList")
        elif event_type == "TransactionEvent" and not has("epcList", "quantityList", "parentID"):
            if action != "DELETE":
                self.problem(f"{self.path}.epcList", nothing + "no epcList, quantityList or parentID")
        elif event_type == "TransformationEvent":
            inputs = has("inputEPCList", "inputQuantityList")
            outputs = has("outputEPCList", "outputQuantityList")
            if not inputs and not outputs:
                self.problem(f"{self.path}.inputEPCList", nothing + "no inputs and no outputs")
            elif not (inputs and outputs) and not has("transformationID"):
                self.problem(
                    f"{self.path}.transformationID",
                    "required when a TransformationEvent has only inputs or only outputs (it links the halves)",
                )

    def _context(self) -> dict[str, Any]:
        """The non-GS1 prefixes and terms the event uses, as an inline context of its own."""
        out: dict[str, Any] = {}
        for name in sorted(self.used):
            if name in self.names.terms:
                out[name] = self.names.terms[name]
            elif (iri := self.names.prefixes.get(name)) is not None:
                out[name] = iri
        return out

    # --- standard fields -----------------------------------------------------------------------------------

    def _standard(self, key: str, value: Any, at: str) -> Any:
        handler = _HANDLERS[key]
        return handler(self, value, at)

    def _type(self, value: Any, at: str) -> Any:
        return value

    def _time(self, value: Any, at: str) -> Any:
        try:
            parse_time(value, at)
        except ValidationError as e:
            self.problems.extend(e.problems)
            return _SKIP
        return value

    def _offset(self, value: Any, at: str) -> Any:
        if isinstance(value, str) and _OFFSET_RE.match(value):
            return value
        self.problem(at, f"expected a UTC offset from -13:59 to +14:00 such as +08:00, found {_shown(value)}")
        return _SKIP

    def _action(self, value: Any, at: str) -> Any:
        if value in _ACTIONS:
            return value
        self.problem(at, f"expected ADD, OBSERVE or DELETE, found {_shown(value)}")
        return _SKIP

    def _uri(self, value: Any, at: str, what: str = "a URI") -> Any:
        if isinstance(value, str) and _URI_RE.match(value):
            self._note_value(value)
            return value
        self.problem(at, f"expected {what} (scheme:…, no spaces), found {_shown(value)}")
        return _SKIP

    def _code(self, value: Any, at: str) -> Any:
        """An object identifier: a URI, and a valid GS1 key when it spells one."""
        if self._uri(value, at, "an EPC URI or GS1 Digital Link URI") is _SKIP:
            return _SKIP
        try:
            identifiers.canonical_code(value)
        except IdentifierError as e:
            self.problem(at, str(e))
            return _SKIP
        return value

    def _codes(self, value: Any, at: str) -> Any:
        if not isinstance(value, list):
            self.problem(at, f"expected a list of EPC URIs, found {_shown(value)}")
            return _SKIP
        out = [self._code(v, f"{at}[{i}]") for i, v in enumerate(value)]
        seen: set[object] = set()
        for i, v in enumerate(value):
            if isinstance(v, str):
                if v in seen:
                    self.problem(f"{at}[{i}]", f"{v!r} is listed twice")
                seen.add(v)
        return out

    def _uris(self, value: Any, at: str) -> Any:
        """certificationInfo: one URI or a list of them."""
        if isinstance(value, list):
            return [self._uri(v, f"{at}[{i}]") for i, v in enumerate(value)]
        return self._uri(value, at)

    def _quantities(self, value: Any, at: str) -> Any:
        if not isinstance(value, list):
            self.problem(at, f"expected a list of quantity elements, found {_shown(value)}")
            return _SKIP
        out = []
        for i, element in enumerate(value):
            p = f"{at}[{i}]"
            if not isinstance(element, Mapping):
                self.problem(p, f"expected an object {{epcClass, quantity, uom}}, found {_shown(element)}")
                continue
            item: dict[str, Any] = {}
            for k, v in element.items():
                if k == "epcClass":
                    item[k] = self._code(v, f"{p}.epcClass")
                elif k == "quantity":
                    item[k] = self._number(v, f"{p}.quantity")
                elif k == "uom":
                    if isinstance(v, str) and _UOM_RE.match(v):
                        item[k] = v
                    else:
                        self.problem(
                            f"{p}.uom", f"expected a UN/CEFACT unit code (2-3 capitals or digits), found {_shown(v)}"
                        )
                else:
                    self.problem(f"{p}.{k}", "not a field of a quantity element (epcClass, quantity, uom)")
            if "epcClass" not in element:
                self.problem(f"{p}.epcClass", "required")
            if "uom" in element and "quantity" not in element:
                self.problem(f"{p}.uom", "a unit of measure needs a quantity")
            out.append(item)
        return out

    def _number(self, value: Any, at: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            self.problem(
                at, f"expected a JSON number, found {_shown(value)}" + (" (text)" if isinstance(value, str) else "")
            )
            return _SKIP
        if isinstance(value, float):
            value = Decimal(repr(value))
        if isinstance(value, Decimal) and not value.is_finite():
            self.problem(at, f"expected a finite number, found {value}")
            return _SKIP
        return value

    def _vocabulary(self, kind: str, value: Any, at: str) -> Any:
        """A vocabulary value: the bare word for any spelling of a standard term, else a URI kept as written."""
        vocabulary = _vocab.BY_KIND[kind]
        if not isinstance(value, str):
            self.problem(at, f"expected a {vocabulary.name} or a URI, found {_shown(value)}")
            return _SKIP
        word = vocabulary.word(value, dict(self.names.prefixes))
        if word is not None:
            if vocabulary.urn is not None and value.startswith("urn:epcglobal:cbv:"):
                self.problem(
                    at,
                    f"{value!r} is the EPCIS 1.x URN form, which EPCIS 2.0 JSON does not allow; "
                    f"write {word!r} or {vocabulary.uri(word)!r}",
                )
                return _SKIP
            return word
        expanded = self.names.expand(value)
        if vocabulary.is_term_uri(expanded) or value.startswith("urn:epcglobal:cbv:"):
            self.problem(at, f"{value!r} is not a {vocabulary.name} (CBV 2.0 / GS1 web vocabulary)")
            return _SKIP
        if ":" not in value:
            example = min(vocabulary.words)
            self.problem(
                at,
                f"{value!r} is not a {vocabulary.name}; a value outside the standard vocabulary must be a URI "
                f"(for example https://example.com/voc/{value}), a standard one is written bare, such as {example!r}",
            )
            return _SKIP
        return self._uri(value, at)

    def _persistent(self, value: Any, at: str) -> Any:
        if not isinstance(value, Mapping) or not (value.keys() & {"set", "unset"}) or value.keys() - {"set", "unset"}:
            self.problem(at, f"expected an object with set and/or unset (lists of dispositions), found {_shown(value)}")
            return _SKIP
        out = {}
        for k, v in value.items():
            if not isinstance(v, list) or not v:
                self.problem(f"{at}.{k}", f"expected a non-empty list of dispositions, found {_shown(v)}")
                continue
            out[k] = [self._vocabulary("disposition", d, f"{at}.{k}[{i}]") for i, d in enumerate(v)]
        return out

    def _location(self, value: Any, at: str) -> Any:
        if not isinstance(value, Mapping):
            self.problem(at, f"expected an object with an id, found {_shown(value)}")
            return _SKIP
        if "id" not in value:
            self.problem(f"{at}.id", "required")
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k == "id":
                out[k] = self._code(v, f"{at}.id")
            else:
                self._extension_into(out, k, v, f"{at}.{k}")
        return out

    def _typed_links(self, value: Any, at: str, value_key: str, kind: str, type_required: bool) -> Any:
        if not isinstance(value, list):
            self.problem(at, f"expected a list of {{type, {value_key}}} objects, found {_shown(value)}")
            return _SKIP
        out = []
        for i, link in enumerate(value):
            p = f"{at}[{i}]"
            if not isinstance(link, Mapping):
                self.problem(p, f"expected an object {{type, {value_key}}}, found {_shown(link)}")
                continue
            item = {}
            for k, v in link.items():
                if k == "type":
                    item[k] = self._vocabulary(kind, v, f"{p}.type")
                elif k == value_key:
                    item[k] = self._uri(v, f"{p}.{k}")
                else:
                    self.problem(f"{p}.{k}", f"not a field here (type, {value_key})")
            for k in (value_key, "type") if type_required else (value_key,):
                if k not in link:
                    self.problem(f"{p}.{k}", "required")
            out.append(item)
        return out

    def _error_declaration(self, value: Any, at: str) -> Any:
        if not isinstance(value, Mapping):
            self.problem(at, f"expected an object with a declarationTime, found {_shown(value)}")
            return _SKIP
        if "declarationTime" not in value:
            self.problem(f"{at}.declarationTime", "required")
        out: dict[str, Any] = {}
        for k, v in value.items():
            p = f"{at}.{k}"
            if k == "declarationTime":
                out[k] = self._time(v, p)
            elif k == "reason":
                out[k] = self._vocabulary("errorReason", v, p)
            elif k == "correctiveEventIDs":
                ok = isinstance(v, list)
                out[k] = [self._uri(x, f"{p}[{i}]") for i, x in enumerate(v)] if ok else self._uri(v, p)
            else:
                self._extension_into(out, k, v, p)
        return out

    def _sensors(self, value: Any, at: str) -> Any:
        if not isinstance(value, list):
            self.problem(at, f"expected a list of sensor elements, found {_shown(value)}")
            return _SKIP
        out = []
        for i, element in enumerate(value):
            p = f"{at}[{i}]"
            if not isinstance(element, Mapping):
                self.problem(p, f"expected a sensor element object, found {_shown(element)}")
                continue
            item: dict[str, Any] = {}
            reports = element.get("sensorReport")
            if not isinstance(reports, list) or not reports:
                self.problem(f"{p}.sensorReport", "required: a non-empty list of sensor reports")
            for k, v in element.items():
                if k == "sensorMetadata":
                    item[k] = self._sensor_part(v, f"{p}.{k}", _SENSOR_METADATA)
                elif k == "sensorReport" and isinstance(v, list):
                    item[k] = [self._sensor_part(r, f"{p}.{k}[{j}]", _SENSOR_REPORT) for j, r in enumerate(v)]
                elif k != "sensorReport":
                    self._extension_into(item, k, v, f"{p}.{k}")
            out.append(item)
        return out

    def _sensor_part(self, value: Any, at: str, fields: Mapping[str, str]) -> Any:
        if not isinstance(value, Mapping):
            self.problem(at, f"expected an object, found {_shown(value)}")
            return _SKIP
        if fields is _SENSOR_REPORT and "type" not in value:
            self.problem(f"{at}.type", "required: the measurement type (for example Temperature) or a URI")
        out: dict[str, Any] = {}
        for k, v in value.items():
            p = f"{at}.{k}"
            kind = fields.get(k)
            if kind is None:
                self._extension_into(out, k, v, p)
            elif kind == "time":
                out[k] = self._time(v, p)
            elif kind == "uri":
                out[k] = self._uri(v, p)
            elif kind == "number":
                out[k] = self._number(v, p)
            elif kind in _SCALAR_CHECKS:
                check, expected = _SCALAR_CHECKS[kind]
                if check(v):
                    out[k] = v
                else:
                    self.problem(p, f"expected {expected}, found {_shown(v)}")
            else:
                out[k] = self._vocabulary(kind, v, p)
        return out

    # --- extensions ----------------------------------------------------------------------------------------

    def _expanded(self, key: str) -> str:
        found = self.names.split(key)
        return key if found is None else found[0] + found[1]

    def _extension_key(self, key: Any, at: str, *, known: bool = False) -> str | None:
        """The key as tracechain writes it (``tc:…`` for tracechain's namespace), or None after a problem."""
        if not isinstance(key, str) or not key:
            self.problem(at, "keys are non-empty text")
            return None
        found = self.names.split(key)
        if found is not None:
            namespace, local = found
            if namespace == TC_NAMESPACE:
                return f"{TC_PREFIX}:{local}"
            if (prefix := key.partition(":")[0]) not in GS1_PREFIXES:
                self.used.add(prefix)
            if key in self.names.terms:
                self.used.add(key)
            return key
        if _URI_RE.match(key) and ("://" in key or key.startswith("urn:")):
            return key  # an absolute IRI names its namespace itself
        if known and key in _ALL_STANDARD:
            return None
        if ":" in key:
            self.problem(at, f"the prefix {key.partition(':')[0]!r} of {key!r} is not declared in @context")
        elif known:
            self.problem(
                at,
                f"{key!r} is not an EPCIS field here, nor a namespaced extension: extension fields are written "
                "prefix:name with the prefix declared in @context",
            )
        else:
            self.problem(
                at,
                f"{key!r} has no namespace: ILMD and extension fields, nested ones too, are written prefix:name "
                "with the prefix declared in @context (JSON-LD drops a key without one)",
            )
        return None

    def _extension_into(self, out: dict[str, Any], key: str, value: Any, at: str) -> None:
        name = self._extension_key(key, at)
        if name is not None:
            converted = self._free(value, at)
            if converted is not _SKIP:
                out[name] = converted

    def _free(self, value: Any, at: str, depth: int = 0) -> Any:
        """Extension or ILMD content: JSON with namespaced keys at every depth, no null, no nested arrays."""
        if depth > _MAX_DEPTH:
            self.problem(at, f"nested more than {_MAX_DEPTH} levels deep")
            return _SKIP
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for k, v in value.items():
                self._nested(out, k, v, f"{at}.{k}", depth)
            return out
        if isinstance(value, list):
            if any(isinstance(v, list) for v in value):
                self.problem(at, "arrays of arrays have no meaning in EPCIS (JSON-LD lists of lists)")
                return _SKIP
            return [self._free(v, f"{at}[{i}]", depth + 1) for i, v in enumerate(value)]
        if value is None:
            self.problem(at, "null is not a value in EPCIS JSON-LD; leave the field out")
            return _SKIP
        if isinstance(value, float):
            return self._number(value, at)
        if isinstance(value, Decimal) and not value.is_finite():
            return self._number(value, at)
        if isinstance(value, str):
            self._note_value(value)
        return value

    def _nested(self, out: dict[str, Any], key: Any, value: Any, at: str, depth: int) -> None:
        name = self._extension_key(key, at)
        if name is not None:
            converted = self._free(value, at, depth + 1)
            if converted is not _SKIP:
                out[name] = converted

    def _note_value(self, value: str) -> None:
        """A value written as a compact IRI needs its prefix declared too."""
        prefix, colon, rest = value.partition(":")
        if colon and not rest.startswith("//") and prefix in self.names.user_prefixes():
            self.used.add(prefix)

    def _ilmd(self, value: Any, at: str) -> Any:
        if isinstance(value, Mapping):
            return self._free(value, at)
        self.problem(at, f"expected an object of namespaced master data fields, found {_shown(value)}")
        return _SKIP

    def _tracechain(self, name: str, value: Any, at: str) -> Any:
        if name == "tc:product":
            if isinstance(value, str) and value:
                return value
            self.problem(at, f"expected a product name, found {_shown(value)}")
            return _SKIP
        if name == "tc:kde":
            if not isinstance(value, Mapping):
                self.problem(at, f"expected an object of key data elements, found {_shown(value)}")
                return _SKIP
            free = self._free(value, at)
            return _SKIP if free is _SKIP else _bare_kde(free)
        if name == "tc:eventID":
            return self._uri(value, at)
        self.problem(at, f"{name!r} is not a tracechain field (tc:product, tc:kde, {', '.join(LEDGER_FIELDS)})")
        return _SKIP


def _bare_kde(value: Any) -> Any:
    """tracechain writes key data elements bare inside tc:kde; EPCIS writes them in tracechain's namespace."""
    if isinstance(value, dict):
        return {(k[3:] if k.startswith("tc:") else k): _bare_kde(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_bare_kde(v) for v in value]
    return value


_SCALAR_CHECKS: Final[dict[str, tuple[Callable[[Any], bool], str]]] = {
    "boolean": (lambda v: isinstance(v, bool), "true or false"),
    "hex": (lambda v: isinstance(v, str) and _HEX_RE.match(v) is not None, "hexadecimal digits"),
    "text": (lambda v: isinstance(v, str), "text"),
}


class _Skip:
    """A field with a problem: left out of the output (the problem is already recorded)."""


_SKIP: Final = _Skip()
Handler = Callable[[EventReader, Any, str], Any]
_HANDLERS: Final[dict[str, Handler]] = {
    "type": EventReader._type,
    "eventTime": EventReader._time,
    "recordTime": EventReader._time,
    "eventTimeZoneOffset": EventReader._offset,
    "eventID": EventReader._uri,
    "certificationInfo": EventReader._uris,
    "errorDeclaration": EventReader._error_declaration,
    "action": EventReader._action,
    "parentID": EventReader._code,
    "transformationID": EventReader._uri,
    "epcList": EventReader._codes,
    "childEPCs": EventReader._codes,
    "inputEPCList": EventReader._codes,
    "outputEPCList": EventReader._codes,
    "quantityList": EventReader._quantities,
    "childQuantityList": EventReader._quantities,
    "inputQuantityList": EventReader._quantities,
    "outputQuantityList": EventReader._quantities,
    "bizStep": lambda r, v, at: r._vocabulary("bizStep", v, at),
    "disposition": lambda r, v, at: r._vocabulary("disposition", v, at),
    "persistentDisposition": EventReader._persistent,
    "readPoint": EventReader._location,
    "bizLocation": EventReader._location,
    "bizTransactionList": lambda r, v, at: r._typed_links(v, at, "bizTransaction", "bizTransactionType", False),
    "sourceList": lambda r, v, at: r._typed_links(v, at, "source", "sourceDestType", True),
    "destinationList": lambda r, v, at: r._typed_links(v, at, "destination", "sourceDestType", True),
    "sensorElementList": EventReader._sensors,
    "ilmd": EventReader._ilmd,
}
_ALL_STANDARD: Final = frozenset(_HANDLERS)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
