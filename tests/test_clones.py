"""Clone detection: each of the four patterns gives SUSPECTED_CLONE through the verdict, ordinary scanning never
does (10,000 genuine single scans), and the thresholds do what the policy says."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.scanchain import CST, SHOP, START, Chain, build_chain
from tracechain import Ledger, scan
from tracechain.clones import ItemFacts, ScanPolicy, clone_reasons
from tracechain.errors import ValidationError
from tracechain.storage.scanlog import ScanRecord

YANGXI = (21.75, 111.62)
SHAOGUAN = (24.81, 113.60)  # 440203, about 300 km from Yangxi
AFTER = START + timedelta(days=6)  # case 0 is at the shop, the others at the distributor


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Chain:
    return build_chain(tmp_path_factory.mktemp("clones"))


def judge(chain: Chain, code: str, this: ScanRecord, earlier: tuple[ScanRecord, ...] = (), **kw: Any) -> scan.Verdict:
    with Ledger.open(chain.ledger, readonly=True) as led:
        return scan.verdict(chain.payload(code), led, issuers=chain.issuers, scan=this, scans=earlier, **kw)


def at(when: datetime, region: str = "441721", where: tuple[float, float] | None = None, **kw: Any) -> ScanRecord:
    lat, lon = where if where is not None else (None, None)
    return scan.new_scan(when, region, lat=lat, lon=lon, **kw)


def test_a_single_ordinary_scan_is_genuine(chain: Chain) -> None:
    code = chain.units[chain.cases[0]][3]
    result = judge(chain, code, at(AFTER, where=YANGXI, by="app-user-1"))
    assert result.verdict == scan.GENUINE, result.reasons


def test_scanned_as_a_first_sale_twice_is_a_clone_but_a_cashier_scanning_twice_is_not(chain: Chain) -> None:
    code = chain.units[chain.cases[0]][2]
    first = at(AFTER, by=SHOP["uscc"], first_sale=True)
    repeat = at(AFTER + timedelta(minutes=2), by=SHOP["uscc"], first_sale=True)
    assert judge(chain, code, repeat, (first,)).verdict == scan.GENUINE
    elsewhere = at(AFTER + timedelta(days=1), "441702", by="92441702MA0000000X", first_sale=True)
    result = judge(chain, code, elsewhere, (first, repeat))
    assert result.verdict == scan.SUSPECTED_CLONE
    (why,) = result.reasons_for(scan.SUSPECTED_CLONE)
    assert why.message.startswith("scanned as a first sale 2 times")


def test_scanned_before_it_was_shipped_is_a_clone(chain: Chain) -> None:
    code = chain.units[chain.cases[1]][0]
    early = at(START + timedelta(hours=12))  # still at the plant: shipped on day 1
    result = judge(chain, code, early, at=AFTER)
    assert result.verdict == scan.SUSPECTED_CLONE
    assert "scanned before it was first shipped (2026-03-02T00:00:00+00:00)" in result.reasons[-2].message
    # Within the clock allowance of the first shipment it is not.
    assert judge(chain, code, at(START + timedelta(hours=23, minutes=30))).verdict == scan.GENUINE


def test_scanned_in_a_region_its_lot_never_went_to_is_a_clone(chain: Chain) -> None:
    code = chain.units[chain.cases[1]][1]
    result = judge(chain, code, at(AFTER, "650102"))  # Urumqi; the lot went to Yangjiang only
    assert result.verdict == scan.SUSPECTED_CLONE
    assert "scanned in region 650102, where its lot was never shipped (it went to 440000)" in result.reasons[1].message
    assert judge(chain, code, at(AFTER, "440303")).verdict == scan.GENUINE  # Shenzhen: the same province
    stricter = ScanPolicy(region_digits=4)
    assert judge(chain, code, at(AFTER, "440303"), policy=stricter).verdict == scan.SUSPECTED_CLONE


def test_two_scans_too_far_apart_for_the_time_between_them_are_a_clone(chain: Chain) -> None:
    code = chain.units[chain.cases[1]][2]
    here = at(AFTER, "441721", YANGXI)
    there = at(AFTER + timedelta(minutes=10), "440203", SHAOGUAN)
    result = judge(chain, code, there, (here,))
    assert result.verdict == scan.SUSPECTED_CLONE
    assert "km apart 10 minutes apart" in result.reasons_for(scan.SUSPECTED_CLONE)[0].message
    by_train = at(AFTER + timedelta(hours=3), "440203", SHAOGUAN)  # 100 km/h
    assert judge(chain, code, by_train, (here,)).verdict == scan.GENUINE
    nearby = at(AFTER + timedelta(seconds=1), "441721", (21.80, 111.70))  # 10 km: GPS and town-sized noise
    assert judge(chain, code, nearby, (here,)).verdict == scan.GENUINE


def test_without_coordinates_two_provinces_within_the_window_are_too_far_apart() -> None:
    facts = ItemFacts(0, frozenset({"441721", "110101"}))
    guangdong = ScanRecord("c", 10_000_000, "+08:00", "441721", id=1)
    beijing = ScanRecord("c", 10_000_000 + 20 * 60_000_000, "+08:00", "110101", id=2)
    (found,) = clone_reasons([guangdong, beijing], facts)
    assert found.pattern == "too_far_apart" and found.scans == (guangdong, beijing)
    later = ScanRecord("c", 10_000_000 + 40 * 60_000_000, "+08:00", "110101", id=2)
    assert clone_reasons([guangdong, later], facts) == []
    same_province = ScanRecord("c", 10_000_001, "+08:00", "440303", id=3)
    assert clone_reasons([guangdong, same_province], ItemFacts(0, frozenset({"441721"}))) == []


def test_a_code_never_shipped_is_suspect_when_scanned_and_policies_are_validated() -> None:
    facts = ItemFacts(None, frozenset({"441700"}))
    (found,) = clone_reasons([ScanRecord("c", 5, "+08:00", "441700")], facts)
    assert found.pattern == "before_shipping" and "records no shipment" in found.message
    for bad in ({"region_digits": 3}, {"max_speed_kmh": 0}, {"sold_grace": timedelta(days=-1)}, {"clock_skew": 5}):
        with pytest.raises(ValidationError):
            ScanPolicy(**bad)


def test_ten_thousand_genuine_single_scans_give_no_suspected_clone(tmp_path: Path) -> None:
    """Each unit of a lot of 10,000 scanned once, somewhere in the province its cases went to, at some time
    after they arrived; a fifth at a till as a first sale, some with coordinates."""
    big = build_chain(tmp_path, units=10_000, per_case=100)
    rng = random.Random(20260301)
    regions = ["441721", "441702", "441781", "440103", "440303", "445102"]
    arrived = START + timedelta(days=1, hours=20)
    verdicts: dict[str, int] = {}
    with Ledger.open(big.ledger, readonly=True) as led:
        history = scan.LedgerHistory(led)  # one history for the batch: the lot's events are decoded once
        for code in big.codes():
            if code == big.sold:
                continue
            when = arrived + timedelta(minutes=rng.randrange(60 * 24 * 365))
            where = (21.0 + rng.random(), 111.0 + rng.random()) if rng.random() < 0.5 else None
            sale = rng.random() < 0.2
            this = at(when.astimezone(CST), rng.choice(regions), where, first_sale=sale, by=f"u{rng.randrange(99)}")
            result = scan.verdict(big.payload(code), history, issuers=big.issuers, scan=this)
            verdicts[result.verdict] = verdicts.get(result.verdict, 0) + 1
    assert verdicts == {scan.GENUINE: 9_999}
