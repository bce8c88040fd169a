"""A small formula supply chain for the scan tests: a brand issues a lot of signed labels, the plant commissions
and tests the cans, packs them into cases and ships them to a county distributor, which ships some on to a shop,
which sells one. Every party has its own key; the operator signs a checkpoint at the end."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tracechain import Ledger, SigningKey, issuing
from tracechain.identifiers import gtin_check_digit, uscc_check_char

ORIGIN = "scan.tracechain.example/formula"
CST = timezone(timedelta(hours=8))
START = datetime(2026, 3, 1, 8, 0, tzinfo=CST)
EXPIRY = date(2028, 2, 28)
LOT = "NL260301A"


def uscc(first17: str) -> str:
    return first17 + uscc_check_char(first17)


def gs1(data: str) -> str:
    return data + str(gtin_check_digit(data))


OPERATOR = uscc("11441721MB2C03456")
PLANT = {"uscc": uscc("91441700MA4UH2LX5"), "name": "广东南岭乳业有限公司", "gln": gs1("690321500001")}
DISTRIBUTOR = {"uscc": uscc("91441721MA5CTW2J8"), "name": "阳西县惠民食品批发有限公司", "gln": gs1("690911100002")}
SHOP = {"uscc": uscc("92441721MA5DKL3H1"), "name": "阳西县好日子超市", "gln": gs1("690911100019")}
GTIN = gs1("0690321512345")  # GTIN-13 6903215123457: company prefix 6903215
OTHER_GTIN = gs1("0691234500001")  # another brand's product (prefix 6912345)
KDE = {
    "enterprise_uscc": PLANT["uscc"],
    "enterprise_name": PLANT["name"],
    "product_name": "南岭金装较大婴儿配方奶粉（2段）800克",
    "sc_licence": "SC12944170000128",
    "formula_registration_number": "国食注字YP20180027",
}


def sscc(n: int) -> str:
    return f"https://id.gs1.org/00/{gs1(f'069032150{n:08d}')}"


def lot_class(lot: str = LOT) -> str:
    return f"https://id.gs1.org/01/{GTIN}/10/{lot}"


def event(
    party: dict[str, str], step: str, disposition: str, when: datetime, kde: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    """An infant formula event recorded by ``party`` at ``when``."""
    out: dict[str, Any] = {
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "eventTime": when.isoformat(),
        "eventTimeZoneOffset": "+08:00",
        "bizStep": step,
        "disposition": disposition,
        "readPoint": {"id": f"https://id.gs1.org/414/{party['gln']}"},
        "tc:product": "infant_formula",
        "tc:kde": {"enterprise_uscc": party["uscc"], "enterprise_name": party["name"], **kde},
    }
    out.update(fields)
    return out


def packing(when: datetime, case: str, units: list[str], action: str = "ADD") -> dict[str, Any]:
    return event(
        PLANT,
        "packing",
        "in_progress",
        when,
        {},
        type="AggregationEvent",
        action=action,
        parentID=case,
        childEPCs=units,
    )


def shipping(
    sender: dict[str, str], receiver: dict[str, str], when: datetime, codes: list[str]
) -> list[dict[str, Any]]:
    """The sender's shipping event and, 20 hours later, the receiver's receiving event."""
    shipped = event(
        sender,
        "shipping",
        "in_transit",
        when,
        {"lot": LOT, "receiver_uscc": receiver["uscc"], "receiver_name": receiver["name"]},
        epcList=codes,
    )
    received = event(
        receiver,
        "receiving",
        "in_progress",
        when + timedelta(hours=20),
        {"lot": LOT, "supplier_uscc": sender["uscc"], "supplier_name": sender["name"]},
        epcList=codes,
    )
    return [shipped, received]


def recall(when: datetime, **fields: Any) -> dict[str, Any]:
    kde = {"lot": LOT, "recall_reason": "阪崎肠杆菌不合格", "recall_level": "1"}
    return event(PLANT, "holding", "recalled", when, kde, **fields)


def sale(when: datetime, code: str) -> dict[str, Any]:
    return event(SHOP, "retail_selling", "retail_sold", when, {"lot": LOT}, epcList=[code])


@dataclass
class Chain:
    """The ledger and everything a test needs to scan its labels."""

    folder: Path
    ledger: Path
    operator: SigningKey
    keys: dict[str, SigningKey]
    brand: SigningKey
    issued: issuing.IssuedLot
    cases: list[str]
    units: dict[str, list[str]] = field(default_factory=dict)  # case → unit codes
    sold: str = ""

    @property
    def issuers(self) -> dict[str, str]:
        return {"6903215": self.brand.verifier}

    def payload(self, code: str) -> str:
        return next(label.payload for label in self.issued.labels if label.code == code)

    def codes(self) -> list[str]:
        return [label.code for label in self.issued.labels]

    def append(self, events: list[dict[str, Any]], party: str, *, checkpoint: bool = True) -> None:
        with Ledger.open(self.ledger) as led:
            led.append_many(events, self.keys[party])
            if checkpoint:
                led.checkpoint(self.operator)


def build_chain(folder: Path, *, units: int = 12, per_case: int = 6, images: str | None = None) -> Chain:
    """Issue ``units`` labels, record the chain (the first case shipped on to the shop, its first can sold on
    2026-03-10) and sign a checkpoint."""
    operator = SigningKey.generate(ORIGIN)
    keys = {
        "plant": SigningKey.generate("plant.nanling.example.cn"),
        "distributor": SigningKey.generate("wholesale.huimin.example.cn"),
        "shop": SigningKey.generate("shop.haorizi.example.cn"),
    }
    brand = SigningKey.generate("brand.nanling.example.cn")
    issued = issuing.issue_lot(
        GTIN,
        LOT,
        units,
        brand,
        product="infant_formula",
        kde=KDE,
        location=f"https://id.gs1.org/414/{PLANT['gln']}",
        out_dir=folder / "lot",
        when=START,
        production=date(2026, 3, 1),
        expiry=EXPIRY,
        resolver="qr.nanling.example.cn",
        image_format=images,
        workers=1,
    )
    path = folder / "ledger.db"
    codes = [label.code for label in issued.labels]
    cases = [sscc(n) for n in range((units + per_case - 1) // per_case)]
    chain = Chain(folder, path, operator, keys, brand, issued, cases)
    with Ledger.create(path, ORIGIN, operator, OPERATOR) as led:
        for name, party in (("plant", PLANT), ("distributor", DISTRIBUTOR), ("shop", SHOP)):
            led.register(keys[name].verifier, party["uscc"], operator)
        commissioning = [json.loads(line) for line in issued.events_path.read_text().splitlines()]
        inspection = event(
            PLANT,
            "inspecting",
            "conformant",
            START + timedelta(hours=2),
            {
                "lot": LOT,
                "inspection_result": "conformant",
                "inspection_kind": "factory_release",
                "testing_body": "广东南岭乳业有限公司质检中心",
                "report_number": "QC-NL260301A",
            },
            epcList=codes[:2],
        )
        packs = []
        for n, case in enumerate(cases):
            chain.units[case] = codes[n * per_case : (n + 1) * per_case]
            packs.append(packing(START + timedelta(hours=3, minutes=n), case, chain.units[case]))
        out = shipping(PLANT, DISTRIBUTOR, START + timedelta(days=1), cases)
        led.append_many([*commissioning, inspection, *packs, out[0]], keys["plant"])
        on = shipping(DISTRIBUTOR, SHOP, START + timedelta(days=3), cases[:1])
        led.append_many([out[1], on[0]], keys["distributor"])
        chain.sold = chain.units[cases[0]][0]
        led.append_many([on[1], sale(START + timedelta(days=9), chain.sold)], keys["shop"])
        led.checkpoint(operator)
    return chain
