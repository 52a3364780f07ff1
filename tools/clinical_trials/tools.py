"""The clinical-trial MCP tools: thin functions that validate, call ``TrialsService``, return models.

Each takes ``ctx`` first: an MCP request's Context (the service is then the lifespan state's
``services.trials``) or the process's Services (warming, tests); see :mod:`tools.registry`.
``TOOLS`` lists them, in the order they are published. Only search_trials describes the
shared filters; the others publish them bare and say "filters as in search_trials".
"""

from __future__ import annotations

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
    Offset,
    PageSize,
    PageToken,
    Path,
    Phases,
    Sections,
    Sites,
    Sponsor,
    Statuses,
    Terms,
    TrialId,
    build_criteria,
)
from tools.clinical_trials.patient_models import PatientResult
from tools.clinical_trials.patient_params import Age as PatientAge
from tools.clinical_trials.patient_params import (
    PatientCondition,
    PatientMutations,
    PatientNear,
    PatientPageSize,
    build_patient,
)
from tools.clinical_trials.patient_params import SexArg as PatientSex
from tools.clinical_trials.record_models import TrialDetail
from tools.clinical_trials.results_models import TrialResults
from tools.clinical_trials.results_params import Part, PartOffset
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
async def get_trial(
    ctx: ToolContext,
    nct_id: TrialId,
    sections: Sections = None,
    path: Path = None,
    offset: Offset = None,
    sites: Sites = None,
) -> TrialDetail:
    """One trial (status, dates, design, arms, eligibility, sites, contacts, outcomes).
    Results: get_trial_results. Raw data: sections or path."""
    return await services_of(ctx).trials.get_trial(nct_id, sections or (), path, offset, sites)


@domain_tool()
async def get_trial_results(
    ctx: ToolContext, nct_id: TrialId, part: Part = None, offset: PartOffset = None
) -> TrialResults:
    """What a trial found: per outcome (primary first) its groups' values and the analyses
    (method, p_value, estimate, CI); participant flow; baseline counts; adverse events per
    group and the most frequent. has_results false when none are posted."""
    return await services_of(ctx).trials.get_results(nct_id, part, offset)


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
    """search_trials_by_mutation for up to 20 mutations, first page each (filters as in
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
async def find_trials_for_patient(
    ctx: ToolContext,
    condition: PatientCondition,
    mutations: PatientMutations = None,
    age: PatientAge = None,
    sex: PatientSex = None,
    near: PatientNear = None,
    statuses: BareStatuses = None,
    page_size: PatientPageSize = 10,
    page_token: BarePageToken = None,
) -> PatientResult:
    """Open trials (statuses default 'open') a patient could join, best fit first, each with
    its reasons (age, sex, nearest recruiting site, mutation in inclusion criteria); trials
    excluding the mutation listed apart. next_page_token walks every match."""
    criteria, patient = build_patient(
        condition=condition, mutations=mutations, age=age, sex=sex, near=near, statuses=statuses
    )
    return await services_of(ctx).trials.find_for_patient(criteria, patient, page_size, page_token)


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


TOOLS: list[Tool] = [
    (search_trials, READ_ONLY),
    (get_trial, READ_ONLY),
    (get_trial_results, READ_ONLY),
    (search_trials_by_mutation, READ_ONLY),
    (search_trials_for_mutations, READ_ONLY),
    (find_trials_for_patient, READ_ONLY),
    (count_trials, READ_ONLY),
]
