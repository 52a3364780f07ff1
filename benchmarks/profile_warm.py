"""Where a warm cached tool call spends its time: ``python -m benchmarks.profile_warm [--top 20] [--slowest]``.

1. Every warm tool of the mixed workload is timed in memory through the SDK client, and the
   slowest is named. The subject of the rest is the warm ``get_trial`` (the issue's row), or
   with ``--slowest`` that slowest call.
2. Its call is peeled layer by layer, each layer timed on its own (same run, alternating):
   the SDK client call as an agent makes it; the same request without the client's output-schema
   check (``session.send_request``); the domain service call the tool wraps (no SDK at all);
   the cache lookup alone (``TieredCache.get_or_fetch``, a memory hit); the key alone
   (``make_key``). The differences are what each layer adds.
3. cProfile of the SDK call: own time by area (the client's schema check, pydantic, the MCP
   SDK, the event loop, our server/, tools/ and cache/; each function's own time counted in
   exactly one area), then the functions with the most own time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
from collections.abc import Awaitable, Callable
from typing import Any

from mcp import Client

from benchmarks._harness import MIXED, REPO, TRIAL, ToolCall, bench_settings, scratch
from benchmarks._table import Row, Summary, interleaved, print_table, sample_async
from benchmarks.floor import sdk_call, unvalidated_call, warm
from cache.keys import make_key
from cache.policy import CachePolicy
from server.app import build_server
from server.lifespan import AppState, app_state
from tests.support.replay import ReplayServer
from tools.clinical_trials.config import CACHE_FORMAT, NS_RECORD

Call = Callable[[], Awaitable[Any]]
Func = tuple[str, int, str]  # pstats key: (file, line, function)


async def service_layers(state: AppState, call: ToolCall) -> dict[str, Call]:
    """The domain call behind ``call`` and its cache lookup (a second server state on the same
    SQLite file, warmed by one call). Only ``get_trial`` is peeled further; other tools keep the
    two SDK layers."""
    name, args = call
    if name != "get_trial":
        return {}
    trials = state.services.trials
    await trials.get_trial(args["nct_id"])  # SQLite hit, promoted: warm from here on
    key = make_key(NS_RECORD, {"nct": args["nct_id"]}, CACHE_FORMAT)
    policy = CachePolicy(NS_RECORD, trials.config.ttl.trials_record_fresh, trials.config.ttl.trials_record_stale)

    async def never() -> Any:
        raise AssertionError("a warm path must not load")

    async def key_only() -> str:
        return make_key(NS_RECORD, {"nct": args["nct_id"]}, CACHE_FORMAT)

    return {
        "service: TrialsService.get_trial": lambda: trials.get_trial(args["nct_id"]),
        "cache: get_or_fetch (memory hit)": lambda: state.services.cache.get_or_fetch(key, never, policy),
        "cache: make_key": key_only,
    }


async def slowest_warm(client: Client) -> tuple[ToolCall, dict[str, float]]:
    medians: dict[str, float] = {}
    for call in MIXED:
        await warm(client, call, times=5)
        samples = await sample_async(sdk_call(client, call), samples=200, keep_gc=True)
        medians[f"{call[0]} {call[1]}"] = Summary.of(samples).median
    worst = max(MIXED, key=lambda call: medians[f"{call[0]} {call[1]}"])
    return worst, medians


AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("SDK client: output-schema check (jsonschema, referencing)", ("/jsonschema/", "/referencing/", "rpds")),
    ("pydantic: validation and serialization (core)", ("/pydantic/", "pydantic_core")),
    ("MCP SDK: dispatch, protocol models, sessions", ("/mcp/", "/mcp_types/")),
    ("event loop, streams, context managers", ("/asyncio/", "/anyio/", "selectors", "contextlib", "_contextvars")),
    ("ours: server/ (middleware, results, catalog)", (f"{REPO}/server/",)),
    ("ours: tools/ (tool functions, services, models)", (f"{REPO}/tools/",)),
    ("ours: cache/ (engine, keys, stats)", (f"{REPO}/cache/",)),
    ("orjson", ("orjson",)),
)


def area_of(func: Func) -> str:
    """The area a profiled function belongs to, by its file (or a built-in's name)."""
    where = f"{func[0]} {func[2]}"
    for name, marks in AREAS:
        if any(mark in where for mark in marks):
            return name
    return "other (built-ins, stdlib)"


def own_time_by_area(stats: pstats.Stats, calls: int) -> list[tuple[str, float]]:
    """Microseconds of OWN time per call in each area (no double counting: each function's own
    time is in exactly one area), largest first."""
    totals: dict[str, float] = {}
    table: dict[Func, Any] = stats.stats  # type: ignore[attr-defined]
    for func, (_cc, _nc, own, _cum, _callers) in table.items():
        area = area_of(func)
        totals[area] = totals.get(area, 0.0) + own
    return sorted(((name, seconds / calls * 1e6) for name, seconds in totals.items()), key=lambda item: -item[1])


async def main(top: int, calls: int, slowest: bool) -> None:
    with ReplayServer() as replay, scratch() as folder:
        settings = bench_settings(replay.url, folder / "profile.sqlite3")
        async with Client(build_server(settings), cache=None) as client, app_state(settings) as state:
            subject, medians = await slowest_warm(client)
            print("\nWarm tool calls, in memory, SDK client (median microseconds):")
            for name, median in sorted(medians.items(), key=lambda item: -item[1]):
                print(f"  {median * 1e6:9.1f}  {name}")
            print(f"Slowest warm path: {subject[0]} {subject[1]}")
            if not slowest:
                subject = TRIAL
            print(f"Profiled: {subject[0]} {subject[1]}")
            layers: dict[str, Call] = {
                "SDK client call_tool": sdk_call(client, subject),
                "without client schema check": unvalidated_call(client, subject),
            }
            layers.update(await service_layers(state, subject))
            fns = list(layers.values())
            for fn in fns:
                for _ in range(100):
                    await fn()
            samples = await interleaved(fns, rounds=5, samples=max(40, calls // 5), keep_gc=True)
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(calls):
                await layers["SDK client call_tool"]()
            profiler.disable()
    names = list(layers)
    rows = [Row(name, samples[i], names[0], samples[0]) for i, name in enumerate(names) if i]
    print_table(rows, title=f"Layers of a warm {subject[0]} call (each timed alone; ratio = share of the full call)")
    stats = pstats.Stats(profiler)
    by_area = own_time_by_area(stats, calls)
    whole = sum(micros for _, micros in by_area)
    print(
        f"cProfile of {calls} SDK calls (client and server in this process), own time by area"
        " (microseconds per call; the profiler inflates Python-heavy code, so read the shares):"
    )
    for name, micros in by_area:
        print(f"  {micros:9.1f}  {micros / whole:5.0%}  {name}")
    print(f"\nTop {top} functions by own time:")
    stats.sort_stats("tottime").print_stats(top)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_warm", description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=20, help="functions to list (20)")
    parser.add_argument("--calls", type=int, default=1000, help="calls to profile and to time per layer (1000)")
    parser.add_argument("--quick", action="store_true", help="200 calls")
    parser.add_argument("--slowest", action="store_true", help="profile the slowest warm call, not get_trial")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse()
    asyncio.run(main(args.top, 200 if args.quick else args.calls, args.slowest))
