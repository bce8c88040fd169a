"""How the workload writes its item codes: every spelling people use, in proportions stated and justified here.

The event templates hold codes in tracechain's canonical spelling. A producer system does not send that: it sends
what its scanners and label printers give it. `Speller.respell` rewrites each canonical item code of an event into
one spelling drawn with the weights below, so that a benchmark that starts from dicts pays for reading codes the
way a real ingest does. The canonical event — and so its bytes, its hash, its entry — does not change: every
spelling here names the same item (the benchmarks check that, event by event).

The weights are this project's estimate for the five product lines, not a survey. What they rest on:

- **Consumer units (GTIN + serial)** carry a QR code for consumers and anti-counterfeit checks, and GS1's move of
  retail to 2D codes ("Sunrise 2027") puts a GS1 Digital Link in it; a brand resolves its QR codes on its own
  domain, and the label data — lot, serial, expiry — travel in the URI. Line scanners hand the URI on as read, so
  half the unit codes arrive as Digital Links, most on a brand domain with the lot before the serial, some with
  an expiry attribute, a few from older label systems with a 13-digit GTIN and no lot. GS1 DataMatrix and GS1-128
  printers and scanners give element strings (15 %: scanner output with the ``]d2`` symbology identifier and GS
  separators, the bracketed human-readable form, the plain form). Systems built on EPCIS 1.x or RFID send EPC
  URNs (10 %). The rest (25 %) is already canonical: systems that canonicalise before sending, and codes copied
  from earlier events or from the ledger itself.
- **Logistic units (SSCC)** are GS1-128 labels on cases and pallets: mostly scanned element strings (50 %), bare
  18 digits keyed from the label (15 %), EPC URNs (10 %), canonical (25 %).
- **Lots (GTIN + lot, in quantity lists and recalls)**: Digital Links on a brand domain with an expiry (40 %),
  element strings (15 %), LGTIN URNs (10 %), canonical (35 %).
- **Veterinary drug trace codes** are printed and scanned as 24 bare digits (75 %); the rest arrive in
  tracechain's URN.

Locations (GLNs of read points and business locations) stay canonical: they repeat in every event, so the event
parser's cache absorbs them whatever their spelling.
"""

from __future__ import annotations

import random
import re
from typing import Any

from tracechain.identifiers import VET_DRUG_URN_PREFIX

__all__ = ["CODE_FIELDS", "WEIGHTS", "Speller", "kind_of", "write"]

CODE_FIELDS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
QUANTITY_FIELDS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")

# Spelling → weight, per kind of code (see the module docstring for why).
WEIGHTS: dict[str, dict[str, float]] = {
    "instance": {
        "link-brand-lot-serial-expiry": 0.25,
        "link-gs1-lot-serial": 0.15,
        "link-brand-lot-serial": 0.05,
        "link-brand-gtin13-serial": 0.05,
        "element-scanner": 0.08,
        "element-brackets": 0.04,
        "element-plain": 0.03,
        "epc-sgtin": 0.10,
        "canonical": 0.25,
    },
    "sscc": {"element-gs1-128": 0.35, "element-brackets": 0.15, "bare": 0.15, "epc-sscc": 0.10, "canonical": 0.25},
    "lot": {"link-brand-expiry": 0.40, "element-brackets": 0.15, "epc-lgtin": 0.10, "canonical": 0.35},
    "vet": {"bare": 0.75, "canonical": 0.25},
}

_INSTANCE = re.compile(r"https://id\.gs1\.org/01/(\d{14})/21/([A-Za-z0-9._\-]{1,20})")
_LOT = re.compile(r"https://id\.gs1\.org/01/(\d{14})/10/([A-Za-z0-9._\-]{1,20})")
_SSCC = re.compile(r"https://id\.gs1\.org/00/(\d{18})")
_VET = re.compile(re.escape(VET_DRUG_URN_PREFIX) + r"(\d{24})")
_KINDS = (("instance", _INSTANCE), ("sscc", _SSCC), ("lot", _LOT), ("vet", _VET))
_PLAIN_LOT = re.compile(r"[A-Za-z0-9._\-]{1,20}")
_ISO_DATE = re.compile(r"(\d{2})(\d{2})-(\d{2})-(\d{2})")
# Brand resolver domains, one per company prefix seen (a brand runs its own).
_BRAND_DOMAINS = (
    "qr.nanling-dairy.example.cn",
    "t.jinlongyu.example.cn",
    "id.wuliangye.example.cn",
    "s.zhongyan.example.cn",
)


# An EPC URN splits the key after the GS1 company prefix, whose length depends on the company (6 to 12 digits);
# every split names the same item, so one length does for the benchmark.
_COMPANY_PREFIX_LENGTH = 7


def _yymmdd(iso: object, fallback: str) -> str:
    m = _ISO_DATE.fullmatch(iso) if isinstance(iso, str) else None
    return f"{m[2]}{m[3]}{m[4]}" if m else fallback


class Speller:
    """Rewrites an event's canonical item codes into the spellings of `WEIGHTS`, with its own random stream."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.drawn: dict[str, int] = {}
        self._choices = {kind: (list(w), list(w.values())) for kind, w in WEIGHTS.items()}

    def _draw(self, kind: str) -> str:
        names, weights = self._choices[kind]
        spelling = self.rng.choices(names, weights)[0]
        self.drawn[f"{kind}/{spelling}"] = self.drawn.get(f"{kind}/{spelling}", 0) + 1
        return spelling

    def respell(self, event: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``event`` with its item codes respelled; it validates to the same canonical event."""
        out = dict(event)
        kde = event.get("tc:kde") if isinstance(event.get("tc:kde"), dict) else {}
        lot = kde.get("lot") if isinstance(kde.get("lot"), str) and _PLAIN_LOT.fullmatch(kde["lot"]) else None
        expiry = _yymmdd(kde.get("expiry_date"), "271231")
        for field in CODE_FIELDS:
            if isinstance(event.get(field), list):
                out[field] = [self.code(c, lot, expiry) if isinstance(c, str) else c for c in event[field]]
        if isinstance(event.get("parentID"), str):
            out["parentID"] = self.code(event["parentID"], lot, expiry)
        for field in QUANTITY_FIELDS:
            if isinstance(event.get(field), list):
                out[field] = [self._quantity(q, lot, expiry) for q in event[field]]
        return out

    def _quantity(self, q: Any, lot: str | None, expiry: str) -> Any:
        if isinstance(q, dict) and isinstance(q.get("epcClass"), str):
            return {**q, "epcClass": self.code(q["epcClass"], lot, expiry)}
        return q

    def code(self, code: str, lot: str | None, expiry: str) -> str:
        """``code`` (canonical) in a spelling drawn for its kind; codes of other shapes are left as they are."""
        kind = kind_of(code)
        return code if kind is None else write(code, self._draw(kind), lot, expiry)


def kind_of(code: str) -> str | None:
    """The kind of a canonical code for `WEIGHTS` (instance, sscc, lot, vet), or None for other codes."""
    for kind, pattern in _KINDS:
        if pattern.fullmatch(code):
            return kind
    return None


def write(code: str, spelling: str, lot: str | None, expiry: str) -> str:
    """Canonical ``code`` written in ``spelling`` (a name of `WEIGHTS` for its kind), with the label's ``lot``
    and ``expiry`` (YYMMDD) where the spelling carries them."""
    cut = _COMPANY_PREFIX_LENGTH
    if m := _INSTANCE.fullmatch(code):
        gtin, serial = m[1], m[2]
        lot = lot or f"L{expiry}"
        brand = _brand(gtin)
        spelled = {
            "link-brand-lot-serial-expiry": f"https://{brand}/01/{gtin}/10/{lot}/21/{serial}?17={expiry}",
            "link-gs1-lot-serial": f"https://id.gs1.org/01/{gtin}/10/{lot}/21/{serial}",
            "link-brand-lot-serial": f"https://{brand}/01/{gtin}/10/{lot}/21/{serial}",
            "link-brand-gtin13-serial": f"https://{brand}/01/{gtin[1:] if gtin[0] == '0' else gtin}/21/{serial}",
            "element-scanner": f"]d201{gtin}17{expiry}10{lot}\x1d21{serial}",
            "element-brackets": f"(01){gtin}(17){expiry}(10){lot}(21){serial}",
            "element-plain": f"01{gtin}10{lot}\x1d21{serial}",
            "epc-sgtin": f"urn:epc:id:sgtin:{gtin[1 : 1 + cut]}.{gtin[0]}{gtin[1 + cut : 13]}.{serial}",
        }
    elif m := _SSCC.fullmatch(code):
        sscc = m[1]
        spelled = {
            "element-gs1-128": f"]C100{sscc}",
            "element-brackets": f"(00){sscc}",
            "bare": sscc,
            "epc-sscc": f"urn:epc:id:sscc:{sscc[1 : 1 + cut]}.{sscc[0]}{sscc[1 + cut : 17]}",
        }
    elif m := _LOT.fullmatch(code):
        gtin, lot_of_code = m[1], m[2]
        spelled = {
            "link-brand-expiry": f"https://{_brand(gtin)}/01/{gtin}/10/{lot_of_code}?17={expiry}",
            "element-brackets": f"(01){gtin}(10){lot_of_code}(17){expiry}",
            "epc-lgtin": f"urn:epc:class:lgtin:{gtin[1 : 1 + cut]}.{gtin[0]}{gtin[1 + cut : 13]}.{lot_of_code}",
        }
    elif m := _VET.fullmatch(code):
        spelled = {"bare": m[1]}
    else:
        return code
    if spelling != "canonical" and spelling not in spelled:
        raise ValueError(f"no spelling {spelling!r} for {code!r}; known: {sorted(spelled)}")
    return spelled.get(spelling, code)


def _brand(gtin14: str) -> str:
    return _BRAND_DOMAINS[int(gtin14[4:8]) % len(_BRAND_DOMAINS)]
