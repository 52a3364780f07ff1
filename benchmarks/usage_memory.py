"""Resident memory after oversized tool calls: ``python -m benchmarks.usage_memory [--calls 1000] [--size 1000000]``.

Sends ``--calls`` tool calls whose arguments carry ``--size`` bytes each through the in-process
SDK client (a quarter each: a real tool with an extra padded argument, a real tool with a padded
argument of its own, an unknown tool, a padded valid-looking call) and reports the process's
resident memory (``VmRSS``) before and after, the usage log's size and the bytes its export
(what a process publishes to Redis) would take. The upstreams are the recorded ones, in process:
nothing leaves the machine. Target: less than 20 MB more resident memory, and an empty export.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
from pathlib import Path

import orjson
from mcp import Client

from cache.warming import export
from server.app import build_app
from server.settings import Settings
from tests.support.recorded_upstream import ctgov_upstream, stocks_upstream

TARGET_MB = 20.0


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def arguments(n: int, padding: str) -> tuple[str, dict[str, object]]:
    kind = n % 4
    if kind == 0:
        return "get_stock_quote", {"symbols": ["2330"], "padding": padding}
    if kind == 1:
        return "search_trials", {"condition": padding}
    if kind == 2:
        return "no_such_tool", {"padding": padding}
    return "get_trial", {"nct_id": f"NCT{n:08d}", "note": padding}


async def run(calls: int, size: int) -> None:
    stocks = stocks_upstream()
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(_env_file=None, sqlite_path=str(Path(scratch) / "cache.sqlite3"))
        transports = {
            "ctgov": ctgov_upstream().transport(),
            **{n: stocks.transport() for n in ("twse", "tpex", "mis", "yahoo")},
        }
        app = build_app(settings, transports=transports, role="cli")
        async with app.lifespan(app.mcp) as state, Client(app.mcp) as client:
            await client.call_tool("get_stock_quote", {"symbols": ["2330"]})  # warm up the SDK paths
            usage = state.background.usage
            published_before = len(orjson.dumps(export(usage)))
            gc.collect()
            before = rss_mb()
            errors = 0
            for n in range(calls):
                tool, args = arguments(n, "x" * size)
                errors += bool((await client.call_tool(tool, args)).is_error)
                del args
            gc.collect()
            after = rss_mb()
            published = len(orjson.dumps(export(usage))) - published_before
    grown = after - before
    print(f"{calls} calls with {size:,}-byte arguments: {errors} refused")
    print(f"resident memory: {before:.1f} MB -> {after:.1f} MB (+{grown:.1f} MB; target < {TARGET_MB:.0f} MB)")
    held = getattr(usage, "held_bytes", "?")  # the counters of this version, where it has them
    print(f"usage log: {held} bytes of arguments held, {usage.dropped} calls dropped")
    print(f"export (what is published to Redis every 15 s) grew by {published:,} bytes")
    print(f"upstream requests: {len(stocks.requests)} (1 from the warm-up call)")
    print("TARGET MET" if grown < TARGET_MB and published <= 0 else "MISSED")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100 calls")
    args = parser.parse_args()
    asyncio.run(run(100 if args.quick else args.calls, args.size))


if __name__ == "__main__":
    main()
