"""The search tools: search_trials, the two mutation searches and count_trials, all built on
the same criteria and clinical filters (:func:`tools.clinical_trials.params.build_criteria`,
:func:`tools.clinical_trials.filters.build_filters`). Only search_trials describes the shared
filters; the others publish them bare and say "filters as in search_trials". Published in
``tools.TOOLS`` (with the record and patient tools); see :mod:`tools.clinical_trials.tools`.
"""

# No ``from __future__ import annotations`` here: the SDK reads these functions' annotations when
# it registers them, and real objects spare it evaluating strings (typing.get_type_hints, per
# function) at start-up.

from tools.clinical_trials.filter_params import (
    Age,
    BareAge,
    BareBool,
    BareDate,
    BareSex,
    BareSort,
    BareSponsorClass,
    BareStudyType,
    HasResults,
    HealthyVolunteers,
    SexArg,
    SortArg,
    SponsorClassArg,
    StartFrom,
    StartTo,
    StudyTypeArg,
    UpdatedFrom,
    UpdatedTo,
)
from tools.clinical_trials.filters import build_filters
from tools.clinical_trials.models import MutationBatchResult, MutationSearchResult, TrialCount, TrialSearchResult
from tools.clinical_trials.params import (
    BareNear,
    BarePageSize,
    BarePageToken,
    BarePhases,
    BareStatuses,
    BareText,
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
    Sponsor,
    Statuses,
    Terms,
    build_criteria,
)
from tools.registry import BATCH_DEADLINE, ToolContext, domain_tool, progress_of, services_of


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
    age: Age = None,
    sex: SexArg = None,
    healthy_volunteers: HealthyVolunteers = None,
    study_type: StudyTypeArg = None,
    start_from: StartFrom = None,
    start_to: StartTo = None,
    updated_from: UpdatedFrom = None,
    updated_to: UpdatedTo = None,
    has_results: HasResults = None,
    sponsor_class: SponsorClassArg = None,
    sort: SortArg = None,
    page_size: PageSize = 10,
    page_token: PageToken = None,
) -> TrialSearchResult:
    """Search ClinicalTrials.gov; give at least one filter, all must match. Returns compact
    trials (id, title, status, phases, conditions, sponsor, dates, a few sites, url),
    total_count on the first page, next_page_token. Details: get_trial."""
    criteria = build_criteria(
        condition=condition,
        terms=terms,
        intervention=intervention,
        location=location,
        near=near,
        statuses=statuses,
        phases=phases,
        sponsor=sponsor,
        filters=build_filters(
            age=age,
            sex=sex,
            healthy_volunteers=healthy_volunteers,
            study_type=study_type,
            start_from=start_from,
            start_to=start_to,
            updated_from=updated_from,
            updated_to=updated_to,
            has_results=has_results,
            sponsor_class=sponsor_class,
        ),
    )
    return await services_of(ctx).trials.search(criteria, page_size, page_token, sort=sort)


@domain_tool()
async def search_trials_by_mutation(
    ctx: ToolContext,
    mutation: Mutation,
    condition: BareText = None,
    terms: BareText = None,
    intervention: BareText = None,
    location: BareText = None,
    near: BareNear = None,
    statuses: BareStatuses = None,
    phases: BarePhases = None,
    sponsor: BareText = None,
    age: BareAge = None,
    sex: BareSex = None,
    healthy_volunteers: BareBool = None,
    study_type: BareStudyType = None,
    start_from: BareDate = None,
    start_to: BareDate = None,
    updated_from: BareDate = None,
    updated_to: BareDate = None,
    has_results: BareBool = None,
    sponsor_class: BareSponsorClass = None,
    sort: BareSort = None,
    page_size: BarePageSize = 10,
    page_token: BarePageToken = None,
) -> MutationSearchResult:
    """Trials for carriers of a gene mutation (filters and paging as in search_trials). Each
    match says where the mutation is named, with an excerpt; trials naming it only in
    exclusion criteria are listed apart in excluded."""
    criteria = build_criteria(
        condition=condition,
        terms=terms,
        intervention=intervention,
        location=location,
        near=near,
        statuses=statuses,
        phases=phases,
        sponsor=sponsor,
        filters=build_filters(
            age=age,
            sex=sex,
            healthy_volunteers=healthy_volunteers,
            study_type=study_type,
            start_from=start_from,
            start_to=start_to,
            updated_from=updated_from,
            updated_to=updated_to,
            has_results=has_results,
            sponsor_class=sponsor_class,
        ),
        required=False,
    )
    return await services_of(ctx).trials.search_mutation(mutation, criteria, page_size, page_token, sort=sort)


@domain_tool(deadline=BATCH_DEADLINE)
async def search_trials_for_mutations(
    ctx: ToolContext,
    mutations: Mutations,
    condition: BareText = None,
    terms: BareText = None,
    intervention: BareText = None,
    location: BareText = None,
    near: BareNear = None,
    statuses: BareStatuses = None,
    phases: BarePhases = None,
    sponsor: BareText = None,
    age: BareAge = None,
    sex: BareSex = None,
    healthy_volunteers: BareBool = None,
    study_type: BareStudyType = None,
    start_from: BareDate = None,
    start_to: BareDate = None,
    updated_from: BareDate = None,
    updated_to: BareDate = None,
    has_results: BareBool = None,
    sponsor_class: BareSponsorClass = None,
    page_size: BatchPageSize = 5,
) -> MutationBatchResult:
    """search_trials_by_mutation for several mutations, first page each (filters as in
    search_trials). One entry per mutation: result or error; page on with
    search_trials_by_mutation."""
    criteria = build_criteria(
        condition=condition,
        terms=terms,
        intervention=intervention,
        location=location,
        near=near,
        statuses=statuses,
        phases=phases,
        sponsor=sponsor,
        filters=build_filters(
            age=age,
            sex=sex,
            healthy_volunteers=healthy_volunteers,
            study_type=study_type,
            start_from=start_from,
            start_to=start_to,
            updated_from=updated_from,
            updated_to=updated_to,
            has_results=has_results,
            sponsor_class=sponsor_class,
        ),
        required=False,
    )
    return await services_of(ctx).trials.search_mutations(mutations, criteria, page_size, progress_of(ctx))


@domain_tool()
async def count_trials(
    ctx: ToolContext,
    condition: BareText = None,
    terms: BareText = None,
    intervention: BareText = None,
    location: BareText = None,
    near: BareNear = None,
    statuses: BareStatuses = None,
    phases: BarePhases = None,
    sponsor: BareText = None,
    age: BareAge = None,
    sex: BareSex = None,
    healthy_volunteers: BareBool = None,
    study_type: BareStudyType = None,
    start_from: BareDate = None,
    start_to: BareDate = None,
    updated_from: BareDate = None,
    updated_to: BareDate = None,
    has_results: BareBool = None,
    sponsor_class: BareSponsorClass = None,
) -> TrialCount:
    """How many trials match (filters as in search_trials; at least one)."""
    criteria = build_criteria(
        condition=condition,
        terms=terms,
        intervention=intervention,
        location=location,
        near=near,
        statuses=statuses,
        phases=phases,
        sponsor=sponsor,
        filters=build_filters(
            age=age,
            sex=sex,
            healthy_volunteers=healthy_volunteers,
            study_type=study_type,
            start_from=start_from,
            start_to=start_to,
            updated_from=updated_from,
            updated_to=updated_to,
            has_results=has_results,
            sponsor_class=sponsor_class,
        ),
    )
    return await services_of(ctx).trials.count(criteria)
