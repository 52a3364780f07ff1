"""Stampede: 1,000 concurrent identical cold calls: ``python -m benchmarks.stampede [--latency 0.1] [--callers 1000]``.

Each round starts from an empty cache (a new server state, a new SQLite file) and fires
``--callers`` identical ``get_trial`` calls at once, at two levels:

- ``TrialsService.get_trial`` on the state the server's lifespan builds (the cache engine's
  single-flight, without the SDK);
- ``tools/call`` through the in-process SDK client (``session.send_request``, so the client's
  per-result schema check, ~3 ms of client CPU per get_trial answer, does not queue 1,000 x
  3 ms of client work behind the server's answer).

Reported: the upstream requests the round made for the trial (replay counters; target 1), and
each caller's latency from the moment the burst started, against one raw upstream fetch of the
same resource (plain ``httpx``, same run). The same burst is then fired again on the warm
cache: its slowest caller is the CPU cost of building 1,000 answers one after another on one
event loop, so slowest cold caller ~ one fetch + that fan-out means nothing else waited.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from mcp import Client, types

from benchmarks._harness import TRIAL, bench_settings, scratch
from benchmarks._table import Row, Target, print_table, print_targets
from server.app import build_server
from server.lifespan import app_state
from tests.support.replay import ReplayServer

STUDY = "/api/v2/studies/NCT04280705"
NCT = TRIAL[1]["nct_id"]


async def burst(call: Callable[[], Awaitable[Any]], callers: int) -> list[float]:
    """Start ``callers`` calls at once; seconds from the start until each one finished."""
    started = time.perf_counter()
    done: list[float] = []

    async def one() -> None:
        result = await call()
        if getattr(result, "is_error", False):
            raise RuntimeError(f"call failed: {result.content}")
        done.append(time.perf_counter() - started)

    await asyncio.gather(*(one() for _ in range(callers)))
    return done


Bursts = tuple[list[float], list[float]]  # (cold burst, the same burst again once cached)


async def service_round(replay: ReplayServer, db: Path, callers: int) -> Bursts:
    async with app_state(bench_settings(replay.url, db)) as state:

        def call() -> Awaitable[Any]:
            return state.services.trials.get_trial(NCT)

        return await burst(call, callers), await burst(call, callers)


async def mcp_round(replay: ReplayServer, db: Path, callers: int) -> Bursts:
    request = types.CallToolRequest(params=types.CallToolRequestParams(name=TRIAL[0], arguments=TRIAL[1]))
    async with Client(build_server(bench_settings(replay.url, db)), cache=None) as client:
        await client.list_tools()

        def call() -> Awaitable[Any]:
            return client.session.send_request(request, types.CallToolResult)

        return await burst(call, callers), await burst(call, callers)


async def one_fetch(replay: ReplayServer) -> float:
    async with httpx.AsyncClient(base_url=replay.url) as http:
        await http.get("/api/v2/version")  # open the connection first: a fetch, not a handshake
        started = time.perf_counter()
        (await http.get(STUDY)).raise_for_status()
        return time.perf_counter() - started


async def main(latency: float, callers: int, rounds: int) -> None:
    levels = {"TrialsService.get_trial": service_round, "tools/call get_trial (SDK, in-process)": mcp_round}
    latencies: dict[str, list[float]] = {name: [] for name in levels}
    warm: dict[str, list[float]] = {name: [] for name in levels}
    slowest: dict[str, list[float]] = {name: [] for name in levels}
    slowest_warm: dict[str, list[float]] = {name: [] for name in levels}
    requests: dict[str, list[int]] = {name: [] for name in levels}
    fetches: list[float] = []
    with ReplayServer(latency=latency) as replay, scratch() as folder:
        await service_round(replay, folder / "warmup.sqlite3", 10)  # imports, untimed
        for index in range(rounds):
            for level, (name, run) in enumerate(levels.items()):
                before = replay.count(STUDY)
                cold, again = await run(replay, folder / f"round{index}-level{level}.sqlite3", callers)
                requests[name].append(replay.count(STUDY) - before)
                latencies[name] += cold
                warm[name] += again
                slowest[name].append(max(cold))
                slowest_warm[name].append(max(again))
            fetches.append(await one_fetch(replay))
    fetch = sorted(fetches)[len(fetches) // 2]
    rows = []
    for name in levels:
        rows += [
            Row(
                f"{name}: cold burst, every caller",
                latencies[name],
                "one raw upstream fetch",
                fetches,
                note=f"slowest caller per round (ms): {', '.join(f'{s * 1000:.0f}' for s in slowest[name])}",
            ),
            Row(
                f"{name}: same burst once cached",
                warm[name],
                "one raw upstream fetch",
                fetches,
                note=f"slowest caller per round (ms): {', '.join(f'{s * 1000:.0f}' for s in slowest_warm[name])}"
                " - building 1,000 answers on one event loop",
            ),
        ]
    print_table(
        rows,
        title=f"Stampede: {callers:,} concurrent identical cold calls, upstream latency "
        f"{latency * 1000:.0f} ms, {rounds} rounds",
        unit="ms",
    )
    targets = []
    for name in levels:
        worst = max(slowest[name])
        print(
            f"{name}: upstream requests per round {requests[name]}; slowest caller / one fetch: "
            f"{worst / fetch:.2f}x (worst round {worst * 1000:.0f} ms vs {fetch * 1000:.0f} ms)"
        )
        targets.append(
            Target(
                f"{name}: upstream requests per {callers:,}-caller burst == 1",
                f"{max(requests[name])} (max over {rounds} rounds)",
                max(requests[name]) == 1,
            )
        )
    print()
    print_targets(targets)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stampede", description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.1, help="replay upstream latency, seconds (default 0.1)")
    parser.add_argument("--callers", type=int, default=1000, help="concurrent identical calls (default 1000)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse()
    asyncio.run(main(args.latency, args.callers, rounds=2 if args.quick else 5))
