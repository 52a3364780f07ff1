"""The clinical-trial MCP tools: thin functions that validate, call ``TrialsService``, return models.

Each takes ``ctx`` first: an MCP request's Context (the service is then the lifespan state's
``services.trials``) or the process's Services (warming, tests); see :mod:`tools.registry`.
``TOOLS`` lists them, in the order they are published.
"""

from __future__ import annotations

from tools.clinical_trials.models import (
    MutationBatchResult,
    MutationSearchResult,
    NctId,
    TrialCount,
    TrialSearchResult,
)
from tools.clinical_trials.params import (
    BatchPageSize,
    Condition,
    InterventionText,
    LocationText,
    Mutation,
    Mutations,
    NearPoint,
    PageSize,
    PageToken,
    Phases,
    Sections,
    Sponsor,
    Statuses,
    Terms,
    build_criteria,
)
from tools.clinical_trials.record_models import TrialDetail
from tools.registry import BATCH_DEADLINE, READ_ONLY, Tool, ToolContext, domain_tool, progress_of, services_of


@domain_tool()
async def search_trials(
    ctx: ToolContext,
    condition: Condition = None,
    terms: Terms = None,
    intervention: InterventionText = None,
    location: LocationText = None,
    near: NearPoint = None,
    statuses: Statuses = None,
    phases: Phases = None,
    sponsor: Sponsor = None,
    page_size: PageSize = 10,
    page_token: PageToken = None,
) -> TrialSearchResult:
    """Search ClinicalTrials.gov for clinical trials.

    Give at least one criterion; all given criteria must match. Returns compact trials
    (NCT id, title, status, phases, conditions, interventions, sponsor, enrollment, start
    and completion dates, number of sites with the nearest or first few, link), the total
    count (first page only), next_page_token when more pages exist, and cache metadata
    (hit, tier, age_seconds, stale). Use get_trial for one trial's details and
    count_trials when only the number matters.
    """
    criteria = build_criteria(
        condition=condition,
        terms=terms,
        intervention=intervention,
        location=location,
        near=near,
        statuses=statuses,
        phases=phases,
        sponsor=sponsor,
    )
    return await services_of(ctx).trials.search(criteria, page_size, page_token)


@domain_tool()
async def get_trial(ctx: ToolContext, nct_id: NctId, sections: Sections = None) -> TrialDetail:
    """Details of one clinical trial by its NCT id (e.g. NCT04280705).

    Returns a compact record: identification, status and dates, sponsor, conditions,
    design and phases, arms and interventions, eligibility split into inclusion and
    exclusion criteria lists plus sex and ages, sites (recruiting first, limited, with
    the total), central contacts, primary and secondary outcomes, and whether results
    are posted. Ask for full upstream `sections` (e.g. ['results']) when the compact
    record is not enough. An old (alias) id is followed to the current trial.
    """
    return await services_of(ctx).trials.get_trial(nct_id, sections or ())


@domain_tool()
async def search_trials_by_mutation(
    ctx: ToolContext,
    mutation: Mutation,
    condition: Condition = None,
    terms: Terms = None,
    intervention: InterventionText = None,
    location: LocationText = None,
    near: NearPoint = None,
    statuses: Statuses = None,
    phases: Phases = None,
    sponsor: Sponsor = None,
    page_size: PageSize = 10,
    page_token: PageToken = None,
) -> MutationSearchResult:
    """Find trials for patients with a gene mutation, e.g. 'EGFR L858R'.

    Searches the phrase in eligibility criteria, titles, summary and keywords (plus the
    optional filters, as in search_trials), then reads each trial's eligibility text.
    Trials that name the mutation only under exclusion criteria (its carriers cannot
    join) are not matches: they are counted and listed in `excluded`. Each match says
    where the mutation was found (inclusion, title, summary, ...) with an excerpt.
    """
    criteria = build_criteria(
        condition=condition,
        terms=terms,
        intervention=intervention,
        location=location,
        near=near,
        statuses=statuses,
        phases=phases,
        sponsor=sponsor,
        required=False,
    )
    return await services_of(ctx).trials.search_mutation(mutation, criteria, page_size, page_token)


@domain_tool(deadline=BATCH_DEADLINE)
async def search_trials_for_mutations(
    ctx: ToolContext,
    mutations: Mutations,
    condition: Condition = None,
    terms: Terms = None,
    intervention: InterventionText = None,
    location: LocationText = None,
    near: NearPoint = None,
    statuses: Statuses = None,
    phases: Phases = None,
    sponsor: Sponsor = None,
    page_size: BatchPageSize = 5,
) -> MutationBatchResult:
    """Run search_trials_by_mutation for up to 20 mutations at once (first page each).

    The searches run concurrently (a few at a time) and progress is reported as each
    finishes. Returns one entry per mutation, in the order given: its result, or an
    error saying why that one failed (the others are still returned).
    """
    criteria = build_criteria(
        condition=condition,
        terms=terms,
        intervention=intervention,
        location=location,
        near=near,
        statuses=statuses,
        phases=phases,
        sponsor=sponsor,
        required=False,
    )
    return await services_of(ctx).trials.search_mutations(mutations, criteria, page_size, progress_of(ctx))


@domain_tool()
async def count_trials(
    ctx: ToolContext,
    condition: Condition = None,
    terms: Terms = None,
    intervention: InterventionText = None,
    location: LocationText = None,
    near: NearPoint = None,
    statuses: Statuses = None,
    phases: Phases = None,
    sponsor: Sponsor = None,
) -> TrialCount:
    """Count ClinicalTrials.gov trials matching the criteria (same criteria as
    search_trials; at least one). Returns total_count and cache metadata."""
    criteria = build_criteria(
        condition=condition,
        terms=terms,
        intervention=intervention,
        location=location,
        near=near,
        statuses=statuses,
        phases=phases,
        sponsor=sponsor,
    )
    return await services_of(ctx).trials.count(criteria)


TOOLS: list[Tool] = [
    (search_trials, READ_ONLY),
    (get_trial, READ_ONLY),
    (search_trials_by_mutation, READ_ONLY),
    (search_trials_for_mutations, READ_ONLY),
    (count_trials, READ_ONLY),
]
