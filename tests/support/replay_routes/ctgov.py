"""Replay routes for ClinicalTrials.gov v2 (``/api/v2``), from ``fixtures/ctgov``.

Searches are matched on the parameters that tell the recorded requests apart (see
``biomcp_capture_receipts_ctgov.json``); ``fields`` is ignored, so a client asking for more
pieces still gets the recorded (trimmed) page. Single studies are served by NCT id from the
``biomcp_get_*`` and ``aact_study_*`` files (recorded with ``fields``, served as recorded) and
from the one-study ACTT page, which was recorded with every field (466 KB): that one is
narrowed to the ``fields`` asked for, as the API does (:func:`narrowed`; a ``get_trial`` asks
for the protocol section and ``hasResults``, about 50 KB of it), when each piece names a key of
the study. ``/version``
is synthesised in the spec's shape (no recording exists), and so is an empty page for the two
other mutations of the default warming strategies (KRAS G12C, BRAF V600E). Anything else falls through to the
replay server's 404.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from tests.support.replay_routes import Reply, Route, RouteRequest

VERSION = {"apiVersion": "2.0.3", "dataTimestamp": "2026-08-11T23:00:00"}
#: A mutation search is told apart by the first phrase of its eligibility OR group (the
#: canonical notation: any spelling of EGFR L858R leads with "EGFR L858R", a gene-less one with
#: "L858R"). The recorded page answers both: it was reduced to two studies that name EGFR L858R,
#: a subset of what either phrase finds upstream.
EGFR_PHRASES = ("EGFR L858R", "L858R")
_FIRST_PHRASE = re.compile(r'AREA\[EligibilityCriteria\]\("([^"]+)"')
SYNTHESISED_EMPTY = ("KRAS G12C", "BRAF V600E")
_SEARCH_KEYS = (
    "query.cond",
    "query.term",
    "query.intr",
    "query.locn",
    "query.spons",
    "query.titles",
    "filter.overallStatus",
    "filter.geo",
    "filter.advanced",
    "filter.ids",
    "aggFilters",
    "sort",
    "pageToken",
)


def routes(fixtures_dir: Path) -> list[Route]:
    ctgov = fixtures_dir / "ctgov"

    def page(name: str) -> Reply:
        return Reply.file(ctgov / f"biomcp_{name}_20260811.json")

    phelan_token = orjson.loads((ctgov / "biomcp_search_phelan_limit5_20260811.json").read_bytes())["nextPageToken"]
    phelan = {"query.cond": "Phelan-McDermid Syndrome"}
    return [
        Route("/api/v2/version", Reply.json(VERSION)),
        Route("/api/v2/studies", page("search_phelan_next"), when=lambda q: q.get("pageToken") == phelan_token),
        Route(
            "/api/v2/studies",
            page("search_nsclc_egfr_l858r"),
            when=lambda q: first_phrase(q) in EGFR_PHRASES and "pageToken" not in q,
        ),
        # The default warming strategies' other mutations: an empty page in the recorded shape
        # (no recording exists for them); any other phrase falls through to a 404.
        *(
            Route(
                "/api/v2/studies",
                Reply.json({"studies": [], "totalCount": 0}),
                when=lambda q, phrase=phrase: first_phrase(q) == phrase and "pageToken" not in q,
            )
            for phrase in SYNTHESISED_EMPTY
        ),
        Route(
            "/api/v2/studies",
            page("search_phelan_limit50"),
            when=lambda q: _only(q, **phelan) and q.get("pageSize") == "50",
        ),
        Route("/api/v2/studies", page("search_phelan_limit5"), when=lambda q: _only(q, **phelan)),
        Route(
            "/api/v2/studies",
            page("search_melanoma_recruiting_limit3"),
            when=lambda q: _only(q, **{"query.cond": "melanoma", "filter.overallStatus": "RECRUITING"}),
        ),
        Route(
            "/api/v2/studies", page("search_keytruda_limit3"), when=lambda q: _only(q, **{"query.intr": '"Keytruda"'})
        ),
        Route("/api/v2/studies", page("search_age_count"), when=lambda q: _only(q)),
        *_study_routes(ctgov),
    ]


def first_phrase(query: Mapping[str, str]) -> str | None:
    """The first phrase searched in EligibilityCriteria by a mutation search, or None."""
    found = _FIRST_PHRASE.search(query.get("query.term", ""))
    return found.group(1) if found else None


def _only(query: Mapping[str, str], **expected: str) -> bool:
    """The search parameters of ``query`` are exactly ``expected`` (paging and fields aside)."""
    given = {key: query[key] for key in _SEARCH_KEYS if key in query}
    return given == expected


def _study_routes(ctgov: Path) -> list[Route]:
    """``/api/v2/studies/NCTxxxxxxxx`` for every recorded single study."""
    bodies: dict[str, Reply] = {}
    for path in sorted(ctgov.glob("biomcp_get_nct*.json")) + sorted(ctgov.glob("aact_study_nct*.json")):
        nct = re.search(r"nct(\d{8})", path.name)
        if nct:
            bodies.setdefault(f"NCT{nct.group(1)}", Reply.file(path))
    actt = orjson.loads((ctgov / "biomcp_studies_page_nct04280705_with_results.json").read_bytes())["studies"][0]
    bodies["NCT04280705"] = Reply.json(actt)

    def study(request: RouteRequest) -> Reply:
        assert request.match is not None
        nct = request.match[1].upper()
        reply = bodies.get(nct)
        if reply is None:
            raise FileNotFoundError(request.path)
        if nct == "NCT04280705" and (pieces := request.query.get("fields")):
            return Reply.json(narrowed(actt, pieces.split(",")))
        return reply

    return [Route(re.compile(r"/api/v2/studies/([Nn][Cc][Tt]\d{8})"), study)]


def narrowed(study: Mapping[str, Any], pieces: list[str]) -> Mapping[str, Any]:
    """``study`` with only the ``fields`` pieces asked for: each piece (``ProtocolSection``,
    ``HasResults``, ``ContactsLocationsModule``, ``NCTId``...) is the first key of that name, in
    any letter case, found walking the study's objects (not its lists), kept with the path to it.
    When a piece names no such key (a field inside a list, a name we cannot map), the whole
    study is sent, as before."""
    kept: dict[str, Any] = {}
    for piece in pieces:
        path = _path_to(study, piece.strip().lower())
        if path is None:
            return study
        source, target = study, kept
        for key in path[:-1]:
            source, target = source[key], target.setdefault(key, {})
        target[path[-1]] = source[path[-1]]
    return kept


def _path_to(node: Mapping[str, Any], name: str) -> list[str] | None:
    """The keys leading to the first key called ``name`` (lower case) in ``node``, breadth first."""
    queue: list[tuple[list[str], Mapping[str, Any]]] = [([], node)]
    while queue:
        path, here = queue.pop(0)
        for key in here:
            if key.lower() == name:
                return [*path, key]
        queue.extend(([*path, key], value) for key, value in here.items() if isinstance(value, dict))
    return None
