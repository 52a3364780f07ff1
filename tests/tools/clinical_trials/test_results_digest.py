"""Parsing resultsSection and fitting the digest, without I/O.

The studies here are synthesised in the v2 shape (ctg-oas-v2.yaml: OutcomeMeasure,
MeasureAnalysis, AdverseEvent) to reach cases the recorded ACTT study does not have: "NA"
values, an event with nobody at risk, an outcome with many rows, a tight budget.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.fixtures import load_json
from tools.budget import json_size
from tools.clinical_trials.results_digest import MAX_ROWS, by_incidence, digest
from tools.clinical_trials.results_fit import TOP_EVENTS, answer
from tools.clinical_trials.results_models import ResultsDigest, TrialResults
from tools.freshness import CacheInfo

NOW = CacheInfo(hit=False, age_seconds=0.0, stale=False)


def study(results: dict[str, Any], *, has_results: bool = True) -> dict[str, Any]:
    ident = {"nctId": "NCT00000001", "briefTitle": "Synthetic"}
    return {"protocolSection": {"identificationModule": ident}, "resultsSection": results, "hasResults": has_results}


def measure(title: str, kind: str = "SECONDARY", classes: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "title": title,
        "reportingStatus": "POSTED",
        "groups": [{"id": "OG000", "title": "A"}, {"id": "OG001", "title": "B"}],
        "denoms": [{"units": "Participants", "counts": [{"groupId": "OG000", "value": "10"}]}],
        "classes": [
            {
                "title": f"class {i}",
                "categories": [{"measurements": [{"groupId": "OG000", "value": "NA", "spread": "1.5"}]}],
            }
            for i in range(classes)
        ],
        **extra,
    }


def ae(term: str, affected: int, at_risk: int) -> dict[str, Any]:
    stats = [{"groupId": "EG000", "numAffected": affected, "numAtRisk": at_risk, "numEvents": affected}]
    return {"term": term, "organSystem": "Organ", "stats": stats}


def test_values_and_p_values_keep_the_upstream_text() -> None:
    analysis = {"groupIds": ["OG000", "OG001"], "pValue": "NA", "pValueComment": "not  computed", "paramValue": "<0.5"}
    parsed = digest(study({"outcomeMeasuresModule": {"outcomeMeasures": [measure("m", analyses=[analysis])]}}), "x")
    (outcome,) = parsed.outcomes
    assert outcome.rows[0].label == "class 0" and outcome.rows[0].values[0].value == "NA"
    assert outcome.rows[0].values[0].spread == "1.5" and outcome.groups[0].n == "10" and outcome.groups[1].n is None
    assert (outcome.analyses[0].p_value, outcome.analyses[0].estimate) == ("NA", "<0.5")
    assert outcome.analyses[0].p_value_comment == "not computed"
    assert parsed.requested_id == "x" and parsed.nct_id == "NCT00000001"


def test_outcomes_primary_first_keeping_their_upstream_index() -> None:
    measures = [measure("s1"), measure("p1", "PRIMARY"), measure("o1", "OTHER_PRE_SPECIFIED"), measure("p2", "PRIMARY")]
    parsed = digest(study({"outcomeMeasuresModule": {"outcomeMeasures": measures}}), "NCT00000001")
    assert [(o.index, o.title) for o in parsed.outcomes] == [(1, "p1"), (3, "p2"), (0, "s1"), (2, "o1")]
    assert parsed.requested_id is None


def test_an_outcome_with_many_rows_is_limited_and_says_so() -> None:
    many = measure("many", classes=MAX_ROWS + 5)
    (outcome,) = digest(study({"outcomeMeasuresModule": {"outcomeMeasures": [many]}}), "x").outcomes
    assert len(outcome.rows) == MAX_ROWS and outcome.rows_total == MAX_ROWS + 5


def test_events_by_pooled_incidence_and_nobody_at_risk_last() -> None:
    events = by_incidence(
        [ae("rare", 1, 100), ae("none at risk", 0, 0), ae("common", 30, 100), ae("also rare", 1, 100)]
    )
    assert [e.term for e in events] == ["common", "also rare", "rare", "none at risk"]
    assert [e.incidence for e in events] == [0.3, 0.01, 0.01, None]


def test_no_results_section_means_no_results_whatever_the_flag() -> None:
    parsed = digest(study({}, has_results=True), "NCT00000001")
    assert parsed.has_results is False and parsed.outcomes == []
    result = answer(parsed, NOW)
    assert result.message and "no results posted" in result.message and result.outcomes is None


def _walk(whole: ResultsDigest, budget: int) -> dict[str, list[Any]]:
    first = answer(whole, NOW, budget=budget)
    assert json_size(first) <= budget
    seen = {"outcomes": list(first.outcomes or [])}
    assert first.adverse_events is not None
    seen["serious_events"] = list(first.adverse_events.serious_events or [])
    seen["other_events"] = list(first.adverse_events.other_events or [])
    queue = list(first.cuts or [])
    while queue:
        cut = queue.pop(0)
        part, offset = str(cut.next["part"]), int(str(cut.next["offset"]))
        step: TrialResults = answer(whole, NOW, part, offset, budget=budget)  # type: ignore[arg-type]
        assert json_size(step) <= budget and offset == len(seen[part])
        shown = step.outcomes if part == "outcomes" else getattr(step.adverse_events, part)
        assert shown, "a page that moves on shows at least one item"
        seen[part] += shown
        queue += step.cuts or []
    return seen


def test_a_tight_budget_pages_through_everything_exactly_once() -> None:
    measures = [measure(f"m{i}", classes=3) for i in range(25)]
    events = [ae(f"event {i}", i, 100) for i in range(40)]
    results = {
        "outcomeMeasuresModule": {"outcomeMeasures": measures},
        "adverseEventsModule": {"eventGroups": [{"id": "EG000", "title": "A"}], "seriousEvents": events},
    }
    whole = ResultsDigest.model_validate(digest(study(results), "NCT00000001").model_dump(mode="json"))
    seen = _walk(whole, 4000)
    assert sorted(o.index for o in seen["outcomes"]) == list(range(25))
    assert [e.term for e in seen["serious_events"]] == [f"event {i}" for i in reversed(range(40))]


def test_the_recorded_overview_shows_the_top_events_and_fits() -> None:
    actt = load_json("ctgov/biomcp_studies_page_nct04280705_with_results.json")["studies"][0]
    result = answer(digest(actt, "NCT04280705"), NOW)
    assert result.adverse_events is not None and len(result.adverse_events.serious_events or []) == TOP_EVENTS
    assert result.cuts and result.cuts[0].next == {"part": "serious_events", "offset": TOP_EVENTS}
    assert json_size(result) <= 16 * 1024


def test_one_outcome_larger_than_the_budget_has_its_rows_cut() -> None:
    big = measure("big", classes=MAX_ROWS)
    whole = digest(study({"outcomeMeasuresModule": {"outcomeMeasures": [big]}}), "NCT00000001")
    result = answer(whole, NOW, "outcomes", 0, budget=1500)
    (outcome,) = result.outcomes or []
    assert 0 < len(outcome.rows) < MAX_ROWS and outcome.rows_total == MAX_ROWS
    assert json_size(result) <= 1500


@pytest.mark.parametrize("budget", [4000, 5000, 7000, 10_000, 16 * 1024])
def test_the_recorded_digest_walks_once_within_any_reasonable_budget(budget: int) -> None:
    actt = load_json("ctgov/biomcp_studies_page_nct04280705_with_results.json")["studies"][0]
    whole = digest(actt, "NCT04280705")
    seen = _walk(whole, budget)
    assert sorted(o.index for o in seen["outcomes"]) == list(range(43))
    assert len(seen["serious_events"]) == 100 and len(seen["other_events"]) == 10
