"""An upstream client builds its pooled HTTP client on the first request, once, and closes
cleanly whether or not it ever sent one."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
import pytest

from tests.support.clock import ManualClock
from tests.support.scripted_http import json_response
from tools.http.client import UpstreamClient
from tools.http.config import HttpPolicy


class Builds:
    """Builds MockTransport clients, counting them; each answer waits a loop turn, so concurrent
    requests really overlap."""

    def __init__(self) -> None:
        self.built: list[httpx.AsyncClient] = []

    def __call__(self) -> httpx.AsyncClient:
        async def answer(request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(0)
            return json_response({"path": request.url.path})

        client = httpx.AsyncClient(base_url="https://upstream.test", transport=httpx.MockTransport(answer))
        self.built.append(client)
        return client


def upstream(builds: Builds, clock: ManualClock) -> UpstreamClient:
    return UpstreamClient(
        "ctgov",
        builds,
        policy=HttpPolicy(),
        limiter=None,
        base_url="https://upstream.test",
        clock=clock,
        sleep=clock.sleep,
    )


async def test_a_client_that_never_sent_a_request_closes_without_building_a_pool(clock: ManualClock) -> None:
    builds = Builds()
    client = upstream(builds, clock)
    assert client.status().base_url == "https://upstream.test"
    await client.aclose()
    assert builds.built == []


async def test_concurrent_first_requests_build_one_pool_and_closing_closes_it(clock: ManualClock) -> None:
    builds = Builds()
    async with upstream(builds, clock) as client:
        answers = await asyncio.gather(*(client.get_json(f"/{index}") for index in range(5)))
        assert answers == [{"path": f"/{index}"} for index in range(5)]
        assert len(builds.built) == 1 and not builds.built[0].is_closed
    assert builds.built[0].is_closed


async def test_a_closed_client_refuses_requests_as_httpx_does_and_builds_nothing(clock: ManualClock) -> None:
    builds = Builds()
    client = upstream(builds, clock)
    await client.aclose()
    with pytest.raises(RuntimeError, match="client has been closed"):
        await client.get_json("/late")
    assert builds.built == []


def test_building_the_upstream_clients_imports_no_http_connection_code() -> None:
    """httpcore and h11 (and the pool) wait for the first request: start-up does not pay for them."""
    script = (
        "import sys, ssl\n"
        "from tools.http.config import HttpPolicy\n"
        "from tools.http.factory import build_upstream\n"
        "build_upstream('ctgov', 'https://upstream.test', policy=HttpPolicy(), rate=(3, 1.0), user_agent='t/1',\n"
        "               verify=ssl.create_default_context())\n"
        "print(sorted(name for name in ('httpcore', 'h11') if name in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
