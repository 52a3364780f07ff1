"""Clinical filters and sort orders, and the ClinicalTrials.gov parameters they become.

Everything here is filtered upstream, so ``totalCount`` and paging stay exact. The mapping,
checked against ``fixtures/ctgov/ctg-oas-v2.yaml`` (2.0.3) and what others measured live:

- ``filter.advanced`` (Essie, all clauses joined by AND):
  age N -> ``(AREA[MinimumAge]RANGE[MIN, N years] OR AREA[MinimumAge]MISSING) AND
  (AREA[MaximumAge]RANGE[N years, MAX] OR AREA[MaximumAge]MISSING)``: the spec's example plus
  the MISSING alternatives, because a RANGE never matches a record without the field and most
  adult trials publish no maximum age (measured live in
  cyanheads/clinicaltrialsgov-mcp-server#105; our recorded NCT06604689 has none);
  sex -> ``(AREA[Sex]FEMALE OR AREA[Sex]"ALL")``: trials open to that sex; ``ALL`` is quoted
  because bare ``ALL`` is an Essie keyword (it also admitted male-only trials,
  aipoch/open-science#2734); healthy volunteers -> ``AREA[HealthyVolunteers]true|false``;
  study type -> ``AREA[StudyType]INTERVENTIONAL``; dates -> ``AREA[StartDate]RANGE[2020-01-01,MAX]``
  and ``AREA[LastUpdatePostDate]RANGE[...]`` (the spec's example form); sponsor classes ->
  ``AREA[LeadSponsorClass](INDUSTRY OR NIH)`` (the spec's AgencyClass values).
- ``aggFilters``: has results -> ``results:with`` / ``results:without`` (the spec's example).
- ``sort``: relevance -> ``@relevance``, last_update -> ``LastUpdatePostDate:desc``,
  start_date -> ``StartDate:desc``, enrollment -> ``EnrollmentCount:desc`` (``field:asc|desc``
  is the spec's pattern; the recorded 400 "Item 1 in parameter `sort` has incorrect format"
  answers any other direction). Studies without the field come last (the spec says so).
"""

from __future__ import annotations

from datetime import date
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from tools.errors import InvalidInput

Sex = Literal["female", "male"]
StudyType = Literal["INTERVENTIONAL", "OBSERVATIONAL", "EXPANDED_ACCESS"]
SponsorClass = Literal["NIH", "FED", "OTHER_GOV", "INDIV", "INDUSTRY", "NETWORK", "AMBIG", "OTHER", "UNKNOWN"]
Sort = Literal["relevance", "last_update", "start_date", "enrollment"]

SEXES: tuple[str, ...] = get_args(Sex)
STUDY_TYPES: tuple[str, ...] = get_args(StudyType)
SPONSOR_CLASSES: tuple[str, ...] = get_args(SponsorClass)
SORTS: tuple[str, ...] = get_args(Sort)

#: Sort order -> the API's ``sort`` value.
SORT_PARAMS: dict[str, str] = {
    "relevance": "@relevance",
    "last_update": "LastUpdatePostDate:desc",
    "start_date": "StartDate:desc",
    "enrollment": "EnrollmentCount:desc",
}
#: The tool arguments that end up in ``filter.advanced`` (named when the API rejects it).
ADVANCED_ARGUMENTS = "phases, age, sex, healthy_volunteers, study_type, start_from/to, updated_from/to or sponsor_class"


class Filters(BaseModel):
    """Validated clinical filters (internal). Dates are inclusive; a range may be open on one side."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    age: int | None = Field(None, ge=0, le=120)
    sex: Sex | None = None
    healthy_volunteers: bool | None = None
    study_type: StudyType | None = None
    start_from: date | None = None
    start_to: date | None = None
    updated_from: date | None = None
    updated_to: date | None = None
    has_results: bool | None = None
    sponsor_class: tuple[SponsorClass, ...] = ()

    def is_empty(self) -> bool:
        return self == Filters()


def build_filters(
    *,
    age: int | None = None,
    sex: Sex | None = None,
    healthy_volunteers: bool | None = None,
    study_type: StudyType | None = None,
    start_from: date | None = None,
    start_to: date | None = None,
    updated_from: date | None = None,
    updated_to: date | None = None,
    has_results: bool | None = None,
    sponsor_class: tuple[SponsorClass, ...] | list[SponsorClass] | None = None,
) -> Filters:
    """Filters from already-typed tool arguments; a reversed date range is refused naming its
    first argument (InvalidInput)."""
    for first, last, name in ((start_from, start_to, "start"), (updated_from, updated_to, "updated")):
        if first is not None and last is not None and first > last:
            raise InvalidInput(f"{name}_from", f"{first} is after {name}_to {last}; give the earlier date first")
    return Filters(
        age=age,
        sex=sex,
        healthy_volunteers=healthy_volunteers,
        study_type=study_type,
        start_from=start_from,
        start_to=start_to,
        updated_from=updated_from,
        updated_to=updated_to,
        has_results=has_results,
        sponsor_class=tuple(dict.fromkeys(sponsor_class or ())),
    )


def advanced_clauses(filters: Filters) -> list[str]:
    """The Essie clauses of ``filters`` for ``filter.advanced`` (to be joined by AND)."""
    clauses: list[str] = []
    if filters.age is not None:
        years = f"{filters.age} years"
        clauses.append(
            f"(AREA[MinimumAge]RANGE[MIN, {years}] OR AREA[MinimumAge]MISSING) AND "
            f"(AREA[MaximumAge]RANGE[{years}, MAX] OR AREA[MaximumAge]MISSING)"
        )
    if filters.sex is not None:
        clauses.append(f'(AREA[Sex]{filters.sex.upper()} OR AREA[Sex]"ALL")')
    if filters.healthy_volunteers is not None:
        clauses.append(f"AREA[HealthyVolunteers]{str(filters.healthy_volunteers).lower()}")
    if filters.study_type is not None:
        clauses.append(f"AREA[StudyType]{filters.study_type}")
    for area, first, last in (
        ("StartDate", filters.start_from, filters.start_to),
        ("LastUpdatePostDate", filters.updated_from, filters.updated_to),
    ):
        if first is not None or last is not None:
            clauses.append(f"AREA[{area}]RANGE[{first or 'MIN'},{last or 'MAX'}]")
    if filters.sponsor_class:
        clauses.append(any_of("LeadSponsorClass", filters.sponsor_class))
    return clauses


def agg_filters(filters: Filters) -> str | None:
    """The ``aggFilters`` value of ``filters``, or None."""
    if filters.has_results is None:
        return None
    return "results:with" if filters.has_results else "results:without"


def sort_param(sort: Sort | None) -> str | None:
    """The API's ``sort`` value for a sort order (None: the API's own order)."""
    return None if sort is None else SORT_PARAMS[sort]


def any_of(area: str, values: tuple[str, ...] | list[str]) -> str:
    """``AREA[Phase]PHASE2`` or ``AREA[Phase](PHASE2 OR PHASE3)``."""
    unique = list(dict.fromkeys(values))
    return f"AREA[{area}]{unique[0]}" if len(unique) == 1 else f"AREA[{area}]({' OR '.join(unique)})"
