"""get_trial_results over the recorded ACTT study (httpx.MockTransport): the digest's content,
its budget, walking every cut, the cache (one upstream read, dropped with the trial) and errors."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from cache.engine.tiered import TieredCache
from tests.support.clock import ManualClock
from tests.support.fixtures import load_json
from tests.support.recorded_upstream import RecordedUpstream, ctgov_upstream
from tests.support.replay_routes import Reply, Route
from tests.support.trials import build_client, build_service
from tools.budget import RECORD_BUDGET, json_size
from tools.clinical_trials.results_models import Event, TrialResults
from tools.clinical_trials.results_service import RESULTS_FIELDS
from tools.clinical_trials.service import TrialsService
from tools.errors import InvalidInput
from tools.http.errors import NotFound

ACTT = "NCT04280705"
ACTT_PATH = f"/api/v2/studies/{ACTT}"


def actt_results() -> dict[str, Any]:
    study: dict[str, Any] = load_json("ctgov/biomcp_studies_page_nct04280705_with_results.json")["studies"][0]
    return dict(study["resultsSection"])


async def test_the_digest_lists_the_primary_outcome_its_p_value_and_serious_events_per_group(
    service: TrialsService, upstream: RecordedUpstream
) -> None:
    digest = await service.get_results(ACTT)
    assert json_size(digest) <= RECORD_BUDGET
    assert digest.has_results and digest.title == "Adaptive COVID-19 Treatment Trial (ACTT)"
    assert digest.outcomes and digest.outcomes_total == 43
    primary = digest.outcomes[0]
    assert (primary.index, primary.type, primary.title) == (0, "PRIMARY", "Time to Recovery")
    assert (primary.time_frame, primary.unit, primary.param) == ("Day 1 through Day 29", "Days", "MEDIAN")
    assert [(g.title, g.n) for g in primary.groups] == [("Placebo", "521"), ("Remdesivir", "541")]
    values = [(v.group, v.value, v.lower, v.upper) for v in primary.rows[0].values]
    assert values == [("OG000", "15", "13", "18"), ("OG001", "10", "9", "11")]
    (analysis,) = primary.analyses
    assert (analysis.method, analysis.p_value) == ("Log Rank", "<0.001")
    assert (analysis.estimate_type, analysis.estimate) == ("Cox Proportional Hazard", "1.29")
    assert (analysis.ci_pct, analysis.ci_lower, analysis.ci_upper) == ("95", "1.12", "1.49")
    # Every primary outcome comes before the secondary ones (upstream lists three at the end).
    types = [o.type for o in digest.outcomes]
    assert types[:4] == ["PRIMARY"] * 4 and [o.index for o in digest.outcomes[:4]] == [0, 40, 41, 42]
    events = digest.adverse_events
    assert events is not None and events.serious_total == 100 and events.other_total == 10
    serious = {g.title: (g.serious_affected, g.serious_at_risk) for g in events.groups}
    assert serious == {"Placebo": (163, 516), "Remdesivir": (131, 532)}
    assert events.serious_events and events.serious_events[0].term == "Respiratory failure"
    top = {s.group: (s.affected, s.at_risk) for s in events.serious_events[0].stats}
    assert top == {"EG000": (58, 516), "EG001": (35, 532)}
    assert upstream.params(-1, ACTT_PATH) == {"fields": ",".join(RESULTS_FIELDS)}


async def test_flow_and_baseline_totals(service: TrialsService) -> None:
    digest = await service.get_results(ACTT)
    assert digest.participant_flow is not None and digest.baseline is not None
    (period,) = digest.participant_flow.periods
    counts = {m.type: m.counts for m in period.milestones}
    assert counts["STARTED"] == {"FG000": "521", "FG001": "541"}
    assert counts["COMPLETED"] == {"FG000": "508", "FG001": "517"}
    assert [(g.title, g.n) for g in digest.baseline.groups] == [
        ("Placebo", "521"),
        ("Remdesivir", "541"),
        ("Total", "1062"),
    ]
    assert "Age, Continuous" in digest.baseline.measures


def _event_key(event: Event | dict[str, Any]) -> tuple[Any, ...]:
    if isinstance(event, Event):
        return (event.term, event.organ_system, tuple((s.group, s.affected, s.at_risk) for s in event.stats))
    stats = tuple((s["groupId"], s.get("numAffected"), s.get("numAtRisk")) for s in event.get("stats", []))
    return (event.get("term"), event.get("organSystem"), stats)


def _shown(answer: TrialResults, part: str) -> list[Any]:
    if part == "outcomes":
        return list(answer.outcomes or [])
    assert answer.adverse_events is not None
    return list(getattr(answer.adverse_events, part) or [])


async def test_walking_every_cut_shows_every_outcome_and_event_exactly_once(
    service: TrialsService, upstream: RecordedUpstream
) -> None:
    first = await service.get_results(ACTT)
    assert first.truncated is True and first.cuts
    seen: dict[str, list[Any]] = {part: _shown(first, part) for part in ("outcomes", "serious_events", "other_events")}
    queue = list(first.cuts)
    calls = 0
    while queue:
        cut = queue.pop(0)
        part, offset = cut.next["part"], cut.next["offset"]
        assert isinstance(part, str) and isinstance(offset, int)
        assert offset == len(seen[part]), (part, offset)  # the rest starts right after what was shown
        step = await service.get_results(ACTT, part, offset)  # type: ignore[arg-type]
        calls += 1
        assert json_size(step) <= RECORD_BUDGET and step.part == part and step.participant_flow is None
        seen[part] += _shown(step, part)
        queue += step.cuts or []
    results = actt_results()
    assert sorted(o.index for o in seen["outcomes"]) == list(range(43))
    events = results["adverseEventsModule"]
    for part, upstream_events in (("serious_events", events["seriousEvents"]), ("other_events", events["otherEvents"])):
        assert Counter(map(_event_key, seen[part])) == Counter(map(_event_key, upstream_events)), part
        rates = [e.incidence or 0.0 for e in seen[part]]
        assert rates == sorted(rates, reverse=True), part
    assert calls >= 3 and upstream.count(ACTT_PATH) == 1  # every page cut from one cached digest


async def test_a_trial_without_results_says_so_plainly(service: TrialsService) -> None:
    answer = await service.get_results("NCT06604689")
    assert answer.has_results is False and answer.message == "NCT06604689 has no results posted on ClinicalTrials.gov."
    assert answer.outcomes is None and answer.adverse_events is None and answer.cuts is None
    paged = await service.get_results("NCT06604689", "outcomes", 0)
    assert paged.has_results is False and paged.cache.hit is True


async def test_invalidating_the_trial_drops_its_digest(
    service: TrialsService, upstream: RecordedUpstream, clock: ManualClock
) -> None:
    await service.get_results(ACTT)
    clock.advance(5)
    again = await service.get_results(ACTT, "serious_events", 10)
    assert again.cache.hit is True and upstream.count(ACTT_PATH) == 1
    await service.invalidate_trial(ACTT)
    after = await service.get_results(ACTT)
    assert after.cache.hit is False and upstream.count(ACTT_PATH) == 2


@pytest.mark.parametrize(
    ("part", "offset", "message"),
    [
        (None, 3, "give it with part"),
        ("outcomes", 44, "outcomes has 43 items"),
        ("other_events", 11, "other_events has 10 items"),
    ],
)
async def test_bad_offsets_are_refused_naming_the_field(
    service: TrialsService, upstream: RecordedUpstream, part: Any, offset: int, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await service.get_results(ACTT, part, offset)
    assert caught.value.field == "offset" and message in caught.value.message
    if part is None:
        assert upstream.count(ACTT_PATH) == 0  # refused before any upstream request


async def test_an_unknown_trial_is_not_found(service: TrialsService) -> None:
    with pytest.raises(NotFound, match="no trial NCT09999999"):
        await service.get_results("NCT09999999")


async def test_an_alias_is_followed_and_either_id_drops_the_digest(cache: TieredCache, clock: ManualClock) -> None:
    """The 301 of an alias id is synthesised (no recorded alias exists), as in the record tests."""
    alias = Route(
        "/api/v2/studies/NCT00000102", Reply(301, {"location": "https://clinicaltrials.gov/api/v2/studies/NCT04280705"})
    )
    upstream = ctgov_upstream([alias])
    http = build_client(upstream, clock)
    service = build_service(http, cache, clock)
    try:
        digest = await service.get_results("NCT00000102")
        assert (digest.nct_id, digest.requested_id, digest.has_results) == (ACTT, "NCT00000102", True)
        for tag in (ACTT, "NCT00000102"):
            assert (await service.get_results("NCT00000102")).cache.hit is True
            await service.invalidate_trial(tag)
            assert (await service.get_results("NCT00000102")).cache.hit is False
    finally:
        await service.aclose()
        await http.aclose()
