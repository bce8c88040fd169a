"""A generated supply chain in three ledgers: farms → formula plant → distributors → shops.

Farms commission raw milk and whey lots and ship them to the plant; the plant transforms them into formula batches
(one transformation split over two events sharing a transformationID), commissions serialised cans of each batch,
packs cans into cases (one case mixes two batches) and cases onto pallets, and ships the pallets to two
distributors, who unpack them and ship cases to shops, which unpack, sell and destroy cans. The farms record in
one ledger, the plant in another, distributors and shops in a third, each actor with its own key.

Which raw lot went into which batch, and which can went into which case, is known here by construction, so the
tests compare what a trace finds with the sets this module says, not with counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracechain import Ledger, SigningKey
from tracechain.identifiers import gtin_check_digit, uscc_check_char

MILK_GTIN = "06903215000183"
WHEY_GTIN = "06903215000251"
FORMULA_GTIN = "06903215123455"
PLANT_SC = "SC12944170000128"


def uscc(body: str) -> str:
    return body + uscc_check_char(body)


def gln(body12: str) -> str:
    return f"https://id.gs1.org/414/{body12}{gtin_check_digit(body12)}"


def sscc(n: int) -> str:
    body = f"069032150{n:08d}"
    return f"https://id.gs1.org/00/{body}{gtin_check_digit(body)}"


def lot(gtin: str, number: str) -> str:
    return f"https://id.gs1.org/01/{gtin}/10/{number}"


def can(batch: str, i: int) -> str:
    return f"https://id.gs1.org/01/{FORMULA_GTIN}/21/{batch}C{i:03d}"


@dataclass(frozen=True)
class Actor:
    key: str  # a short name used in the scenario
    uscc: str
    name: str
    gln: str
    ledger: str


ACTORS = {
    a.key: a
    for a in (
        Actor("F1", uscc("91441721MA4FARM01"), "阳西县一号牧场", gln("690321500101"), "farms"),
        Actor("F2", uscc("91441721MA4FARM02"), "阳西县二号牧场", gln("690321500102"), "farms"),
        Actor("F3", uscc("91441721MA4FARM03"), "阳西县三号牧场", gln("690321500103"), "farms"),
        Actor("PLANT", uscc("91441700MA4UH2LX5"), "广东南岭乳业有限公司", gln("690321500001"), "plant"),
        Actor("D1", uscc("91441721MA5CTW2J8"), "阳西县惠民食品批发有限公司", gln("690911100002"), "trade"),
        Actor("D2", uscc("91441721MA5CTW2K9"), "阳江市粤西食品配送有限公司", gln("690911100003"), "trade"),
        Actor("S1", uscc("92441721MA5DKL3H1"), "阳西县好日子超市", gln("690911100019"), "trade"),
        Actor("S2", uscc("92441721MA5DKL3H2"), "阳西县母婴用品店", gln("690911100020"), "trade"),
        Actor("S3", uscc("92441721MA5DKL3H3"), "阳西县便民商店", gln("690911100021"), "trade"),
    )
}
LEDGERS = ("farms", "plant", "trade")

RAW_LOTS = {f"RM{i}": ("F1" if i <= 2 else "F2" if i <= 4 else "F3") for i in range(1, 6)}
# batch → the raw lots (by number) that went into it
BATCH_INPUTS = {"B1": ["RM1", "RM2"], "B2": ["RM2", "RM3"], "B3": ["RM4"], "B4": ["RM5", "WP1"]}
CANS_PER_BATCH = 8
CASES = {
    "C1": [("B1", i) for i in range(4)],
    "C2": [("B1", i) for i in range(4, 8)],
    "C3": [("B2", i) for i in range(4)],
    "C4": [("B2", i) for i in range(4, 8)] + [("B3", 0), ("B3", 1)],  # a mixed case
    "C5": [("B3", i) for i in range(2, 8)],
    "C6": [("B4", i) for i in range(4)],
    "C7": [("B4", i) for i in range(4, 8)],
}
PALLETS = {"P1": ["C1", "C2", "C3"], "P2": ["C4", "C5"], "P3": ["C6", "C7"]}
CONTAINERS = {name: sscc(n) for n, name in enumerate([*CASES, *PALLETS], start=1)}


def raw_lot(number: str) -> str:
    return lot(WHEY_GTIN if number.startswith("WP") else MILK_GTIN, number)


def cans_of(batch: str) -> set[str]:
    return {can(batch, i) for i in range(CANS_PER_BATCH)}


def time(day: int, minute: int = 0) -> str:
    return f"2026-03-{day:02d}T{8 + minute // 60:02d}:{minute % 60:02d}:00+08:00"


@dataclass
class Chain:
    """The ledgers (in LEDGERS order), the keys of every actor, and what was recorded where."""

    folder: Path
    operator: dict[str, SigningKey] = field(default_factory=dict)
    keys: dict[str, SigningKey] = field(default_factory=dict)
    recorded: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {name: [] for name in LEDGERS})

    def path(self, ledger: str) -> Path:
        return self.folder / f"{ledger}.db"

    @property
    def paths(self) -> list[Path]:
        return [self.path(name) for name in LEDGERS]

    def record(self, actor: str, events: list[dict[str, Any]]) -> list[int]:
        """Append events as ``actor`` to its ledger; returns their entry indexes."""
        who = ACTORS[actor]
        with Ledger.open(self.path(who.ledger)) as ledger:
            receipt = ledger.append_many(events, self.keys[actor])
        self.recorded[who.ledger].extend(events)
        return list(range(receipt.first, receipt.first + receipt.count))


def event(
    actor: str, kind: str, when: str, product: str = "infant_formula", kde: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    who = ACTORS[actor]
    out: dict[str, Any] = {
        "type": kind,
        "eventTime": when,
        "eventTimeZoneOffset": "+08:00",
        "readPoint": {"id": who.gln},
        "bizLocation": {"id": who.gln},
        "tc:product": product,
        "tc:kde": {"enterprise_uscc": who.uscc, "enterprise_name": who.name, **(kde or {})},
        **fields,
    }
    return out


def master(number: str, product: str = "infant_formula") -> dict[str, Any]:
    if product == "food":
        return {
            "lot": number,
            "product_name": "生牛乳" if number.startswith("RM") else "浓缩乳清蛋白",
            "production_date": "2026-03-01",
            "expiry_date": "2026-03-06",
            "sc_licence": "SC10644172100015",
        }
    return {
        "lot": number,
        "product_name": "南岭金装较大婴儿配方奶粉（2段）800克",
        "production_date": "2026-03-03",
        "expiry_date": "2028-03-02",
        "sc_licence": PLANT_SC,
        "formula_registration_number": "国食注字YP20180027",
    }


def ship(actor: str, to: str, when: str, codes: list[str], number: str, **extra: Any) -> dict[str, Any]:
    receiver = ACTORS[to]
    return event(
        actor,
        "ObjectEvent",
        when,
        action="OBSERVE",
        bizStep="shipping",
        disposition="in_transit",
        epcList=codes,
        destinationList=[{"type": "location", "destination": receiver.gln}],
        kde={"lot": number, "receiver_uscc": receiver.uscc, "receiver_name": receiver.name, **extra},
    )


def receive(actor: str, source: str, when: str, codes: list[str], number: str) -> dict[str, Any]:
    supplier = ACTORS[source]
    return event(
        actor,
        "ObjectEvent",
        when,
        action="OBSERVE",
        bizStep="receiving",
        disposition="in_progress",
        epcList=codes,
        kde={"lot": number, "supplier_uscc": supplier.uscc, "supplier_name": supplier.name},
    )


def pack(actor: str, when: str, parent: str, children: list[str]) -> dict[str, Any]:
    return event(
        actor,
        "AggregationEvent",
        when,
        action="ADD",
        bizStep="packing",
        disposition="in_progress",
        parentID=parent,
        childEPCs=children,
    )


def unpack(actor: str, when: str, parent: str, children: list[str] | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {"parentID": parent}
    if children is not None:
        fields["childEPCs"] = children
    return event(actor, "AggregationEvent", when, action="DELETE", bizStep="unpacking", **fields)


def build(folder: Path) -> Chain:
    """Make the three ledgers and record the whole scenario."""
    chain = Chain(folder)
    for name in LEDGERS:
        origin = f"{name}.ledger.example.cn/formula"
        chain.operator[name] = SigningKey.generate(origin)
        with Ledger.create(chain.path(name), origin, chain.operator[name], uscc("91441700MA4PERA0" + str(len(name)))):
            pass
    for actor in ACTORS.values():
        chain.keys[actor.key] = key = SigningKey.generate(f"{actor.key.lower()}.example.cn")
        with Ledger.open(chain.path(actor.ledger)) as ledger:
            ledger.register(key.verifier, actor.uscc, chain.operator[actor.ledger])
    _farms(chain)
    _plant(chain)
    _trade(chain)
    return chain


def _farms(chain: Chain) -> None:
    for number, farm in [*RAW_LOTS.items(), ("WP1", "F3")]:
        gtin = WHEY_GTIN if number.startswith("WP") else MILK_GTIN
        quantity = {"epcClass": lot(gtin, number), "quantity": 5000, "uom": "LTR" if gtin == MILK_GTIN else "KGM"}
        commission = event(
            farm,
            "ObjectEvent",
            time(1),
            "food",
            master(number, "food"),
            action="ADD",
            bizStep="commissioning",
            disposition="active",
            quantityList=[quantity],
        )
        shipping = ship(farm, "PLANT", time(1, 120), [], number)
        del shipping["epcList"]
        shipping["tc:product"] = "food"
        shipping["quantityList"] = [quantity]
        chain.record(farm, [commission, shipping])
        receiving = receive("PLANT", farm, time(2), [], number)
        del receiving["epcList"]
        receiving["tc:product"] = "food"
        receiving["quantityList"] = [quantity]
        chain.record("PLANT", [receiving])


def _plant(chain: Chain) -> None:
    events = []
    for batch, inputs in BATCH_INPUTS.items():
        used = [
            {"epcClass": raw_lot(n), "quantity": 2500, "uom": "KGM" if n.startswith("WP") else "LTR"} for n in inputs
        ]
        made = [{"epcClass": lot(FORMULA_GTIN, batch), "quantity": CANS_PER_BATCH}]
        base = {"bizStep": "commissioning", "disposition": "active"}
        if batch == "B2":  # inputs and outputs in two events joined by their transformationID
            ident = "urn:uuid:6f1c2a80-formula-b2"
            events.append(
                event(
                    "PLANT",
                    "TransformationEvent",
                    time(3),
                    kde=master(batch),
                    inputQuantityList=used,
                    transformationID=ident,
                    **base,
                )
            )
            events.append(
                event(
                    "PLANT",
                    "TransformationEvent",
                    time(3, 30),
                    kde=master(batch),
                    outputQuantityList=made,
                    transformationID=ident,
                    **base,
                )
            )
        else:
            events.append(
                event(
                    "PLANT",
                    "TransformationEvent",
                    time(3),
                    kde=master(batch),
                    inputQuantityList=used,
                    outputQuantityList=made,
                    **base,
                )
            )
        events.append(
            event(
                "PLANT",
                "ObjectEvent",
                time(3, 60),
                kde=master(batch),
                action="ADD",
                bizStep="commissioning",
                disposition="active",
                epcList=sorted(cans_of(batch)),
            )
        )
    for case, cans in CASES.items():
        events.append(pack("PLANT", time(3, 120), CONTAINERS[case], [can(b, i) for b, i in cans]))
    for pallet, cases in PALLETS.items():
        events.append(pack("PLANT", time(3, 180), CONTAINERS[pallet], [CONTAINERS[c] for c in cases]))
    events.append(ship("PLANT", "D1", time(4), [CONTAINERS["P1"]], "B1"))
    events.append(ship("PLANT", "D2", time(4), [CONTAINERS["P2"]], "B2"))
    events.append(ship("PLANT", "D1", time(4), [CONTAINERS["P3"]], "B4"))
    chain.record("PLANT", events)


def _trade(chain: Chain) -> None:
    c = CONTAINERS
    chain.record("D1", [receive("D1", "PLANT", time(5), [c["P1"], c["P3"]], "B1")])
    chain.record("D2", [receive("D2", "PLANT", time(5), [c["P2"]], "B2")])
    chain.record(
        "D1",
        [
            unpack("D1", time(6), c["P1"]),  # naming no children: every case comes out
            ship("D1", "S1", time(6, 60), [c["C1"]], "B1"),
            ship("D1", "S2", time(6, 60), [c["C2"]], "B1"),
        ],
    )
    chain.record("D2", [unpack("D2", time(6), c["P2"], [c["C4"]]), ship("D2", "S3", time(6, 60), [c["C4"]], "B2")])
    chain.record(
        "S1",
        [
            receive("S1", "D1", time(7), [c["C1"]], "B1"),
            unpack("S1", time(7, 30), c["C1"], [can("B1", i) for i in range(4)]),
            sell("S1", time(7, 120), [can("B1", 0), can("B1", 1)], "B1"),
        ],
    )
    chain.record(
        "S3",
        [
            receive("S3", "D2", time(7), [c["C4"]], "B2"),
            unpack("S3", time(7, 30), c["C4"]),
            sell("S3", time(7, 120), [can("B2", 4)], "B2"),
            destroy("S3", time(7, 180), [can("B3", 0)], "B3"),
        ],
    )


def sell(actor: str, when: str, codes: list[str], number: str) -> dict[str, Any]:
    return event(
        actor,
        "ObjectEvent",
        when,
        action="OBSERVE",
        bizStep="retail_selling",
        disposition="retail_sold",
        epcList=codes,
        kde={"lot": number},
    )


def destroy(actor: str, when: str, codes: list[str], number: str) -> dict[str, Any]:
    return event(
        actor,
        "ObjectEvent",
        when,
        action="DELETE",
        bizStep="destroying",
        disposition="destroyed",
        epcList=codes,
        kde={"lot": number, "destruction_method": "焚烧"},
    )
