"""Where a warm cached tool call spends its time: ``python -m benchmarks.profile_warm [--top 20]``.

1. Every warm tool of the mixed workload is timed in memory through the SDK client; the
   slowest one is the subject of the rest.
2. Its call is peeled layer by layer, each layer timed on its own (same run, alternating):
   the SDK client call as an agent makes it; the same request without the client's output-schema
   check (``session.send_request``); the domain service call the tool wraps (no SDK at all);
   the cache lookup alone (``TieredCache.get_or_fetch``, a memory hit); the key alone
   (``make_key``). The differences are what each layer adds.
3. cProfile of the SDK call: time by layer (the client's output-schema check, the SDK's
   result conversion, the tool function and the cache calls inside it, server/ middleware,
   the transport), then the functions with the most own time.

The subject and the layers are chosen from the workload at run time, so the script keeps
pointing at the slowest warm path as the code changes.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
from collections.abc import Awaitable, Callable
from typing import Any

from mcp import Client

from benchmarks._harness import MIXED, REPO, ToolCall, bench_settings, scratch
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


def entry_time(
    stats: pstats.Stats,
    inside: str,
    *,
    func: str | None = None,
    caller_not: str | None = None,
    caller_in: str | None = None,
) -> float:
    """Cumulative seconds spent in functions whose file path contains ``inside`` (and named
    ``func``), counting only calls from callers whose file does not contain ``caller_not`` /
    does contain ``caller_in``: time entering an area from outside it, without double counting."""
    total = 0.0
    table: dict[Func, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, name), (_cc, _nc, _own, cumulative, callers) in table.items():
        if inside not in filename or (func is not None and name != func):
            continue
        if caller_not is None and caller_in is None:
            total += cumulative
            continue
        for (caller_file, _l, _n), (_ccc, _cnc, _ctt, caller_cum) in callers.items():
            if (caller_not is None or caller_not not in caller_file) and (
                caller_in is None or caller_in in caller_file
            ):
                total += caller_cum
    return total


def own_time(stats: pstats.Stats, inside: str) -> float:
    """Own (not cumulative) seconds of the functions whose file path contains ``inside``."""
    table: dict[Func, Any] = stats.stats  # type: ignore[attr-defined]
    return sum(own for (filename, _l, _n), (_cc, _nc, own, _cum, _callers) in table.items() if inside in filename)


def attribution(stats: pstats.Stats, calls: int) -> list[tuple[str, float]]:
    """Microseconds per call by layer, from the profile (the shares are what matter).

    Entry points of the installed SDK: ``Client.call_tool`` (whole call), ``ClientSession.
    validate_tool_result`` (client check), ``MCPServer._handle_call_tool`` (server handling:
    argument validation, the tool function, result conversion). server/ middleware is its own
    time plus the cache/ calls it makes. Time in tasks a tool spawns runs outside its frame and
    lands in "the rest".
    """
    whole = entry_time(stats, "mcp/client/client.py", func="call_tool")
    check = entry_time(stats, "mcp/client/session.py", func="validate_tool_result")
    handler = entry_time(stats, "mcpserver/server.py", func="_handle_call_tool")
    server_dir = f"{REPO}/server/"
    middleware = own_time(stats, server_dir) + entry_time(stats, "/cache/", caller_in=server_dir)
    rows = [
        ("whole call (Client.call_tool)", whole),
        ("SDK client: output-schema check of the result (jsonschema)", check),
        ("server: tools/call handler (SDK + tool)", handler),
        ("  SDK: argument validation", entry_time(stats, "func_metadata.py", func="validate_arguments")),
        ("  tool function (tools/ + the cache calls it makes)", entry_time(stats, "/tools/errors.py", func="wrapper")),
        ("    of which cache/ (engine, keys, stats)", entry_time(stats, "/cache/", caller_in="/tools/")),
        (
            "  SDK: result conversion (model -> structured + JSON text)",
            entry_time(stats, "func_metadata.py", func="convert_result"),
        ),
        ("server/ middleware (own time + its cache/ calls)", middleware),
        ("transport, dispatch, protocol models (the rest)", whole - check - handler - middleware),
    ]
    return [(name, seconds / calls * 1e6) for name, seconds in rows]


async def main(top: int, calls: int) -> None:
    with ReplayServer() as replay, scratch() as folder:
        settings = bench_settings(replay.url, folder / "profile.sqlite3")
        async with Client(build_server(settings), cache=None) as client, app_state(settings) as state:
            subject, medians = await slowest_warm(client)
            print("\nWarm tool calls, in memory, SDK client (median microseconds):")
            for name, median in sorted(medians.items(), key=lambda item: -item[1]):
                print(f"  {median * 1e6:9.1f}  {name}")
            print(f"Slowest warm path: {subject[0]} {subject[1]}")
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
    print(
        f"cProfile of {calls} SDK calls, time by layer (microseconds per call; the profiler inflates"
        " Python-heavy code, so read the shares):"
    )
    rows_by_layer = attribution(stats, calls)
    whole = rows_by_layer[0][1]
    for name, micros in rows_by_layer:
        print(f"  {micros:9.1f}  {micros / whole:5.0%}  {name}")
    print(f"\nTop {top} functions by own time:")
    stats.sort_stats("tottime").print_stats(top)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_warm", description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=20, help="functions to list (20)")
    parser.add_argument("--calls", type=int, default=1000, help="calls to profile and to time per layer (1000)")
    parser.add_argument("--quick", action="store_true", help="200 calls")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse()
    asyncio.run(main(args.top, 200 if args.quick else args.calls))
