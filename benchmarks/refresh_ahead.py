"""Refresh-ahead in real time: ``python -m benchmarks.refresh_ahead [--duration 30]``.

A loader that sleeps 500 ms, a fresh TTL of 2 s (no stale window, so an expired key makes its
caller wait), one caller asking every 50 ms for ``--duration`` seconds. Run twice in the same
process on fresh memory caches: refresh-ahead OFF (the scheduler never started) and ON (cost
cutoff 0.25 s, below the loader's 0.5 s). Prints latency median/p90/p99/max per call and how
many calls waited for the loader (a miss), first call included and after it. Target: with
refresh-ahead ON no call after the first waits, and the slowest stays at hit level (< 5 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass

from benchmarks._table import Summary
from cache.backends.memory import MemoryBackend
from cache.coordination.shared_store import MemoryStore
from cache.coordination.tunables import COST_CUTOFF, Tunables
from cache.engine.tiered import TieredCache
from cache.policy import CachePolicy
from cache.warming.refresh_ahead import RefreshAhead

KEY = "bench:v1:slow"
POLICY = CachePolicy("bench", fresh_ttl=2.0, stale_ttl=2.0)
LOADER_SECONDS = 0.5
INTERVAL = 0.05
HIT_LEVEL = 0.005  # seconds: the slowest call after the first must stay below this


@dataclass
class Run:
    name: str
    latencies: list[float]  # seconds per call
    waited: list[bool]  # the call was a miss (it waited for the loader)
    loader_calls: int
    refreshed: int


async def measure(name: str, *, refresh_ahead: bool, duration: float) -> Run:
    cache = TieredCache(MemoryBackend())
    calls = 0

    async def loader() -> float:
        nonlocal calls
        calls += 1
        await asyncio.sleep(LOADER_SECONDS)
        return time.time()

    tunables = Tunables(MemoryStore(), defaults={COST_CUTOFF: 0.25})
    ahead = RefreshAhead(cache, tunables)
    if refresh_ahead:
        await ahead.start()
    latencies, waited = [], []
    loop = asyncio.get_running_loop()
    began = slot = loop.time()
    try:
        while slot - began < duration:
            await asyncio.sleep(max(0.0, slot - loop.time()))
            started = time.perf_counter()
            result = await cache.get_or_fetch(KEY, loader, POLICY)
            latencies.append(time.perf_counter() - started)
            waited.append(not result.meta.hit)
            slot += INTERVAL
    finally:
        refreshed = ahead.counts["refreshed"]
        await ahead.aclose()
        await cache.aclose()
    return Run(name, latencies, waited, calls, refreshed)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:9.3f}"


def print_runs(runs: list[Run], duration: float) -> None:
    print(
        f"\nrefresh-ahead: loader {LOADER_SECONDS * 1000:.0f} ms, fresh TTL {POLICY.fresh_ttl:g} s (no stale "
        f"window), a call every {INTERVAL * 1000:.0f} ms for {duration:g} s  (milliseconds per call)"
    )
    header = (
        f"{'':22}{'median':>9} {'p90':>9} {'p99':>9} {'max':>9} {'max 2nd+':>9}  {'calls':>6}  "
        f"{'waited':>6}  {'waited 2nd+':>11}  {'loads':>5}  {'ahead':>5}  verdict"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        summary = Summary.of(run.latencies)
        after_first = run.latencies[1:] or [0.0]
        waits_after = sum(run.waited[1:])
        met = waits_after == 0 and max(after_first) < HIT_LEVEL
        verdict = ("TARGET MET" if met else "MISSED") if run.name.endswith("ON") else "(control)"
        print(
            f"{run.name:22}{_ms(summary.median)} {_ms(summary.p90)} {_ms(summary.p99)} {_ms(max(run.latencies))} "
            f"{_ms(max(after_first))}  {summary.count:>6}  {sum(run.waited):>6}  {waits_after:>11}  "
            f"{run.loader_calls:>5}  {run.refreshed:>5}  {verdict}"
        )
    print()


async def main(duration: float) -> None:
    runs = [
        await measure("refresh-ahead OFF", refresh_ahead=False, duration=duration),
        await measure("refresh-ahead ON", refresh_ahead=True, duration=duration),
    ]
    print_runs(runs, duration)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of traffic per run (default 30)")
    asyncio.run(main(parser.parse_args().duration))
