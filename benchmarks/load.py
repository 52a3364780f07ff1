"""Under load: 1 to 128 concurrent clients over streamable HTTP: ``python -m benchmarks.load [--clients 1,8,32,128]``.

``trialstock-mcp serve --transport http`` runs as its own process (bearer token on, replay
upstream, memory + SQLite tiers), and so does the baseline, the trivial server
(``benchmarks._trivial``, one constant tool), both for the whole run. The warm workload is
:data:`WORKLOAD`: the mixed calls of ``benchmarks._harness.MIXED`` (three trial records, three
searches, a count, a closed month of TWSE bars, a Yahoo symbol's info, the cache statistics)
plus a Yahoo quote (:data:`benchmarks._harness.QUOTE`); it is called once to warm the cache.

For each number of clients in ``--clients``, the trivial and the real server are loaded in
turn, ``--rounds`` times each in the order T R R T T R ... (so drift of the shared machine hits
both alike), ``--duration`` seconds per server in all. A load segment is run by client
processes (``--client-processes``, default 2; never more than the clients): one Python event
loop driving 128 SDK clients would be the bottleneck and the figures would measure the
client. Each client is its own SDK ``Client`` over streamable HTTP with its own connection
pool (the SDK client speaks the 2026-07-28 revision: every call is one self-contained POST, no
``Mcp-Session-Id``); the clients connect before the clock starts, then each calls its workload
round-robin, back to back.

A third server carries the same bytes without doing anything: the trivial server started with
``--payloads``, one constant-answer tool per workload call answering exactly what the real
server answered it after the warm-up (:data:`SAME`). Its calls/s against the trivial tool's
is what the SDK and the HTTP stack cost to carry these answers under the same load; the warm
workload's against it is what the server's own work costs. The three are loaded in the order
T R S S R T per pair of rounds. Calls go through ``session.send_request``: the SDK client's per-result
output-schema check is client CPU that would compete with the server for the machine's cores
(see ``benchmarks.floor`` for its size); every answer is still checked for ``isError``.

Reported per number of clients and server: calls/s, p50/p99/max latency, errors, and the CPU
of the server process and of the client processes together (CPU seconds per wall second; 1.0
= one core busy). The server is one process with one event loop, so ~1.0 server CPU is its
ceiling; when server and clients add up to the machine's cores, the machine is the limit.
Targets: the warm workload's calls/s >= 0.8x the trivial tool's at every number of clients,
p99 <= 3x p50 at 32 clients, zero errors. ``--profile DIR`` runs both servers under a CPU-time
cProfile switched on after the warm-up (``benchmarks._profiled``) and prints the server CPU per
call by layer and the real server's top entries (the profiler slows both servers).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import multiprocessing
import os
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx2
import orjson
from mcp import Client, types
from mcp.client.streamable_http import streamable_http_client

from benchmarks._harness import MIXED, QUOTE, HttpProcess, ToolCall, child_env, cpu_seconds, http_command, scratch
from benchmarks._profiled import print_by_layer, print_top, profiled_command, start_profiling
from benchmarks._table import Target, percentile, print_targets
from benchmarks._trivial import TOOL
from tests.support.replay import ReplayServer

TOKEN = "bench-token-0123456789"
WORKLOAD: tuple[ToolCall, ...] = (*MIXED, QUOTE)
TRIVIAL: tuple[ToolCall, ...] = ((TOOL, {}),)
SAME: tuple[ToolCall, ...] = tuple((f"same_{index}", {}) for index in range(len(WORKLOAD)))
"""The constant-answer tools of the same-bytes server, one per workload call, in order."""
THROUGHPUT_TARGET = 0.8  # warm calls/s against the trivial tool's, at every number of clients
TAIL_TARGET = 3.0  # p99 / p50 of the warm workload
TAIL_CLIENTS = 32  # ... at this number of clients
READY_TIMEOUT = 120.0  # seconds for the client processes to open their sessions


@dataclass
class Tally:
    """What the clients saw while one server was loaded (summed over segments and processes)."""

    latencies: list[float] = field(default_factory=list)
    by_tool: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    server_cpu: float = 0.0  # CPU seconds
    client_cpu: float = 0.0  # CPU seconds

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    @property
    def calls(self) -> int:
        """Calls the server answered (an isError answer included)."""
        return len(self.latencies)

    def quantile(self, q: float) -> float:
        return percentile(self.latencies, q)

    def add(self, share: dict[str, Any]) -> None:
        """Merge one client process's report (see :func:`_drive`)."""
        self.latencies += share["latencies"]
        for name, values in share["by_tool"].items():
            self.by_tool[name] += values
        self.errors += share["errors"]
        self.client_cpu += share["cpu"]


def request_for(call: ToolCall) -> types.CallToolRequest:
    return types.CallToolRequest(params=types.CallToolRequestParams(name=call[0], arguments=call[1]))


async def client_loop(
    client: Client, calls: tuple[ToolCall, ...], offset: int, deadline: float, share: dict[str, Any], max_calls: int
) -> None:
    """One client: calls round-robin from ``offset`` until ``deadline`` (or ``max_calls``)."""
    requests = [(call[0], request_for(call)) for call in calls]
    latencies, by_tool, errors = share["latencies"], share["by_tool"], share["errors"]
    index = offset
    while time.perf_counter() < deadline and index - offset < max_calls:
        name, request = requests[index % len(requests)]
        index += 1
        started = time.perf_counter()
        try:
            result = await client.session.send_request(request, types.CallToolResult)
        except Exception as exc:  # a failed call is counted, the run goes on
            errors.append(f"{name}: {exc!r}"[:200])
            continue
        elapsed = time.perf_counter() - started
        if result.is_error:
            text = getattr(result.content[0], "text", "") if result.content else ""
            errors.append(f"{name}: {text}"[:200])
        latencies.append(elapsed)
        by_tool.setdefault(name, []).append(elapsed)


async def _open(stack: AsyncExitStack, url: str, headers: dict[str, str]) -> Client:
    """One client: its own connection pool and streamable-HTTP session, closed with ``stack``."""
    http = await stack.enter_async_context(httpx2.AsyncClient(headers=headers, timeout=60))
    return await stack.enter_async_context(Client(streamable_http_client(url, http_client=http), cache=None))


async def _drive(
    conn: Connection, url: str, headers: dict[str, str], calls: tuple[ToolCall, ...], offsets: list[int]
) -> dict[str, Any]:
    share: dict[str, Any] = {"latencies": [], "by_tool": {}, "errors": [], "cpu": 0.0, "wall": 0.0}
    async with AsyncExitStack() as stack:
        clients = [await _open(stack, url, headers) for _ in offsets]  # one task: the SDK's scopes are per task
        conn.send("ready")
        duration = await asyncio.to_thread(conn.recv)  # "go", with the duration
        cpu, started = time.process_time(), time.perf_counter()
        deadline = started + duration
        await asyncio.gather(
            *(
                client_loop(client, calls, offset, deadline, share, max_calls=1 << 62)
                for client, offset in zip(clients, offsets, strict=True)
            )
        )
        share["wall"] = time.perf_counter() - started
        share["cpu"] = time.process_time() - cpu
    return share


def client_worker(
    conn: Connection, url: str, headers: dict[str, str], calls: tuple[ToolCall, ...], offsets: list[int]
) -> None:
    """Entry of a client process: open ``len(offsets)`` sessions, say "ready", load on "go", report."""
    try:
        conn.send(asyncio.run(_drive(conn, url, headers, calls, offsets)))
    except BaseException as exc:  # reported to the parent, which fails the run
        conn.send({"fatal": repr(exc)[:500]})
    finally:
        conn.close()


def run_segment(
    server: HttpProcess,
    headers: dict[str, str],
    calls: tuple[ToolCall, ...],
    clients: int,
    processes: int,
    duration: float,
    tally: Tally,
) -> None:
    """Load ``server`` with ``clients`` sessions spread over client processes for ``duration`` s."""
    assert server.proc is not None
    context = multiprocessing.get_context("spawn")  # no fork of a process with threads (the replay)
    target: Callable[..., None] = importlib.import_module("benchmarks.load").client_worker  # not __main__'s
    groups = [list(range(k, clients, processes)) for k in range(min(processes, clients))]
    workers: list[tuple[Any, Connection]] = []
    try:
        for offsets in groups:
            parent, child = context.Pipe()
            proc = context.Process(target=target, args=(child, server.url, headers, calls, offsets), daemon=True)
            proc.start()
            child.close()
            workers.append((proc, parent))
        for _, conn in workers:
            if not conn.poll(READY_TIMEOUT) or (message := conn.recv()) != "ready":
                raise RuntimeError(f"a client process did not open its sessions: {locals().get('message')!r}")
        cpu_before = cpu_seconds(server.proc.pid)
        for _, conn in workers:
            conn.send(duration)
        time.sleep(duration)
        cpu_after = cpu_seconds(server.proc.pid)
        walls = []
        for _, conn in workers:
            if not conn.poll(READY_TIMEOUT):
                raise RuntimeError("a client process did not report")
            share = conn.recv()
            if "fatal" in share:
                raise RuntimeError(f"a client process failed: {share['fatal']}")
            tally.add(share)
            walls.append(share["wall"])
        tally.wall += max(walls)
        tally.server_cpu += cpu_after - cpu_before
    finally:
        for proc, conn in workers:
            conn.close()
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=10)


async def warm(url: str, headers: dict[str, str], calls: tuple[ToolCall, ...]) -> list[dict[str, Any]]:
    """Call every tool of the workload once (cold: fetched and cached), then once more; the
    structured answers of that second, warm round, in order."""
    share: dict[str, Any] = {"latencies": [], "by_tool": {}, "errors": []}
    async with AsyncExitStack() as stack:
        client = await _open(stack, url, headers)
        await client_loop(client, calls, 0, time.perf_counter() + 120, share, max_calls=len(calls))
        if share["errors"] or len(share["latencies"]) != len(calls):
            raise RuntimeError(f"warming failed: {share['errors']}")
        answers = [await client.session.send_request(request_for(call), types.CallToolResult) for call in calls]
    if any(answer.is_error or answer.structured_content is None for answer in answers):
        raise RuntimeError("a warm answer was an error or had no structured content")
    return [answer.structured_content or {} for answer in answers]


@dataclass
class Level:
    """One number of clients: the trivial server's tally and the real one's."""

    clients: int
    trivial: Tally = field(default_factory=Tally)
    real: Tally = field(default_factory=Tally)
    same: Tally = field(default_factory=Tally)

    @property
    def ratio(self) -> float:
        return _ratio(self.real, self.trivial)


def _ratio(subject: Tally, base: Tally) -> float:
    return subject.throughput / base.throughput if base.throughput else 0.0


ORDER = ("trivial", "real", "same", "same", "real", "trivial")
"""The servers loaded in one pair of rounds (drift of a shared machine hits all three alike)."""


def main(args: argparse.Namespace) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    levels = [Level(n) for n in args.clients]
    segment = args.duration / args.rounds
    commands = {kind: http_command(kind) for kind in ("trivial", "trialstock")}
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
        commands = {kind: profiled_command(kind, args.profile.resolve() / f"{kind}.prof") for kind in commands}
    print(
        f"load average at start (1/5/15 min): {' / '.join(f'{x:.2f}' for x in os.getloadavg())}; cores: {os.cpu_count()}"
    )
    with ReplayServer(latency=args.latency) as replay, scratch() as folder:
        env = child_env(replay.url, folder, TRIALSTOCK_AUTH_TOKEN=TOKEN)
        with HttpProcess(commands["trialstock"], env, folder) as server:
            payloads = folder / "answers.json"
            answers = asyncio.run(warm(server.url, headers, WORKLOAD))
            payloads.write_bytes(orjson.dumps(dict(zip((name for name, _ in SAME), answers, strict=True))))
            with (
                HttpProcess(commands["trivial"], child_env(replay.url, folder), folder) as trivial,
                HttpProcess(  # never profiled: its profile would overwrite the trivial server's
                    [*http_command("trivial"), "--payloads", str(payloads)], child_env(replay.url, folder), folder
                ) as same,
            ):
                subjects = {
                    "trivial": (trivial, {}, TRIVIAL),
                    "real": (server, headers, WORKLOAD),
                    "same": (same, {}, SAME),
                }
                if args.profile is not None:
                    for process in (trivial, server):
                        assert process.proc is not None
                        start_profiling(process.proc.pid)
                warmed = replay.count()
                for level in levels:
                    processes = min(args.client_processes, level.clients)
                    for index in range(args.rounds * 3):
                        kind = ORDER[index % len(ORDER)]
                        which, auth, calls = subjects[kind]
                        run_segment(which, auth, calls, level.clients, processes, segment, getattr(level, kind))
        upstream = replay.count() - warmed
    report(levels, args, upstream)
    if args.profile is not None:
        folder = args.profile.resolve()
        print_by_layer(
            {
                "trivial": (folder / "trivial.prof", sum(level.trivial.calls for level in levels)),
                "warm": (folder / "trialstock.prof", sum(level.real.calls for level in levels)),
            }
        )
        print_top(folder / "trialstock.prof", "cProfile of the real server during the load segments")


def _row(clients: int, name: str, tally: Tally) -> str:
    p50, p99, worst = (tally.quantile(q) * 1000 for q in (0.5, 0.99, 1.0))
    return (
        f"{clients:>7}  {name:<8} {tally.throughput:>8.0f} {p50:>8.2f} {p99:>8.2f} {worst:>8.1f} "
        f"{len(tally.errors):>6} {tally.server_cpu / tally.wall:>10.2f} {tally.client_cpu / tally.wall:>10.2f}"
    )


def report(levels: list[Level], args: argparse.Namespace, upstream: int) -> None:
    print(
        f"\nUnder load: streamable HTTP, warm workload ({len(WORKLOAD)} calls round-robin) against the trivial "
        f"tool, {args.duration:.0f} s per server and number of clients in {args.rounds} alternating round(s), "
        f"clients in up to {args.client_processes} processes\n"
    )
    header = (
        f"{'clients':>7}  {'server':<8} {'calls/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'errors':>6} {'server CPU':>10} {'client CPU':>10}"
    )
    print(header)
    print("-" * len(header))
    for level in levels:
        print(_row(level.clients, "trivial", level.trivial))
        print(_row(level.clients, "same", level.same))
        print(_row(level.clients, "warm", level.real))
        print(
            f"{'':9}warm / trivial calls/s {level.ratio:.2f}x; same bytes / trivial {_ratio(level.same, level.trivial):.2f}x;"
            f" warm / same bytes {_ratio(level.real, level.same):.2f}x"
        )
    print("(same: the trivial server answering the warm workload's answers as constants, see the module doc)")
    print("(CPU: cores busy, CPU seconds per wall second; client CPU is all client processes together)\n")
    for level in levels:
        print(
            f"{level.clients} clients, per tool (ms): "
            + "; ".join(
                f"{name} p50 {percentile(v, 0.5) * 1000:.1f} p99 {percentile(v, 0.99) * 1000:.1f}"
                for name, v in sorted(level.real.by_tool.items())
            )
        )
    tallies = [tally for level in levels for tally in (level.trivial, level.real, level.same)]
    errors = [error for tally in tallies for error in tally.errors]
    calls = sum(tally.calls for tally in tallies)
    print(f"upstream requests after the warm-up: {upstream}; calls {calls:,}; errors {len(errors)}")
    for error in errors[:5]:
        print(f"  error: {error}")
    print(f"load average at the end (1/5/15 min): {' / '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    targets = [
        Target(
            f"warm calls/s >= {THROUGHPUT_TARGET}x the trivial tool's at {level.clients} clients",
            f"{level.real.throughput:,.0f} vs {level.trivial.throughput:,.0f} calls/s ({level.ratio:.2f}x)",
            level.ratio >= THROUGHPUT_TARGET,
        )
        for level in levels
    ]
    for level in levels:
        if level.clients == TAIL_CLIENTS:
            p50, p99 = level.real.quantile(0.5), level.real.quantile(0.99)
            targets.append(
                Target(
                    f"warm p99 <= {TAIL_TARGET:.0f}x p50 at {TAIL_CLIENTS} clients",
                    f"p99 {p99 * 1000:.1f} ms, p50 {p50 * 1000:.1f} ms ({p99 / p50:.2f}x)",
                    p99 <= TAIL_TARGET * p50,
                )
            )
    targets.append(Target("zero errors under load", f"{len(errors)} errors in {calls:,} calls", not errors))
    print_targets(targets)


def _counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"a comma list of positive numbers, got {text!r}")
    return counts


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=float, default=20.0, help="seconds of load per server and number of clients (20)"
    )
    parser.add_argument("--clients", type=_counts, default=[1, 8, 32, 128], help="comma list (1,8,32,128)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per number of clients (2)")
    parser.add_argument("--client-processes", type=int, default=2, help="processes the clients are spread over (2)")
    parser.add_argument("--latency", type=float, default=0.1, help="replay upstream latency for the warm-up (0.1 s)")
    parser.add_argument("--quick", action="store_true", help="4 s per server and number of clients, one round")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run both servers under cProfile during the load (files in DIR); print CPU per call by layer",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.rounds = 4.0, 1
    return args


if __name__ == "__main__":
    main(parse())
