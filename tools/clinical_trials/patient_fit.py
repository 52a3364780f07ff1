"""How well one trial fits a patient: a reason per check, a score, and the ranking of a page.

Checks: ``age`` (within the trial's minimum/maximum age), ``sex`` (the trial's sex), ``site``
(distance to the nearest RECRUITING site from ``near``; without ``near``, whether any site
recruits), ``mutation`` (each mutation named in the inclusion criteria, titles or summary, in
any notation :func:`tools.clinical_trials.mutation.locate` knows). A trial naming the patient's
mutations only under exclusion criteria is not a match: it is listed apart. Each check scores
2 (yes), 1 (unknown) or 0 (no); a page is ranked by score, then distance, then upstream order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from tools.clinical_trials.compact import STUDY_URL, module, nct_id
from tools.clinical_trials.models import ExcludedTrial
from tools.clinical_trials.mutation import locate
from tools.clinical_trials.patient_models import Patient, PatientMatch, Reason, Verdict
from tools.clinical_trials.sites import distance

_POINTS: dict[Verdict, int] = {"yes": 2, "unknown": 1, "no": 0}
_UNIT_YEARS = {"year": 1.0, "month": 1 / 12, "week": 7 / 365.25, "day": 1 / 365.25, "hour": 1 / 8766, "minute": 0.0}
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(year|month|week|day|hour|minute)s?\s*$", re.IGNORECASE)
_TITLE_CAP = 200


def assess(study: dict[str, Any], patient: Patient) -> PatientMatch | ExcludedTrial:
    """The study as a match with its reasons, or as an exclusion-only trial."""
    ident = module(study, "identificationModule")
    nct = nct_id(study) or "unknown"
    title = _cap(ident.get("briefTitle"))
    mutation_reasons, apart = _mutations(study, patient.mutations)
    if apart is not None:
        return ExcludedTrial(nct_id=nct, title=title, excerpt=apart)
    eligibility = module(study, "eligibilityModule")
    reasons = [r for r in (_age(eligibility, patient.age), _sex(eligibility, patient.sex)) if r is not None]
    site, nearest = _site(study, patient)
    reasons += [site, *mutation_reasons]
    return PatientMatch(
        nct_id=nct,
        title=title,
        status=module(study, "statusModule").get("overallStatus"),
        phases=list(module(study, "designModule").get("phases") or []) or None,
        score=sum(_POINTS[r.fit] for r in reasons),
        distance=nearest,
        reasons=reasons,
        url=STUDY_URL.format(nct),
    )


def rank(items: Sequence[PatientMatch | ExcludedTrial]) -> list[PatientMatch | ExcludedTrial]:
    """Matches best first (score, then distance, then the order given), then the excluded."""
    order = {id(item): index for index, item in enumerate(items)}
    matches = [item for item in items if isinstance(item, PatientMatch)]
    matches.sort(key=lambda m: (-m.score, m.distance if m.distance is not None else math.inf, order[id(m)]))
    return [*matches, *(item for item in items if isinstance(item, ExcludedTrial))]


def age_years(text: Any) -> float | None:
    """'18 Years' -> 18.0, '6 Months' -> 0.5; None for anything else ('N/A', absent)."""
    found = _AGE.match(text) if isinstance(text, str) else None
    return float(found.group(1)) * _UNIT_YEARS[found.group(2).lower()] if found else None


def _age(eligibility: dict[str, Any], age: int | None) -> Reason | None:
    if age is None:
        return None
    low, high = eligibility.get("minimumAge"), eligibility.get("maximumAge")
    span = f"{low or 'no minimum'} to {high or 'no maximum'}"
    low_years, high_years = age_years(low), age_years(high)
    if (low and low_years is None) or (high and high_years is None):
        return Reason(check="age", fit="unknown", detail=f"age {age}; limits not read: {span}")
    if low_years is not None and age < low_years:
        return Reason(check="age", fit="no", detail=f"age {age} under the minimum {low}")
    if high_years is not None and age > high_years:
        return Reason(check="age", fit="no", detail=f"age {age} over the maximum {high}")
    return Reason(check="age", fit="yes", detail=f"age {age} within {span}")


def _sex(eligibility: dict[str, Any], sex: str | None) -> Reason | None:
    if sex is None:
        return None
    allowed = eligibility.get("sex")
    if allowed not in ("ALL", "FEMALE", "MALE"):
        return Reason(check="sex", fit="unknown", detail="the trial does not say which sex it takes")
    if allowed == "ALL" or allowed == sex.upper():
        return Reason(check="sex", fit="yes", detail=f"{sex} eligible (trial takes {allowed})")
    return Reason(check="sex", fit="no", detail=f"{sex} not eligible (trial takes {allowed} only)")


def _site(study: dict[str, Any], patient: Patient) -> tuple[Reason, float | None]:
    locations = module(study, "contactsLocationsModule").get("locations")
    recruiting = [
        loc
        for loc in (locations if isinstance(locations, list) else [])
        if isinstance(loc, dict) and loc.get("status") == "RECRUITING"
    ]
    near = patient.near
    if near is None:
        if recruiting:
            return Reason(check="site", fit="yes", detail=f"{len(recruiting)} recruiting site(s)"), None
        return Reason(check="site", fit="unknown", detail="no site listed as recruiting"), None
    measured = sorted(
        (round(distance(near.latitude, near.longitude, p["lat"], p["lon"], near.unit), 1), index, loc)
        for index, loc in enumerate(recruiting)
        if isinstance(p := loc.get("geoPoint") or {}, dict)
        and isinstance(p.get("lat"), int | float)
        and isinstance(p.get("lon"), int | float)
    )
    if not measured:
        return Reason(check="site", fit="unknown", detail="no recruiting site with coordinates listed"), None
    dist, _, loc = measured[0]
    place = ", ".join(str(loc[k]) for k in ("facility", "city", "state") if loc.get(k))
    fit: Verdict = "yes" if dist <= near.radius else "no"
    return Reason(check="site", fit=fit, detail=f"nearest recruiting site {dist:g} {near.unit}: {place}"), dist


def _mutations(study: dict[str, Any], mutations: Sequence[str]) -> tuple[list[Reason], str | None]:
    """A reason per mutation; or, when a mutation is named only under exclusion criteria and
    none is named anywhere else, the exclusion excerpt instead (the trial is listed apart). A
    trial that names one mutation to include and another to exclude stays a match, with a
    ``no`` for the excluded one."""
    reasons: list[Reason] = []
    excerpt: str | None = None
    named = False
    for mutation in mutations:
        where = locate(study, mutation)
        if where.exclusion_only:
            excerpt = excerpt or where.exclusion_excerpt or mutation
            reasons.append(Reason(check="mutation", fit="no", detail=f"{mutation} only in exclusion criteria"))
            continue
        named = named or bool(where.places)
        fit: Verdict
        if "inclusion" in where.places or "eligibility" in where.places:
            detail, fit = f"{mutation} in inclusion criteria: {where.excerpt}", "yes"
        elif where.places:
            detail, fit = f"{mutation} named in {', '.join(where.places)}, not in criteria", "unknown"
        else:
            detail, fit = f"{mutation} not spelled out (the registry matched it)", "unknown"
        reasons.append(Reason(check="mutation", fit=fit, detail=detail))
    return reasons, excerpt if excerpt is not None and not named else None


def _cap(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    return text if len(text) <= _TITLE_CAP else text[: _TITLE_CAP - 1].rstrip() + "…"
