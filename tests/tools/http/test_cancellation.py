"""Cancellation: a cancelled caller stops waiting at once and takes nothing with it.

An MCP client that cancels a request (or disconnects) cancels the task running the tool. Its
waits (a place in a rate limiter's queue, a retry's backoff) end at once, it leaves the queue
without taking a slot; a load it shares with other callers through the cache goes on for them.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from cache import CachePolicy
from tests.support.clock import HeldSleep, ManualClock
from tests.support.engine import CacheFactory
from tests.support.scripted_http import Script, json_response, mock_client
from tools.http.deadline import within

POLICY = CachePolicy("trials.get", fresh_ttl=60.0, stale_ttl=600.0)


async def settle() -> None:
    """Let every task that can run, run (a few loop turns; no time passes)."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_cancelled_callers_stop_waiting_at_once_and_take_no_slot(clock: ManualClock) -> None:
    sleep = HeldSleep(clock)
    script = Script(httpx.Response(503), default=json_response())
    async with mock_client(script, clock, rate=(2, 60.0), sleep=sleep) as client, asyncio.timeout(10):
        with within(120.0, clock=clock):  # long enough to queue for the next window
            backing_off = asyncio.create_task(client.get_json("/retried"))  # 503, then a retry wait
            await sleep.sleeping.wait()
            await client.get_json("/slot")  # the second and last slot of the window
            queued = asyncio.create_task(client.get_json("/queued"))
            await settle()
            assert client.status().queued == 1
            backing_off.cancel()
            queued.cancel()
            await settle()
            assert backing_off.cancelled() and queued.cancelled()  # no wait was left to finish first
            status = client.status()
            assert (status.queued, status.total_requests, status.total_failures) == (0, 2, 0)
            sleep.release()
            await client.get_json("/next")  # gets the slot the cancelled caller never took
    assert clock() == 1060.0 and len(script.requests) == 3


async def test_a_cancelled_caller_leaves_a_shared_load_running_for_the_others(clock: ManualClock) -> None:
    sleep = HeldSleep(clock)
    script = Script(default=json_response({"nct_id": "NCT04280705"}))
    cache = CacheFactory(clock)()
    try:
        async with mock_client(script, clock, rate=(1, 10.0), sleep=sleep) as client:
            await client.get_json("/warm-up")  # takes the window's only slot: the load must queue

            def load() -> asyncio.Future[object]:
                return asyncio.ensure_future(client.get_json("/studies/NCT04280705"))

            with within(30.0, clock=clock):
                first = asyncio.create_task(cache.get_or_fetch("trial:NCT04280705", load, POLICY))
                await sleep.sleeping.wait()
                second = asyncio.create_task(cache.get_or_fetch("trial:NCT04280705", load, POLICY))
                await settle()
            assert client.status().queued == 1
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first
            assert client.status().queued == 1  # the shared load keeps its place for `second`
            sleep.release()
            result = await second
            assert result.value == {"nct_id": "NCT04280705"} and not result.meta.hit
            assert client.status().queued == 0 and len(script.requests) == 2
            assert (await cache.get_or_fetch("trial:NCT04280705", load, POLICY)).meta.hit
    finally:
        await cache.aclose()
