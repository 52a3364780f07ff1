"""The data-version watch: lazy, rate-limited /version checks that invalidate the trial caches."""

from __future__ import annotations

import asyncio

import httpx

from cache.engine.tiered import TieredCache
from tests.support.clock import ManualClock
from tests.support.recorded_upstream import RecordedUpstream, ctgov_upstream
from tests.support.trials import BASE_URL, build_service
from tools.clinical_trials.client import CtgovClient
from tools.clinical_trials.config import NAMESPACES
from tools.clinical_trials.models import Criteria
from tools.clinical_trials.service import TrialsService
from tools.clinical_trials.version import DataVersionWatch
from tools.http.client import UpstreamClient
from tools.http.config import HttpPolicy
from tools.http.factory import build_upstream

VERSION = "/api/v2/version"
KEYTRUDA = Criteria(intervention='"Keytruda"')


def version_reply(stamp: str) -> httpx.Response:
    return httpx.Response(200, json={"apiVersion": "2.0.3", "dataTimestamp": stamp})


async def test_a_moved_timestamp_invalidates_every_trial_namespace(
    service: TrialsService, upstream: RecordedUpstream
) -> None:
    assert await service.version.check() is False  # first sighting: recorded only
    await service.search(KEYTRUDA, page_size=3)
    await service.get_trial("NCT04280705")
    assert service.version.task is not None and await service.version.task is False  # the call's own check
    assert await service.version.check() is False  # unchanged
    upstream.script(version_reply("2026-08-12T23:00:00"), path=VERSION)
    assert await service.version.check() is True
    assert (await service.search(KEYTRUDA, page_size=3)).cache.hit is False
    assert (await service.get_trial("NCT04280705")).cache.hit is False
    assert service.version.invalidations == 1


async def test_calls_start_at_most_one_check_per_interval_and_never_wait(
    cache: TieredCache, clock: ManualClock
) -> None:
    upstream = ctgov_upstream()
    gate = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == VERSION:
            await gate.wait()  # /version hangs until the test lets it answer
        return upstream(request)

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
        first = await service.search(KEYTRUDA, page_size=3)  # answered while /version hangs
        task = service.version.task
        assert task is not None and not task.done() and first.cache.hit is False
        for _ in range(3):
            await service.search(KEYTRUDA, page_size=3)
        assert service.version.task is task  # no second check while one runs
        gate.set()
        assert await task is False
        await service.search(KEYTRUDA, page_size=3)
        assert service.version.task is task and upstream.count(VERSION) == 1  # within the interval
        clock.advance(service.config.ttl.trials_version_check_interval)
        upstream.script(version_reply("2026-08-12T23:00:00"), path=VERSION)
        await service.search(KEYTRUDA, page_size=3)
        second = service.version.task
        assert second is not task and second is not None and await second is True
        assert upstream.count(VERSION) == 2
        assert (await service.search(KEYTRUDA, page_size=3)).cache.hit is False
    finally:
        await service.aclose()
        await http.aclose()


async def test_the_last_timestamp_survives_a_restart(
    http: UpstreamClient, cache: TieredCache, clock: ManualClock, upstream: RecordedUpstream
) -> None:
    first = DataVersionWatch(CtgovClient(http), cache, NAMESPACES, 300, clock)
    assert await first.check() is False
    restarted = DataVersionWatch(CtgovClient(http), cache, NAMESPACES, 300, clock)
    upstream.script(version_reply("2026-08-13T23:00:00"), path=VERSION)
    assert await restarted.check() is True


async def test_a_failed_check_changes_nothing(service: TrialsService, upstream: RecordedUpstream) -> None:
    assert await service.version.check() is False
    await service.search(KEYTRUDA, page_size=3)
    assert service.version.task is not None and await service.version.task is False
    upstream.script(httpx.Response(503, text="down"), httpx.Response(200, html="<html></html>"), path=VERSION)
    assert await service.version.check() is False
    assert await service.version.check() is False
    assert (await service.search(KEYTRUDA, page_size=3)).cache.hit is True
