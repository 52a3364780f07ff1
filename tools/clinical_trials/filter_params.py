"""Tool parameters of the clinical filters and sort order (types, limits, descriptions).

``search_trials`` publishes them described; the other trial tools publish them bare (their
descriptions say "filters as in search_trials"), as for the other criteria in :mod:`params`.
Values are forgiving where the intent is plain (``'Female'``, ``'interventional'``,
``'last update'``) and strict otherwise: an unknown value is refused naming the argument and
the closest valid value; a date must be ``YYYY-MM-DD``. Cross-argument checks (a reversed date
range) are in :func:`tools.clinical_trials.filters.build_filters`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from tools.clinical_trials.filters import (
    SEXES,
    SORTS,
    SPONSOR_CLASSES,
    STUDY_TYPES,
    Sex,
    Sort,
    SponsorClass,
    StudyType,
)
from tools.clinical_trials.params import published
from tools.clinical_trials.values import items

_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", re.ASCII)


def _choice(kind: str, valid: Sequence[str], upper: bool) -> Any:
    """A validator: the value in the valid spelling (case, spaces and hyphens forgiven)."""

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"expected a text, got {value!r}")
        text = "_".join(value.strip().replace("-", " ").split())
        text = text.upper() if upper else text.lower()
        if text in valid:
            return text
        close = difflib.get_close_matches(text, valid, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else "."
        raise ValueError(f"unknown {kind} {value!r}{hint} Valid: {', '.join(valid)}")

    return check


def _date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"expected a date as YYYY-MM-DD, e.g. 2024-01-31, got {str(value)[:40]!r}")


def _whole_number(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number of years, got {value!r}")
    return value


_SexValue = Annotated[Sex, BeforeValidator(_choice("sex", SEXES, upper=False))]
_StudyTypeValue = Annotated[StudyType, BeforeValidator(_choice("study type", STUDY_TYPES, upper=True))]
_SponsorClassValue = Annotated[SponsorClass, BeforeValidator(_choice("sponsor class", SPONSOR_CLASSES, upper=True))]
_SortValue = Annotated[Sort, BeforeValidator(_choice("sort", SORTS, upper=False))]
_DateValue = Annotated[date | None, BeforeValidator(lambda v: None if v is None else _date(v))]

_AGE = {"type": "integer", "minimum": 0, "maximum": 120}
_DATE_SCHEMA = {"type": "string", "format": "date"}
_BOOL = {"type": "boolean"}
_TEXT = {"type": "string"}
_LIST = {"type": "array", "items": {"type": "string"}}

_Age = Annotated[int | None, Field(ge=0, le=120), BeforeValidator(_whole_number)]
_Sex = _SexValue | None
_StudyType = _StudyTypeValue | None
_SponsorClass = Annotated[list[_SponsorClassValue] | None, Field(max_length=9), BeforeValidator(items)]
_Sort = _SortValue | None

Age = Annotated[_Age, published(_AGE, "Patient age (years): trials whose age limits include it.")]
SexArg = Annotated[_Sex, published({"enum": list(SEXES)}, "Patient sex: trials open to it.")]
HealthyVolunteers = Annotated[bool | None, published(_BOOL, "Trials accepting healthy volunteers (true) or not.")]
StudyTypeArg = Annotated[_StudyType, published({"enum": list(STUDY_TYPES)})]
StartFrom = Annotated[_DateValue, published(_DATE_SCHEMA, "Start date from; start_to: until.")]
StartTo = Annotated[_DateValue, published(_DATE_SCHEMA)]
UpdatedFrom = Annotated[_DateValue, published(_DATE_SCHEMA, "Last update from; updated_to: until.")]
UpdatedTo = Annotated[_DateValue, published(_DATE_SCHEMA)]
HasResults = Annotated[bool | None, published(_BOOL, "Results posted (true) or not.")]
SponsorClassArg = Annotated[
    _SponsorClass,
    published({"type": "array", "items": {"enum": list(SPONSOR_CLASSES)}}, "Lead sponsor's class."),
]
SortArg = Annotated[
    _Sort,
    published(
        {"enum": list(SORTS)},
        "Default: registry order; dates newest first, enrollment largest.",
    ),
]

BareAge = Annotated[_Age, published({"type": "integer"})]
BareSex = Annotated[_Sex, published(_TEXT)]
BareBool = Annotated[bool | None, published(_BOOL)]
BareStudyType = Annotated[_StudyType, published(_TEXT)]
BareDate = Annotated[_DateValue, published(_TEXT)]
BareSponsorClass = Annotated[_SponsorClass, published(_LIST)]
BareSort = Annotated[_Sort, published(_TEXT)]
