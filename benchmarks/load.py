"""Under load: 8 concurrent clients over streamable HTTP: ``python -m benchmarks.load [--duration 30]``.

``trialstock-mcp serve --transport http`` runs as its own process (bearer token on, replay
upstream, memory + SQLite tiers). The mixed workload (``benchmarks._harness.MIXED``: three
trial records, three searches, a count, a closed month of TWSE bars, a Yahoo symbol's info and
the cache statistics) is called once to warm the cache, then ``--clients`` SDK clients (each
its own streamable-HTTP session and connection pool, all in this process) call it round-robin,
back to back, for ``--duration`` seconds. Calls go through ``session.send_request``: the SDK
client's per-result output-schema check is client CPU that would compete with the server for
the machine's two cores (see ``benchmarks.floor`` for its size); every answer is still checked
for ``isError``.

The baseline is the trivial server (``benchmarks._trivial``, one constant tool) served the
same way and loaded by the same clients for ``--baseline-duration`` seconds. Reported:
throughput, per-call latency (median/p90/p99), errors (target: zero) and the CPU use of the
server process and of the client process (seconds of CPU per second of wall time; 1.0 = one
core busy): on two cores, when the two add up to ~2 the machine, not the server, is the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field

import httpx2
from mcp import Client, types
from mcp.client.streamable_http import streamable_http_client

from benchmarks._harness import MIXED, HttpProcess, ToolCall, child_env, cpu_seconds, http_command, scratch
from benchmarks._table import Row, Summary, Target, print_table, print_targets
from benchmarks._trivial import TOOL
from tests.support.replay import ReplayServer

TOKEN = "bench-token-0123456789"


@dataclass
class Tally:
    """What the clients saw during one run."""

    latencies: list[float] = field(default_factory=list)
    by_tool: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0


def request_for(call: ToolCall) -> types.CallToolRequest:
    return types.CallToolRequest(params=types.CallToolRequestParams(name=call[0], arguments=call[1]))


async def client_loop(
    url: str,
    headers: dict[str, str],
    calls: list[ToolCall],
    offset: int,
    deadline: float,
    tally: Tally,
    max_calls: int | None = None,
) -> None:
    """One client: its own session and connection pool, calling round-robin until ``deadline``."""
    requests = [(call[0], request_for(call)) for call in calls]
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), cache=None) as client,
    ):
        index = offset
        while time.perf_counter() < deadline and (max_calls is None or index - offset < max_calls):
            name, request = requests[index % len(requests)]
            index += 1
            started = time.perf_counter()
            try:
                result = await client.session.send_request(request, types.CallToolResult)
            except Exception as exc:  # a failed call is counted, the run goes on
                tally.errors.append(f"{name}: {exc!r}"[:200])
                continue
            elapsed = time.perf_counter() - started
            if result.is_error:
                tally.errors.append(f"{name}: {result.content[0].text if result.content else ''}"[:200])
            tally.latencies.append(elapsed)
            tally.by_tool[name].append(elapsed)


async def run_load(
    server: HttpProcess, headers: dict[str, str], calls: list[ToolCall], clients: int, duration: float
) -> Tally:
    tally = Tally()
    assert server.proc is not None
    cpu_before, client_before, started = cpu_seconds(server.proc.pid), time.process_time(), time.perf_counter()
    deadline = started + duration
    await asyncio.gather(
        *(client_loop(server.url, headers, calls, offset, deadline, tally) for offset in range(clients))
    )
    tally.wall = time.perf_counter() - started
    tally.server_cpu = (cpu_seconds(server.proc.pid) - cpu_before) / tally.wall
    tally.client_cpu = (time.process_time() - client_before) / tally.wall
    return tally


async def warm(server: HttpProcess, headers: dict[str, str], calls: list[ToolCall]) -> None:
    """Call every tool of the workload once (cold: fetched and cached)."""
    tally = Tally()
    await client_loop(server.url, headers, calls, 0, time.perf_counter() + 120, tally, max_calls=len(calls))
    if tally.errors:
        raise RuntimeError(f"warming failed: {tally.errors}")


async def main(latency: float, clients: int, duration: float, baseline_duration: float) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    calls = list(MIXED)
    with ReplayServer(latency=latency) as replay, scratch() as folder:
        env = child_env(replay.url, folder, TRIALSTOCK_AUTH_TOKEN=TOKEN)
        with HttpProcess(http_command("trivial"), child_env(replay.url, folder), folder) as trivial:
            base = await run_load(trivial, {}, [(TOOL, {})], clients, baseline_duration)
        with HttpProcess(http_command("trialstock"), env, folder) as server:
            await warm(server, headers, calls)
            real = await run_load(server, headers, calls, clients, duration)
        upstream = replay.count()
    report(real, base, clients, duration, upstream)


def report(real: Tally, base: Tally, clients: int, duration: float, upstream: int) -> None:
    row = Row(
        f"mixed workload, {clients} clients",
        real.latencies,
        f"trivial tool, {clients} clients",
        base.latencies,
        note=f"throughput {real.throughput:,.0f} vs {base.throughput:,.0f} calls/s "
        f"({real.throughput / base.throughput:.0%}); CPU in cores, server {real.server_cpu:.2f} vs "
        f"{base.server_cpu:.2f}, clients {real.client_cpu:.2f} vs {base.client_cpu:.2f}",
    )
    print_table([row], title=f"Under load: streamable HTTP, {duration:.0f} s, warm cache", unit="ms")
    print(
        "Per tool (ms):  "
        + "; ".join(
            f"{name} median {Summary.of(v).median * 1000:.1f} p99 {Summary.of(v).p99 * 1000:.1f} (n={len(v)})"
            for name, v in sorted(real.by_tool.items())
        )
    )
    print(
        f"Calls: {len(real.latencies):,} in {real.wall:.1f} s; errors {len(real.errors)}; upstream requests "
        f"during the whole run (warm-up included) {upstream}"
    )
    for error in real.errors[:5]:
        print(f"  error: {error}")
    print()
    print_targets(
        [
            Target(
                f"zero errors under load ({clients} clients, {duration:.0f} s)",
                f"{len(real.errors)} errors in {len(real.latencies):,} calls",
                not real.errors,
            )
        ]
    )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load on the real server (30)")
    parser.add_argument("--baseline-duration", type=float, default=10.0, help="seconds on the trivial server (10)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument("--latency", type=float, default=0.1, help="replay upstream latency for the warm-up (0.1 s)")
    parser.add_argument("--quick", action="store_true", help="5 s of load, 3 s of baseline")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse()
    if args.quick:
        args.duration, args.baseline_duration = 5.0, 3.0
    asyncio.run(main(args.latency, args.clients, args.duration, args.baseline_duration))
