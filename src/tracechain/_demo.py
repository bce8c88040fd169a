"""The end-to-end demo: a small infant-formula supply chain recorded, checkpointed, proved and verified.

A formula plant in Yangjiang, a county distributor and a village supermarket each hold their own key. The plant
commissions six lots of cans, tests each lot (one fails), packs cans into cases and ships them; the distributor
receives and ships on; the shop receives and sells. The failed lot is recalled and destroyed, as the county plan's
"100% handling of food failing inspection" demands. Then the operator signs a checkpoint, one can's events are
proved against it, and the whole ledger is verified against it.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tracechain.errors import StorageError, VerificationError
from tracechain.i18n import gettext as _
from tracechain.i18n import ngettext
from tracechain.identifiers import gtin_check_digit, uscc_check_char
from tracechain.keys import SigningKey
from tracechain.ledger import Ledger
from tracechain.verification import verify
from tracechain.words import step_word

__all__ = ["DEMO_ORIGIN", "run_demo"]

DEMO_ORIGIN = "demo.tracechain.example/yangxi-formula"
DEMO_PASSWORD_ENV = "TRACECHAIN_PASSWORD"
_MARKER = ".tracechain-demo"
_TZ = "+08:00"

LOTS = 6
CANS_PER_LOT = 60
CANS_PER_CASE = 6
CANS_SOLD_PER_LOT = 36
FAILED_LOT = 2


def _uscc(first17: str) -> str:
    return first17 + uscc_check_char(first17)


def _gs1(data: str) -> str:
    return data + str(gtin_check_digit(data))


OPERATOR = _uscc("11441721MB2C03456")  # the county market-supervision bureau runs the ledger
PLANT = {"uscc": _uscc("91441700MA4UH2LX5"), "name": "广东南岭乳业有限公司", "gln": _gs1("690321500001")}
DISTRIBUTOR = {
    "uscc": _uscc("91441721MA5CTW2J8"),
    "name": "阳西县惠民食品批发有限公司",
    "gln": _gs1("690911100002"),
}
SHOP = {"uscc": _uscc("92441721MA5DKL3H1"), "name": "阳西县织篢镇好日子超市", "gln": _gs1("690911100019")}
GTIN = _gs1("0690321512345")


def _can(lot: int, n: int) -> str:
    return f"https://id.gs1.org/01/{GTIN}/21/L{lot}C{n:04d}"


def _case(lot: int, n: int) -> str:
    return f"https://id.gs1.org/00/{_gs1(f'06903215{lot:02d}{n:07d}')}"


def _lot_code(lot: int) -> str:
    return f"NL2603{lot:02d}A"


def _place(party: dict[str, str]) -> dict[str, Any]:
    return {"id": f"https://id.gs1.org/414/{party['gln']}"}


class _Chain:
    """Builds the events of one lot in time order."""

    def __init__(self, lot: int) -> None:
        self.lot = lot
        self.clock = datetime(2026, 3, 1, 8, 0) + timedelta(days=lot)

    def event(
        self, party: dict[str, str], step: str, disposition: str, kde: dict[str, Any], **fields: Any
    ) -> dict[str, Any]:
        self.clock += timedelta(minutes=7)
        event: dict[str, Any] = {
            "type": "ObjectEvent",
            "action": "OBSERVE",
            "eventTime": self.clock.strftime("%Y-%m-%dT%H:%M:%S") + _TZ,
            "eventTimeZoneOffset": _TZ,
            "bizStep": step,
            "disposition": disposition,
            "readPoint": _place(party),
            "bizLocation": _place(party),
            "tc:product": "infant_formula",
            "tc:kde": {
                "enterprise_uscc": party["uscc"],
                "enterprise_name": party["name"],
                "lot": _lot_code(self.lot),
                **kde,
            },
        }
        event.update(fields)
        return event

    def commissioning(self) -> list[dict[str, Any]]:
        made = self.clock.date()
        kde = {
            "product_name": "南岭金装较大婴儿配方奶粉（2段）800克",
            "production_date": made.isoformat(),
            "expiry_date": (made + timedelta(days=729)).isoformat(),
            "gtin": GTIN,
            "sc_licence": "SC12944170000128",
            "formula_registration_number": "国食注字YP20180027",
            "product_category": "older_infant",
            "specification": "800克/罐",
            "product_standard": "GB 10766-2021",
        }
        cans = [_can(self.lot, n) for n in range(CANS_PER_LOT)]
        return [
            self.event(PLANT, "commissioning", "active", kde, action="ADD", epcList=cans[i : i + 12])
            for i in range(0, CANS_PER_LOT, 12)
        ]

    def inspection(self, passed: bool) -> dict[str, Any]:
        result = "conformant" if passed else "non_conformant"
        kde: dict[str, Any] = {
            "inspection_result": result,
            "inspection_kind": "factory_release",
            "testing_body": "广东南岭乳业有限公司质检中心",
            "report_number": f"QC-{_lot_code(self.lot)}",
        }
        if not passed:
            kde["failed_items"] = ["阪崎肠杆菌"]
        return self.event(PLANT, "inspecting", result, kde, epcList=[_can(self.lot, 0), _can(self.lot, 1)])

    def packing(self) -> list[dict[str, Any]]:
        events = []
        for case in range(CANS_PER_LOT // CANS_PER_CASE):
            children = [_can(self.lot, case * CANS_PER_CASE + i) for i in range(CANS_PER_CASE)]
            events.append(
                self.event(
                    PLANT,
                    "packing",
                    "in_progress",
                    {},
                    type="AggregationEvent",
                    action="ADD",
                    parentID=_case(self.lot, case),
                    childEPCs=children,
                )
            )
        return events

    def move(
        self, sender: dict[str, str], receiver: dict[str, str], cases: list[str], note: str
    ) -> list[dict[str, Any]]:
        route = {
            "sourceList": [{"type": "owning_party", "source": f"https://id.gs1.org/417/{sender['gln']}"}],
            "destinationList": [{"type": "owning_party", "destination": f"https://id.gs1.org/417/{receiver['gln']}"}],
        }
        shipped = self.event(
            sender,
            "shipping",
            "in_transit",
            {"receiver_uscc": receiver["uscc"], "receiver_name": receiver["name"], "delivery_note": note},
            epcList=cases,
            **route,
        )
        self.clock += timedelta(hours=20)
        received = self.event(
            receiver,
            "receiving",
            "in_progress",
            {"supplier_uscc": sender["uscc"], "supplier_name": sender["name"], "delivery_note": note},
            epcList=cases,
            **route,
        )
        return [shipped, received]

    def sales(self) -> list[dict[str, Any]]:
        return [
            self.event(SHOP, "retail_selling", "retail_sold", {}, epcList=[_can(self.lot, n)])
            for n in range(CANS_SOLD_PER_LOT)
        ]

    def recall_and_destroy(self) -> list[dict[str, Any]]:
        lot_class = f"https://id.gs1.org/01/{GTIN}/10/{_lot_code(self.lot)}"
        recall = self.event(
            PLANT,
            "holding",
            "recalled",
            {
                "recall_reason": "出厂检验阪崎肠杆菌不合格，主动召回",
                "recall_notice": f"ZH-{_lot_code(self.lot)}",
                "recall_level": "1",
            },
            quantityList=[{"epcClass": lot_class, "quantity": CANS_PER_LOT}],
        )
        destroy = self.event(
            PLANT,
            "destroying",
            "destroyed",
            {"destruction_method": "焚烧", "destruction_supervisor": "阳西县市场监督管理局"},
            action="DELETE",
            quantityList=[{"epcClass": lot_class, "quantity": CANS_PER_LOT}],
        )
        return [recall, destroy]


def _prepare(directory: Path) -> None:
    if directory.exists():
        if not (directory / _MARKER).exists() and any(directory.iterdir()):
            raise StorageError(f"{directory} exists and is not an earlier demo folder; choose another --dir")
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    (directory / _MARKER).write_text("made by `tracechain demo`; safe to delete\n")


def run_demo(directory: Path, program: str = "tracechain") -> Iterator[str]:
    """Run the demo in ``directory`` (replacing an earlier demo there), yielding lines that say what happened, in the
    current language; the last lines are commands to try next, spelled with ``program`` (how this shell runs
    tracechain) so that they run as printed."""
    _prepare(directory)
    password = os.environ.get(DEMO_PASSWORD_ENV) or "demo password: use a long random one in real life"
    keys = {
        "operator": SigningKey.generate(DEMO_ORIGIN),
        "plant": SigningKey.generate("plant.nanling-dairy.example.cn"),
        "distributor": SigningKey.generate("wholesale.huimin.example.cn"),
        "shop": SigningKey.generate("shop.haorizi.example.cn"),
    }
    for role, key in keys.items():
        key.save(directory / f"{role}.key", password)
    yield _("keys: 4 Ed25519 keys saved encrypted (mode 0600) in {folder}/").format(folder=directory)

    path = directory / "ledger.db"
    with Ledger.create(str(path), DEMO_ORIGIN, keys["operator"], OPERATOR) as ledger:
        for role, party in (("plant", PLANT), ("distributor", DISTRIBUTOR), ("shop", SHOP)):
            ledger.register(keys[role].verifier, party["uscc"], keys["operator"])
        yield _("ledger: {path} (origin {origin}); plant, distributor and shop keys registered by the operator").format(
            path=path, origin=DEMO_ORIGIN
        )

        counts = {"plant": 0, "distributor": 0, "shop": 0}
        for lot in range(LOTS):
            chain = _Chain(lot)
            passed = lot != FAILED_LOT
            plant_events = [*chain.commissioning(), chain.inspection(passed), *chain.packing()]
            cases = [_case(lot, c) for c in range(CANS_PER_LOT // CANS_PER_CASE)]
            if passed:
                to_distributor = chain.move(PLANT, DISTRIBUTOR, cases, f"FH2603{lot:02d}-01")
                plant_events.append(to_distributor[0])
                ledger.append_many(plant_events, keys["plant"])
                to_shop = chain.move(DISTRIBUTOR, SHOP, cases[: CANS_SOLD_PER_LOT // CANS_PER_CASE], f"PS2603{lot:02d}")
                ledger.append_many([to_distributor[1], to_shop[0]], keys["distributor"])
                ledger.append_many([to_shop[1], *chain.sales()], keys["shop"])
                counts["distributor"] += 2
                counts["shop"] += 1 + CANS_SOLD_PER_LOT
            else:
                plant_events += chain.recall_and_destroy()
                ledger.append_many(plant_events, keys["plant"])
            counts["plant"] += len(plant_events)
        total = sum(counts.values())
        yield _(
            "events: {total} recorded in signed batches — plant {plant}, distributor {distributor}, shop {shop};"
            " lot {lot} failed inspection, was recalled and destroyed"
        ).format(total=total, lot=_lot_code(FAILED_LOT), **counts)

        note = ledger.checkpoint(keys["operator"])
        (directory / "checkpoint.txt").write_text(note)
        root = ledger.root().hex()
        yield _("checkpoint: size {size}, root {root}…, signed by the operator → checkpoint.txt").format(
            size=ledger.size, root=root[:16]
        )

        can = _can(0, 3)
        timeline = list(ledger.entries(can))
        for entry in timeline:
            ledger.prove_inclusion(entry.index).verify()
        steps = " → ".join(step_word(e.event.data.get("bizStep")) for e in timeline if e.event is not None)
        yield ngettext(
            "proof: can {can} has {count} event ({steps}), proved in the checkpointed tree",
            "proof: can {can} has {count} events ({steps}), each proved in the checkpointed tree",
            len(timeline),
        ).format(can=can, count=len(timeline), steps=steps)
        size = ledger.size

    report = verify(path, [note])
    verdict = _("intact") if report.ok else _("FAILED at entry {index}").format(index=report.first_bad_index)
    yield _(
        "verify: {verdict} — {size} of {total} entries, {signatures} batch signatures, {checks} checkpoint checks"
    ).format(
        verdict=verdict,
        size=report.size,
        total=size,
        signatures=report.signatures_checked,
        checks=report.checkpoints_checked,
    )
    if not report.ok:
        for problem in report.problems[:5]:
            yield "  " + _("entry {index}: {message}").format(index=problem.index, message=problem.message)
        raise VerificationError("the demo ledger failed verification", report)
    ledger_arg = shlex.quote(str(path))
    yield _("try:")
    yield f"  {program} log {ledger_arg} --code {shlex.quote(can)}"
    yield f"  {program} log {ledger_arg} --lot {_lot_code(FAILED_LOT)}"
    yield f"  {program} verify {ledger_arg} --checkpoint {shlex.quote(str(directory / 'checkpoint.txt'))}"
