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
from typing import Any, Final

from tracechain.epcis._context import kde_from_epcis
from tracechain.epcis._fields import SKIP, FieldReader, plain_number, shown
from tracechain.errors import ValidationError

__all__ = ["LEDGER_FIELDS", "EventReader", "plain_number"]

LEDGER_FIELDS: Final = ("tc:ledgerIndex", "tc:leafHash", "tc:eventID")
"""What tracechain's export adds to an event: where it sat in the ledger, and the eventID it had before."""

_UOM_RE: Final = re.compile(r"[A-Z0-9]{2,3}\Z")
_HEX_RE: Final = re.compile(r"[A-Fa-f0-9]+\Z")
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


class EventReader(FieldReader):
    """Reads one event into tracechain's form; the problems it finds are in ``problems``."""

    STANDARD = _COMMON.union(*_FIELDS.values())

    # --- the event -----------------------------------------------------------------------------------------

    def read(self, event: Mapping[str, Any]) -> dict[str, Any] | None:
        """The event in tracechain's form, or None when it has problems (then ``problems`` says which)."""
        event_type = event.get("type")
        if not isinstance(event_type, str) or event_type not in _FIELDS:
            self.problem(
                f"{self.path}.type",
                f"expected one of {', '.join(sorted(_FIELDS))} (tracechain records the five EPCIS 2.0 event types), "
                f"found {shown(event_type)}",
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
                if converted is not SKIP:
                    out[key] = converted
            elif (name := self._extension_key(key, at, known=True)) is not None:
                if name != "tc:eventID" and (self._expanded(key) in self.ignore or name in LEDGER_FIELDS):
                    continue  # outside the event's identity: listed by the document, or another ledger's position
                converted = self._tracechain(name, value, at) if name.startswith("tc:") else self._free(value, at)
                if converted is not SKIP:
                    out[name] = converted
            elif key in self.STANDARD:
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

    def _action(self, value: Any, at: str) -> Any:
        if value in _ACTIONS:
            return value
        self.problem(at, f"expected ADD, OBSERVE or DELETE, found {shown(value)}")
        return SKIP

    def _quantities(self, value: Any, at: str) -> Any:
        if not isinstance(value, list):
            self.problem(at, f"expected a list of quantity elements, found {shown(value)}")
            return SKIP
        out = []
        for i, element in enumerate(value):
            p = f"{at}[{i}]"
            if not isinstance(element, Mapping):
                self.problem(p, f"expected an object {{epcClass, quantity, uom}}, found {shown(element)}")
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
                            f"{p}.uom", f"expected a UN/CEFACT unit code (2-3 capitals or digits), found {shown(v)}"
                        )
                else:
                    self.problem(f"{p}.{k}", "not a field of a quantity element (epcClass, quantity, uom)")
            if "epcClass" not in element:
                self.problem(f"{p}.epcClass", "required")
            if "uom" in element and "quantity" not in element:
                self.problem(f"{p}.uom", "a unit of measure needs a quantity")
            out.append(item)
        return out

    def _persistent(self, value: Any, at: str) -> Any:
        if not isinstance(value, Mapping) or not (value.keys() & {"set", "unset"}) or value.keys() - {"set", "unset"}:
            self.problem(at, f"expected an object with set and/or unset (lists of dispositions), found {shown(value)}")
            return SKIP
        out = {}
        for k, v in value.items():
            if not isinstance(v, list) or not v:
                self.problem(f"{at}.{k}", f"expected a non-empty list of dispositions, found {shown(v)}")
                continue
            out[k] = [self._vocabulary("disposition", d, f"{at}.{k}[{i}]") for i, d in enumerate(v)]
        return out

    def _location(self, value: Any, at: str) -> Any:
        if not isinstance(value, Mapping):
            self.problem(at, f"expected an object with an id, found {shown(value)}")
            return SKIP
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
            self.problem(at, f"expected a list of {{type, {value_key}}} objects, found {shown(value)}")
            return SKIP
        out = []
        for i, link in enumerate(value):
            p = f"{at}[{i}]"
            if not isinstance(link, Mapping):
                self.problem(p, f"expected an object {{type, {value_key}}}, found {shown(link)}")
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
            self.problem(at, f"expected an object with a declarationTime, found {shown(value)}")
            return SKIP
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
            self.problem(at, f"expected a list of sensor elements, found {shown(value)}")
            return SKIP
        out = []
        for i, element in enumerate(value):
            p = f"{at}[{i}]"
            if not isinstance(element, Mapping):
                self.problem(p, f"expected a sensor element object, found {shown(element)}")
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
            self.problem(at, f"expected an object, found {shown(value)}")
            return SKIP
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
                    self.problem(p, f"expected {expected}, found {shown(v)}")
            else:
                out[k] = self._vocabulary(kind, v, p)
        return out

    # --- extensions ----------------------------------------------------------------------------------------

    def _ilmd(self, value: Any, at: str) -> Any:
        if isinstance(value, Mapping):
            return self._free(value, at)
        self.problem(at, f"expected an object of namespaced master data fields, found {shown(value)}")
        return SKIP

    def _tracechain(self, name: str, value: Any, at: str) -> Any:
        if name == "tc:product":
            if isinstance(value, str) and value:
                return value
            self.problem(at, f"expected a product name, found {shown(value)}")
            return SKIP
        if name == "tc:kde":
            if not isinstance(value, Mapping):
                self.problem(at, f"expected an object of key data elements, found {shown(value)}")
                return SKIP
            free = self._free(value, at)
            return SKIP if free is SKIP else kde_from_epcis(free)
        if name == "tc:eventID":
            return self._uri(value, at)
        self.problem(at, f"{name!r} is not a tracechain field (tc:product, tc:kde, {', '.join(LEDGER_FIELDS)})")
        return SKIP


_SCALAR_CHECKS: Final[dict[str, tuple[Callable[[Any], bool], str]]] = {
    "boolean": (lambda v: isinstance(v, bool), "true or false"),
    "hex": (lambda v: isinstance(v, str) and _HEX_RE.match(v) is not None, "hexadecimal digits"),
    "text": (lambda v: isinstance(v, str), "text"),
}


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
