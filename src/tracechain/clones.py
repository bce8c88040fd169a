"""Clone detection: when the scans of one code show that more than one label carries it.

A copied label verifies like the original, so a copy is found only by where and when the code turns up. Four
patterns, each with thresholds in `ScanPolicy`:

- **sold twice**: scanned as a first sale more than once (repeats at the same till within ``repeat_window`` are
  one sale: a cashier scanning twice is not a clone);
- **before shipping**: scanned earlier than the first shipment of the item, its case or pallet, or its lot (less
  ``clock_skew`` for clocks and late records) — or scanned while the ledger records no shipment at all;
- **outside the lot's regions**: scanned in a region (compared on the first ``region_digits`` digits) that none of
  the enterprises which held the item, its containers or its lot is registered in, nor any receiver they shipped
  it to;
- **too far apart**: two consecutive scans whose distance needs more than ``max_speed_kmh`` (with coordinates,
  beyond ``min_distance_km`` of GPS and city-size noise), or, for scans without coordinates, in two provinces
  within ``province_window``.

The functions here are pure: scans and the facts the ledger gives in, reasons out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from typing import Final

from tracechain.errors import ValidationError
from tracechain.places import Place, distance_km, same_region
from tracechain.storage.scanlog import ScanRecord

__all__ = ["DEFAULT_POLICY", "CloneReason", "ItemFacts", "ScanPolicy", "clone_reasons", "describe_scan"]

_MICROS_PER_HOUR: Final = 3_600_000_000
_ZONE: Final = re.compile(r"([+-])([01][0-9]):([0-5][0-9])")


@dataclass(frozen=True, slots=True)
class ScanPolicy:
    """The thresholds of the scan verdict; the defaults are chosen so that ordinary use never looks like a clone.

    - ``sold_grace`` (14 days): a scan this soon after the ledger's record of the item's retail sale is the
      buyer's own (an 800 g can of formula lasts an infant about a week); later, the code should be out of
      circulation.
    - ``clock_skew`` (1 hour): how much earlier than the first recorded shipment a scan may be and still count as
      after it (phone clocks, and shipping records made at the end of a shift).
    - ``region_digits`` (2): how much of a region code must match a region the lot went to — 2 is the province,
      4 the city, 6 the county. Goods travel with their buyers and enterprises are registered where their head
      office is, so the province is the finest level that does not flag ordinary trade.
    - ``max_speed_kmh`` (900): faster than an airliner between two scans with coordinates is two labels.
    - ``min_distance_km`` (50): scans closer than this are never too far apart (GPS error; one city).
    - ``province_window`` (30 minutes): without coordinates, two provinces this close in time are too far apart.
    - ``repeat_window`` (10 minutes): first-sale scans by the same scanner in the same region this close together
      are one sale.
    """

    sold_grace: timedelta = timedelta(days=14)
    clock_skew: timedelta = timedelta(hours=1)
    region_digits: int = 2
    max_speed_kmh: float = 900.0
    min_distance_km: float = 50.0
    province_window: timedelta = timedelta(minutes=30)
    repeat_window: timedelta = timedelta(minutes=10)

    def __post_init__(self) -> None:
        if self.region_digits not in (2, 4, 6):
            raise ValidationError(f"scan policy region_digits: expected 2, 4 or 6, found {self.region_digits!r}")
        for name in ("sold_grace", "clock_skew", "province_window", "repeat_window"):
            value = getattr(self, name)
            if not isinstance(value, timedelta) or value < timedelta(0):
                raise ValidationError(f"scan policy {name}: expected a timedelta of 0 or more, found {value!r}")
        for name in ("max_speed_kmh", "min_distance_km"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValidationError(f"scan policy {name}: expected a positive number, found {value!r}")


DEFAULT_POLICY: Final = ScanPolicy()


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What the ledger says about where an item may turn up: when it (its container, its lot) was first shipped,
    in microseconds, or None if never; and the regions of the enterprises that held it and of their receivers."""

    first_shipped: int | None
    regions: frozenset[str]


@dataclass(frozen=True, slots=True)
class CloneReason:
    """One pattern found: which (``pattern``: sold_twice, before_shipping, outside_regions, too_far_apart), a
    sentence for people, and the scans that show it."""

    pattern: str
    message: str
    scans: tuple[ScanRecord, ...]


def _micros(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _when(micros: int, zone: str = "+00:00") -> str:
    """A time for people, at the offset it was given in (UTC when the offset is not one)."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    match = _ZONE.fullmatch(zone)
    if match is not None:
        sign = -1 if match[1] == "-" else 1
        moment = moment.astimezone(timezone(sign * timedelta(hours=int(match[2]), minutes=int(match[3]))))
    return moment.isoformat(timespec="seconds")


def describe_scan(scan: ScanRecord) -> str:
    """One line for a person: when, where and by whom."""
    where = scan.region + (
        f" ({scan.lat:.4f}, {scan.lon:.4f})" if scan.lat is not None and scan.lon is not None else ""
    )
    by = f" by {scan.by}" if scan.by else ""
    sale = " as a first sale" if scan.first_sale else ""
    return f"{_when(scan.time, scan.zone)} in {where}{by}{sale}"


def _place(scan: ScanRecord) -> Place | None:
    try:
        return Place(scan.region, scan.lat, scan.lon)
    except ValidationError:
        return None  # a damaged row: its region and coordinates are not compared


def _sold_twice(scans: Sequence[ScanRecord], policy: ScanPolicy) -> list[CloneReason]:
    sales: list[list[ScanRecord]] = []
    window = _micros(policy.repeat_window)
    for scan in (s for s in scans if s.first_sale):
        last = sales[-1][-1] if sales else None
        if last is not None and last.by == scan.by and last.region == scan.region and scan.time - last.time <= window:
            sales[-1].append(scan)
        else:
            sales.append([scan])
    if len(sales) < 2:
        return []
    shown = "; ".join(describe_scan(group[0]) for group in sales)
    return [
        CloneReason(
            "sold_twice",
            f"scanned as a first sale {len(sales)} times: {shown}",
            tuple(s for group in sales for s in group),
        )
    ]


def _before_shipping(scans: Sequence[ScanRecord], facts: ItemFacts, policy: ScanPolicy) -> list[CloneReason]:
    if facts.first_shipped is None:
        return [
            CloneReason(
                "before_shipping",
                f"scanned {len(scans)} time(s) though the ledger records no shipment of the item, its case or pallet,"
                f" or its lot: first {describe_scan(scans[0])}",
                tuple(scans),
            )
        ]
    early = [s for s in scans if s.time < facts.first_shipped - _micros(policy.clock_skew)]
    if not early:
        return []
    return [
        CloneReason(
            "before_shipping",
            f"scanned before it was first shipped ({_when(facts.first_shipped)}): {describe_scan(early[0])}"
            + (f" and {len(early) - 1} more" if len(early) > 1 else ""),
            tuple(early),
        )
    ]


def _outside_regions(scans: Sequence[ScanRecord], facts: ItemFacts, policy: ScanPolicy) -> list[CloneReason]:
    if not facts.regions:
        return []  # nothing recorded about where it went: no region can be called foreign
    digits = policy.region_digits
    outside = [s for s in scans if not any(same_region(s.region, r, digits) for r in facts.regions)]
    if not outside:
        return []
    known = ", ".join(sorted({r[:digits].ljust(6, "0") for r in facts.regions}))
    return [
        CloneReason(
            "outside_regions",
            f"scanned in region {outside[0].region}, where its lot was never shipped (it went to {known}):"
            f" {describe_scan(outside[0])}" + (f" and {len(outside) - 1} more" if len(outside) > 1 else ""),
            tuple(outside),
        )
    ]


def _too_far_apart(scans: Sequence[ScanRecord], policy: ScanPolicy) -> list[CloneReason]:
    found: list[CloneReason] = []
    for a, b in pairwise(scans):
        pa, pb = _place(a), _place(b)
        if pa is None or pb is None:
            continue
        hours = (b.time - a.time) / _MICROS_PER_HOUR
        km = distance_km(pa, pb)
        if km is not None:
            if km <= policy.min_distance_km:
                continue
            if hours <= 0 or km / hours > policy.max_speed_kmh:
                speed = "at the same moment" if hours <= 0 else f"{km / hours:,.0f} km/h"
                found.append(
                    CloneReason(
                        "too_far_apart",
                        f"scanned {km:,.0f} km apart {_span(hours)} ({speed}, over {policy.max_speed_kmh:,.0f} km/h):"
                        f" {describe_scan(a)}; then {describe_scan(b)}",
                        (a, b),
                    )
                )
        elif not same_region(pa.region, pb.region, 2) and b.time - a.time < _micros(policy.province_window):
            found.append(
                CloneReason(
                    "too_far_apart",
                    f"scanned in two provinces {_span(hours)}: {describe_scan(a)}; then {describe_scan(b)}",
                    (a, b),
                )
            )
    return found


def _span(hours: float) -> str:
    if hours <= 0:
        return "at the same time"
    return f"{hours * 60:,.0f} minutes apart" if hours < 2 else f"{hours:,.1f} hours apart"


def clone_reasons(
    scans: Iterable[ScanRecord], facts: ItemFacts, policy: ScanPolicy = DEFAULT_POLICY
) -> list[CloneReason]:
    """Every clone pattern the scans of one code show, given what the ledger says about the item."""
    ordered = sorted(scans, key=lambda s: (s.time, s.id))
    if not ordered:
        return []
    return [
        *_sold_twice(ordered, policy),
        *_before_shipping(ordered, facts, policy),
        *_outside_regions(ordered, facts, policy),
        *_too_far_apart(ordered, policy),
    ]
