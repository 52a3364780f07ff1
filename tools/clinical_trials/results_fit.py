"""The ``get_trial_results`` answer cut from a cached :class:`ResultsDigest`, within RECORD_BUDGET.

Three lists can be long: ``outcomes`` (primary first), ``adverse_events.serious_events`` and
``adverse_events.other_events`` (highest incidence first). The overview (no ``part``) shows the
participant flow, baseline counts, the adverse-event groups with the :data:`TOP_EVENTS` most
frequent events of each kind, and as many outcomes as fit the rest. ``part`` with ``offset``
pages through one list. Each cut list gets a :class:`~tools.budget.Cut` whose ``next`` is
``{"part": <list>, "offset": <first item left out>}``: walking every ``next`` from the overview
shows every outcome and every event exactly once.
"""

from __future__ import annotations

from typing import Any

from tools.budget import RECORD_BUDGET, Cut, fit, json_size
from tools.clinical_trials.results_models import (
    AdverseEvents,
    Event,
    OutcomeDigest,
    ResultsDigest,
    ResultsPart,
    TrialResults,
)
from tools.errors import InvalidInput
from tools.freshness import CacheInfo

#: Events of each kind the overview shows (the rest: part="serious_events" / "other_events").
TOP_EVENTS = 10
#: The fewest top events the overview falls back to when the fixed parts are large.
_TOP_FALLBACK = (TOP_EVENTS, 5, 1, 0)
#: Offsets written into a placeholder cut while measuring (as long as any real one).
_WIDE = 10**6

_LISTS: dict[str, str] = {
    "outcomes": "outcomes",
    "serious_events": "adverse_events.serious_events",
    "other_events": "adverse_events.other_events",
}


def answer(
    digest: ResultsDigest,
    cache: CacheInfo,
    part: ResultsPart | None = None,
    offset: int | None = None,
    budget: int = RECORD_BUDGET,
) -> TrialResults:
    """The answer for ``part`` from ``offset`` (or the overview), fitted to ``budget`` bytes."""
    base = TrialResults(
        nct_id=digest.nct_id,
        requested_id=digest.requested_id,
        title=digest.title,
        has_results=digest.has_results,
        cache=cache,
    )
    if not digest.has_results:
        base.message = f"{digest.nct_id} has no results posted on ClinicalTrials.gov."
        return base
    check_arguments(part, offset)
    if part is None:
        return _overview(digest, base, budget)
    items: list[Any] = digest.outcomes if part == "outcomes" else _events(digest, part)
    start = offset or 0
    if start > len(items):
        raise InvalidInput("offset", f"{part} has {len(items)} items")
    base.part = part
    if part == "outcomes":
        base.outcomes_total = len(digest.outcomes)
        base.outcomes = []
    else:
        base.adverse_events = _event_frame(digest, part)
    return _fill(base, part, items, start, budget)


def check_arguments(part: ResultsPart | None, offset: int | None) -> None:
    """InvalidInput for an ``offset`` without the ``part`` it counts in."""
    if part is None and offset is not None:
        raise InvalidInput(
            "offset", "give it with part (the list it counts in: outcomes, serious_events, other_events)"
        )


def _overview(digest: ResultsDigest, base: TrialResults, budget: int) -> TrialResults:
    base.participant_flow = digest.flow
    base.baseline = digest.baseline
    base.outcomes_total = len(digest.outcomes)
    base.outcomes = []
    for top in _TOP_FALLBACK:
        cuts: list[Cut] = []
        events = digest.adverse_events
        if events is not None:
            shown = events.model_copy(
                update={
                    "serious_events": (events.serious_events or [])[:top],
                    "other_events": (events.other_events or [])[:top],
                }
            )
            base.adverse_events = shown
            for part in ("serious_events", "other_events"):
                full = getattr(events, part) or []
                if len(full) > top:
                    cuts.append(_cut(part, top, len(full) - top, top))
        base.cuts = cuts or None
        base.truncated = True  # measured as if cut: the outcomes may be
        if json_size(base) + json_size(_cut("outcomes", _WIDE, _WIDE, _WIDE)) < budget or top == 0:
            break
    return _fill(base, "outcomes", digest.outcomes, 0, budget, minimum=0)


def _fill(base: TrialResults, part: str, items: list[Any], start: int, budget: int, minimum: int = 1) -> TrialResults:
    """``base`` with ``items[start:]`` put in the list of ``part``, as many as fit ``budget``."""
    cuts = list(base.cuts or [])
    rest = items[start:]
    base.cuts = [*cuts, _cut(part, _WIDE, _WIDE, _WIDE)]  # room for the cut this may need
    base.truncated = True
    room = budget - json_size(base)
    count = fit(rest, room, minimum=minimum)
    shown = rest[:count]
    if count == 1 and json_size(shown[0]) > room and isinstance(shown[0], OutcomeDigest):
        shown = [_squeeze(shown[0], room)]
    _put(base, part, shown)
    if count < len(rest):
        cuts.append(_cut(part, count, len(rest) - count, start + count))
    base.cuts = cuts or None
    base.truncated = True if cuts else None
    return base


def _squeeze(outcome: OutcomeDigest, room: int) -> OutcomeDigest:
    """One outcome too large alone: its rows cut to fit (rows_total says how many there are)."""
    bare = outcome.model_copy(update={"rows": [], "rows_total": outcome.rows_total or len(outcome.rows)})
    kept = fit(outcome.rows, room - json_size(bare), minimum=0)
    return bare.model_copy(update={"rows": outcome.rows[:kept]})


def _put(base: TrialResults, part: str, shown: list[Any]) -> None:
    if part == "outcomes":
        base.outcomes = shown
    elif base.adverse_events is not None:
        setattr(base.adverse_events, part, shown)


def _events(digest: ResultsDigest, part: str) -> list[Event]:
    events = digest.adverse_events
    return list(getattr(events, part) or []) if events is not None else []


def _event_frame(digest: ResultsDigest, part: str) -> AdverseEvents:
    """The adverse-event groups and totals, with an empty list of ``part`` to fill."""
    events = digest.adverse_events or AdverseEvents()
    return events.model_copy(update={"serious_events": None, "other_events": None, part: []})


def _cut(part: str, returned: int, dropped: int, offset: int) -> Cut:
    return Cut(list=_LISTS[part], returned=returned, dropped=dropped, next={"part": part, "offset": offset})
