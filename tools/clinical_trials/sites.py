"""Choosing which of a trial's sites to show: nearest to a point, else recruiting first."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tools.clinical_trials.models import Near, Site

_EARTH_RADIUS = {"mi": 3958.8, "km": 6371.0}
#: Site statuses in the order a patient cares about them; anything else comes after.
_STATUS_RANK = {"RECRUITING": 0, "NOT_YET_RECRUITING": 1, "ENROLLING_BY_INVITATION": 2, "AVAILABLE": 3}
_OTHER_RANK = 9


@dataclass(frozen=True, slots=True)
class SiteSummary:
    total: int
    recruiting: int
    shown: list[Site]


def distance(lat1: float, lon1: float, lat2: float, lon2: float, unit: str = "mi") -> float:
    """Great-circle (haversine) distance between two points, in 'mi' or 'km'."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS[unit] * math.asin(min(1.0, math.sqrt(h)))


def summarize(
    locations: Sequence[dict[str, Any]], limit: int, near: Near | None = None, name_cap: int = 120
) -> SiteSummary:
    """Up to ``limit`` sites: with ``near``, nearest first (sites without coordinates last,
    each with its distance); without, recruiting sites first, in registry order. Facility
    names are cut at ``name_cap`` characters."""
    recruiting = sum(1 for loc in locations if loc.get("status") == "RECRUITING")
    if near is not None:
        ranked = sorted(
            ((_distance_to(loc, near), index, loc) for index, loc in enumerate(locations)),
            key=lambda item: (item[0] is None, item[0] if item[0] is not None else 0.0, item[1]),
        )
        shown = [_site(loc, dist, name_cap) for dist, _, loc in ranked[:limit]]
    else:
        ordered = sorted(enumerate(locations), key=lambda item: (status_rank(item[1]), item[0]))
        shown = [_site(loc, None, name_cap) for _, loc in ordered[:limit]]
    return SiteSummary(total=len(locations), recruiting=recruiting, shown=shown)


def status_rank(location: dict[str, Any]) -> int:
    status = location.get("status")
    return _STATUS_RANK.get(status, _OTHER_RANK) if isinstance(status, str) else _OTHER_RANK


def _distance_to(location: dict[str, Any], near: Near) -> float | None:
    point = location.get("geoPoint") or {}
    lat, lon = point.get("lat"), point.get("lon")
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return None
    return round(distance(near.latitude, near.longitude, lat, lon, near.unit), 1)


def _site(location: dict[str, Any], dist: float | None, name_cap: int) -> Site:
    facility = location.get("facility")
    if isinstance(facility, str) and len(facility) > name_cap:
        facility = facility[: name_cap - 1].rstrip() + "…"
    return Site(
        facility=facility,
        city=location.get("city"),
        state=location.get("state"),
        country=location.get("country"),
        status=location.get("status"),
        distance=dist,
    )
