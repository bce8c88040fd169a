"""JSON-LD ``@context`` of EPCIS documents: which prefixes name which namespaces, and which contexts are refused.

tracechain does not fetch contexts and runs no general JSON-LD processor. It reads the subset EPCIS documents use:
GS1's EPCIS context named by URL (its prefixes and terms are known here), and inline objects that declare prefixes
(``"example": "https://ns.example.com/epcis/"``) or term definitions. GS1's context is ``@protected``, so a
document that redefines one of its terms differently is refused, as a JSON-LD 1.1 processor would refuse it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from tracechain.errors import ValidationError

__all__ = [
    "GS1_CONTEXT",
    "GS1_CONTEXTS",
    "GS1_PREFIXES",
    "IGNORE_FIELDS",
    "IGNORE_NAMESPACE",
    "TC_NAMESPACE",
    "TC_PREFIX",
    "Namespaces",
    "kde_from_epcis",
    "kde_to_epcis",
    "read_context",
]

GS1_CONTEXT: Final = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
"""The context URL EPCIS 2.0 documents name, and the one tracechain writes."""
GS1_CONTEXTS: Final = frozenset(
    {
        GS1_CONTEXT,
        "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
        "https://gs1.github.io/EPCIS/epcis-context.jsonld",
    }
)
GS1_PREFIXES: Final = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": "https://ref.gs1.org/cbv/",
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": "https://gs1.org/voc/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}
# The other top-level terms of GS1's (protected) EPCIS 2.0 context; simple ones with their definitions.
_GS1_SIMPLE_TERMS: Final = {
    "id": "@id",
    "type": "@type",
    "eventID": "@id",
    "baseURL": "@base",
    "ObjectEvent": "epcis:ObjectEvent",
    "AggregationEvent": "epcis:AggregationEvent",
    "TransformationEvent": "epcis:TransformationEvent",
    "AssociationEvent": "epcis:AssociationEvent",
    "TransactionEvent": "epcis:TransactionEvent",
    "Collection": "epcis:Collection",
    "eventTimeZoneOffset": "epcis:eventTimeZoneOffset",
    "action": "epcis:action",
    "uom": "epcis:uom",
    "instanceIdentifier": "epcis:instanceIdentifier",
    "schemaVersion": "owl:versionInfo",
    "EPCISDocument": "epcis:EPCISDocument",
    "EPCISQueryDocument": "epcis:EPCISQueryDocument",
    "epcisHeader": "epcis:epcisHeader",
    "masterData": "epcis:masterData",
    "vocabularyList": "epcis:vocabularyList",
    "epcisBody": "epcis:epcisBody",
    "queryResults": "epcis:queryResults",
    "subscriptionID": "epcis:subscriptionID",
    "queryName": "epcis:queryName",
    "resultsBody": "epcis:resultsBody",
}
_GS1_OBJECT_TERMS: Final = frozenset(
    """member eventTime recordTime certificationInfo bizStep disposition bizLocation readPoint transformationID
    epcList sourceList destinationList persistentDisposition quantity epcClass quantityList bizTransactionList
    parentID childEPCs childQuantityList inputEPCList outputEPCList inputQuantityList outputQuantityList
    sensorElementList errorDeclaration creationDate sender receiver ilmd eventList children""".split()
)

TC_PREFIX: Final = "tc"
TC_NAMESPACE: Final = "urn:tracechain:epcis:"
"""tracechain's own namespace: ``tc:product``, ``tc:kde`` and the ledger fields of exported events."""

IGNORE_NAMESPACE: Final = "https://repository-x.example.com/"
IGNORE_FIELDS: Final = IGNORE_NAMESPACE + "ignoreFields"
"""The document-level field GS1's reference hash implementation reads as "leave these fields out of every event's
hash ID" (its pull request 114). It is a convention of that implementation, not of the CBV standard."""

_SCHEME_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S*\Z")
_KEYWORDS: Final = frozenset({"@version", "@protected", "@vocab", "@base", "@language", "@direction", "@propagate"})


@dataclass(frozen=True, slots=True)
class Namespaces:
    """Prefix → namespace IRI, plus the user term definitions a document's context made (kept to write back)."""

    prefixes: Mapping[str, str] = field(default_factory=lambda: {**GS1_PREFIXES, TC_PREFIX: TC_NAMESPACE})
    terms: Mapping[str, Any] = field(default_factory=dict)
    cache: dict[str, dict[str, str]] = field(default_factory=dict, compare=False, repr=False)
    """What the hash ID has already worked out under these namespaces (canonical names and values), by kind."""

    def split(self, key: str) -> tuple[str, str] | None:
        """(namespace, local name) of a compact IRI whose prefix is declared; None for anything else."""
        prefix, colon, local = key.partition(":")
        if not colon or local.startswith("//"):
            return None
        namespace = self.prefixes.get(prefix)
        return None if namespace is None else (namespace, local)

    def expand(self, text: str) -> str:
        """A compact IRI written out in full (``ex:x`` → ``https://ns.example.com/x``); other text unchanged."""
        found = self.split(text)
        return text if found is None else found[0] + found[1]

    def with_context(self, context: object, where: str) -> Namespaces:
        """These namespaces with an event's own ``@context`` (inline objects only) applied on top."""
        prefixes = dict(self.prefixes)
        terms = dict(self.terms)
        for i, entry in enumerate(context if isinstance(context, list) else [context]):
            at = f"{where}[{i}]" if isinstance(context, list) else where
            if isinstance(entry, str):
                if entry not in GS1_CONTEXTS:
                    raise _remote(entry, at)
                continue
            if not isinstance(entry, Mapping):
                raise ValidationError(f"{at}: expected a context URL or object, found {type(entry).__name__}")
            _apply(entry, prefixes, terms, at)
        return Namespaces(prefixes, terms)

    def user_prefixes(self) -> dict[str, str]:
        """The prefixes a document added to GS1's and tracechain's own."""
        return {p: ns for p, ns in self.prefixes.items() if p not in GS1_PREFIXES and p != TC_PREFIX}


def kde_to_epcis(value: Any) -> Any:
    """``tc:kde`` content with its bare member names put in tracechain's namespace (``lot`` → ``tc:lot``).

    tracechain's events name key data elements bare inside ``tc:kde``; in a JSON-LD document a key without a
    prefix has no IRI and would be dropped, so documents (and the hash ID) use the namespaced names.
    """
    if isinstance(value, Mapping):
        return {(k if ":" in k else f"{TC_PREFIX}:{k}"): kde_to_epcis(v) for k, v in value.items()}
    if isinstance(value, list):
        return [kde_to_epcis(v) for v in value]
    return value


def kde_from_epcis(value: Any) -> Any:
    """The inverse of `kde_to_epcis`: ``tc:lot`` → ``lot``; names in other namespaces stay as they are."""
    if isinstance(value, Mapping):
        return {
            (k[len(TC_PREFIX) + 1 :] if k.startswith(f"{TC_PREFIX}:") else k): kde_from_epcis(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [kde_from_epcis(v) for v in value]
    return value


def read_context(context: object, where: str = "@context") -> Namespaces:
    """The namespaces of a document's ``@context``, which must name GS1's EPCIS context.

    Raises `ValidationError` for a context tracechain cannot read without fetching (a URL other than GS1's),
    for a redefinition of one of GS1's protected terms, and for a context without GS1's.
    """
    entries = context if isinstance(context, list) else [context]
    if context is None or not any(isinstance(e, str) and e in GS1_CONTEXTS for e in entries):
        raise ValidationError(
            f"{where}: an EPCIS 2.0 JSON-LD document's @context must name GS1's EPCIS context "
            f"({GS1_CONTEXT}), found {_shown(context)}"
        )
    return Namespaces().with_context(context, where)


def _apply(entry: Mapping[str, Any], prefixes: dict[str, str], terms: dict[str, Any], where: str) -> None:
    for name, definition in entry.items():
        at = f"{where}.{name}"
        if not isinstance(name, str):
            raise ValidationError(f"{at}: context keys are text")
        if name.startswith("@"):
            if name not in _KEYWORDS:
                raise ValidationError(f"{at}: {name} is not a JSON-LD context keyword tracechain reads")
            continue
        _check_protected(name, definition, at)
        if definition is None:
            prefixes.pop(name, None)
            terms.pop(name, None)
            continue
        iri = definition if isinstance(definition, str) else None
        if isinstance(definition, Mapping):
            terms[name] = dict(definition)
            identifier = definition.get("@id")
            iri = identifier if isinstance(identifier, str) and ":" not in name else None
        elif not isinstance(definition, str):
            raise ValidationError(f"{at}: expected an IRI or a term definition object, found {_shown(definition)}")
        if iri is None:
            continue
        if ":" not in name:
            if not _SCHEME_RE.match(iri):
                raise ValidationError(f"{at}: expected an absolute IRI for prefix {name!r}, found {iri!r}")
            if name == TC_PREFIX and iri != TC_NAMESPACE:
                raise ValidationError(
                    f"{at}: the prefix {TC_PREFIX!r} is tracechain's own ({TC_NAMESPACE}); "
                    f"this document binds it to {iri!r}. Rename the prefix in the document."
                )
            prefixes[name] = iri
        elif isinstance(definition, str):
            terms[name] = definition


def _check_protected(name: str, definition: object, where: str) -> None:
    gs1 = GS1_PREFIXES.get(name) or _GS1_SIMPLE_TERMS.get(name)
    if gs1 is not None and definition == gs1:
        return  # JSON-LD 1.1 allows a protected term to be redefined identically
    if gs1 is not None or name in _GS1_OBJECT_TERMS:
        raise ValidationError(
            f"{where}: redefines {name!r}, a protected term of GS1's EPCIS context"
            + (f" ({gs1})" if gs1 else "")
            + f", as {_shown(definition)}; JSON-LD 1.1 processors refuse a document that does this "
            "(protected term redefinition). Use a prefix of your own."
        )


def _remote(url: str, where: str) -> ValidationError:
    return ValidationError(
        f"{where}: the context {url!r} would have to be fetched; tracechain reads GS1's EPCIS context and "
        "inline context objects only (it never fetches). Inline the prefixes the document uses."
    )


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
