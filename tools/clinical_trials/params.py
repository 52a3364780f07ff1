"""Tool parameters shared by the clinical-trial tools (types, limits, descriptions for the agent),
and the one place that turns them into validated :class:`Criteria`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import Field

from tools.clinical_trials.models import Criteria, Near, Phase, PhaseInput, SectionName, StatusInput, StatusToken
from tools.clinical_trials.query import expand_statuses
from tools.errors import InvalidInput

_TEXT = {"max_length": 500}

Condition = Annotated[
    str | None, Field(description="Disease or condition, e.g. 'non-small cell lung cancer' or 'melanoma'.", **_TEXT)
]
Terms = Annotated[
    str | None,
    Field(
        description="Other free-text terms searched everywhere in the record, e.g. 'immunotherapy'. "
        "Supports the registry's query syntax (AND, OR, NOT, quotes).",
        **_TEXT,
    ),
]
InterventionText = Annotated[
    str | None, Field(description="Drug, device or procedure, e.g. 'pembrolizumab' or '\"Keytruda\"'.", **_TEXT)
]
LocationText = Annotated[
    str | None,
    Field(description="Place named in site addresses: city, state or country, e.g. 'Boston' or 'Taiwan'.", **_TEXT),
]
NearPoint = Annotated[
    Near | None,
    Field(
        description="Only trials with a site within `radius` of this point, e.g. "
        '{"latitude": 25.04, "longitude": 121.56, "radius": 30, "unit": "km"}; '
        "sites are then listed nearest first."
    ),
]
Statuses = Annotated[
    list[StatusInput] | None,
    Field(
        description="Overall statuses to keep, e.g. ['RECRUITING']. 'open' stands for RECRUITING, NOT_YET_RECRUITING, "
        "ENROLLING_BY_INVITATION and AVAILABLE. Case does not matter.",
        max_length=15,
    ),
]
Phases = Annotated[
    list[PhaseInput] | None,
    Field(
        description="Trial phases to keep (any of them), e.g. ['PHASE2', 'PHASE3']; also EARLY_PHASE1, PHASE1, PHASE4, NA.",
        max_length=6,
    ),
]
Sponsor = Annotated[
    str | None, Field(description="Sponsor or collaborator name, e.g. 'National Cancer Institute'.", **_TEXT)
]
PageSize = Annotated[int, Field(ge=1, le=100, description="Trials per page, 1-100 (default 10).")]
BatchPageSize = Annotated[int, Field(ge=1, le=20, description="Trials per mutation, 1-20 (default 5).")]
PageToken = Annotated[
    str | None,
    Field(
        description="next_page_token of the previous page; repeat the other arguments unchanged.",
        pattern=r"^[A-Za-z0-9_\-=.~+/]{1,500}$",
    ),
]
Mutation = Annotated[
    str,
    Field(
        description="Gene variant as written in trial records, e.g. 'EGFR L858R', 'BRAF V600E', 'KRAS G12C'.",
        min_length=1,
        max_length=80,
    ),
]
Mutations = Annotated[
    list[Mutation],
    Field(
        description="1 to 20 variants, e.g. ['EGFR L858R', 'EGFR T790M', 'ALK fusion'].", min_length=1, max_length=20
    ),
]
Sections = Annotated[
    list[SectionName] | None,
    Field(
        description="Full upstream sections to add, e.g. ['results'] or ['eligibility', 'contacts_locations'] "
        "(the default record is compact: lists are limited).",
        max_length=16,
    ),
]

_CRITERIA_FIELDS = "condition, terms, intervention, location, near, statuses, phases or sponsor"


def build_criteria(
    *,
    condition: str | None = None,
    terms: str | None = None,
    intervention: str | None = None,
    location: str | None = None,
    near: Near | None = None,
    statuses: Sequence[StatusToken] | None = None,
    phases: Sequence[Phase] | None = None,
    sponsor: str | None = None,
    required: bool = True,
) -> Criteria:
    """Validated criteria; blank texts count as absent. With ``required``, at least one
    criterion must be given (InvalidInput naming 'criteria' otherwise)."""
    criteria = Criteria(
        condition=_text(condition),
        terms=_text(terms),
        intervention=_text(intervention),
        location=_text(location),
        near=near,
        statuses=expand_statuses(statuses or ()),
        phases=tuple(dict.fromkeys(phases or ())),
        sponsor=_text(sponsor),
    )
    if required and criteria.is_empty():
        raise InvalidInput("criteria", f"give at least one of {_CRITERIA_FIELDS}")
    return criteria


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = " ".join(value.split())
    return cleaned or None
