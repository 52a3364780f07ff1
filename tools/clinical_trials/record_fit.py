"""Fitting a compact trial record into its byte budget, declaring every list it cuts.

A few lists are limited by default (keywords, outcomes: :data:`CAPS`; sites and eligibility
items are limited when the record is built); then, while the answer is over budget, the list
costing the most bytes is cut to a prefix. Each cut list gets a :class:`~tools.budget.Cut`
whose ``next`` is the get_trial ``path`` of the same list upstream: with ``offset`` when the
record lists the upstream items in their order (the rest starts right after), without when it
does not (criteria are split from one text): then the whole text. Sites (recruiting first) continue
in get_trial's ``sites`` view, which lists them in the same order: ``{"sites": {"offset": n}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.budget import json_size
from tools.clinical_trials.record_models import RecordPayload, TrialRecord
from tools.shrink import select, shrink

_ARMS = "protocolSection.armsInterventionsModule"
_CRITERIA = "protocolSection.eligibilityModule.eligibilityCriteria"
_OUTCOMES = "protocolSection.outcomesModule"

#: Record list (dotted, inside ``trial``) -> (upstream path, whether the items keep upstream order).
UPSTREAM: dict[str, tuple[str, bool]] = {
    "collaborators": ("protocolSection.sponsorCollaboratorsModule.collaborators", True),
    "conditions": ("protocolSection.conditionsModule.conditions", True),
    "keywords": ("protocolSection.conditionsModule.keywords", True),
    "arms": (f"{_ARMS}.armGroups", True),
    "interventions": (f"{_ARMS}.interventions", True),
    "eligibility.inclusion": (_CRITERIA, False),
    "eligibility.exclusion": (_CRITERIA, False),
    "locations.shown": ("protocolSection.contactsLocationsModule.locations", False),
    "contacts": ("protocolSection.contactsLocationsModule.centralContacts", True),
    "primary_outcomes": (f"{_OUTCOMES}.primaryOutcomes", True),
    "secondary_outcomes": (f"{_OUTCOMES}.secondaryOutcomes", True),
}

#: The record's site list: its cut continues in get_trial's ``sites`` view (same order) instead.
SITES = "locations.shown"

#: Lists limited by default (the rest is one call away).
CAPS = {"keywords": 15, "primary_outcomes": 10, "secondary_outcomes": 10}

#: Bytes kept for what surrounds the record in a get_trial answer (cache metadata, keys).
ENVELOPE = 512


def fit_record(record: TrialRecord, totals: Mapping[str, int], budget: int) -> RecordPayload:
    """``record`` with its lists limited so that a get_trial answer holding it and its cuts
    fits ``budget``; ``totals`` gives the upstream item count of lists limited already."""
    full = record.model_dump(mode="json")
    room = budget - ENVELOPE
    while True:
        data, cuts = _fit(full, totals, room)
        excess = json_size(data) + json_size(cuts) + ENVELOPE - budget
        if excess <= 0 or room <= 0:
            # Cuts as dicts, checked by the payload's validator: Cut's own (built on first use,
            # ~1 ms) is not needed for them.
            return RecordPayload.model_validate({"record": data, "cuts": cuts})
        room -= excess


def _fit(full: dict[str, Any], given: Mapping[str, int], room: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The record cut to ``room`` bytes, and a cut (as Cut's fields) per list it shortened."""
    data: dict[str, Any] = {**full}
    totals = dict(given)
    for name in UPSTREAM:
        items = _list(full, name)
        if items is not None:
            totals.setdefault(name, len(items))
    for name, cap in CAPS.items():
        if len(full.get(name) or []) > cap:
            data[name] = full[name][:cap]
    data, _ = shrink(data, room, can_cut=UPSTREAM.__contains__)
    cuts: list[dict[str, Any]] = []
    for name, (path, ordered) in UPSTREAM.items():
        shown = _list(data, name)
        returned = len(shown) if shown is not None else 0
        total = totals.get(name, returned)
        if returned < total:
            step: dict[str, Any] = {"path": path, "offset": returned} if ordered else {"path": path}
            if name == SITES:  # get_trial's sites view lists them in the same order, with contacts
                step = {"sites": {"offset": returned}}
            cuts.append({"list": f"trial.{name}", "returned": returned, "dropped": total - returned, "next": step})
    return data, cuts


def _list(data: dict[str, Any], name: str) -> list[Any] | None:
    try:
        found = select(data, name)
    except ValueError:
        return None
    return found if isinstance(found, list) else None
