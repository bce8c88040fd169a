"""Places where a code is scanned: GB/T 2260 administrative division codes, coordinates and the distance between
two places.

A region is the six-digit code of GB/T 2260 (中华人民共和国行政区划代码): two digits for the province, two for the
prefecture-level city, two for the county or district. An enterprise's region is read from digits 3–8 of its
Unified Social Credit Code, which GB 32100-2015 fills with the division code of the authority that registered it;
that is how the regions a lot was shipped to are known from the receivers named in shipping events. Coordinates are
WGS 84 degrees as a phone reports them; the distance between two is the great-circle distance on the mean Earth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from tracechain.errors import ValidationError

__all__ = [
    "EARTH_RADIUS_KM",
    "PROVINCES",
    "Place",
    "distance_km",
    "region_of_uscc",
    "same_region",
    "validate_region",
]

PROVINCES: Final = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)
"""The first two digits of every GB/T 2260 code: the provinces, autonomous regions, municipalities, Taiwan (71),
Hong Kong (81) and Macao (82)."""

EARTH_RADIUS_KM: Final = 6371.0088
"""The mean Earth radius (IUGG), for great-circle distances."""


def validate_region(code: object, what: str = "region") -> str:
    """A GB/T 2260 code: six ASCII digits whose first two name a province; `ValidationError` otherwise."""
    if not isinstance(code, str) or len(code) != 6 or not (code.isascii() and code.isdigit()):
        shown = repr(code) if isinstance(code, str) else type(code).__name__
        raise ValidationError(f"{what}: expected a six-digit GB/T 2260 administrative division code, found {shown}")
    if code[:2] not in PROVINCES:
        raise ValidationError(f"{what}: {code} does not start with a GB/T 2260 province code (11–82)")
    if code[2:] != "0000" and code[2:4] == "00":
        raise ValidationError(f"{what}: {code} names a county (digits 5–6) without its city (digits 3–4 are 00)")
    return code


def region_of_uscc(uscc: object) -> str | None:
    """The region in which an enterprise was registered: digits 3–8 of its USCC, when they are a region code."""
    if not isinstance(uscc, str) or len(uscc) != 18:
        return None
    try:
        return validate_region(uscc[2:8])
    except ValidationError:
        return None


def same_region(a: str, b: str, digits: int) -> bool:
    """Whether two regions agree on their first ``digits`` digits (2: province, 4: city, 6: county)."""
    return a[:digits] == b[:digits]


@dataclass(frozen=True, slots=True)
class Place:
    """Where something happened: a region and, when a phone gave them, WGS 84 coordinates in degrees."""

    region: str
    lat: float | None = None
    lon: float | None = None

    def __post_init__(self) -> None:
        validate_region(self.region)
        if (self.lat is None) != (self.lon is None):
            raise ValidationError(f"place in {self.region}: coordinates need both latitude and longitude")
        for name, value, limit in (("latitude", self.lat, 90.0), ("longitude", self.lon, 180.0)):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not -limit <= value <= limit:
                raise ValidationError(f"place in {self.region}: {name} must be from -{limit} to {limit}, found {value}")

    @property
    def has_coordinates(self) -> bool:
        return self.lat is not None


def distance_km(a: Place, b: Place) -> float | None:
    """The great-circle distance between two places with coordinates (haversine); None if either lacks them."""
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return None
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat, dlon = lat2 - lat1, math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
