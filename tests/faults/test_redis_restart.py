"""Redis killed (SIGKILL) and restarted under load: no tool call fails, and Redis is used again.

Eight in-process MCP clients share one server (memory + SQLite + a real redis-server) and call
it back to back: mostly distinct searches (each a write to every tier) and a hot trial record.
Two seconds in, redis-server is killed with SIGKILL; two seconds later it is started again on
the same port, empty (no persistence). The load goes on until Redis holds entries again.
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
from tests.support.redis_server import RedisServer
from tests.support.replay import ReplayServer
from tests.support.replay_routes.synthetic import condition

pytestmark = [pytest.mark.faults, pytest.mark.redis]

CLIENTS = 8
RECOVERY = 2.0  # seconds before a failed tier is tried again (TRIALSTOCK_CACHE__TIER_BREAKER_RECOVERY)


def redis_keys(redis: RedisServer) -> int:
    reply = redis.command("DBSIZE")  # ":<n>\r\n"
    return int(reply.strip().lstrip(b":") or 0)


async def load(client: Client, number: int, stop: asyncio.Event, tally: Tally) -> None:
    """One client: distinct searches, every fourth call the same trial record."""
    for n in itertools.count():
        if stop.is_set():
            return
        if n % 4 == 3:
            seconds, result = await timed(client.call_tool("get_trial", {"nct_id": "NCT04280705"}), 30)
        else:
            seconds, result = await timed(
                client.call_tool("search_trials", {"condition": condition(n, f"{number}-")}), 30
            )
        tally.record(seconds, result)


async def until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)  # bounded poll of an outside process (redis-server)
    return True


async def test_redis_killed_and_restarted_under_load(
    spawn_redis: Callable[..., RedisServer], replay: ReplayServer, tmp_path: Path
) -> None:
    redis = spawn_redis()
    settings = fault_settings(
        replay.url,
        tmp_path,
        redis_url=redis.url,
        cache={"tier_breaker_recovery": RECOVERY},
        worker={"in_server": False},
    )
    server = build_app(settings).mcp
    tally, stop = Tally(), asyncio.Event()
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(Client(server)) for _ in range(CLIENTS)]
        workers = [asyncio.create_task(load(c, i, stop, tally)) for i, c in enumerate(clients)]
        await asyncio.sleep(2)
        keys_before_kill = redis_keys(redis)
        calls_before_kill = tally.calls
        redis.stop()  # SIGKILL
        await asyncio.sleep(2)
        calls_while_down = tally.calls - calls_before_kill
        redis.start()  # same port, empty
        used_again = await until(lambda: redis_keys(redis) > 0, timeout=RECOVERY + 10)
        await asyncio.sleep(1)
        stop.set()
        await asyncio.gather(*workers)
        marker = {"condition": condition(0, "after-restart-")}
        fresh = await clients[0].call_tool("search_trials", marker)
    figures = tally.figures(
        keys_before_kill=keys_before_kill, calls_while_down=calls_while_down, keys_after_restart=redis_keys(redis)
    )
    print("\n" + figures)
    assert tally.failed == 0 and tally.lost == 0, figures
    assert calls_while_down > 0, figures  # the load really ran while Redis was gone
    assert used_again, figures
    assert not fresh.is_error, fresh.content

    # A second server with an empty memory tier and a SQLite file of its own can only find the
    # entry written after the restart in Redis.
    (tmp_path / "other").mkdir()
    other = build_app(fault_settings(replay.url, tmp_path / "other", redis_url=redis.url)).mcp
    requests = replay.count("/api/v2/studies")
    async with Client(other) as client:
        again = await client.call_tool("search_trials", marker)
    assert again.structured_content["cache"]["tier"] == "redis", again.structured_content["cache"]
    assert replay.count("/api/v2/studies") == requests
