"""The clinical-trial MCP tools: thin functions that validate, call ``TrialsService``, return models.

Each takes ``ctx`` first: an MCP request's Context (the service is then the lifespan state's
``services.trials``) or the process's Services (warming, tests); see :mod:`tools.registry`.
Here: the trial-record tools (get_trial, get_trial_results) and find_trials_for_patient; the
search tools sharing the criteria and clinical filters are in
:mod:`tools.clinical_trials.search_tools`. ``TOOLS`` lists them all, in the order they are
published (the order of tools/list: keep it).
"""

# No ``from __future__ import annotations`` here: the SDK reads these functions' annotations when
# it registers them, and real objects spare it evaluating strings (typing.get_type_hints, per
# function) at start-up.

from tools.clinical_trials.params import BarePageToken, BareStatuses, Offset, Path, Sections, Sites, TrialId
from tools.clinical_trials.patient_models import PatientResult
from tools.clinical_trials.patient_params import (
    Age,
    PatientCondition,
    PatientMutations,
    PatientNear,
    PatientPageSize,
    SexArg,
    build_patient,
)
from tools.clinical_trials.record_models import TrialDetail
from tools.clinical_trials.results_models import TrialResults
from tools.clinical_trials.results_params import Part, PartOffset
from tools.clinical_trials.search_tools import (
    count_trials,
    search_trials,
    search_trials_by_mutation,
    search_trials_for_mutations,
)
from tools.registry import READ_ONLY, Tool, ToolContext, domain_tool, services_of

__all__ = [
    "TOOLS",
    "count_trials",
    "find_trials_for_patient",
    "get_trial",
    "get_trial_results",
    "search_trials",
    "search_trials_by_mutation",
    "search_trials_for_mutations",
]


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
async def find_trials_for_patient(
    ctx: ToolContext,
    condition: PatientCondition,
    mutations: PatientMutations = None,
    age: Age = None,
    sex: SexArg = None,
    near: PatientNear = None,
    statuses: BareStatuses = None,
    page_size: PatientPageSize = 10,
    page_token: BarePageToken = None,
) -> PatientResult:
    """Trials a patient could join (statuses default 'open'), best fit first, each with its
    reasons (age, sex, nearest recruiting site, mutation in inclusion criteria); trials
    excluding a mutation listed apart. next_page_token walks every match."""
    criteria, patient = build_patient(
        condition=condition, mutations=mutations, age=age, sex=sex, near=near, statuses=statuses
    )
    return await services_of(ctx).trials.find_for_patient(criteria, patient, page_size, page_token)


TOOLS: list[Tool] = [
    (search_trials, READ_ONLY),
    (get_trial, READ_ONLY),
    (get_trial_results, READ_ONLY),
    (search_trials_by_mutation, READ_ONLY),
    (search_trials_for_mutations, READ_ONLY),
    (find_trials_for_patient, READ_ONLY),
    (count_trials, READ_ONLY),
]
