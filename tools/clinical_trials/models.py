"""Pydantic models of the clinical-trial tools: validated inputs and compact outputs.

Outputs are deliberately small (an agent reads them): a search page of 10 trials stays
under 8 KB of JSON, a default trial record under 16 KB. ``None`` fields are left out of
the serialized output.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from tools.budget import Cuts, Truncated
from tools.clinical_trials.filters import Filters
from tools.compact import Compact
from tools.deferred import Deferred
from tools.freshness import CacheInfo

OverallStatus = Literal[
    "ACTIVE_NOT_RECRUITING",
    "COMPLETED",
    "ENROLLING_BY_INVITATION",
    "NOT_YET_RECRUITING",
    "RECRUITING",
    "SUSPENDED",
    "TERMINATED",
    "WITHDRAWN",
    "AVAILABLE",
    "NO_LONGER_AVAILABLE",
    "TEMPORARILY_NOT_AVAILABLE",
    "APPROVED_FOR_MARKETING",
    "WITHHELD",
    "UNKNOWN",
]
Phase = Literal["NA", "EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4"]

#: What the shorthand status "open" stands for: trials a patient could still join (recruiting
#: now or soon, by invitation, or expanded access available). ACTIVE_NOT_RECRUITING is left
#: out: those trials go on but take no new participants.
OPEN_STATUSES: tuple[OverallStatus, ...] = ("RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION", "AVAILABLE")

#: A status as an agent may give it: an API status or the shorthand "open".
StatusToken = Literal[OverallStatus, "open"]


class Near(Deferred):
    """A point and radius: only trials with a site within the radius match."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    latitude: float = Field(ge=-90, le=90, description="Latitude in decimal degrees, e.g. 39.0036.")
    longitude: float = Field(ge=-180, le=180, description="Longitude in decimal degrees, e.g. -77.1013.")
    radius: float = Field(50, gt=0, le=5000, description="Search radius, in `unit`; default 50.")
    unit: Literal["mi", "km"] = Field("mi", description="'mi' (miles, default) or 'km'.")


class Criteria(Deferred):
    """Validated search criteria (internal); statuses already expanded from 'open'."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    condition: str | None = None
    terms: str | None = None
    intervention: str | None = None
    location: str | None = None
    near: Near | None = None
    statuses: tuple[OverallStatus, ...] = ()
    phases: tuple[Phase, ...] = ()
    sponsor: str | None = None
    filters: Filters = Filters()

    def is_empty(self) -> bool:
        return self.filters.is_empty() and not any(
            (
                self.condition,
                self.terms,
                self.intervention,
                self.location,
                self.near,
                self.statuses,
                self.phases,
                self.sponsor,
            )
        )


class Site(Compact):
    facility: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    status: str | None = Field(None, description="Site recruitment status, e.g. RECRUITING.")
    distance: float | None = Field(None, description="Distance from the `near` point, in its unit.")


class CompactTrial(Compact):
    """One trial in a result list."""

    nct_id: str
    title: str | None = None
    status: str | None = None
    phases: list[str] = Field(default_factory=list)
    conditions: list[str] = Field(default_factory=list)
    conditions_total: int | None = Field(None, description="Present when more than those listed (get_trial has all).")
    interventions: list[str] = Field(default_factory=list)
    interventions_total: int | None = Field(None, description="As conditions_total, for interventions.")
    sponsor: str | None = None
    enrollment: int | None = None
    start_date: str | None = None
    completion_date: str | None = None
    sites_total: int = Field(0, description="Number of sites of the trial.")
    sites: list[str] = Field(
        default_factory=list,
        description="The nearest sites (with `near`, with distance) or the first few, recruiting first: "
        "'Facility — City, State, Country (STATUS, distance)'.",
    )
    url: str


class TrialPage(Deferred):
    """A resolved search page as cached: compact trials plus paging data."""

    trials: list[CompactTrial]
    total_count: int | None = None
    next_page_token: str | None = None


class TrialSearchResult(Compact):
    trials: list[CompactTrial]
    total_count: int | None = Field(None, description="Trials matching in all pages; given on the first page only.")
    next_page_token: str | None = Field(
        None, description="Pass as page_token with the same criteria for the next page; absent on the last page."
    )
    truncated: Truncated = None
    cuts: Cuts = None
    cache: CacheInfo


class TrialCount(Compact):
    total_count: int = Field(description="Trials on ClinicalTrials.gov matching the criteria.")
    cache: CacheInfo


SectionName = Literal[
    "identification",
    "status",
    "sponsors",
    "oversight",
    "description",
    "conditions",
    "design",
    "arms_interventions",
    "outcomes",
    "eligibility",
    "contacts_locations",
    "references",
    "ipd_sharing",
    "results",
    "documents",
    "derived",
]


Place = Literal["inclusion", "exclusion", "eligibility", "title", "official_title", "summary", "keywords", "conditions"]


class MutationMatch(Compact):
    """A trial that names the mutation somewhere other than only its exclusion criteria."""

    trial: CompactTrial
    found_in: list[Place] = Field(
        description="Where the mutation is named: inclusion/exclusion criteria, eligibility (text without "
        "sections), title, official_title, summary, keywords, conditions. Empty: the registry matched it "
        "(e.g. a synonym) but the text does not spell it."
    )
    excerpt: str | None = Field(None, description="The criterion or sentence naming the mutation.")


class ExcludedTrial(Compact):
    """A trial that names the mutation only under exclusion criteria (its carriers cannot join)."""

    nct_id: str
    title: str | None = None
    excerpt: str | None = None


class MutationPage(Deferred):
    """A classified mutation search page as cached: its trials in upstream order."""

    items: list[MutationMatch | ExcludedTrial]
    total_count: int | None = None
    next_page_token: str | None = None


class MutationSearchResult(Compact):
    mutation: str
    searched: list[str] = Field(default_factory=list, description="Phrases searched (its notations), canonical first.")
    matches: list[MutationMatch]
    excluded_count: int = Field(description="Trials on this page that name the mutation only as an exclusion.")
    excluded: list[ExcludedTrial] = Field(default_factory=list)
    total_count: int | None = Field(
        None, description="Trials the phrase search found in all pages (first page only), before the exclusion check."
    )
    next_page_token: str | None = Field(
        None, description="Pass as page_token with the same arguments for the next page."
    )
    truncated: Truncated = None
    cuts: Cuts = None
    cache: CacheInfo


class MutationBatchItem(Compact):
    """One mutation's outcome: a result, or an error saying why it failed."""

    mutation: str
    result: MutationSearchResult | None = None
    error: str | None = None


class MutationBatchResult(Compact):
    results: list[MutationBatchItem] = Field(description="One entry per mutation, in the order given.")
    succeeded: int
    failed: int
