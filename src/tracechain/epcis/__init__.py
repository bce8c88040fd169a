"""EPCIS 2.0 interoperability: GS1 event hash IDs, and reading and writing EPCIS 2.0 JSON-LD documents.

- `event_hash_id` names an event by its content, as GS1's CBV 2.0 specifies (``ni:///sha-256;…?ver=CBV2.0``);
  `pre_hash_string` shows the canonical text it hashes.
- `read_document` checks an ``EPCISDocument`` (or the event list of an ``EPCISQueryDocument``) against the standard
  and returns its events in tracechain's input form, or refuses the whole document naming the event and field.
- `write_document` turns ledger events (`LedgerEvent`: the event, its index and leaf hash) into an EPCIS 2.0
  JSON-LD document whose events carry their hash IDs and ledger positions.
- `import_document` appends a document's events to a ledger as one signed batch, skipping events the ledger
  already holds under their hash IDs; `export_document` writes a ledger's events (all, an item's, a range) as a
  document, in parts, so memory stays flat.

This package has no outside dependency; ``docs/epcis.md`` maps the fields and lists what is refused and why.
"""

from tracechain.epcis._context import GS1_CONTEXT, IGNORE_FIELDS, TC_NAMESPACE
from tracechain.epcis._events import LEDGER_FIELDS
from tracechain.epcis._exchange import EXPORT_PART, ExportResult, ImportResult, export_document, import_document
from tracechain.epcis._hash import HASH_VERSION, event_hash_id, pre_hash_string
from tracechain.epcis._reader import read_document
from tracechain.epcis._writer import LedgerEvent, write_document

__all__ = [
    "EXPORT_PART",
    "GS1_CONTEXT",
    "HASH_VERSION",
    "IGNORE_FIELDS",
    "LEDGER_FIELDS",
    "TC_NAMESPACE",
    "ExportResult",
    "ImportResult",
    "LedgerEvent",
    "event_hash_id",
    "export_document",
    "import_document",
    "pre_hash_string",
    "read_document",
    "write_document",
]
