"""The checks of one trial against a patient (synthesised studies in the recorded module shapes)."""

from __future__ import annotations

from typing import Any

import pytest

from tools.clinical_trials.models import ExcludedTrial, Near
from tools.clinical_trials.patient_fit import age_years, assess, rank
from tools.clinical_trials.patient_models import Patient, PatientMatch

HOUSTON = Near(latitude=29.7604, longitude=-95.3698, radius=50)


def study(
    nct: str = "NCT00000001",
    criteria: str = "Inclusion Criteria:\n\n* NSCLC\n\nExclusion Criteria:\n\n* Pregnancy",
    sex: str | None = "ALL",
    low: str | None = "18 Years",
    high: str | None = None,
    sites: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    eligibility: dict[str, Any] = {"eligibilityCriteria": criteria}
    for key, value in (("sex", sex), ("minimumAge", low), ("maximumAge", high)):
        if value is not None:
            eligibility[key] = value
    return {
        "protocolSection": {
            "identificationModule": {"nctId": nct, "briefTitle": "A trial"},
            "statusModule": {"overallStatus": "RECRUITING"},
            "eligibilityModule": eligibility,
            "contactsLocationsModule": {"locations": sites or []},
        }
    }


def site(status: str, lat: float, lon: float, city: str = "Houston") -> dict[str, Any]:
    return {"facility": f"{city} clinic", "city": city, "status": status, "geoPoint": {"lat": lat, "lon": lon}}


def fits(match: PatientMatch | ExcludedTrial) -> dict[str, str]:
    assert isinstance(match, PatientMatch)
    return {r.check: r.fit for r in match.reasons}


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("18 Years", 18.0),
        ("6 Months", 0.5),
        ("1 Year", 1.0),
        ("52 Weeks", 52 * 7 / 365.25),
        ("N/A", None),
        (None, None),
    ],
)
def test_age_limits_are_read_in_years(text: Any, years: float | None) -> None:
    assert age_years(text) == (pytest.approx(years) if years is not None else None)


@pytest.mark.parametrize(
    ("low", "high", "fit"),
    [("18 Years", None, "yes"), ("60 Years", None, "no"), ("18 Years", "55 Years", "no"), (None, "58 Years", "yes")],
)
def test_age(low: str | None, high: str | None, fit: str) -> None:
    assert fits(assess(study(low=low, high=high), Patient(age=58)))["age"] == fit


def test_an_unreadable_age_limit_is_unknown_not_a_refusal() -> None:
    match = assess(study(low="adult"), Patient(age=58))
    assert fits(match)["age"] == "unknown"


@pytest.mark.parametrize(("trial_sex", "fit"), [("ALL", "yes"), ("FEMALE", "yes"), ("MALE", "no"), (None, "unknown")])
def test_sex(trial_sex: str | None, fit: str) -> None:
    assert fits(assess(study(sex=trial_sex), Patient(sex="female")))["sex"] == fit


def test_the_nearest_recruiting_site_counts_and_the_radius_decides() -> None:
    sites = [site("COMPLETED", 29.76, -95.37), site("RECRUITING", 30.2672, -97.7431, "Austin")]
    match = assess(study(sites=sites), Patient(near=HOUSTON))
    assert isinstance(match, PatientMatch) and match.distance == pytest.approx(146, abs=2)
    assert fits(match)["site"] == "no" and "Austin" in match.reasons[0].detail
    wide = assess(study(sites=sites), Patient(near=HOUSTON.model_copy(update={"radius": 200})))
    assert fits(wide)["site"] == "yes"
    assert fits(assess(study(sites=sites), Patient()))["site"] == "yes"  # without near: one recruiting site
    assert fits(assess(study(), Patient()))["site"] == "unknown"


def test_mutations_in_inclusion_exclusion_and_nowhere() -> None:
    both = "Inclusion Criteria:\n\n* EGFR L858R\n\nExclusion Criteria:\n\n* EGFR T790M"
    mixed = assess(study(criteria=both), Patient(mutations=("EGFR L858R", "EGFR T790M")))
    assert isinstance(mixed, PatientMatch)
    assert [r.fit for r in mixed.reasons if r.check == "mutation"] == ["yes", "no"]
    apart = assess(study(criteria=both), Patient(mutations=("EGFR T790M",)))
    assert isinstance(apart, ExcludedTrial) and apart.excerpt == "EGFR T790M"
    silent = assess(study(), Patient(mutations=("KRAS G12C",)))
    assert fits(silent)["mutation"] == "unknown"


def test_rank_puts_the_better_fit_and_the_nearer_first_and_the_excluded_last() -> None:
    near_site = [site("RECRUITING", 29.77, -95.37)]
    far_site = [site("RECRUITING", 29.9, -95.5)]
    patient = Patient(age=58, near=HOUSTON)
    items = [
        assess(study("NCT00000001", low="60 Years", sites=near_site), patient),
        ExcludedTrial(nct_id="NCT00000009"),
        assess(study("NCT00000002", sites=far_site), patient),
        assess(study("NCT00000003", sites=near_site), patient),
    ]
    assert [item.nct_id for item in rank(items)] == ["NCT00000003", "NCT00000002", "NCT00000001", "NCT00000009"]
