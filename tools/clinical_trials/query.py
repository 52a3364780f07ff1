"""Build ClinicalTrials.gov ``/studies`` parameters from validated criteria.

Parameter order and spelling follow the recorded requests (see
``../shared/fixtures/ctgov/biomcp_capture_receipts_ctgov.json``): text queries first, then
filters (``filter.advanced``, ``aggFilters``), ``sort``, ``countTotal``, ``pageToken``,
``pageSize``, ``fields``. The API has no
``filter.phase``: phases go through ``filter.advanced`` as an Essie ``AREA[Phase]`` query.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from tools.clinical_trials.filters import Sort, advanced_clauses, agg_filters, any_of, sort_param
from tools.clinical_trials.models import OPEN_STATUSES, Criteria, Near, OverallStatus, StatusToken
from tools.clinical_trials.synonyms import expand

#: The field list of the recorded searches (order kept).
SEARCH_FIELDS: tuple[str, ...] = (
    "NCTId",
    "BriefTitle",
    "OverallStatus",
    "Phase",
    "StudyType",
    "Condition",
    "InterventionName",
    "LeadSponsorName",
    "EnrollmentCount",
    "BriefSummary",
    "StartDate",
    "CompletionDate",
    "MinimumAge",
    "MaximumAge",
)
#: Site pieces added to searches so each trial can show its sites.
SITE_FIELDS: tuple[str, ...] = (
    "LocationFacility",
    "LocationCity",
    "LocationState",
    "LocationCountry",
    "LocationStatus",
    "LocationGeoPoint",
)
#: Extra pieces a mutation search reads to tell where the mutation is named.
MUTATION_FIELDS: tuple[str, ...] = ("EligibilityCriteria", "OfficialTitle", "Keyword")
#: The field list of the recorded single-study reads used for eligibility text.
ELIGIBILITY_FIELDS: tuple[str, ...] = (
    "BriefSummary",
    "BriefTitle",
    "CompletionDate",
    "Condition",
    "EligibilityCriteria",
    "EnrollmentCount",
    "InterventionName",
    "InterventionOtherName",
    "LargeDocumentModule",
    "LeadSponsorName",
    "MaximumAge",
    "MinimumAge",
    "NCTId",
    "OverallStatus",
    "Phase",
    "Sex",
    "StartDate",
    "StudyType",
)
#: Areas a mutation phrase is searched in (the recorded order).
MUTATION_AREAS: tuple[str, ...] = ("EligibilityCriteria", "BriefTitle", "OfficialTitle", "BriefSummary", "Keyword")

#: Letters, digits and the punctuation of variant names (``c.2573T>G``, ``R213*``, ``ex20ins``).
MUTATION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 .\-_*>/+:']{0,79}$"
_MUTATION_RE = re.compile(MUTATION_PATTERN, re.ASCII)


def expand_statuses(statuses: Iterable[StatusToken]) -> tuple[OverallStatus, ...]:
    """Upper-case API statuses with 'open' replaced by the recruiting-type statuses,
    duplicates dropped, order kept."""
    seen: dict[OverallStatus, None] = {}
    for status in statuses:
        for value in OPEN_STATUSES if status == "open" else (status,):
            seen.setdefault(value, None)
    return tuple(seen)


def phase_filter(phases: Sequence[str]) -> str:
    """``AREA[Phase]PHASE2`` or ``AREA[Phase](PHASE2 OR PHASE3)``."""
    return any_of("Phase", list(phases))


def geo_filter(near: Near) -> str:
    """``distance(39.0035707,-77.1013313,50mi)`` (the API accepts mi and km)."""
    return f"distance({_number(near.latitude)},{_number(near.longitude)},{_number(near.radius)}{near.unit})"


def normalize_mutation(text: str) -> str:
    """Collapse whitespace; raise ValueError when the text could break the Essie phrase."""
    cleaned = " ".join(text.split())
    if not _MUTATION_RE.match(cleaned):
        raise ValueError(
            "must be 1-80 characters: letters, digits, spaces and . - _ * > / + : ' "
            "(e.g. 'EGFR L858R', 'BRAF V600E', 'KRAS G12C')"
        )
    return cleaned


def mutation_term(mutation: str) -> str:
    """The mutation's phrases (:func:`tools.clinical_trials.synonyms.expand`) in eligibility,
    titles, summary and keywords: per area one OR group, ``AREA[BriefTitle]("EGFR L858R" OR
    "EGFR Leu858Arg" ...)``. One phrase gives the recorded query exactly."""
    return phrases_term(expand(mutation) or [mutation])


def phrases_term(phrases: Sequence[str]) -> str:
    """``(AREA[EligibilityCriteria]("p1" OR "p2") OR AREA[BriefTitle](...) ...)``."""
    group = "(" + " OR ".join(f'"{phrase}"' for phrase in phrases) + ")"
    return "(" + " OR ".join(f"AREA[{area}]{group}" for area in MUTATION_AREAS) + ")"


def criteria_params(criteria: Criteria, extra_term: str | None = None, sort: Sort | None = None) -> dict[str, str]:
    """The query, filter and sort parameters of the criteria (no paging, no fields).

    ``extra_term`` (a mutation phrase query) is combined with ``criteria.terms`` by AND; phases
    and the clinical filters (:mod:`tools.clinical_trials.filters`) share ``filter.advanced``.
    """
    params: dict[str, str] = {}
    _put(params, "query.cond", criteria.condition)
    term = criteria.terms
    if extra_term:
        term = f"{extra_term} AND ({term})" if term else extra_term
    _put(params, "query.term", term)
    _put(params, "query.intr", criteria.intervention)
    _put(params, "query.locn", criteria.location)
    _put(params, "query.spons", criteria.sponsor)
    if criteria.statuses:
        params["filter.overallStatus"] = ",".join(criteria.statuses)
    if criteria.near is not None:
        params["filter.geo"] = geo_filter(criteria.near)
    advanced = ([phase_filter(criteria.phases)] if criteria.phases else []) + advanced_clauses(criteria.filters)
    if advanced:
        params["filter.advanced"] = " AND ".join(advanced)
    _put(params, "aggFilters", agg_filters(criteria.filters))
    _put(params, "sort", sort_param(sort))
    return params


def page_params(base: dict[str, str], page_size: int, page_token: str | None, fields: Sequence[str]) -> dict[str, str]:
    """Add the paging parameters (``countTotal`` is sent on every page, as recorded; the API
    ignores it after the first)."""
    params = dict(base)
    params["countTotal"] = "true"
    if page_token:
        params["pageToken"] = page_token
    params["pageSize"] = str(page_size)
    params["fields"] = ",".join(fields)
    return params


def search_fields() -> tuple[str, ...]:
    return SEARCH_FIELDS + SITE_FIELDS


def mutation_fields() -> tuple[str, ...]:
    return SEARCH_FIELDS + MUTATION_FIELDS + SITE_FIELDS


def count_params(base: dict[str, str]) -> dict[str, str]:
    """The cheapest request that returns ``totalCount``."""
    return page_params(base, 1, None, ("NCTId",))


def _put(params: dict[str, str], name: str, value: str | None) -> None:
    if value is not None and value.strip():
        params[name] = " ".join(value.split())


def _number(value: float) -> str:
    text = f"{value:.7f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
