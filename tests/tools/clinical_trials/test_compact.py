"""Every recorded study parses into a compact trial and a compact record of bounded size."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from cache.policy import CacheMeta
from tests.support.fixtures import fixtures_dir, load_json
from tools.budget import RECORD_BUDGET
from tools.clinical_trials.compact import compact_record, compact_trial, raw_sections
from tools.clinical_trials.models import Near, TrialSearchResult
from tools.clinical_trials.record_fit import fit_record
from tools.clinical_trials.record_models import TrialDetail, TrialRecord
from tools.freshness import CacheInfo

SINGLE = sorted(
    p.name for p in (fixtures_dir() / "ctgov").glob("*.json") if p.name.startswith(("aact_", "biomcp_get_"))
)
PAGES = sorted(
    p.name for p in (fixtures_dir() / "ctgov").glob("biomcp_*.json") if "search" in p.name or "studies_page" in p.name
)
CACHE = CacheInfo.from_meta(CacheMeta(hit=False, tier=None, age=0.0, stale=False))


def studies_of(name: str) -> list[dict[str, Any]]:
    data = load_json(f"ctgov/{name}")
    return data["studies"] if "studies" in data else [data]


def actt() -> dict[str, Any]:
    return studies_of("biomcp_studies_page_nct04280705_with_results.json")[0]


def size(model: Any) -> int:
    return len(orjson.dumps(model.model_dump(mode="json", by_alias=True)))


def record_of(study: dict[str, Any]) -> TrialRecord:
    return compact_record(study, max_sites=10, max_criteria_chars=6000)[0]


def answer_of(study: dict[str, Any]) -> TrialDetail:
    """The get_trial answer for ``study`` as the service builds it: the record fitted to its budget."""
    fitted = fit_record(*compact_record(study, max_sites=10, max_criteria_chars=6000), RECORD_BUDGET)
    detail = TrialDetail(trial=TrialRecord.model_validate(fitted.record), cache=CACHE)
    if fitted.cuts:
        detail.truncated, detail.cuts = True, fitted.cuts
    return detail


def test_fixture_lists_are_complete() -> None:
    assert len(SINGLE) == 9 and len(PAGES) == 8


@pytest.mark.parametrize("name", SINGLE + PAGES)
def test_every_recorded_study_parses(name: str) -> None:
    for study in studies_of(name):
        nct = study["protocolSection"]["identificationModule"]["nctId"]
        detail = answer_of(study)
        record = detail.trial
        trial = compact_trial(study, site_limit=3)
        assert record is not None and record.nct_id == trial.nct_id == nct
        assert trial.url == f"https://clinicaltrials.gov/study/{nct}"
        assert record.title == study["protocolSection"]["identificationModule"]["briefTitle"]
        assert size(detail) <= RECORD_BUDGET


def test_record_with_results_and_many_sites() -> None:
    record = record_of(actt())
    assert record.has_results is True
    assert record.status == "COMPLETED" and record.phases == ["PHASE3"] and record.enrollment == 1062
    assert record.locations.total == 60 and len(record.locations.shown) == 10
    assert [a.label for a in record.arms] == ["Placebo", "Remdesivir"]
    assert record.primary_outcomes[0].measure == "Time to Recovery"
    assert record.eligibility is not None and len(record.eligibility.exclusion) == 5
    assert record.eligibility.sex == "ALL" and record.eligibility.minimum_age == "18 Years"
    dupilumab = record_of(studies_of("aact_study_nct02210780.json")[0])
    assert dupilumab.has_results is True and dupilumab.locations.total == 42


def test_a_record_with_hundreds_of_sites_stays_within_budget_and_says_so() -> None:
    study = copy.deepcopy(actt())
    module = study["protocolSection"]["contactsLocationsModule"]
    sites = module["locations"]
    module["locations"] = [dict(site, status="COMPLETED") for site in sites * 3] + [dict(sites[5], status="RECRUITING")]
    detail = answer_of(study)
    record = detail.trial
    assert record is not None and record.locations.total == 181 and record.locations.recruiting == 1
    assert record.locations.shown[0].status == "RECRUITING"  # recruiting sites first
    assert size(detail) <= RECORD_BUDGET
    cut = {c.list: c for c in detail.cuts or []}["trial.locations.shown"]
    assert (cut.returned, cut.dropped) == (10, 171)
    # Shown recruiting first: the rest continues in the sites view, which keeps that order.
    assert cut.next == {"sites": {"offset": 10}}


def test_central_contacts_and_site_order_of_a_not_yet_recruiting_study() -> None:
    record = record_of(studies_of("aact_study_nct06171568.json")[0])
    assert record.status == "NOT_YET_RECRUITING"
    assert record.contacts and record.contacts[0].name
    assert record.has_results is False


def test_search_view_of_a_recorded_page() -> None:
    page = load_json("ctgov/biomcp_search_keytruda_limit3_20260811.json")
    trials = [compact_trial(s, 3) for s in page["studies"]]
    assert {t.status for t in trials} >= {"RECRUITING", "COMPLETED"}
    assert ["PHASE1", "PHASE2"] in [t.phases for t in trials]
    assert all(t.sponsor and t.start_date for t in trials)


def test_nearest_sites_come_first_with_distances() -> None:
    bethesda = Near(latitude=39.0035707, longitude=-77.1013313, radius=50)
    trial = compact_trial(actt(), site_limit=3, near=bethesda)
    assert trial.sites_total == 60
    distances = [float(line.rsplit("(", 1)[1].split()[0]) for line in trial.sites]
    assert distances == sorted(distances) and distances[0] < 50
    assert trial.sites[0].endswith(" mi)") and "United States" in trial.sites[0]


def test_a_ten_trial_page_with_sites_stays_under_8_kb() -> None:
    # Recorded search studies carry no sites (fields=): give each the 60 sites of ACTT.
    pool = [copy.deepcopy(s) for name in PAGES[:-1] for s in studies_of(name)]
    studies = pool[-9:] + [actt()]
    for study in studies:
        study["protocolSection"]["contactsLocationsModule"] = actt()["protocolSection"]["contactsLocationsModule"]
    result = TrialSearchResult(
        trials=[compact_trial(s, 3) for s in studies],
        total_count=1000,
        next_page_token="ZVt07cGHkvI2wRk2CJf6_LLq14bEL8swd7KrgP4dnDeTsPkw",
        cache=CACHE,
    )
    assert size(result) < 8_000


def test_none_fields_are_left_out_of_the_output() -> None:
    trial = compact_trial(studies_of("biomcp_search_age_count_20260811.json")[0], 3)
    dumped = trial.model_dump(mode="json")
    assert None not in dumped.values()
    assert "completion_date" not in dumped or dumped["completion_date"]


def test_raw_sections_return_full_upstream_content() -> None:
    study = actt()
    sections = raw_sections(study, ["results", "eligibility", "documents", "ipd_sharing"])
    assert set(sections) == {"results", "eligibility", "documents"}
    assert sections["results"] == study["resultsSection"]
    assert sections["eligibility"] == study["protocolSection"]["eligibilityModule"]


def test_a_list_view_says_how_many_conditions_and_interventions_it_left_out() -> None:
    study = {
        "protocolSection": {
            "identificationModule": {"nctId": "NCT00000001"},
            "conditionsModule": {"conditions": [f"condition {i}" for i in range(8)]},
            "armsInterventionsModule": {"interventions": [{"name": "drug A"}, {"name": "drug B"}]},
        }
    }
    trial = compact_trial(study, site_limit=3)
    assert len(trial.conditions) == 5 and trial.conditions_total == 8
    assert trial.interventions == ["drug A", "drug B"] and trial.interventions_total is None
    assert "interventions_total" not in trial.model_dump(mode="json")
