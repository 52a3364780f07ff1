"""Redis Cluster failover under load: the primary owning a hot key's slot is killed while
clients call tools; its replica is promoted; no tool call fails and the cache is used again.

Eight in-process MCP clients share one server (memory + SQLite + the session's Redis Cluster:
3 primaries, 1 replica each) and call it back to back: distinct searches (each a write to every
tier, spread over every slot) and, every fourth call, one hot trial record. Two seconds in, the
primary serving the hot record's slot is killed (SIGKILL); the cluster promotes its replica
(node timeout 1 s). The memory and SQLite tiers and the upstream carry the gap. "Used again" is
the first write landing on the promoted node; the issue bounds that wait at 10 s after the
promotion. The figures are printed (``-s``) for the closing note.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from mcp import Client

from server.app import build_app
from tests.support.load import Tally, fault_settings, timed
from tests.support.redis_topologies import ClusterServers, cli, info_fields
from tests.support.replay import ReplayServer
from tests.support.replay_routes.synthetic import condition
from tools.clinical_trials.service import TrialsService

pytestmark = [pytest.mark.faults, pytest.mark.redis]

CLIENTS = 8
HOT = "NCT04280705"
RECOVERY = 2.0  # seconds before a failed tier is tried again (TRIALSTOCK_CACHE__TIER_BREAKER_RECOVERY)
USED_AGAIN_WITHIN = 10.0  # the bound, seconds after the promotion


async def load(client: Client, number: int, stop: asyncio.Event, tally: Tally) -> None:
    """One client: distinct searches, every fourth call the hot trial record."""
    for n in itertools.count():
        if stop.is_set():
            return
        if n % 4 == 3:
            call = client.call_tool("get_trial", {"nct_id": HOT})
        else:
            call = client.call_tool("search_trials", {"condition": condition(n, f"failover-{number}-")})
        tally.record(*await timed(call, 30))
        await asyncio.sleep(0)  # a call that fails at once must not starve the other tasks


def dbsize(port: int) -> int:
    return int(cli(port, "DBSIZE"))


def hot_name() -> str:
    """The Redis name of the hot record's entry (the tier's layout: ``<prefix>{<key>}``)."""
    return "trialstock:{" + TrialsService._record_key(HOT) + "}"  # noqa: SLF001 - the service's own key


async def until(predicate: Callable[[], bool], timeout: float) -> float | None:
    """Seconds until ``predicate`` held (polled off the event loop), None after ``timeout``."""
    started = time.monotonic()
    while not await asyncio.to_thread(predicate):
        if time.monotonic() - started > timeout:
            return None
        await asyncio.sleep(0.05)  # bounded poll of outside processes (the cluster)
    return time.monotonic() - started


def promoted(cluster: ClusterServers, name: str, killed: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            owner = cluster.owner_port(name)
        except Exception:  # the cluster is re-electing: not yet
            return False
        return owner != killed and info_fields(cli(owner, "INFO", "replication")).get("role") == "master"

    return check


async def test_killing_the_hot_slots_primary_under_load_fails_no_call(
    redis_cluster: ClusterServers, replay: ReplayServer, tmp_path: Path
) -> None:
    redis_cluster.wait_healthy()
    redis_cluster.flushall()
    topology = redis_cluster.redis_config()
    settings = fault_settings(
        replay.url,
        tmp_path,
        redis=topology.model_dump(mode="python") | {"url": topology.url},
        cache={"tier_breaker_recovery": RECOVERY},
        worker={"in_server": False},
    )
    server = build_app(settings).mcp
    tally, stop = Tally(), asyncio.Event()
    killed_server = None
    workers: list[asyncio.Task[None]] = []
    try:
        async with AsyncExitStack() as stack:
            clients = [await stack.enter_async_context(Client(server)) for _ in range(CLIENTS)]
            workers += [asyncio.create_task(load(c, i, stop, tally)) for i, c in enumerate(clients)]
            await asyncio.sleep(2)
            name = hot_name()
            assert await asyncio.to_thread(cli, redis_cluster.owner_port(name), "EXISTS", name) == "1"
            killed = redis_cluster.owner_port(name)
            killed_server = redis_cluster.server(killed)
            calls_before = tally.calls
            killed_server.stop()  # SIGKILL
            to_promotion = await until(promoted(redis_cluster, name, killed), timeout=30)
            assert to_promotion is not None, "the replica was not promoted within 30 s"
            new_owner = redis_cluster.owner_port(name)
            calls_to_promotion = tally.calls - calls_before
            size_at_promotion = dbsize(new_owner)
            to_used = await until(lambda: dbsize(new_owner) > size_at_promotion, timeout=USED_AGAIN_WITHIN)
            await asyncio.sleep(1)
            stop.set()
            await asyncio.gather(*workers)
            # A second server (empty memory, its own SQLite file) finds an entry written after
            # the failover in Redis: the cluster serves reads again, not only writes. A write
            # that met a Redis timeout on the loaded machine is skipped (degrade, never fail),
            # so a few fresh markers are tried, each after the tier's recovery time.
            (tmp_path / "other").mkdir()
            other_settings = fault_settings(
                replay.url, tmp_path / "other", redis=topology.model_dump(mode="python") | {"url": topology.url}
            )
            for attempt in range(5):
                marker = {"condition": condition(attempt, "after-failover-")}
                fresh = await clients[0].call_tool("search_trials", marker)
                assert not fresh.is_error, fresh.content
                requests = replay.count("/api/v2/studies")
                async with Client(build_app(other_settings).mcp) as other:
                    again = await other.call_tool("search_trials", marker)
                if again.structured_content["cache"].get("tier") == "redis":
                    break
                await asyncio.sleep(RECOVERY)
    finally:
        stop.set()
        for worker in workers:
            worker.cancel()
        if killed_server is not None:
            killed_server.start()  # rejoins as a replica of the promoted node
            redis_cluster.wait_healthy()
    figures = tally.figures(
        kill_to_promotion=f"{to_promotion:.2f}s",
        promotion_to_cache_used=f"{to_used:.2f}s" if to_used is not None else "never",
        calls_kill_to_promotion=calls_to_promotion,
    )
    print("\ncluster failover under load: " + figures)
    assert tally.failed == 0 and tally.lost == 0, figures
    assert calls_to_promotion > 0, figures  # the load really ran through the outage
    assert to_used is not None, figures  # written to the promoted node within 10 s
    assert again.structured_content["cache"].get("tier") == "redis", (attempt, again.structured_content["cache"])
    assert replay.count("/api/v2/studies") == requests
