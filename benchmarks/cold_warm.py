"""Cold versus warm versus restarted: ``python -m benchmarks.cold_warm [--latency 0.1] [--quick]``.

The replay upstream answers every request after ``--latency`` seconds (100 ms by default).
Each round starts a fresh server process (``trialstock-mcp serve`` over stdio, the SDK client,
memory + SQLite tiers on a new file) and times:

- the first ``get_trial`` / ``search_trials`` call (cold: one upstream fetch, then cached);
- the same calls again (warm: memory-tier hits), then a few more each after an idle pause as
  long as the upstream's latency (warm after idle: what waking an idle server process and its
  client costs, which a cold call pays too: both wait out the upstream);
- the first call after a restart: a new server process on the same SQLite file (its memory
  is empty, so SQLite answers and promotes the entry to memory);
- a new connection's first call of each tool, right after its ``tools/list`` and, in a third
  process, after a :data:`THINK` pause that follows it (as an agent lists the tools, then
  thinks before it calls: the server builds its answer models in that idle time, see
  :mod:`server.idle_build`).

Over stdio, not in-process, on purpose: in one process the SDK client's CPU work (its one-time
output-schema check takes ~0.2 s) stalls the server's event loop, a concurrent SQLite write
then overruns the 0.25 s tier timeout and the tier is skipped for 5 s, which no real
deployment (client in another process) would see.

A connection's first call of a tool also makes the SDK client check the tool's output schema
once (client side, ~40 ms for ``get_trial``); an untimed call of the same tool with other
arguments goes first so the rows above show the server's path, and that first call is
reported in a row of its own.

The baseline is one raw upstream fetch of the same resource with a plain ``httpx`` client on
the same replay server, in the same run: a cold call costs about one fetch, a warm or
restarted call a small fraction of it. Every answer's cache metadata is checked (cold:
miss, warm: memory, restart: sqlite); upstream requests per round are counted.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
from mcp import Client

from benchmarks._harness import SEARCH, TRIAL, ToolCall, child_env, scratch, stdio_params
from benchmarks._table import Row, print_table
from tests.support.replay import ReplayServer
from tools.clinical_trials.service import RECORD_FIELDS

CALLS = (TRIAL, SEARCH)
# Same tools, other arguments: each connection's first call of a tool also pays the SDK client's
# one-time output-schema check (jsonschema check_schema, ~40 ms for get_trial), so a primer call
# goes first and the timed calls show the server's path. The primers' own times are a row too.
PRIMERS = {
    "get_trial": ("get_trial", {"nct_id": "NCT02576665"}),
    "search_trials": ("search_trials", {"condition": "melanoma", "statuses": ["RECRUITING"], "page_size": 3}),
}
RAW = {  # what the server asks the upstream for (a record: its protocol section and hasResults)
    "get_trial": f"/api/v2/studies/NCT04280705?fields={','.join(RECORD_FIELDS)}",
    "search_trials": "/api/v2/studies?query.cond=Phelan-McDermid+Syndrome&pageSize=5",
}
Samples = dict[tuple[str, str], list[float]]  # (phase, tool name) -> seconds


async def timed(client: Client, call: ToolCall, want_tier: str | None) -> float:
    """Seconds for one call; raises when the answer did not come from ``want_tier`` (None: a miss)."""
    started = time.perf_counter()
    result = await client.call_tool(*call)
    elapsed = time.perf_counter() - started
    if result.is_error:
        raise RuntimeError(f"{call[0]} failed: {result.content}")
    cache: dict[str, Any] = (result.structured_content or {}).get("cache", {})
    if cache.get("tier") != want_tier or cache.get("hit") is (want_tier is None):
        raise RuntimeError(f"{call[0]}: expected tier {want_tier}, got {cache}")
    return elapsed


IDLE_CALLS = 3
"""Warm calls per tool and round made after an idle pause (see the module doc)."""
THINK = 0.5
"""Seconds between a new connection's ``tools/list`` and its first call, in the third process."""


async def one_round(replay: ReplayServer, folder: Path, warm_calls: int, idle: float) -> Samples:
    folder.mkdir()
    params = stdio_params("trialstock", child_env(replay.url, folder), folder)
    out: Samples = {}
    async with Client(params, cache=None, read_timeout_seconds=60) as client:
        for call in CALLS:
            await timed(client, PRIMERS[call[0]], None)
            out[("cold", call[0])] = [await timed(client, call, None)]
        for call in CALLS:
            out[("warm", call[0])] = [await timed(client, call, "memory") for _ in range(warm_calls)]
        for call in CALLS:
            for _ in range(IDLE_CALLS):
                await asyncio.sleep(idle)
                out.setdefault(("idle", call[0]), []).append(await timed(client, call, "memory"))
    async with Client(params, cache=None, read_timeout_seconds=60) as client:  # a new process, same file
        await client.list_tools()  # as a client does on connecting; then it calls at once
        for call in CALLS:
            out[("first", call[0])] = [await timed(client, PRIMERS[call[0]], "sqlite")]
            out[("restart", call[0])] = [await timed(client, call, "sqlite")]
    async with Client(params, cache=None, read_timeout_seconds=60) as client:  # a third process, same file
        await client.list_tools()
        await asyncio.sleep(THINK)
        for call in CALLS:
            out[("paused", call[0])] = [await timed(client, PRIMERS[call[0]], "sqlite")]
    return out


async def raw_fetches(replay: ReplayServer, count: int) -> dict[str, list[float]]:
    """One plain GET per sample of what each tool fetches upstream (keep-alive connection)."""
    out: dict[str, list[float]] = {name: [] for name in RAW}
    async with httpx.AsyncClient(base_url=replay.url) as http:
        for _ in range(count):
            for name, path in RAW.items():
                started = time.perf_counter()
                (await http.get(path)).raise_for_status()
                out[name].append(time.perf_counter() - started)
    return out


async def main(latency: float, rounds: int, warm_calls: int) -> None:
    samples: Samples = {}
    upstream_requests: list[int] = []
    with ReplayServer(latency=latency) as replay, scratch() as folder:
        await one_round(replay, folder / "warmup", 2, latency)  # OS file cache and first connections, untimed
        raw: dict[str, list[float]] = {name: [] for name in RAW}
        for index in range(rounds):
            before = replay.count()
            for key, values in (await one_round(replay, folder / f"round-{index}", warm_calls, latency)).items():
                samples.setdefault(key, []).extend(values)
            upstream_requests.append(replay.count() - before)
            for name, values in (await raw_fetches(replay, 2)).items():
                raw[name] += values
    rows = []
    for name in RAW:
        base = f"one raw upstream GET ({latency * 1000:.0f} ms latency)"
        rows += [
            Row(
                f"{name}: cold (first call)",
                samples[("cold", name)],
                base,
                raw[name],
                note="fetch + parse + cache write",
            ),
            Row(f"{name}: warm (memory tier)", samples[("warm", name)], base, raw[name]),
            Row(
                f"{name}: warm, after {latency * 1000:.0f} ms idle",
                samples[("idle", name)],
                "warm (memory tier), back to back",
                samples[("warm", name)],
                note="waking an idle server and client, which a cold call pays too",
            ),
            Row(f"{name}: after restart (SQLite tier)", samples[("restart", name)], base, raw[name]),
            Row(
                f"{name}: new connection's first call (SQLite), at once",
                samples[("first", name)],
                base,
                raw[name],
                note="includes the SDK client's one-time output-schema check for the tool",
            ),
            Row(
                f"{name}: the same, {THINK * 1000:.0f} ms after tools/list",
                samples[("paused", name)],
                "new connection's first call (SQLite), at once",
                samples[("first", name)],
                note="the server built its answer models in the pause",
            ),
        ]
    print_table(rows, title=f"Cold vs warm vs restarted, stdio, upstream latency {latency * 1000:.0f} ms", unit="ms")
    print(
        f"Upstream requests per round (2 primer + 2 timed cold calls, plus each process's /version check): "
        f"{upstream_requests}\n"
    )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cold_warm", description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.1, help="replay upstream latency, seconds (default 0.1)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse()
    asyncio.run(main(args.latency, rounds=3 if args.quick else 8, warm_calls=20 if args.quick else 50))
