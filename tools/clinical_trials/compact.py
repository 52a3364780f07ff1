"""Full upstream study JSON -> compact trial (search lists) or compact record (get_trial).

A study is ``{protocolSection: {<module>: ...}, resultsSection?, documentSection?,
derivedSection?, hasResults?}``; every module and field may be missing (``fields=``
requests and old records carry only parts). Nothing here raises on a missing field.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tools.clinical_trials.eligibility import criteria_lists
from tools.clinical_trials.models import CompactTrial, Near, Site
from tools.clinical_trials.record_models import TrialRecord
from tools.clinical_trials.sites import summarize

STUDY_URL = "https://clinicaltrials.gov/study/{}"
_SEARCH_LIST_CAP = 5
_SEARCH_TITLE_CAP = 200
_SEARCH_FACILITY_CAP = 50
_SUMMARY_CAP = 800
_ARM_TEXT_CAP = 200

#: get_trial section name -> (section key, module key or None for a whole section).
SECTION_PATHS: dict[str, tuple[str, str | None]] = {
    "identification": ("protocolSection", "identificationModule"),
    "status": ("protocolSection", "statusModule"),
    "sponsors": ("protocolSection", "sponsorCollaboratorsModule"),
    "oversight": ("protocolSection", "oversightModule"),
    "description": ("protocolSection", "descriptionModule"),
    "conditions": ("protocolSection", "conditionsModule"),
    "design": ("protocolSection", "designModule"),
    "arms_interventions": ("protocolSection", "armsInterventionsModule"),
    "outcomes": ("protocolSection", "outcomesModule"),
    "eligibility": ("protocolSection", "eligibilityModule"),
    "contacts_locations": ("protocolSection", "contactsLocationsModule"),
    "references": ("protocolSection", "referencesModule"),
    "ipd_sharing": ("protocolSection", "ipdSharingStatementModule"),
    "results": ("resultsSection", None),
    "documents": ("documentSection", None),
    "derived": ("derivedSection", None),
}


def module(study: dict[str, Any], name: str) -> dict[str, Any]:
    """A protocolSection module, or an empty dict."""
    value = (study.get("protocolSection") or {}).get(name)
    return value if isinstance(value, dict) else {}


def nct_id(study: dict[str, Any]) -> str | None:
    return module(study, "identificationModule").get("nctId")


def compact_trial(study: dict[str, Any], site_limit: int, near: Near | None = None) -> CompactTrial:
    """The list view of a study: identity, status, design, sponsor, dates and a few sites."""
    ident, status, design = (module(study, n) for n in ("identificationModule", "statusModule", "designModule"))
    sites = summarize(_locations(study), site_limit, near, _SEARCH_FACILITY_CAP)
    nct = ident.get("nctId") or "unknown"
    conditions = _cap_list(module(study, "conditionsModule").get("conditions"), None)
    interventions = _cap_list(
        (i.get("name") for i in _dicts(module(study, "armsInterventionsModule").get("interventions"))), None
    )
    return CompactTrial(
        nct_id=nct,
        title=_cap(ident.get("briefTitle"), _SEARCH_TITLE_CAP),
        status=status.get("overallStatus"),
        phases=list(design.get("phases") or []),
        conditions=conditions[:_SEARCH_LIST_CAP],
        conditions_total=_beyond(conditions, _SEARCH_LIST_CAP),
        interventions=interventions[:_SEARCH_LIST_CAP],
        interventions_total=_beyond(interventions, _SEARCH_LIST_CAP),
        sponsor=(module(study, "sponsorCollaboratorsModule").get("leadSponsor") or {}).get("name"),
        enrollment=(design.get("enrollmentInfo") or {}).get("count"),
        start_date=_date(status, "startDateStruct"),
        completion_date=_date(status, "completionDateStruct"),
        sites_total=sites.total,
        sites=[site_line(site, near.unit if near else "mi") for site in sites.shown],
        url=STUDY_URL.format(nct),
    )


def site_line(site: Site, unit: str) -> str:
    """'Facility — City, State, Country (RECRUITING, 12.3 mi)': one short line per site."""
    place = ", ".join(part for part in (site.city, site.state, site.country) if part)
    text = " — ".join(part for part in (site.facility, place) if part) or "site without address"
    notes = [note for note in (site.status, f"{site.distance:g} {unit}" if site.distance is not None else None) if note]
    return f"{text} ({', '.join(notes)})" if notes else text


def compact_record(
    study: dict[str, Any], max_sites: int, max_criteria_chars: int, requested_id: str | None = None
) -> tuple[TrialRecord, dict[str, int]]:
    """The record view of a study (see :class:`TrialRecord`) with the full lists, except sites
    and eligibility items, which are limited here; the second value gives, for those, the
    number of items in the study (:func:`tools.clinical_trials.record_fit.fit_record` cuts
    the rest to the budget and declares every cut)."""
    ident, status, design = (module(study, n) for n in ("identificationModule", "statusModule", "designModule"))
    sponsors, arms = module(study, "sponsorCollaboratorsModule"), module(study, "armsInterventionsModule")
    conditions, outcomes = module(study, "conditionsModule"), module(study, "outcomesModule")
    nct = ident.get("nctId") or requested_id or "unknown"
    sites = summarize(_locations(study), max_sites)
    eligibility, totals = _eligibility(module(study, "eligibilityModule"), max_criteria_chars)
    totals["locations.shown"] = sites.total
    # One validation of the whole record, its parts given as dicts: the record's validator
    # checks them exactly as their own classes would, so Arm, Outcome and the other parts
    # never need validators of their own (each built on first use: ~0.3-1 ms on a cold call).
    record = TrialRecord.model_validate(
        {
            "nct_id": nct,
            "requested_id": requested_id if requested_id and requested_id != nct else None,
            "title": ident.get("briefTitle"),
            "official_title": ident.get("officialTitle"),
            "acronym": ident.get("acronym"),
            "url": STUDY_URL.format(nct),
            "status": status.get("overallStatus"),
            "why_stopped": status.get("whyStopped"),
            "start_date": _date(status, "startDateStruct"),
            "primary_completion_date": _date(status, "primaryCompletionDateStruct"),
            "completion_date": _date(status, "completionDateStruct"),
            "last_update": _date(status, "lastUpdatePostDateStruct"),
            "sponsor": (sponsors.get("leadSponsor") or {}).get("name"),
            "collaborators": [c["name"] for c in _dicts(sponsors.get("collaborators")) if c.get("name")],
            "conditions": list(conditions.get("conditions") or []),
            "keywords": _cap_list(conditions.get("keywords"), None),
            "study_type": design.get("studyType"),
            "phases": list(design.get("phases") or []),
            "allocation": (design.get("designInfo") or {}).get("allocation"),
            "primary_purpose": (design.get("designInfo") or {}).get("primaryPurpose"),
            "enrollment": (design.get("enrollmentInfo") or {}).get("count"),
            "brief_summary": _cap(module(study, "descriptionModule").get("briefSummary"), _SUMMARY_CAP),
            "arms": [_arm(a) for a in _dicts(arms.get("armGroups"))],
            "interventions": [_intervention(i) for i in _dicts(arms.get("interventions"))],
            "eligibility": eligibility,
            "locations": {"total": sites.total, "recruiting": sites.recruiting, "shown": sites.shown},
            "contacts": [_contact(c) for c in _dicts(module(study, "contactsLocationsModule").get("centralContacts"))],
            "primary_outcomes": [_outcome(o) for o in _dicts(outcomes.get("primaryOutcomes"))],
            "secondary_outcomes": [_outcome(o) for o in _dicts(outcomes.get("secondaryOutcomes"))],
            "has_results": bool(study.get("hasResults") or study.get("resultsSection")),
        }
    )
    return record, totals


def raw_sections(study: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The full upstream content of the named sections (missing ones are left out)."""
    found: dict[str, Any] = {}
    for name in names:
        section, mod = SECTION_PATHS[name]
        value = study.get(section)
        if mod is not None and isinstance(value, dict):
            value = value.get(mod)
        if value is not None:
            found[name] = value
    return found


def _eligibility(mod: dict[str, Any], max_chars: int) -> tuple[dict[str, Any] | None, dict[str, int]]:
    if not mod:
        return None, {}
    lists = criteria_lists(mod.get("eligibilityCriteria"), max_chars)
    eligibility = {
        "inclusion": lists.inclusion,
        "exclusion": lists.exclusion,
        "sex": mod.get("sex"),
        "minimum_age": mod.get("minimumAge"),
        "maximum_age": mod.get("maximumAge"),
        "healthy_volunteers": mod.get("healthyVolunteers"),
    }
    return eligibility, {"eligibility.inclusion": lists.inclusion_total, "eligibility.exclusion": lists.exclusion_total}


def _arm(arm: dict[str, Any]) -> dict[str, Any]:
    return {
        "label": arm.get("label"),
        "type": arm.get("type"),
        "description": _cap(arm.get("description"), _ARM_TEXT_CAP),
        "interventions": list(arm.get("interventionNames") or []),
    }


def _intervention(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": item.get("type"), "name": item.get("name"), "other_names": _cap_list(item.get("otherNames"), None)}


def _outcome(item: dict[str, Any]) -> dict[str, Any]:
    return {"measure": _cap(item.get("measure"), 300), "time_frame": _cap(item.get("timeFrame"), 200)}


def _contact(item: dict[str, Any]) -> dict[str, Any]:
    return {"name": item.get("name"), "role": item.get("role"), "phone": item.get("phone"), "email": item.get("email")}


def _locations(study: dict[str, Any]) -> list[dict[str, Any]]:
    return _dicts(module(study, "contactsLocationsModule").get("locations"))


def _date(status: dict[str, Any], key: str) -> str | None:
    value = status.get(key)
    return value.get("date") if isinstance(value, dict) else None


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _cap_list(values: Iterable[Any] | None, limit: int | None) -> list[str]:
    """The non-empty texts of ``values``, the first ``limit`` of them (all with None)."""
    if not values:
        return []
    cleaned = [v for v in values if isinstance(v, str) and v]
    return cleaned[:limit]


def _beyond(values: list[str], limit: int) -> int | None:
    """How many ``values`` there are when more than ``limit`` (a list view never cuts silently)."""
    return len(values) if len(values) > limit else None


def _cap(text: Any, limit: int) -> str | None:
    if not isinstance(text, str):
        return None
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
