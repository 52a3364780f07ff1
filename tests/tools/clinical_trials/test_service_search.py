"""TrialsService searches and counts over the recorded upstream and a real cache."""

from __future__ import annotations

import httpx
import pytest

from cache.engine.tiered import TieredCache
from tests.support.clock import ManualClock
from tests.support.fixtures import load_json
from tests.support.recorded_upstream import RecordedUpstream, ctgov_upstream
from tests.support.trials import BASE_URL, build_client, build_service
from tools.clinical_trials.config import TrialsCacheConfig, TrialsConfig
from tools.clinical_trials.models import Criteria
from tools.clinical_trials.paging import decode_token, encode_token
from tools.clinical_trials.service import TrialsService
from tools.errors import InvalidInput, to_tool_error
from tools.http.config import HttpPolicy
from tools.http.errors import BadPayload, Blocked, TimedOut, Unavailable
from tools.http.factory import build_upstream

STUDIES = "/api/v2/studies"
PHELAN = Criteria(condition="Phelan-McDermid Syndrome")


async def test_paging_follows_the_token_with_the_recorded_parameters(
    service: TrialsService, upstream: RecordedUpstream
) -> None:
    first = await service.search(PHELAN, page_size=5)
    recorded = load_json("ctgov/biomcp_search_phelan_limit5_20260811.json")
    assert [t.nct_id for t in first.trials] == [
        s["protocolSection"]["identificationModule"]["nctId"] for s in recorded["studies"]
    ]
    assert first.total_count == 21 and decode_token(first.next_page_token) == (recorded["nextPageToken"], 0)
    second = await service.search(PHELAN, page_size=5, page_token=first.next_page_token)
    assert second.total_count is None  # the API counts on the first page only
    assert second.trials[0].nct_id == "NCT05187377" and second.next_page_token
    sent = upstream.params(-1)
    assert sent["pageToken"] == recorded["nextPageToken"]
    assert {k: v for k, v in sent.items() if k != "pageToken"} == upstream.params(0)


async def test_a_terminal_page_has_no_token(service: TrialsService) -> None:
    page = await service.search(PHELAN, page_size=50)
    assert page.next_page_token is None and page.total_count == 3 and len(page.trials) == 3


async def test_second_identical_search_is_served_from_the_cache(
    service: TrialsService, upstream: RecordedUpstream, clock: ManualClock
) -> None:
    criteria = Criteria(condition="melanoma", statuses=("RECRUITING",))
    first = await service.search(criteria, page_size=3)
    clock.advance(10)
    second = await service.search(criteria, page_size=3)
    assert upstream.count(STUDIES) == 1
    assert (first.cache.hit, second.cache.hit, second.cache.tier) == (False, True, "memory")
    assert second.cache.age_seconds == 10 and second.cache.stale is False
    assert second.trials == first.trials and second.total_count == 480


async def test_an_empty_page_with_a_token_is_followed(service: TrialsService, upstream: RecordedUpstream) -> None:
    recorded = load_json("ctgov/biomcp_search_melanoma_recruiting_limit3_20260811.json")
    del recorded["totalCount"]
    upstream.script(
        httpx.Response(200, json={"studies": [], "nextPageToken": "EMPTY1", "totalCount": 480}),
        httpx.Response(200, json={"studies": [], "nextPageToken": "EMPTY2"}),
        httpx.Response(200, json=recorded),
    )
    page = await service.search(Criteria(condition="melanoma", statuses=("RECRUITING",)), page_size=3)
    assert [r.url.params.get("pageToken") for r in upstream.requests if r.url.path == STUDIES] == [
        None,
        "EMPTY1",
        "EMPTY2",
    ]
    assert len(page.trials) == 3 and page.total_count == 480  # the first page's total is kept
    assert decode_token(page.next_page_token) == ("ZVt07cGHkvI2wRk2CJf6_LLq14bEL8swd7KrgP4ZmTmRvvE", 0)


async def test_the_last_empty_page_is_returned_without_a_token(
    service: TrialsService, upstream: RecordedUpstream
) -> None:
    upstream.script(
        httpx.Response(200, json={"studies": [], "nextPageToken": "T"}), httpx.Response(200, json={"studies": []})
    )
    page = await service.search(PHELAN, page_token=encode_token("START", 0))
    assert page.trials == [] and page.next_page_token is None


async def test_count_asks_for_the_total_only(service: TrialsService, upstream: RecordedUpstream) -> None:
    counted = await service.count(Criteria(condition="melanoma", statuses=("RECRUITING",)))
    assert counted.total_count == 480 and counted.cache.hit is False
    assert upstream.params(-1)["pageSize"] == "1" and upstream.params(-1)["fields"] == "NCTId"
    again = await service.count(Criteria(condition="melanoma", statuses=("RECRUITING",)))
    assert again.cache.hit is True and upstream.count(STUDIES) == 1


async def test_invalidating_a_trial_drops_the_pages_that_show_it(
    service: TrialsService, upstream: RecordedUpstream
) -> None:
    criteria = Criteria(intervention='"Keytruda"')
    await service.search(criteria, page_size=3)
    await service.search(PHELAN, page_size=5)
    await service.invalidate_trial("NCT03590054")  # on the Keytruda page only
    assert (await service.search(criteria, page_size=3)).cache.hit is False
    assert (await service.search(PHELAN, page_size=5)).cache.hit is True
    assert upstream.count(STUDIES) == 3


async def test_a_stale_page_is_served_when_the_upstream_fails(
    service: TrialsService, upstream: RecordedUpstream, clock: ManualClock
) -> None:
    criteria = Criteria(intervention='"Keytruda"')
    fresh = await service.search(criteria, page_size=3)
    clock.advance(service.config.ttl.trials_search_fresh + 60)
    upstream.script(httpx.Response(503, text="down"))
    stale = await service.search(criteria, page_size=3)
    assert stale.cache.stale is True and stale.cache.hit is True and stale.trials == fresh.trials
    clock.advance(service.config.ttl.trials_search_stale)  # past the hard TTL: nothing left to serve
    upstream.script(httpx.Response(503, text="down"))
    with pytest.raises(Unavailable):
        await service.search(criteria, page_size=3)


async def test_a_400_names_the_tool_argument_and_quotes_the_api(
    service: TrialsService, upstream: RecordedUpstream
) -> None:
    bodies = {e["body"] for e in load_json("ctgov/error_bodies.json")}
    body = "Invalid value in parameter `overallStatus`: `BADSTATUS`"
    assert body in bodies
    upstream.script(httpx.Response(400, text=body))
    with pytest.raises(InvalidInput) as caught:
        await service.search(Criteria(condition="x", statuses=("RECRUITING",)))
    assert caught.value.field == "statuses"
    assert body in caught.value.message and "filter.overallStatus" in caught.value.message


async def test_a_403_is_blocked_and_html_is_an_upstream_fault(
    service: TrialsService, upstream: RecordedUpstream
) -> None:
    upstream.script(httpx.Response(403, text="Forbidden"))
    with pytest.raises(Blocked, match="User-Agent"):
        await service.search(Criteria(condition="a"))
    upstream.script(httpx.Response(200, html="<html><body>Maintenance</body></html>"))
    with pytest.raises(BadPayload, match="HTML"):
        await service.search(Criteria(condition="b"))
    upstream.script(httpx.Response(200, json={"unexpected": True, "studies": "no"}))
    with pytest.raises(BadPayload, match="studies"):
        await service.search(Criteria(condition="c"))


async def test_an_open_breaker_serves_stale_pages_and_says_when_to_retry(
    cache: TieredCache, clock: ManualClock
) -> None:
    upstream = ctgov_upstream()
    http = build_client(
        upstream, clock, HttpPolicy(max_attempts=1, breaker_failure_threshold=2, breaker_recovery_time=30)
    )
    # One /version check only (at the first call), so no success lands between the two failures.
    service = build_service(http, cache, clock, TrialsConfig(ttl=TrialsCacheConfig(trials_version_check_interval=1e9)))
    try:
        cached = await service.search(Criteria(intervention='"Keytruda"'), page_size=3)
        assert service.version.task is not None and await service.version.task is False
        clock.advance(service.config.ttl.trials_search_fresh + 1)
        upstream.script(*(httpx.Response(503, text="down") for _ in range(2)))
        for condition in ("a", "b"):  # two failures open the breaker
            with pytest.raises(Unavailable):
                await service.search(Criteria(condition=condition))
        before = len(upstream.requests)
        stale = await service.search(Criteria(intervention='"Keytruda"'), page_size=3)
        assert stale.cache.stale is True and stale.trials == cached.trials
        with pytest.raises(Unavailable) as caught:
            await service.search(Criteria(condition="c"))
        assert caught.value.retry_in is not None and 0 < caught.value.retry_in <= 30
        assert "retry in" in str(to_tool_error(caught.value))
        assert len(upstream.requests) == before  # the open breaker fails fast, no request sent
    finally:
        await service.aclose()
        await http.aclose()


async def test_a_timeout_is_reported_as_such(cache: TieredCache, clock: ManualClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    http = build_upstream(
        "ctgov",
        BASE_URL,
        policy=HttpPolicy(max_attempts=1),
        rate=None,
        user_agent="t",
        transport=httpx.MockTransport(handler),
        clock=clock,
    )
    service = build_service(http, cache, clock)
    try:
        with pytest.raises(TimedOut) as caught:
            await service.count(Criteria(condition="x"))
        assert "timed out" in str(to_tool_error(caught.value))
    finally:
        await service.aclose()
        await http.aclose()
