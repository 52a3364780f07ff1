"""Arguments of ``get_trial_results`` (types, limits, descriptions for the agent)."""

from __future__ import annotations

from typing import Annotated, get_args

from pydantic import Field

from tools.clinical_trials.params import published
from tools.clinical_trials.results_models import ResultsPart

Part = Annotated[
    ResultsPart | None,
    published(
        {"enum": list(get_args(ResultsPart))},
        "One list to page through (with offset); omit for the overview.",
    ),
]
PartOffset = Annotated[
    int | None, Field(ge=0), published({"type": "integer", "minimum": 0}, "First item of part (a cut's next).")
]
