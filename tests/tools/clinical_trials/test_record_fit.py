"""A compact record with very long lists: within RECORD_BUDGET, each cut list's next is the rest."""

from __future__ import annotations

import copy
from typing import Any

from tests.support.fixtures import load_json
from tools.budget import RECORD_BUDGET, json_size
from tools.clinical_trials.compact import compact_record
from tools.clinical_trials.record_fit import UPSTREAM, fit_record
from tools.shrink import select


def bloated() -> dict[str, Any]:
    """ACTT with 300 arms, 200 conditions, 80 collaborators and 120 secondary outcomes."""
    study: dict[str, Any] = copy.deepcopy(
        load_json("ctgov/biomcp_studies_page_nct04280705_with_results.json")["studies"][0]
    )
    protocol = study["protocolSection"]
    protocol["armsInterventionsModule"]["armGroups"] = [
        {"label": f"Arm {i}", "type": "EXPERIMENTAL", "description": "d" * 150} for i in range(300)
    ]
    protocol["conditionsModule"]["conditions"] = [f"Condition number {i}" for i in range(200)]
    protocol["sponsorCollaboratorsModule"]["collaborators"] = [{"name": f"Partner {i}"} for i in range(80)]
    outcomes = protocol["outcomesModule"]
    outcomes["secondaryOutcomes"] = [{"measure": f"Measure {i}", "timeFrame": "Day 28"} for i in range(120)]
    return study


def test_a_bloated_record_fits_and_every_cut_points_at_the_rest() -> None:
    study = bloated()
    record, totals = compact_record(study, max_sites=10, max_criteria_chars=6000)
    payload = fit_record(record, totals, RECORD_BUDGET)
    assert json_size(payload.record) + json_size(payload.cuts) + 512 <= RECORD_BUDGET
    cuts = {cut.list: cut for cut in payload.cuts}
    assert {"trial.arms", "trial.secondary_outcomes"} <= set(cuts)
    for name, cut in cuts.items():
        path, ordered = UPSTREAM[name.removeprefix("trial.")]
        shown = select(payload.record, name.removeprefix("trial."))
        upstream = select(study, path)
        assert cut.returned == len(shown)
        if name == "trial.locations.shown":  # continued in get_trial's sites view, same order
            assert cut.next == {"sites": {"offset": len(shown)}} and cut.returned + cut.dropped == len(upstream)
        elif ordered:
            assert cut.next == {"path": path, "offset": len(shown)}
            assert cut.returned + cut.dropped == len(upstream)
        else:
            assert cut.next == {"path": path}
    arms = select(study, UPSTREAM["arms"][0])
    assert [arm["label"] for arm in payload.record["arms"]] == [
        arm["label"] for arm in arms[: cuts["trial.arms"].returned]
    ]


def test_a_small_record_has_no_cuts() -> None:
    study = load_json("ctgov/biomcp_get_nct06604689_20260811.json")
    payload = fit_record(*compact_record(study, max_sites=10, max_criteria_chars=6000), RECORD_BUDGET)
    assert payload.cuts == [] and payload.record["nct_id"] == "NCT06604689"
