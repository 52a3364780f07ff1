"""Arguments of ``find_trials_for_patient`` (types, limits, descriptions for the agent), and the
one place that turns them into the search criteria (age and sex as the clinical filters of
:mod:`tools.clinical_trials.filters`, sent upstream) and the validated :class:`Patient`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from tools.clinical_trials.filters import Sex, build_filters
from tools.clinical_trials.models import Criteria, Near, StatusToken
from tools.clinical_trials.mutation_search import checked_mutation
from tools.clinical_trials.params import _NEAR, build_criteria, published
from tools.clinical_trials.patient_models import Patient
from tools.clinical_trials.values import items
from tools.errors import InvalidInput

MAX_MUTATIONS = 5


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


PatientCondition = Annotated[
    str,
    Field(min_length=1, max_length=500),
    published({"type": "string", "minLength": 1, "maxLength": 500}, "e.g. 'non-small cell lung cancer'."),
]
PatientMutations = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=80)]] | None,
    Field(max_length=MAX_MUTATIONS),
    BeforeValidator(items),
    published(
        {"type": "array", "items": {"type": "string", "maxLength": 80}, "maxItems": MAX_MUTATIONS},
        "Variants the patient carries, e.g. ['EGFR L858R'].",
    ),
]
Age = Annotated[
    int | None, Field(ge=0, le=120), published({"type": "integer", "minimum": 0, "maximum": 120}, "In years.")
]
SexArg = Annotated[Sex | None, BeforeValidator(_lower), published({"enum": ["female", "male"]})]
PatientNear = Annotated[Near | None, published(_NEAR, "The patient's place; radius default 50 mi.")]
PatientPageSize = Annotated[
    int, Field(ge=1, le=50), published({"type": "integer", "minimum": 1, "maximum": 50}, "Default 10.")
]


def build_patient(
    *,
    condition: str,
    mutations: Sequence[str] | None,
    age: int | None,
    sex: Sex | None,
    near: Near | None,
    statuses: Sequence[StatusToken] | None,
) -> tuple[Criteria, Patient]:
    """The search criteria (statuses default 'open') and the patient; InvalidInput naming the
    argument when a mutation cannot be searched or the condition is blank."""
    filters = build_filters(age=age, sex=sex)  # the registry filters by age and sex too: paging stays exact
    criteria = build_criteria(
        condition=condition, near=near, statuses=statuses or ["open"], filters=filters, required=False
    )
    if criteria.condition is None:
        raise InvalidInput("condition", "give the patient's condition, e.g. 'non-small cell lung cancer'")
    cleaned = [checked_mutation(text, f"mutations[{index}]") for index, text in enumerate(mutations or ())]
    patient = Patient(mutations=tuple(dict.fromkeys(cleaned)), age=age, sex=sex, near=near)
    return criteria, patient
