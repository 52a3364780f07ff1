"""The compact trial record returned by ``get_trial`` (and cached as its JSON dump)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tools.budget import Cut, Cuts, Truncated
from tools.clinical_trials.models import Site
from tools.clinical_trials.site_models import SitesPage
from tools.compact import Compact
from tools.deferred import Deferred
from tools.freshness import CacheInfo


class Eligibility(Compact):
    """Who can join: criteria split at the 'Exclusion Criteria' heading."""

    inclusion: list[str] = Field(default_factory=list, description="Inclusion criteria, one item per criterion.")
    exclusion: list[str] = Field(default_factory=list, description="Exclusion criteria, one item per criterion.")
    sex: str | None = Field(None, description="ALL, FEMALE or MALE.")
    minimum_age: str | None = Field(None, description="e.g. '18 Years'; absent means no lower limit.")
    maximum_age: str | None = Field(None, description="Absent means no upper limit.")
    healthy_volunteers: bool | None = None


class Arm(Compact):
    label: str | None = None
    type: str | None = Field(None, description="e.g. EXPERIMENTAL, PLACEBO_COMPARATOR.")
    description: str | None = None
    interventions: list[str] = Field(default_factory=list)


class Intervention(Compact):
    type: str | None = Field(None, description="e.g. DRUG, DEVICE, BEHAVIORAL.")
    name: str | None = None
    other_names: list[str] = Field(default_factory=list)


class Outcome(Compact):
    measure: str | None = None
    time_frame: str | None = None


class Contact(Compact):
    name: str | None = None
    role: str | None = None
    phone: str | None = None
    email: str | None = None


class Locations(Compact):
    total: int = Field(description="All sites of the trial.")
    recruiting: int = Field(description="Sites whose status is RECRUITING.")
    shown: list[Site] = Field(
        default_factory=list,
        description="Recruiting sites first, limited (get_trial with sites lists all, with contacts).",
    )


class TrialRecord(Compact):
    """A compact view of one study."""

    nct_id: str
    requested_id: str | None = Field(None, description="Present when the id asked for was an alias of nct_id.")
    title: str | None = None
    official_title: str | None = None
    acronym: str | None = None
    url: str
    status: str | None = None
    why_stopped: str | None = None
    start_date: str | None = None
    primary_completion_date: str | None = None
    completion_date: str | None = None
    last_update: str | None = None
    sponsor: str | None = None
    collaborators: list[str] = Field(default_factory=list)
    conditions: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    study_type: str | None = None
    phases: list[str] = Field(default_factory=list)
    allocation: str | None = None
    primary_purpose: str | None = None
    enrollment: int | None = None
    brief_summary: str | None = None
    arms: list[Arm] = Field(default_factory=list)
    interventions: list[Intervention] = Field(default_factory=list)
    eligibility: Eligibility | None = None
    locations: Locations
    contacts: list[Contact] = Field(default_factory=list, description="Central contacts for the trial.")
    primary_outcomes: list[Outcome] = Field(default_factory=list)
    secondary_outcomes: list[Outcome] = Field(default_factory=list)
    has_results: bool = Field(False, description="True when results are posted; get_trial_results digests them.")


class TrialDetail(Compact):
    """``get_trial`` answer: the compact record and any full sections asked for, or the part at
    ``path``; lists cut to fit the size budget are named in ``cuts``; cache metadata."""

    trial: TrialRecord | None = Field(None, description="The compact record (absent when a path was asked for).")
    sections: dict[str, Any] | None = Field(
        None, description="Full upstream sections asked for, by section name (absent section: not in the record)."
    )
    path: str | None = Field(None, description="The path asked for; its content is `part`.")
    part: Any = Field(None, description="The upstream content at `path` (a list from `offset` on).")
    sites: SitesPage | None = Field(None, description="The sites asked for with `sites` (then alone).")
    truncated: Truncated = None
    cuts: Cuts = None
    cache: CacheInfo


class RecordPayload(Deferred):
    """Cached shape of a compact record fitted to its budget, with the cuts that took."""

    record: dict[str, Any]
    cuts: list[Cut] = Field(default_factory=list)


class SectionsPayload(Deferred):
    """Cached shape of requested full sections."""

    nct_id: str
    requested_id: str | None = None
    sections: dict[str, Any]
