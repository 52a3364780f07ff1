"""Refresh-ahead from a worker that serves no requests: it learns the servers' hot calls from
their published usage, keeps them hot in its own memory, and its refresh-ahead recomputes them
into the shared tiers, so the server's loader never runs again.

(Quotes are fetched in batches through ``get_many`` and are cheap: refresh-ahead is for
expensive single-key answers such as a trial record.)"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client

from server.app import build_app
from server.settings import Settings
from tests.support.replay import ReplayServer

pytestmark = pytest.mark.redis

TTL = 2.0  # a short record lifetime, so the test sees refreshes
CALL = ("get_trial", {"nct_id": "NCT04280705"})


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer(latency=0.3) as server:  # every upstream answer takes 0.3 s: worth refreshing ahead
        yield server


def settings(replay: ReplayServer, redis_url: str, sqlite: Path, **worker: object) -> Settings:
    root = replay.base_url()
    return Settings(
        _env_file=None,
        redis_url=redis_url,
        sqlite_path=str(sqlite),
        ctgov_base_url=replay.base_url("ctgov"),
        twse_base_url=root,
        tpex_base_url=root,
        mis_base_url=root,
        yahoo_base_url=root,
        upstreams={"ctgov_rate": "1000/1"},
        cache={"trials_record_fresh": TTL, "trials_record_stale": 10 * TTL},
        worker={"tick": 0.05, "stats_interval": 0.2, "lease_ttl": 1.0, "warm_at_startup": False, **worker},
    )


async def test_a_worker_refreshes_the_servers_hot_record_ahead(
    replay: ReplayServer, redis_url: str, tmp_path: Path
) -> None:
    # The server leaves all background work to the worker, refresh-ahead included.
    server = build_app(
        settings(replay, redis_url, tmp_path / "server.db", in_server=False, refresh_ahead=False), role="server"
    )
    worker = build_app(settings(replay, redis_url, tmp_path / "worker.db", refresh_window=1.0), role="worker")
    async with server.lifespan(server.mcp) as srv, worker.lifespan(worker.mcp) as wrk, Client(server.mcp) as agent:
        await wrk.background.tunables.set_cost_cutoff(0.1)
        await wrk.background.refresh.sync_cutoff()
        first = await agent.call_tool(*CALL)
        assert first.structured_content["cache"]["hit"] is False  # the server loaded it (0.3 s)

        refresh = wrk.background.refresh
        async with asyncio.timeout(3 * TTL + 5):
            while refresh.snapshot().get("refreshed", 0) < 2:  # two recomputes: more than one TTL covered
                await asyncio.sleep(0.1)

        for _ in range(5):  # the server keeps answering past the first entry's lifetime ...
            answer = await agent.call_tool(*CALL)
            assert answer.structured_content["trial"]["nct_id"] == "NCT04280705"
            assert answer.structured_content["cache"]["hit"] is True  # never a wait for the loader
            await asyncio.sleep(TTL / 2)
        server_records = srv.services.cache.stats.snapshot()["namespaces"]["trials.record"]
    # ... without its loader ever running again: the worker did every recompute.
    assert server_records["loader_calls"] == 1
    assert wrk.background.keeper.is_leader is False  # the lease was released on close
