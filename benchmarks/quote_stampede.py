"""Concurrent cold Taiwan quotes: ``python -m benchmarks.quote_stampede [--callers 20]``.

``--callers`` concurrent ``get_stock_quote(["2330"])`` calls through the in-process SDK client
on an empty cache, with the MIS rate limit at its default (3 requests per 5 s), against the
replay upstream on loopback. Then the quote is made stale (the server's clock moves past its
lifetime, Friday after the close until Monday's open: 67 h), MIS answers 503, and the same burst is fired again.
Reported: MIS requests per round and each caller's latency (median and slowest). Targets: one
MIS request for the cold burst; the stale burst answered from the cache without waiting for
MIS (slowest caller well under the HTTP layer's retry backoff).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from mcp import Client

from benchmarks._harness import bench_settings, scratch
from server.app import build_server
from tests.support.clock import ManualClock
from tests.support.replay import ReplayServer, Reply

MIS = "/stock/api/getStockInfo.jsp"
FRIDAY_AFTER_CLOSE = datetime(2026, 9, 4, 14, 0, tzinfo=ZoneInfo("Asia/Taipei")).timestamp()


async def burst(client: Client, callers: int) -> tuple[list[float], list[Any]]:
    started = time.perf_counter()

    async def one() -> tuple[float, Any]:
        result = await client.call_tool("get_stock_quote", {"symbols": ["2330"]})
        return time.perf_counter() - started, result

    done = await asyncio.gather(*(one() for _ in range(callers)))
    return [seconds for seconds, _ in done], [result for _, result in done]


def report(name: str, requests: int, latencies: list[float], results: list[Any]) -> None:
    stale = sum(bool(r.structured_content and r.structured_content["quotes"][0]["cache"]["stale"]) for r in results)
    errors = sum(bool(r.is_error) for r in results)
    print(
        f"{name}: {requests} MIS request(s) answered during the burst; latency p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms; {stale} stale answers, {errors} errors"
    )


async def run(callers: int) -> None:
    clock = ManualClock(FRIDAY_AFTER_CLOSE)
    with scratch() as folder, ReplayServer() as replay:
        upstreams = {"mis_rate": "3/5"}
        worker = {"warm_at_startup": False, "refresh_ahead": False}  # only the burst reaches MIS
        settings = bench_settings(replay.url, Path(folder) / "cache.sqlite3", upstreams=upstreams, worker=worker)
        server = build_server(settings, clock=clock)
        async with Client(server) as client:
            latencies, results = await burst(client, callers)
            report(f"{callers} cold callers", replay.count(MIS), latencies, results)
            clock.advance(67 * 3600 + 10)
            replay.script(MIS, Reply(503, {}, b"down"), times=1000)
            before = replay.count(MIS)
            latencies, results = await burst(client, callers)
            report(f"{callers} callers, quote stale, MIS down", replay.count(MIS) - before, latencies, results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="the same run (it is short)")
    args = parser.parse_args()
    asyncio.run(run(args.callers))


if __name__ == "__main__":
    main()
