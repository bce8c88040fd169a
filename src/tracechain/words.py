"""The words people read for the codes events carry: CBV business steps and dispositions, event types and actions,
products and units of measure, in the current language (`tracechain.i18n`).

Events keep the codes (``retail_selling``, ``KGM``), which programs match on; these tables give the words a
person reads (English "retail selling", Chinese "零售"). Each word is translated within a context naming its
vocabulary, since one English word can stand for two codes of different vocabularies. A code with no word here
(a user vocabulary's URI, a unit tracechain does not know) is shown as it is.
"""

from __future__ import annotations

from tracechain.i18n import pgettext

__all__ = [
    "ACTIONS",
    "BIZ_STEPS",
    "DISPOSITIONS",
    "EVENT_TYPES",
    "PRODUCTS",
    "UNITS",
    "action_word",
    "code_for",
    "disposition_word",
    "event_type_word",
    "product_word",
    "step_word",
    "unit_word",
]


def NP_(context: str, message: str) -> str:  # noqa: N802 - a marker extraction looks for, like N_
    """Mark a word for translation within ``context``; it is translated where it is shown."""
    return message


# GS1 Core Business Vocabulary 2.0, §7.2: every business step events.py accepts.
BIZ_STEPS = {
    "accepting": NP_("bizStep", "accepting"),
    "arriving": NP_("bizStep", "arriving"),
    "assembling": NP_("bizStep", "assembling"),
    "collecting": NP_("bizStep", "collecting"),
    "commissioning": NP_("bizStep", "commissioning"),
    "consigning": NP_("bizStep", "consigning"),
    "creating_class_instance": NP_("bizStep", "creating class instance"),
    "cycle_counting": NP_("bizStep", "cycle counting"),
    "decommissioning": NP_("bizStep", "decommissioning"),
    "departing": NP_("bizStep", "departing"),
    "destroying": NP_("bizStep", "destroying"),
    "disassembling": NP_("bizStep", "disassembling"),
    "dispensing": NP_("bizStep", "dispensing"),
    "encoding": NP_("bizStep", "encoding"),
    "entering_exiting": NP_("bizStep", "entering or exiting"),
    "holding": NP_("bizStep", "holding"),
    "inspecting": NP_("bizStep", "inspecting"),
    "installing": NP_("bizStep", "installing"),
    "killing": NP_("bizStep", "killing"),
    "loading": NP_("bizStep", "loading"),
    "other": NP_("bizStep", "other"),
    "packing": NP_("bizStep", "packing"),
    "picking": NP_("bizStep", "picking"),
    "receiving": NP_("bizStep", "receiving"),
    "removing": NP_("bizStep", "removing"),
    "repackaging": NP_("bizStep", "repackaging"),
    "repairing": NP_("bizStep", "repairing"),
    "replacing": NP_("bizStep", "replacing"),
    "reserving": NP_("bizStep", "reserving"),
    "retail_selling": NP_("bizStep", "retail selling"),
    "sampling": NP_("bizStep", "sampling"),
    "sensor_reporting": NP_("bizStep", "sensor reporting"),
    "shipping": NP_("bizStep", "shipping"),
    "staging_outbound": NP_("bizStep", "staging outbound"),
    "stock_taking": NP_("bizStep", "stock taking"),
    "stocking": NP_("bizStep", "stocking"),
    "storing": NP_("bizStep", "storing"),
    "transporting": NP_("bizStep", "transporting"),
    "unloading": NP_("bizStep", "unloading"),
    "unpacking": NP_("bizStep", "unpacking"),
    "void_shipping": NP_("bizStep", "void shipping"),
}

# CBV 2.0 §7.3: every disposition events.py accepts.
DISPOSITIONS = {
    "active": NP_("disposition", "active"),
    "available": NP_("disposition", "available"),
    "completeness_inferred": NP_("disposition", "completeness inferred"),
    "completeness_verified": NP_("disposition", "completeness verified"),
    "conformant": NP_("disposition", "conformant"),
    "container_closed": NP_("disposition", "container closed"),
    "container_open": NP_("disposition", "container open"),
    "damaged": NP_("disposition", "damaged"),
    "destroyed": NP_("disposition", "destroyed"),
    "dispensed": NP_("disposition", "dispensed"),
    "disposed": NP_("disposition", "disposed"),
    "encoded": NP_("disposition", "encoded"),
    "expired": NP_("disposition", "expired"),
    "in_progress": NP_("disposition", "in progress"),
    "in_transit": NP_("disposition", "in transit"),
    "inactive": NP_("disposition", "inactive"),
    "mismatch_instance": NP_("disposition", "mismatch of instance"),
    "mismatch_class": NP_("disposition", "mismatch of class"),
    "mismatch_quantity": NP_("disposition", "mismatch of quantity"),
    "needs_replacement": NP_("disposition", "needs replacement"),
    "no_pedigree_match": NP_("disposition", "no pedigree match"),
    "non_conformant": NP_("disposition", "non-conformant"),
    "non_sellable_other": NP_("disposition", "not sellable (other)"),
    "partially_dispensed": NP_("disposition", "partially dispensed"),
    "recalled": NP_("disposition", "recalled"),
    "reserved": NP_("disposition", "reserved"),
    "retail_sold": NP_("disposition", "sold at retail"),
    "returned": NP_("disposition", "returned"),
    "sellable_accessible": NP_("disposition", "sellable, accessible"),
    "sellable_not_accessible": NP_("disposition", "sellable, not accessible"),
    "stolen": NP_("disposition", "stolen"),
    "unavailable": NP_("disposition", "unavailable"),
    "unknown": NP_("disposition", "unknown"),
}

EVENT_TYPES = {
    "ObjectEvent": NP_("event type", "object event"),
    "AggregationEvent": NP_("event type", "aggregation event"),
    "TransformationEvent": NP_("event type", "transformation event"),
    "TransactionEvent": NP_("event type", "transaction event"),
    "AssociationEvent": NP_("event type", "association event"),
}

ACTIONS = {
    "ADD": NP_("action", "add"),
    "OBSERVE": NP_("action", "observe"),
    "DELETE": NP_("action", "delete"),
}

PRODUCTS = {
    "infant_formula": NP_("product", "infant formula"),
    "edible_oil": NP_("product", "edible vegetable oil"),
    "liquor": NP_("product", "liquor"),
    "salt": NP_("product", "salt"),
    "vet_drug": NP_("product", "veterinary drug"),
    "food": NP_("product", "food"),
}

# UN/ECE Recommendation 20 codes that traceability events use; any other code is shown as it is.
UNITS = {
    "KGM": NP_("unit", "kg"),
    "GRM": NP_("unit", "g"),
    "TNE": NP_("unit", "t"),
    "LTR": NP_("unit", "L"),
    "MLT": NP_("unit", "mL"),
    "MTQ": NP_("unit", "m³"),
    "H87": NP_("unit", "pieces"),
    "EA": NP_("unit", "each"),
    "CEL": NP_("unit", "°C"),
}

_TABLES = {
    "bizStep": BIZ_STEPS,
    "disposition": DISPOSITIONS,
    "event type": EVENT_TYPES,
    "action": ACTIONS,
    "product": PRODUCTS,
    "unit": UNITS,
}


def _word(context: str, code: object) -> str:
    english = _TABLES[context].get(code) if isinstance(code, str) else None
    if english is None:
        return "" if code is None else str(code)
    return pgettext(context, english)


def step_word(code: object) -> str:
    """The words for a CBV business step (``retail_selling`` → "retail selling" / "零售")."""
    return _word("bizStep", code)


def disposition_word(code: object) -> str:
    """The words for a CBV disposition (``in_transit`` → "in transit" / "在途")."""
    return _word("disposition", code)


def event_type_word(code: object) -> str:
    return _word("event type", code)


def action_word(code: object) -> str:
    return _word("action", code)


def product_word(code: object) -> str:
    """The name of a tracechain product (``edible_oil`` → "edible vegetable oil" / "食用植物油")."""
    return _word("product", code)


def unit_word(code: object) -> str:
    """The symbol or word for a UN/ECE Recommendation 20 unit (``KGM`` → "kg" / "千克")."""
    return _word("unit", code)


def code_for(context: str, text: str) -> str | None:
    """The code a person means by ``text`` in a vocabulary: the code itself, its English words, or its words in the
    current language (``"零售"`` → ``retail_selling`` when speaking Chinese); None when nothing matches."""
    table = _TABLES[context]
    wanted = text.strip()
    if wanted in table:
        return wanted
    folded = wanted.casefold()
    for code, english in table.items():
        if folded in (english.casefold(), pgettext(context, english).casefold()):
            return code
    return None
