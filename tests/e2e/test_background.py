"""Issue 6 end to end: cache warm, the shared cutoff, CLI invalidation reaching a running server,
and two workers sharing one Redis under the scheduler lease."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import redis

from server.app import build_app
from server.settings import Settings
from tests.support.console_script import CONSOLE_SCRIPT, server_env, upstream_env
from tests.support.redis_topologies import Topology


def cli(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CONSOLE_SCRIPT, *args], env=env, capture_output=True, text=True, timeout=timeout)


def replay_total(replay: str) -> int:
    return httpx.get(f"{replay}/__replay__/stats").json()["total"]


def test_cache_warm_fills_the_cache_then_finds_everything_fresh(replay_process: str, tmp_path: Path) -> None:
    env = server_env(tmp_path, **upstream_env(replay_process))
    first = cli("cache", "warm", env=env)
    assert first.returncode == 0, first.stderr
    assert "16/16" in first.stderr and "-> warmed" in first.stderr  # progress, one line per item (no tty)
    total_line = next(line for line in first.stdout.splitlines() if line.startswith("total"))
    warmed, fresh, failed = (int(n) for n in total_line.split()[1:4])
    # warmed, already fresh, failed: the taiwan-flows calls share whole-market day tables, so
    # after the first flows (and margin) call of a market the others find theirs in the cache
    assert (warmed + fresh, failed) == (16, 0) and warmed >= 10
    requests_after_first = replay_total(replay_process)
    assert requests_after_first > 16

    second = cli("cache", "warm", env=env)
    assert second.returncode == 0, second.stderr
    total_line = next(line for line in second.stdout.splitlines() if line.startswith("total"))
    assert total_line.split()[1:4] == ["0", "16", "0"]
    assert replay_total(replay_process) == requests_after_first  # not one upstream request


def test_cache_warm_unknown_strategy_is_a_usage_error(tmp_path: Path) -> None:
    result = cli("cache", "warm", "--strategy", "nope", env=server_env(tmp_path))
    assert result.returncode == 2
    assert "nope" in result.stderr and "common-mutations" in result.stderr


def test_bad_strategies_file_stops_start_up_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "warm.toml"
    bad.write_text('[[strategy]]\nname = "x"\nkind = "calls"\nconcurrency = 0\ncalls = []\n')
    result = cli("tools", env=server_env(tmp_path, TRIALSTOCK_WORKER__STRATEGIES_FILE=str(bad)))
    assert result.returncode == 2
    assert str(bad) in result.stderr and "concurrency" in result.stderr


async def test_cutoff_set_from_the_cli_reaches_a_running_server(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    settings = Settings(
        _env_file=None,
        sqlite_path=env["TRIALSTOCK_SQLITE_PATH"],
        **{k.removeprefix("TRIALSTOCK_").lower(): v for k, v in env.items() if k.endswith("BASE_URL")},
    )
    app = build_app(settings, role="server")
    async with app.lifespan(app.mcp) as state:
        refresh = state.background.refresh
        before = await refresh.sync_cutoff()
        result = cli("cache", "cutoff", "7.5", env=env)
        assert result.returncode == 0, result.stderr
        assert "7.5 s" in result.stdout
        await asyncio.sleep(1.1)  # the tunables' local copy lives at most 1 s (max_age)
        assert before == 0.5 and await refresh.sync_cutoff() == 7.5
    assert cli("cache", "cutoff", "-1", env=env).returncode == 2


@pytest.mark.redis
async def test_cli_invalidation_reaches_a_running_servers_memory_tier(
    redis_topology: Topology, replay_process: str, tmp_path: Path
) -> None:
    """On each topology (single, cluster: sharded pub/sub, sentinel): the CLI is another process."""
    env = server_env(tmp_path, **redis_topology.env(), **upstream_env(replay_process))
    settings = Settings(
        _env_file=None,
        sqlite_path=str(tmp_path / "server.sqlite3"),
        redis=redis_topology.config,
        **{
            k.removeprefix("TRIALSTOCK_").lower(): v
            for k, v in upstream_env(replay_process).items()
            if k.endswith("BASE_URL")
        },
    )
    app = build_app(settings, role="cli")
    async with app.lifespan(app.mcp) as state:
        await state.background.events.wait_connected()
        quotes = await state.services.stocks.get_quotes(["2330"])
        assert quotes.quotes[0].cache.hit is False
        assert len(state.services.cache.memory) > 0
        result = cli("cache", "invalidate", "--namespace", "stocks.quote", env=env)
        assert result.returncode == 0, result.stderr
        await state.background.events.wait_until(lambda: state.background.events.received >= 1, timeout=10)
        again = await state.services.stocks.get_quotes(["2330"])
    # The event dropped the server's memory copy and its own SQLite copy (Redis had it dropped by
    # the CLI itself): the quote is fetched again.
    assert again.quotes[0].cache.hit is False


@pytest.mark.redis
def test_two_workers_share_the_lease_and_the_survivor_takes_over(
    redis_url: str, replay_process: str, tmp_path: Path
) -> None:
    strategies = tmp_path / "warm.toml"
    strategies.write_text(
        '[[strategy]]\nname = "startup-quote"\nkind = "calls"\nrun_at_startup = true\n'
        'calls = [{ tool = "get_stock_quote", arguments = { symbols = ["2330"] } }]\n'
    )
    ttl = 1.5
    env = server_env(
        tmp_path,
        **upstream_env(replay_process),
        TRIALSTOCK_REDIS_URL=redis_url,
        TRIALSTOCK_WORKER__LEASE_TTL=str(ttl),
        TRIALSTOCK_WORKER__TICK="0.1",
        TRIALSTOCK_WORKER__STRATEGIES_FILE=str(strategies),
    )
    client = redis.Redis.from_url(redis_url)
    workers = [
        subprocess.Popen([CONSOLE_SCRIPT, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(2)
    ]
    try:
        holder = wait_for(lambda: client.get("trialstock.lease.scheduler"), timeout=30)
        leader = next(w for w in workers if f":{w.pid}:".encode() in holder)
        follower = next(w for w in workers if w is not leader)
        wait_for(
            lambda: httpx.get(f"{replay_process}/__replay__/stats").json()["paths"].get("/stock/api/getStockInfo.jsp"),
            timeout=30,
        )
        time.sleep(ttl)  # time for a wrongly-elected second leader to run its start-up warming too
        assert replay_paths(replay_process)["/stock/api/getStockInfo.jsp"] == 1  # the start-up warming ran once

        os.kill(leader.pid, signal.SIGKILL)  # no release: the lease must lapse
        killed_at = time.monotonic()
        new_holder = wait_for(
            lambda: (h := client.get("trialstock.lease.scheduler")) and f":{follower.pid}:".encode() in h and h,
            timeout=10,
        )
        assert f":{follower.pid}:".encode() in new_holder
        assert time.monotonic() - killed_at <= ttl + 1.0  # within the lease time (plus a tick of slack)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=15)
        client.close()
    assert follower.returncode == 0  # a clean stop on SIGTERM


def replay_paths(replay: str) -> dict[str, int]:
    return httpx.get(f"{replay}/__replay__/stats").json()["paths"]


def wait_for(probe, timeout: float):  # noqa: ANN001, ANN201 - small polling helper for processes
    """Poll ``probe()`` every 50 ms until it returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"condition not met within {timeout}s")


async def test_without_redis_a_cli_invalidation_clears_a_running_servers_memory(
    replay_process: str, tmp_path: Path
) -> None:
    env = server_env(tmp_path, **upstream_env(replay_process))
    settings = Settings(
        _env_file=None,
        sqlite_path=env["TRIALSTOCK_SQLITE_PATH"],
        **{
            k.removeprefix("TRIALSTOCK_").lower(): v
            for k, v in upstream_env(replay_process).items()
            if k.endswith("BASE_URL")
        },
        worker={"tick": 0.1},
    )
    app = build_app(settings, role="server")
    async with app.lifespan(app.mcp) as state:
        await state.services.stocks.get_quotes(["2330"])
        assert len(state.services.cache.memory) > 0
        # The quotes' SQLite writes are queued: let them land before cli() blocks this event loop,
        # or the writer could hold the file's write lock (mid-transaction) until the CLI gives up.
        await state.services.cache.flush()
        result = cli("cache", "invalidate", "--older-than", "0.001", env=env)
        assert result.returncode == 0, result.stderr
        async with asyncio.timeout(10):  # the memory-sync job runs every 2 s
            while len(state.services.cache.memory) > 0:
                await asyncio.sleep(0.1)
        again = await state.services.stocks.get_quotes(["2330"])
    assert again.quotes[0].cache.hit is False  # SQLite lost it to the CLI, memory to the sync


def test_invalidate_by_time_needs_a_positive_duration(tmp_path: Path) -> None:
    result = cli("cache", "invalidate", "--unused-for", "0", env=server_env(tmp_path))
    assert result.returncode == 2 and "--unused-for takes a positive, finite number" in result.stderr
