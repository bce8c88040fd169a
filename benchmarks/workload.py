"""Realistic events for the benchmarks: the product examples of tests/examples, trimmed and varied.

Each example in ``tests/examples/<product>/<step>.json`` is a complete valid event with the product profile's key
data elements and GS1 codes. The examples run larger than the ~200–600 canonical bytes the issue asks for, so
each is trimmed once at start-up: optional fields (sensor data, transactions, sources, destinations,
locations), then optional KDEs, then extra items in lists are dropped one at a time, keeping a removal only if
the event still validates against its profile. Every generated event then gets its own time and its own item
codes (serials, SSCCs, vet drug trace codes with their check digits), so no two events are alike and the item
index grows as it would in production.

Serials are sequential (as a line printer numbers units) or random (as anti-counterfeit QR codes are, so that
the next code cannot be guessed from one seen; the random tail of a vet drug trace code is such a number too).
By default each product line — each template — keeps one practice, half the lines each, and vet drug trace codes
are always random; ``serials="sequential"`` or ``"random"`` makes them all one kind.

`dicts` writes the item codes as producers send them, in the spellings and proportions of `benchmarks.spellings`
(Digital Links on brand domains with lot and expiry, element strings, EPC URNs, bare digits, some canonical);
``spelling="canonical"`` gives the same events with every code already canonical. Either way the events are the
same: they validate to the same canonical bytes.
"""

from __future__ import annotations

import json
import random
import re
import statistics
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.spellings import Speller
from tracechain import Event
from tracechain.errors import TracechainError
from tracechain.identifiers import gtin_check_digit

__all__ = ["EXAMPLES", "EventSource"]

EXAMPLES = Path(__file__).resolve().parents[1] / "tests" / "examples"
SIZE_LIMIT = 520
SERIALS = ("mixed", "sequential", "random")
SPELLINGS = ("labels", "canonical")
# Random serials: 12 symbols of digits and capitals without I and O, as anti-counterfeit codes print them.
_RANDOM_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_OPTIONAL_FIELDS = (
    "sensorElementList",
    "bizTransactionList",
    "sourceList",
    "destinationList",
    "certificationInfo",
    "persistentDisposition",
    "errorDeclaration",
    "ilmd",
    "bizLocation",
)
_CODE_FIELDS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_LIST_FIELDS = (*_CODE_FIELDS, "quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
# Serials in a Digital Link (any host), an element string or an EPC URN; SSCCs; vet drug trace codes.
_SERIAL = re.compile(r"(/21/|\(21\)|^urn:epc:id:sgtin:\d+\.\d+\.)([A-Za-z]{0,4})[^/?]*")
_SSCC = re.compile(r"(https://id\.gs1\.org/00/)(\d{18})")
_VET = re.compile(r"(urn:tracechain:vetdrug:)?(\d{24})")
_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}:\d{2}(?:\.\d+)?([+-]\d{2}:\d{2}|Z)")

# Used only when tests/examples is missing (a trimmed copy of the food commissioning example's shape).
_FALLBACK: dict[str, Any] = {
    "type": "ObjectEvent",
    "eventTime": "2025-03-01T09:00:00+08:00",
    "eventTimeZoneOffset": "+08:00",
    "action": "ADD",
    "bizStep": "commissioning",
    "disposition": "active",
    "readPoint": {"id": "https://id.gs1.org/414/6901234567892"},
    "epcList": ["https://id.gs1.org/01/06901234567892/21/U0000001"],
    "tc:product": "food",
    "tc:kde": {
        "enterprise_uscc": "91512081MA62K0260E",
        "enterprise_name": "四川某某食品有限公司",
        "sc_licence": "SC10651010200015",
        "product_name": "麻辣牛肉干 200克",
        "lot": "L20250301",
        "production_date": "2025-03-01",
        "expiry_date": "2025-12-01",
    },
}


def _copy(value: Any) -> Any:
    if type(value) is dict:
        return {k: _copy(v) for k, v in value.items()}
    if type(value) is list:
        return [_copy(v) for v in value]
    return value


def _profiles_available() -> bool:
    try:
        from tracechain import profiles  # noqa: F401
    except ImportError:
        return False
    return True


class EventSource:
    """An endless supply of distinct, valid events across the six products and their steps."""

    def __init__(self, seed: int = 20260301, examples: Path = EXAMPLES, *, serials: str = "mixed") -> None:
        if serials not in SERIALS:
            raise ValueError(f"serials must be one of {SERIALS}, found {serials!r}")
        self.profiles = _profiles_available()
        self.rng = random.Random(seed)
        # Separate streams, so that the events drawn (templates, times) are the same whatever the serials and
        # spellings: a line comparing spellings or serial practices compares them on the same events.
        self.serial_rng = random.Random(seed + 1)
        self.speller = Speller(seed + 2)
        self.serials = serials
        self.serial = 0
        self.clock = 0
        self.templates: list[tuple[str, dict[str, Any]]] = []
        self.trimmed: dict[str, tuple[int, int]] = {}
        files = sorted(examples.glob("*/*.json")) if examples.is_dir() else []
        for path in files:
            name = f"{path.parent.name}/{path.stem}"
            template = json.loads(path.read_text(encoding="utf-8"))
            if not self._valid(template):
                continue  # an example another engineer is still editing: leave it out rather than fail the run
            before = self._size(template)
            template = self._trim(template)
            self.trimmed[name] = (before, self._size(template))
            self.templates.append((name, template))
        self.source = "tests/examples" if self.templates else "built-in fallback"
        if not self.templates:
            self.templates.append(("food/commissioning", _FALLBACK))
            self.trimmed["food/commissioning"] = (self._size(_FALLBACK), self._size(_FALLBACK))

    # --- validity and trimming -----------------------------------------------------------------------------

    def _valid(self, d: dict[str, Any]) -> bool:
        try:
            Event.from_dict(d, check_profile=self.profiles)
        except TracechainError:
            return False
        return True

    @staticmethod
    def _size(d: dict[str, Any]) -> int:
        try:
            return len(Event.from_dict(d, check_profile=False).canonical_bytes())
        except TracechainError:
            return 1 << 30

    def _trim(self, template: dict[str, Any]) -> dict[str, Any]:
        current = _copy(template)
        steps: list[Callable[[dict[str, Any]], bool]] = []
        for key in _OPTIONAL_FIELDS:
            steps.append(lambda d, key=key: d.pop(key, None) is not None)
        kde = current.get("tc:kde")
        if isinstance(kde, dict):
            for key in sorted(kde, key=lambda k: -len(json.dumps(kde[k], ensure_ascii=False))):
                steps.append(lambda d, key=key: d["tc:kde"].pop(key, None) is not None)
        for key in _LIST_FIELDS:
            steps.append(lambda d, key=key: isinstance(d.get(key), list) and len(d[key]) > 1 and bool(d[key].pop()))
        size = self._size(current)
        for step in steps:
            if size <= SIZE_LIMIT:
                break
            candidate = _copy(current)
            while step(candidate):
                if self._valid(candidate):
                    current, size = candidate, self._size(candidate)
                    candidate = _copy(current)
                    if size <= SIZE_LIMIT:
                        break
                else:
                    break
        return current

    # --- variation -----------------------------------------------------------------------------------------

    def _random_serials(self, name: str, serials: str | None = None) -> bool:
        practice = serials or self.serials
        if practice not in SERIALS:
            raise ValueError(f"serials must be one of {SERIALS}, found {practice!r}")
        if practice != "mixed":
            return practice == "random"
        # One practice per product line: half the lines (by a stable hash of the template's name) are random.
        return name.startswith("vet_drug/") or zlib.crc32(name.encode()) % 2 == 1

    def _code(self, code: str, random_serials: bool) -> str:
        self.serial += 1
        n = self.serial
        rng = self.serial_rng
        if m := _SSCC.fullmatch(code):
            body = m[2][:8] + (f"{rng.randrange(10**9):09d}" if random_serials else f"{n % 10**9:09d}")
            return f"{m[1]}{body}{gtin_check_digit(body)}"
        if m := _VET.fullmatch(code):
            return f"{m[1] or ''}{m[2][:14]}{rng.randrange(10**10) if random_serials else n % 10**10:010d}"
        serial = "".join(rng.choices(_RANDOM_ALPHABET, k=12)) if random_serials else f"{n:010d}"
        varied, count = _SERIAL.subn(lambda m: f"{m[1]}{m[2] or 'S'}{serial}", code, count=1)
        return varied if count else code

    def _vary(self, name: str, template: dict[str, Any], serials: str | None = None) -> dict[str, Any]:
        d: dict[str, Any] = _copy(template)
        self.clock += 1
        t = self.clock
        if m := _TIME.fullmatch(str(d.get("eventTime", ""))):
            d["eventTime"] = f"{m[1]}T{8 + (t // 3600) % 12:02d}:{(t // 60) % 60:02d}:{t % 60:02d}{m[2]}"
        renamed: dict[str, str] = {}
        random_serials = self._random_serials(name, serials)
        for key in _CODE_FIELDS:
            codes = d.get(key)
            if isinstance(codes, list):
                d[key] = [
                    renamed.setdefault(c, self._code(c, random_serials)) if isinstance(c, str) else c for c in codes
                ]
        parent = d.get("parentID")
        if isinstance(parent, str):
            d["parentID"] = renamed.setdefault(parent, self._code(parent, random_serials))
        kde = d.get("tc:kde")
        if isinstance(kde, dict) and "enterprise_uscc" in kde:
            # The benchmark ledgers' one actor records every event, and a ledger refuses events naming another
            # enterprise than the signer's without a delegation: every template speaks for that actor.
            kde["enterprise_uscc"] = _FALLBACK["tc:kde"]["enterprise_uscc"]
        if isinstance(kde, dict) and isinstance(kde.get("trace_code"), str):
            # A vet drug event names the trace code of its unit both as an item and as a KDE: keep them one.
            for old, new in renamed.items():
                if old.endswith(kde["trace_code"]):
                    kde["trace_code"] = new[-24:]
                    break
        return d

    def _canonical_dicts(self, n: int, serials: str | None) -> list[dict[str, Any]]:
        return [self._vary(*self.rng.choice(self.templates), serials) for _ in range(n)]

    def dicts(self, n: int, *, spelling: str = "labels", serials: str | None = None) -> list[dict[str, Any]]:
        """``n`` events in EPCIS JSON form (what a producer sends), templates drawn at random; item codes in the
        spellings producers send (``"labels"``) or all canonical (``"canonical"``); ``serials`` overrides the
        source's serial practice for these events."""
        if spelling not in SPELLINGS:
            raise ValueError(f"spelling must be one of {SPELLINGS}, found {spelling!r}")
        canonical = self._canonical_dicts(n, serials)
        return canonical if spelling == "canonical" else [self.speller.respell(d) for d in canonical]

    def pairs(self, n: int, *, serials: str | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The same ``n`` events twice: with codes as producers send them, and with every code canonical."""
        canonical = self._canonical_dicts(n, serials)
        return [self.speller.respell(d) for d in canonical], canonical

    def events(self, n: int, *, check_profile: bool | None = None) -> list[Event]:
        """``n`` validated events; with ``check_profile`` None, the profile is checked when profiles exist."""
        profile = self.profiles if check_profile is None else check_profile
        return [Event.from_dict(d, check_profile=profile) for d in self.dicts(n)]

    def by_product(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for name, template in self.templates:
            out.setdefault(name.split("/")[0], []).append(template)
        return out

    def vary(self, template: dict[str, Any], name: str = "") -> dict[str, Any]:
        return self._vary(name, template)

    def describe(self, sample: int = 2000) -> dict[str, Any]:
        """What the generated events look like: templates, products, canonical sizes, validation of a sample."""
        state = (self.rng.getstate(), self.serial_rng.getstate(), self.speller.rng.getstate(), self.serial, self.clock)
        drawn = dict(self.speller.drawn)
        dicts = self.dicts(sample)
        spellings = {k: v - drawn.get(k, 0) for k, v in self.speller.drawn.items() if v > drawn.get(k, 0)}
        sizes, invalid = [], 0
        for d in dicts:
            try:
                sizes.append(len(Event.from_dict(d, check_profile=self.profiles).canonical_bytes()))
            except TracechainError:
                invalid += 1
        self.rng.setstate(state[0])
        self.serial_rng.setstate(state[1])
        self.speller.rng.setstate(state[2])
        self.speller.drawn = drawn
        self.serial, self.clock = state[3], state[4]
        sizes.sort()
        return {
            "source": self.source,
            "templates": len(self.templates),
            "products": sorted({name.split("/")[0] for name, _ in self.templates}),
            "profiles_checked": self.profiles,
            "sample": sample,
            "sample_invalid": invalid,
            "canonical_bytes": {
                "min": sizes[0] if sizes else None,
                "median": statistics.median(sizes) if sizes else None,
                "p90": sizes[int(len(sizes) * 0.9)] if sizes else None,
                "max": sizes[-1] if sizes else None,
            },
            "trimmed": {name: {"before": b, "after": a} for name, (b, a) in sorted(self.trimmed.items())},
            "serials": self.serials,
            "random_serial_templates": sorted(name for name, _ in self.templates if self._random_serials(name)),
            "code_spellings": dict(sorted(spellings.items())),
        }
