"""Tool parameters shared by the clinical-trial tools (types, limits, descriptions for the agent),
and the one place that turns them into validated :class:`Criteria`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, get_args

from pydantic import BeforeValidator, Field
from pydantic.fields import FieldInfo

from tools.clinical_trials.filters import Filters
from tools.clinical_trials.models import Criteria, Near, Phase, SectionName, StatusToken
from tools.clinical_trials.query import expand_statuses
from tools.clinical_trials.site_models import SiteQuery
from tools.clinical_trials.values import NCT_INPUT_PATTERN, NctId, PhaseInput, StatusInput, items
from tools.errors import InvalidInput


def published(schema: dict[str, Any], description: str | None = None) -> FieldInfo:
    """The JSON schema a parameter is published with, exactly: pydantic's own would say
    ``anyOf [..., null]`` and ``default: null`` for an optional one (which is simply not
    required). Validation still uses the parameter's type; keep the two in step."""
    shown = {**schema, "description": description} if description else dict(schema)

    def update(generated: dict[str, Any]) -> None:
        generated.clear()
        generated.update(shown)

    info: FieldInfo = Field(json_schema_extra=update)
    return info


_STRING = {"type": "string", "maxLength": 500}
_NEAR = {
    "type": "object",
    "properties": {
        "latitude": {"type": "number"},
        "longitude": {"type": "number"},
        "radius": {"type": "number"},
        "unit": {"enum": ["mi", "km"]},
    },
    "required": ["latitude", "longitude"],
}
_LIST = {"type": "array", "items": {"type": "string"}}

_Text = Annotated[str | None, Field(max_length=500)]
_Statuses = Annotated[list[StatusInput] | None, Field(max_length=15), BeforeValidator(items)]
_Phases = Annotated[list[PhaseInput] | None, Field(max_length=6), BeforeValidator(items)]

# The filters as search_trials publishes them, described; the other tools publish them bare
# (their descriptions say "filters as in search_trials").
Condition = Annotated[_Text, published(_STRING, "Disease or condition, e.g. 'melanoma'.")]
Terms = Annotated[_Text, published(_STRING, "Free text anywhere in the record; AND, OR, NOT and quotes work.")]
InterventionText = Annotated[_Text, published(_STRING, "Drug, device or procedure, e.g. 'pembrolizumab'.")]
LocationText = Annotated[_Text, published(_STRING, "City, state or country of a site.")]
NearPoint = Annotated[
    Near | None,
    published(_NEAR, "Sites within radius (default 50 mi) of the point, nearest first."),
]
Statuses = Annotated[
    _Statuses,
    published(
        _LIST,
        "Overall statuses (any case), e.g. RECRUITING, ACTIVE_NOT_RECRUITING, COMPLETED; 'open' = RECRUITING, "
        "NOT_YET_RECRUITING, ENROLLING_BY_INVITATION, AVAILABLE.",
    ),
]
Phases = Annotated[_Phases, published(_LIST, "Any of EARLY_PHASE1, PHASE1, PHASE2, PHASE3, PHASE4, NA.")]
Sponsor = Annotated[_Text, published(_STRING, "Sponsor or collaborator.")]
PageSize = Annotated[
    int, Field(ge=1, le=100), published({"type": "integer", "minimum": 1, "maximum": 100}, "Default 10.")
]
PageToken = Annotated[
    str | None, published({"type": "string"}, "next_page_token of the last answer; same other arguments.")
]

BareText = Annotated[_Text, published(_STRING)]
BareNear = Annotated[Near | None, published({"type": "object"})]
BareStatuses = Annotated[_Statuses, published(_LIST)]
BarePhases = Annotated[_Phases, published(_LIST)]
BarePageSize = Annotated[int, Field(ge=1, le=100), published({"type": "integer", "minimum": 1, "maximum": 100})]
BarePageToken = Annotated[str | None, published({"type": "string"})]
BatchPageSize = Annotated[
    int, Field(ge=1, le=20), published({"type": "integer", "minimum": 1, "maximum": 20}, "Per mutation; default 5.")
]

Mutation = Annotated[
    str,
    Field(min_length=1, max_length=80),
    published(
        {"type": "string", "minLength": 1, "maxLength": 80},
        "Gene variant, any notation, e.g. 'EGFR L858R', 'HER2 exon 20 insertion'.",
    ),
]
Mutations = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=80)]],
    Field(min_length=1, max_length=20),
    BeforeValidator(items),
    published(
        {"type": "array", "items": {"type": "string", "maxLength": 80}, "minItems": 1, "maxItems": 20},
        "e.g. ['EGFR L858R', 'ALK fusion'].",
    ),
]
TrialId = Annotated[NctId, published({"type": "string", "pattern": NCT_INPUT_PATTERN}, "e.g. NCT04280705.")]
Sections = Annotated[
    list[SectionName] | None,
    Field(max_length=16),
    BeforeValidator(items),
    published({"type": "array", "items": {"enum": list(get_args(SectionName))}}, "Full upstream sections to add."),
]
Path = Annotated[
    str | None,
    Field(max_length=300),
    published(
        {"type": "string", "maxLength": 300},
        "Only the upstream part at this dotted path, e.g. 'resultsSection.adverseEventsModule'.",
    ),
]
Offset = Annotated[
    int | None, Field(ge=0), published({"type": "integer", "minimum": 0}, "First item of the list at path.")
]
Sites = Annotated[
    SiteQuery | None,
    published(
        {"type": "object"},
        "Sites: {country,state,city,near,offset}.",
    ),
]

_CRITERIA_FIELDS = (
    "condition, terms, intervention, location, near, statuses, phases, sponsor or a filter (age, sex, ...)"
)


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
    filters: Filters | None = None,
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
        filters=filters or Filters(),
    )
    if required and criteria.is_empty():
        raise InvalidInput("criteria", f"give at least one of {_CRITERIA_FIELDS}")
    return criteria


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = " ".join(value.split())
    return cleaned or None
