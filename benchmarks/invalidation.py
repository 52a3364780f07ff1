"""Cross-process invalidation latency: ``python -m benchmarks.invalidation``.

Spawns a throwaway redis-server and a second OS process (this module with ``--child``). Each
process runs a real engine (memory tier + Redis tier) with its own :class:`cache.coordination.events.EventBus`
on one channel. The child loads 1,000 keys into its memory tier; the parent then invalidates
them one by one (``invalidate_keys``: Redis tier delete + publish), ``PACE`` seconds apart.
The child's bus records propagation latency for each (its receive-and-apply time minus the
sender's ``ts``; both are ``time.time()`` on one host) and reports the samples back on stdout.

Baseline, measured in the same run and the same two processes: a bare redis-py PUBLISH of a
timestamp to a bare subscriber (the transport floor the bus builds on), alternating with the
bus events. Prints p50/p90/p99 and max, and the target "p99 under 5 ms on loopback" as MET /
MISSED. Runs in about 10 s (every wait bounded, well under 60 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from benchmarks._table import Row, Summary, print_table
from cache.backends.memory import MemoryBackend
from cache.backends.redis import RedisBackend
from cache.coordination.events import EventBus
from cache.engine.tiered import TieredCache
from cache.policy import CachePolicy
from tests.support.redis_server import RedisServer

EVENTS = 1000
PACE = 0.002  # seconds between events: a steady stream, not a burst that measures queueing
TARGET_P99 = 0.005
CHANNEL = "bench:events"
RAW_CHANNEL = "bench:raw"
POLICY = CachePolicy("bench", fresh_ttl=3600, stale_ttl=7200)
KEYS = [f"bench:v1:NCT{10_000_000 + i}" for i in range(EVENTS)]
ROOT = Path(__file__).resolve().parents[1]
DEADLINE = 45.0


async def _engine(url: str, instance_id: str) -> tuple[TieredCache, EventBus]:
    backend = RedisBackend.from_url(url, socket_timeout=5.0, connect_timeout=5.0)
    cache = TieredCache(
        MemoryBackend(max_entries=10 * EVENTS, max_bytes=64 * 1024 * 1024), redis=backend, tier_timeout=5.0
    )
    bus = EventBus(backend.client, CHANNEL, cache, instance_id=instance_id, latency_samples=2 * EVENTS)
    await bus.start()
    await bus.wait_connected(timeout=DEADLINE)
    return cache, bus


# -- the receiving process -------------------------------------------------------------------


async def child(url: str) -> None:
    """Receive EVENTS raw messages and EVENTS bus events; print the latencies as one JSON line."""
    cache, bus = await _engine(url, "receiver")
    raw_client = Redis.from_url(url)
    pubsub = raw_client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(RAW_CHANNEL)
    raw: list[float] = []

    async def read_raw() -> None:
        while len(raw) < EVENTS:
            message = await pubsub.get_message(timeout=1.0)
            if message is not None and message["type"] == "message":
                raw.append(time.time() - float(message["data"]))

    reader = asyncio.create_task(read_raw())
    await cache.set_many([(key, {"i": i}) for i, key in enumerate(KEYS)], POLICY)
    print("ready", flush=True)
    async with asyncio.timeout(DEADLINE):
        await reader
        await bus.wait_until(lambda: bus.received >= EVENTS, timeout=DEADLINE)
    report = {
        "raw": raw,
        "bus": bus.latency.samples(),
        "remaining": sum(key in cache.memory for key in KEYS),
        "events": bus.snapshot(),
    }
    print(json.dumps(report), flush=True)
    await pubsub.aclose()
    await raw_client.aclose()
    await bus.aclose()
    await cache.aclose()


# -- the sending process ---------------------------------------------------------------------


async def _readline(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), DEADLINE)
    if not line:
        raise RuntimeError(f"the receiving process ended early: {proc.stderr.read() if proc.stderr else ''}")
    return line.strip()


async def _send(url: str) -> None:
    """Alternate bare and bus events, so machine noise hits both alike."""
    raw_client = Redis.from_url(url)
    cache, bus = await _engine(url, "sender")
    for key in KEYS:
        await raw_client.publish(RAW_CHANNEL, repr(time.time()))
        await asyncio.sleep(PACE)
        await cache.invalidate_keys(key)
        await asyncio.sleep(PACE)
    await raw_client.aclose()
    await bus.aclose()
    await cache.aclose()


def _report(result: dict[str, Any]) -> None:
    bus, raw = result["bus"], result["raw"]
    print_table(
        [
            Row(
                "EventBus: invalidate in A -> B memory tier",
                bus,
                "bare redis-py PUBLISH -> subscriber",
                raw,
                note=f"{EVENTS} events each, alternating, {PACE * 1000:.0f} ms apart, two OS processes",
            )
        ],
        title="Cross-process invalidation propagation",
    )
    summary = Summary.of(bus)
    verdict = "MET" if summary.p99 < TARGET_P99 else "MISSED"
    print(
        f"bus propagation (ms): p50 {summary.median * 1e3:.3f}  p90 {summary.p90 * 1e3:.3f}  "
        f"p99 {summary.p99 * 1e3:.3f}  max {max(bus) * 1e3:.3f}  (bare pub/sub max {max(raw) * 1e3:.3f})"
    )
    print(f"target: p99 under {TARGET_P99 * 1e3:.0f} ms on loopback: {verdict}")
    events = result["events"]
    print(
        f"receiver: {events['received']} applied, {events['duplicates']} duplicates, "
        f"{events['malformed']} malformed, {events['drops']} drops; "
        f"{result['remaining']} of {EVENTS} keys left in its memory tier (must be 0)"
    )


async def main() -> None:
    with RedisServer() as server:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.invalidation", "--child", server.url],
            cwd=ROOT,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            if (line := await _readline(proc)) != "ready":
                raise RuntimeError(f"unexpected line from the receiving process: {line!r}")
            await _send(server.url)
            result = json.loads(await _readline(proc))
        finally:
            if proc.poll() is None:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        _report(result)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", metavar="REDIS_URL", help="run as the receiving process")
    args = parser.parse_args()
    asyncio.run(child(args.child) if args.child else main())
