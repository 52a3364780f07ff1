"""Inputs and outputs of ``find_trials_for_patient``: who the patient is, and the trials that fit."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from tools.budget import Cuts, Truncated
from tools.clinical_trials.filters import Sex
from tools.clinical_trials.models import ExcludedTrial, Near
from tools.compact import Compact
from tools.deferred import Deferred
from tools.freshness import CacheInfo

Check = Literal["age", "sex", "site", "mutation"]
Verdict = Literal["yes", "no", "unknown"]


class Patient(Deferred):
    """Validated patient facts (internal): mutations normalised, in the order given."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    mutations: tuple[str, ...] = ()
    age: int | None = None
    sex: Sex | None = None
    near: Near | None = None


class Reason(Compact):
    """One eligibility check of a trial against the patient."""

    check: Check
    fit: Verdict
    detail: str


class PatientMatch(Compact):
    """A trial the patient may join, with the checks that say how well it fits."""

    nct_id: str
    title: str | None = None
    status: str | None = None
    phases: list[str] | None = None
    score: int = Field(description="Fit: 2 per check passed, 1 per check unknown; higher first.")
    distance: float | None = Field(None, description="To the nearest recruiting site, in near's unit.")
    reasons: list[Reason]
    url: str


class PatientPage(Deferred):
    """Cached shape: one upstream page assessed, matches ranked, then exclusion-only trials."""

    items: list[PatientMatch | ExcludedTrial]
    total_count: int | None = None
    next_page_token: str | None = None


class PatientResult(Compact):
    matches: list[PatientMatch] = Field(description="Best fit first within each upstream page of 50.")
    excluded: list[ExcludedTrial] = Field(
        default_factory=list, description="Trials naming a mutation only as an exclusion (listed apart)."
    )
    total_count: int | None = Field(None, description="Trials the search found (first page only).")
    next_page_token: str | None = Field(None, description="Continues through every match; same arguments.")
    truncated: Truncated = None
    cuts: Cuts = None
    cache: CacheInfo
