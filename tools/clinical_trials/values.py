"""Forgiving but strict argument values: NCT ids, statuses and phases as agents write them.

Each is normalised (``'4280705'`` -> ``'NCT04280705'``, ``'recruiting'`` -> ``'RECRUITING'``,
``'phase 2'`` -> ``'PHASE2'``) and anything else is refused with the expected form or the
closest valid value. A list argument also takes one comma-separated text.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Annotated, Any, cast, get_args

from pydantic import BeforeValidator

from tools.clinical_trials.models import OverallStatus, Phase, StatusToken

_NCT = re.compile(r"^(?:NCT)?([0-9]{7,8})$", re.ASCII)
#: What an agent may write: the id, its digits alone, either letter case (ASCII digits only).
NCT_INPUT_PATTERN = r"^([Nn][Cc][Tt])?[0-9]{7,8}$"

STATUSES: tuple[str, ...] = get_args(OverallStatus)
PHASES: tuple[str, ...] = get_args(Phase)


def nct_id(value: Any) -> str:
    """'NCT' + 8 digits from 'NCT04280705', 'nct04280705', '04280705' or '4280705'."""
    found = _NCT.match(value.strip().upper()) if isinstance(value, str) else None
    if found is None:
        raise ValueError(f"expected 'NCT' and 8 digits, e.g. NCT04280705 (the digits alone also work), got {value!r}")
    return "NCT" + found.group(1).zfill(8)


def status(value: Any) -> StatusToken:
    """An API status in any case, spaces or hyphens for underscores, or the shorthand 'open'."""
    text = _token(value)
    if text == "OPEN":
        return "open"
    return cast(StatusToken, _known(text, value, STATUSES, "status", extra=("open",)))


def phase(value: Any) -> Phase:
    """A phase: 'PHASE2', 'phase 2', 'Phase-2', 'early phase 1', 'N/A' and the like."""
    text = re.sub(r"^(EARLY_)?PHASE_?([0-9])$", lambda m: f"{m.group(1) or ''}PHASE{m.group(2)}", _token(value))
    text = "NA" if text in ("N/A", "NOT_APPLICABLE") else text
    return cast(Phase, _known(text, value, PHASES, "phase"))


def items(value: Any) -> Any:
    """A comma-separated text as a list (``'recruiting, completed'``); anything else, a blank
    text included, as is (a blank text is no list: it is refused, not read as "none")."""
    if isinstance(value, str) and value.strip():
        return [part for part in (p.strip() for p in value.split(",")) if part]
    return value


def _token(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a text, got {value!r}")
    return "_".join(value.strip().upper().replace("-", " ").split())


def _known(text: str, given: Any, valid: Sequence[str], kind: str, extra: Sequence[str] = ()) -> str:
    if text in valid:
        return text
    close = difflib.get_close_matches(text, [*valid, *(e.upper() for e in extra)], n=1, cutoff=0.6)
    hint = f"; did you mean {close[0] if close[0] in valid else close[0].lower()!r}?" if close else ""
    raise ValueError(f"unknown {kind} {given!r}{hint} Valid: {', '.join([*valid, *extra])}")


NctId = Annotated[str, BeforeValidator(nct_id)]
StatusInput = Annotated[StatusToken, BeforeValidator(status)]
PhaseInput = Annotated[Phase, BeforeValidator(phase)]
