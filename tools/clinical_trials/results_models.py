"""The results digest of one trial (``get_trial_results``): its cached shape and its answer.

Numbers are kept as the upstream's strings where the upstream gives strings (values, limits,
p-values such as ``"<0.001"`` or ``"NA"``), so nothing is lost or reformatted; counts the
upstream gives as integers (adverse events) stay integers. Groups are named by their upstream
ids (``OG000``, ``EG001``) and each part lists its groups with their titles.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tools.budget import Cuts, Truncated
from tools.compact import Compact
from tools.deferred import Deferred
from tools.freshness import CacheInfo

ResultsPart = Literal["outcomes", "serious_events", "other_events"]
"""A list of the digest that can be paged on its own (with ``offset``)."""


class Group(Compact):
    id: str
    title: str | None = None
    n: str | None = Field(None, description="Participants (or units) analysed.")


class Value(Compact):
    group: str
    value: str | None = None
    spread: str | None = None
    lower: str | None = None
    upper: str | None = None
    comment: str | None = None


class Row(Compact):
    label: str | None = Field(None, description="Class / category of the measure, when it has several.")
    n: dict[str, str] | None = Field(None, description="Analysed per group for this row, when it differs.")
    values: list[Value] = Field(default_factory=list)


class Analysis(Compact):
    groups: list[str] = Field(default_factory=list)
    description: str | None = None
    method: str | None = None
    p_value: str | None = None
    p_value_comment: str | None = None
    estimate_type: str | None = None
    estimate: str | None = None
    ci_pct: str | None = None
    ci_sides: str | None = None
    ci_lower: str | None = None
    ci_upper: str | None = None
    dispersion_type: str | None = None
    dispersion_value: str | None = None
    non_inferiority: str | None = None


class OutcomeDigest(Compact):
    index: int = Field(description="Upstream position: resultsSection.outcomeMeasuresModule.outcomeMeasures.<index>.")
    type: str | None = None
    title: str | None = None
    time_frame: str | None = None
    status: str | None = Field(None, description="Present when not POSTED.")
    param: str | None = None
    dispersion: str | None = None
    unit: str | None = None
    n_units: str | None = Field(None, description="What n counts, when not participants.")
    groups: list[Group] = Field(default_factory=list)
    rows: list[Row] = Field(default_factory=list)
    rows_total: int | None = Field(None, description="Present when rows were limited.")
    analyses: list[Analysis] = Field(default_factory=list)


class Milestone(Compact):
    type: str | None = None
    counts: dict[str, str] = Field(default_factory=dict)


class FlowPeriod(Compact):
    title: str | None = None
    milestones: list[Milestone] = Field(default_factory=list)


class Flow(Compact):
    groups: list[Group] = Field(default_factory=list)
    periods: list[FlowPeriod] = Field(default_factory=list)


class Baseline(Compact):
    groups: list[Group] = Field(default_factory=list)
    measures: list[str] = Field(default_factory=list, description="Titles of the baseline measures.")


class EventStat(Compact):
    group: str
    affected: int | None = None
    at_risk: int | None = None
    events: int | None = None


class Event(Compact):
    term: str | None = None
    organ_system: str | None = None
    incidence: float | None = Field(None, description="Affected / at risk, all groups pooled.")
    stats: list[EventStat] = Field(default_factory=list)


class EventGroup(Compact):
    id: str
    title: str | None = None
    deaths_affected: int | None = None
    deaths_at_risk: int | None = None
    serious_affected: int | None = None
    serious_at_risk: int | None = None
    other_affected: int | None = None
    other_at_risk: int | None = None


class AdverseEvents(Compact):
    frequency_threshold: str | None = None
    time_frame: str | None = None
    groups: list[EventGroup] = Field(default_factory=list)
    serious_total: int = 0
    other_total: int = 0
    serious_events: list[Event] | None = Field(None, description="By incidence, highest first.")
    other_events: list[Event] | None = Field(None, description="By incidence, highest first.")


class ResultsDigest(Deferred):
    """Cached shape: the whole digest (every outcome, primary first, every event by incidence)."""

    nct_id: str
    requested_id: str | None = None
    title: str | None = None
    has_results: bool = False
    outcomes: list[OutcomeDigest] = Field(default_factory=list)
    flow: Flow | None = None
    baseline: Baseline | None = None
    adverse_events: AdverseEvents | None = None


class TrialResults(Compact):
    """``get_trial_results`` answer; lists cut to the size budget are named in ``cuts``."""

    nct_id: str
    requested_id: str | None = None
    title: str | None = None
    has_results: bool
    message: str | None = None
    part: ResultsPart | None = None
    outcomes_total: int | None = None
    outcomes: list[OutcomeDigest] | None = None
    participant_flow: Flow | None = None
    baseline: Baseline | None = None
    adverse_events: AdverseEvents | None = None
    truncated: Truncated = None
    cuts: Cuts = None
    cache: CacheInfo
