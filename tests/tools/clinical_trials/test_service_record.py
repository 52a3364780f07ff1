"""TrialsService.get_trial: compact records, sections, aliases, 404s, invalidation."""

from __future__ import annotations

import httpx
import pytest

from cache.engine.tiered import TieredCache
from tests.support.clock import ManualClock
from tests.support.recorded_upstream import RecordedUpstream, ctgov_upstream
from tests.support.replay_routes import Reply, Route
from tests.support.trials import build_client, build_service
from tools.clinical_trials.service import TrialsService
from tools.http.errors import NotFound, Unavailable

ACTT = "/api/v2/studies/NCT04280705"


async def test_record_is_read_with_protocol_fields_and_cached(
    service: TrialsService, upstream: RecordedUpstream
) -> None:
    detail = await service.get_trial("NCT04280705")
    assert upstream.params(-1, ACTT) == {"fields": "ProtocolSection,HasResults"}
    trial = detail.trial
    assert trial.nct_id == "NCT04280705" and trial.requested_id is None and trial.has_results
    assert trial.locations.total == 60 and len(trial.locations.shown) == service.config.max_sites
    assert detail.sections is None and detail.cache.hit is False
    again = await service.get_trial("NCT04280705")
    assert again.cache.hit is True and upstream.count(ACTT) == 1


async def test_sections_come_from_one_full_read_that_also_fills_the_record(
    service: TrialsService, upstream: RecordedUpstream
) -> None:
    detail = await service.get_trial("NCT04280705", ["results", "derived", "results"])
    assert detail.sections is not None and set(detail.sections) == {"results", "derived"}
    assert set(detail.sections["results"]) == {
        "participantFlowModule",
        "baselineCharacteristicsModule",
        "outcomeMeasuresModule",
        "adverseEventsModule",
        "moreInfoModule",
    }
    assert upstream.count(ACTT) == 1 and "fields" not in upstream.params(-1, ACTT)
    # The record came from the cache (the full read stored it), the sections were fetched now.
    assert detail.cache.hit is False and detail.cache.tier == "mixed"
    assert (await service.get_trial("NCT04280705", ["derived", "results"])).sections == detail.sections
    assert upstream.count(ACTT) == 1


async def test_unknown_trial_is_not_found(service: TrialsService) -> None:
    with pytest.raises(NotFound, match="no trial NCT09999999 on ClinicalTrials.gov"):
        await service.get_trial("NCT09999999")


async def test_an_alias_id_is_followed_and_tagged_with_both_ids(cache: TieredCache, clock: ManualClock) -> None:
    alias = Route(
        "/api/v2/studies/NCT00000102", Reply(301, {"location": "https://clinicaltrials.gov/api/v2/studies/NCT04280705"})
    )
    upstream = ctgov_upstream([alias])
    http = build_client(upstream, clock)
    service = build_service(http, cache, clock)
    try:
        detail = await service.get_trial("NCT00000102")
        assert detail.trial.nct_id == "NCT04280705" and detail.trial.requested_id == "NCT00000102"
        assert [p for p in upstream.paths() if "studies" in p] == ["/api/v2/studies/NCT00000102", ACTT]
        await service.invalidate_trial("NCT04280705")
        assert (await service.get_trial("NCT00000102")).cache.hit is False
    finally:
        await service.aclose()
        await http.aclose()


async def test_every_recorded_single_study_is_served(service: TrialsService) -> None:
    for nct in (
        "NCT00763412",
        "NCT02210780",
        "NCT03630471",
        "NCT04207047",
        "NCT05594173",
        "NCT06171568",
        "NCT02576665",
        "NCT06382129",
        "NCT06604689",
    ):
        trial = (await service.get_trial(nct)).trial
        assert trial.nct_id == nct and trial.eligibility is not None and trial.eligibility.inclusion


async def test_a_failed_read_is_not_cached(service: TrialsService, upstream: RecordedUpstream) -> None:
    upstream.script(httpx.Response(500, text="oops"), path=ACTT)
    with pytest.raises(Unavailable, match="HTTP 500"):
        await service.get_trial("NCT04280705")
    assert (await service.get_trial("NCT04280705")).trial.nct_id == "NCT04280705"
