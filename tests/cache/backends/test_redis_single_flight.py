"""Acceptance over real processes and a real redis-server: one load across processes, and a
Redis outage that no caller notices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cache.backends.memory import MemoryBackend
from cache.backends.redis import RedisBackend
from cache.backends.redis_lock import RedisLocker
from cache.backends.sqlite import SqliteBackend
from cache.policy import CachePolicy
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory
from tests.support.redis_server import RedisServer
from tests.support.redis_topologies import Topology

pytestmark = pytest.mark.redis

CHILD = Path(__file__).with_name("_single_flight_child.py")
ROOT = Path(__file__).resolve().parents[3]
POLICY = CachePolicy("ns", fresh_ttl=60, stale_ttl=600)


@pytest.mark.slow
async def test_two_processes_500_callers_each_run_the_loader_once(redis_topology: Topology) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, str(CHILD), redis_topology.config_json(), "loader-runs", "sf:cold-key", "500"]
    children = [
        subprocess.Popen(
            args, cwd=ROOT, env=env, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=60) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()

    reports = []
    for child, (out, err) in zip(children, outputs):
        assert child.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    client = redis_topology.client()
    try:
        assert int(await client.get("loader-runs")) == 1
    finally:
        await client.aclose()
    for report in reports:
        assert report["failures"] == [] and report["count"] == 500
        assert report["values"] == ['{"answer": 42}']
    assert sorted(r["tiers"] for r in reports) == [["None"], ["redis"]]  # the loser read the winner's value


async def test_redis_outage_mid_loop_is_invisible_and_redis_is_used_again(
    tmp_path: Path, spawn_redis: Callable[..., RedisServer], make_cache: CacheFactory
) -> None:
    clock = ManualClock(time.time())
    server = spawn_redis()
    redis = RedisBackend.from_url(server.url, clock=clock)
    sqlite = await SqliteBackend.open(tmp_path / "c.sqlite3", clock=clock)
    memory = MemoryBackend(max_entries=1000, max_bytes=10_000_000, clock=clock)
    cache = make_cache(
        memory, redis=redis, sqlite=sqlite, clock=clock, locker=RedisLocker(redis), tier_timeout=2.0, tier_recovery=5.0
    )
    stats = cache.stats.tier("redis")
    loads: list[str] = []

    def loader_for(key: str):
        async def load() -> dict[str, str]:
            loads.append(key)
            return {"key": key}

        return load

    try:
        for i in range(20):
            await cache.get_or_fetch(f"ns:k{i}", loader_for(f"ns:k{i}"), POLICY)
        assert stats.writes == 20

        memory.clear_now()  # make every read go down to the lower tiers
        results = []
        for i in range(40):
            if i == 10:
                server.stop()
            results.append(await cache.get_or_fetch(f"ns:k{i}", loader_for(f"ns:k{i}"), POLICY))
        assert [r.value for r in results] == [{"key": f"ns:k{i}"} for i in range(40)]
        assert [r.meta.tier for r in results[:10]] == ["redis"] * 10
        assert [r.meta.tier for r in results[10:20]] == ["sqlite"] * 10
        assert loads == [f"ns:k{i}" for i in range(40)]  # 20 first loads + 20 new keys
        assert stats.errors + stats.timeouts >= 1 and stats.skips >= 1
        assert cache.tier_states()["redis"] == "open"

        server.start()  # an empty server on the same port
        clock.advance(6)  # past tier_recovery: the next call probes Redis
        hits_before = stats.hits
        await cache.get_or_fetch("ns:after", loader_for("ns:after"), POLICY)
        assert cache.tier_states()["redis"] == "closed"
        memory.clear_now()
        again = await cache.get_or_fetch("ns:after", loader_for("ns:after"), POLICY)
        assert again.meta.tier == "redis" and again.value == {"key": "ns:after"}
        assert stats.hits == hits_before + 1
        assert loads.count("ns:after") == 1
    finally:
        await cache.aclose()
