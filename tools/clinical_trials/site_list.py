"""A trial's sites: read from the study once, then filtered, ordered and paged per call.

:func:`site_rows` turns ``contactsLocationsModule.locations`` into plain rows (cached whole);
:func:`sites_page` picks the rows a ``sites`` argument asks for and cuts them to the budget.
Ordering: with ``near``, nearest first and sites without coordinates last (dropped when a
radius is given); without, recruiting sites first, then registry order (as the record's
``locations.shown``). Ties keep registry order, so an offset continues exactly.
"""

from __future__ import annotations

from typing import Any

from tools.budget import Cut, fit, json_size
from tools.clinical_trials.compact import module
from tools.clinical_trials.site_models import SiteContact, SiteDetail, SiteQuery, SitesPage
from tools.clinical_trials.sites import distance, status_rank

#: Sites listed per page at most, whatever the budget allows (a page an agent can read).
PAGE_CAP = 25
_CONTACT_KEYS = ("name", "role", "phone", "email")
_PLACE_KEYS = ("facility", "city", "state", "zip", "country", "status")


def site_rows(study: dict[str, Any]) -> list[dict[str, Any]]:
    """Every location of ``study`` as ``{facility, city, state, zip, country, status, lat,
    lon, contacts}`` (missing pieces left out), in registry order."""
    locations = module(study, "contactsLocationsModule").get("locations")
    rows: list[dict[str, Any]] = []
    for loc in locations if isinstance(locations, list) else []:
        if not isinstance(loc, dict):
            continue
        row: dict[str, Any] = {k: loc[k] for k in _PLACE_KEYS if isinstance(loc.get(k), str) and loc[k]}
        point = loc.get("geoPoint") or {}
        if isinstance(point.get("lat"), int | float) and isinstance(point.get("lon"), int | float):
            row["lat"], row["lon"] = float(point["lat"]), float(point["lon"])
        contacts = [
            {k: c[k] for k in _CONTACT_KEYS if isinstance(c.get(k), str) and c[k]}
            for c in loc.get("contacts") or []
            if isinstance(c, dict)
        ]
        if any(contacts):
            row["contacts"] = [c for c in contacts if c]
        rows.append(row)
    return rows


def select(rows: list[dict[str, Any]], query: SiteQuery) -> list[tuple[float | None, dict[str, Any]]]:
    """The rows matching the filters, ordered, each with its distance from ``query.near``."""
    wanted = {key: _fold(value) for key in ("country", "state", "city") if (value := getattr(query, key))}
    kept = [(index, row) for index, row in enumerate(rows) if all(_fold(row.get(k)) == v for k, v in wanted.items())]
    near = query.near
    if near is None:
        kept.sort(key=lambda item: (status_rank(item[1]), item[0]))
        return [(None, row) for _, row in kept]
    measured = [(_distance(row, near.latitude, near.longitude, near.unit), index, row) for index, row in kept]
    if near.radius is not None:
        measured = [m for m in measured if m[0] is not None and m[0] <= near.radius]
    measured.sort(key=lambda m: (m[0] is None, m[0] or 0.0, m[1]))
    return [(dist, row) for dist, _, row in measured]


def sites_page(nct_id: str, rows: list[dict[str, Any]], query: SiteQuery, budget: int) -> tuple[SitesPage, list[Cut]]:
    """The matching sites from ``query.offset`` on: at most :data:`PAGE_CAP`, the page and its
    cut within ``budget`` bytes of JSON; the cut's ``next`` repeats the filters with the next
    offset."""
    chosen = select(rows, query)
    page = SitesPage(
        nct_id=nct_id,
        total=len(rows),
        matching=len(chosen),
        recruiting=sum(1 for _, row in chosen if row.get("status") == "RECRUITING"),
        offset=query.offset,
        sites=[],
    )
    rest = [_detail(dist, row) for dist, row in chosen[query.offset : query.offset + PAGE_CAP]]
    probe = _cut(query, PAGE_CAP, len(chosen), len(chosen))
    room = budget - json_size(page) - json_size([probe]) - len(',"truncated":true,"cuts":')
    count = fit(rest, room)
    page.sites = rest[:count]
    dropped = len(chosen) - query.offset - count
    return page, [_cut(query, count, dropped, query.offset + count)] if dropped > 0 else []


def _cut(query: SiteQuery, returned: int, dropped: int, offset: int) -> Cut:
    return Cut(list="sites.sites", returned=returned, dropped=dropped, next={"sites": query.same(offset)})


def _detail(dist: float | None, row: dict[str, Any]) -> SiteDetail:
    return SiteDetail(
        **{k: row[k] for k in _PLACE_KEYS if k in row},
        distance=dist,
        contacts=[SiteContact(**c) for c in row["contacts"]] if row.get("contacts") else None,
    )


def _distance(row: dict[str, Any], lat: float, lon: float, unit: str) -> float | None:
    if "lat" not in row or "lon" not in row:
        return None
    return round(distance(lat, lon, row["lat"], row["lon"], unit), 1)


def _fold(value: Any) -> str | None:
    return " ".join(value.split()).casefold() if isinstance(value, str) else None
