"""Soak under faults: ``python -m benchmarks.soak [--duration 300] [--clients 16] [--quick]``.

``trialstock-mcp serve --transport http`` runs as its own process with the memory, SQLite and
Redis tiers, against the replay upstream run as a process (``python -m tests.support.replay``,
its knobs switched over HTTP) and a redis-server this script spawns, all on 127.0.0.1.
``--clients`` SDK clients over streamable HTTP (each its own session and connection pool) call
it back to back for ``--duration`` seconds: three of every four calls come from the warm mixed
workload (``benchmarks._harness.MIXED``), the fourth is a distinct search (a new cache key, so
an upstream request and a write to every tier).

Every ``--period`` seconds (60; 30 with ``--quick``) the same faults are injected, at the same
offsets into the period, one after another:

- a hung upstream: every request held, for 5 s (3 s quick), then released;
- Redis killed with SIGKILL, started again (empty) on the same port 2 s later;
- an upstream outage: every request answered 503, for 10 s (5 s quick).

Reported: calls, failures, latency (p50/p99/max) overall and by the fault in force when each
call started, failures by cause, upstream requests per call, and the server's memory after the
warm-up, halfway and at the end, split into what its bounded caches hold and the rest
(:mod:`benchmarks._memory_reading`): the target is that the rest grows by less than 50 MB.
``--quick`` runs one 30 s period. Failures during an outage are expected for the distinct
searches (nothing is cached for them), and so are fast "circuit open" refusals for as long as
the upstream's breaker stays open after it; the Redis kill and the hung upstream should fail
no call.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import httpx2
from mcp import Client, types
from mcp.client.streamable_http import streamable_http_client

from benchmarks import _memory_reading as memory
from benchmarks._harness import MIXED, REPO, HttpProcess, ToolCall, child_env, http_command, scratch
from benchmarks._table import Summary, Target, print_targets
from tests.support.redis_server import RedisServer
from tests.support.replay_routes.synthetic import condition

MB = memory.MB
CALM = "calm"
LEAK_LIMIT = 50 * MB


@dataclass(frozen=True)
class Fault:
    """One fault: starts ``at`` seconds into each period and lasts ``length`` seconds."""

    name: str
    at: float
    length: float


def schedule(period: float, quick: bool) -> list[Fault]:
    # The outage comes last: it opens the upstream's circuit breaker, which stays open for its
    # recovery time (30 s by default) after the outage ends, and would hide the other two faults.
    return [
        Fault("hung upstream", period * 0.15, 3.0 if quick else 5.0),
        Fault("Redis SIGKILL + restart", period * 0.35, 2.0),
        Fault("upstream 503 burst", period * 0.55, 5.0 if quick else 10.0),
    ]


@dataclass
class Soak:
    """What the clients saw, by the fault in force when each call started."""

    started: float = field(default_factory=time.perf_counter)
    active: str = CALM
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    def log(self, text: str) -> None:
        self.events.append(f"{time.perf_counter() - self.started:6.1f} s  {text}")

    causes: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def record(self, phase: str, seconds: float, error: str | None) -> None:
        self.latencies[phase].append(seconds)
        if error is not None:
            why = cause(error)
            self.failures[phase] += 1
            self.causes[why] += 1
            if len(self.errors) < 3 or (why not in OUTAGE and len(self.errors) < 10):
                self.errors.append(f"[{phase}] {error}"[:200])


OUTAGE = ("upstream 503", "circuit open")


def cause(error: str) -> str:
    """What made a call fail, from its error text."""
    if "circuit open" in error or "recovering" in error:  # before 503: it quotes the last failure
        return "circuit open"
    if "HTTP 503" in error:
        return "upstream 503"
    if "timed out" in error:
        return "timed out"
    if "Error executing tool" in error or "Invalid input" in error:
        return "other tool error"
    return "lost (no answer)"


def request(name: str, arguments: dict[str, object]) -> types.CallToolRequest:
    return types.CallToolRequest(params=types.CallToolRequestParams(name=name, arguments=arguments))


def workload(number: int) -> Iterator[ToolCall]:
    """Three warm calls of the mixed workload, then one distinct search, round and round."""
    warm = itertools.cycle(MIXED[number % len(MIXED) :] + MIXED[: number % len(MIXED)])
    for n in itertools.count():
        yield ("search_trials", {"condition": condition(n, f"soak-{number}-")}) if n % 4 == 3 else next(warm)


async def client_loop(url: str, number: int, deadline: float, soak: Soak) -> None:
    async with (
        httpx2.AsyncClient(timeout=60) as http,
        Client(streamable_http_client(url, http_client=http), cache=None) as client,
    ):
        for name, arguments in workload(number):
            if time.perf_counter() >= deadline:
                return
            phase, started = soak.active, time.perf_counter()
            error: str | None = None
            try:
                result = await client.session.send_request(request(name, arguments), types.CallToolResult)
                if result.is_error:
                    error = f"{name}: {result.content[0].text if result.content else ''}"
            except Exception as exc:  # a lost call is counted, the soak goes on
                error = f"{name}: {exc!r}"
            soak.record(phase, time.perf_counter() - started, error)


class Replay:
    """The replay upstream as a process; its knobs are set over HTTP."""

    def __init__(self, folder_log: str) -> None:
        self._log = open(folder_log, "wb")  # noqa: SIM115 - handed to the child, closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.replay", "--port", "0", "--print-port"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"

    def knobs(self, **values: float) -> None:
        httpx.post(f"{self.url}/__replay__/knobs", params=values, timeout=5).raise_for_status()

    def requests(self) -> int:
        return int(httpx.get(f"{self.url}/__replay__/stats", timeout=5).json()["total"])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=15)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


async def inject(
    faults: list[Fault], period: float, deadline: float, replay: Replay, redis: RedisServer, soak: Soak
) -> None:
    """Run the fault schedule until ``deadline`` (each fault ends before the next begins)."""
    start = time.perf_counter()
    for cycle in itertools.count():
        for fault in faults:
            begin = start + cycle * period + fault.at
            if begin + fault.length > deadline:
                return
            await asyncio.sleep(max(begin - time.perf_counter(), 0))
            soak.active = fault.name
            soak.log(f"{fault.name}: begins")
            if fault.name.startswith("upstream 503"):
                replay.knobs(failure_rate=1.0)
                await asyncio.sleep(fault.length)
                replay.knobs(failure_rate=0.0)
            elif fault.name.startswith("Redis"):
                await asyncio.to_thread(redis.stop)  # SIGKILL
                await asyncio.sleep(fault.length)
                await asyncio.to_thread(redis.start)
            else:
                replay.knobs(latency=3600)
                await asyncio.sleep(fault.length)
                replay.knobs(latency=0)  # held requests are answered now
            soak.active = CALM
            soak.log(f"{fault.name}: ends")


@contextmanager
def rig(folder_path: str) -> Iterator[tuple[Replay, RedisServer]]:
    replay = Replay(f"{folder_path}/replay.log")
    try:
        with RedisServer() as redis:
            yield replay, redis
    finally:
        replay.stop()


async def main(duration: float, clients: int, period: float, quick: bool) -> None:
    faults = schedule(period, quick)
    with scratch("trialstock-soak-") as folder, rig(str(folder)) as (replay, redis):
        env = child_env(replay.url, folder, TRIALSTOCK_REDIS_URL=redis.url, TRIALSTOCK_WORKER__WARM_AT_STARTUP="false")
        with HttpProcess(http_command("trialstock"), env, folder) as server:
            assert server.proc is not None
            warm = Soak()
            await client_loop(server.url, 0, time.perf_counter() + 2, warm)  # imports, pools, the mixed workload
            pid, requests_before = server.proc.pid, replay.requests()
            readings = [memory.read(pid, server.base)]
            soak = Soak()
            deadline = soak.started + duration
            await asyncio.gather(
                inject(faults, period, deadline, replay, redis, soak),
                sample_memory(pid, server.base, soak.started + duration / 2, readings),
                *(client_loop(server.url, number, deadline, soak) for number in range(clients)),
            )
            wall = time.perf_counter() - soak.started
            readings.append(memory.read(pid, server.base))
            requests = replay.requests() - requests_before
    report(soak, wall, clients, period, faults, readings, requests)


async def sample_memory(pid: int, base_url: str, at: float, readings: list[memory.Reading]) -> None:
    """One reading at ``at`` (perf_counter time), halfway through the soak."""
    await asyncio.sleep(max(0.0, at - time.perf_counter()))
    readings.append(await asyncio.to_thread(memory.read, pid, base_url))


def report(
    soak: Soak,
    wall: float,
    clients: int,
    period: float,
    faults: list[Fault],
    readings: list[memory.Reading],
    requests: int,
) -> None:
    phases = [CALM, *(f.name for f in faults if soak.latencies.get(f.name))]
    every = [s for phase in phases for s in soak.latencies[phase]]
    calls = len(every)
    failures = sum(soak.failures.values())
    header = f"{'calls started during':26}{'calls':>8} {'failures':>9} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}"
    print(f"\nSoak under faults: {clients} clients, streamable HTTP, {wall:.0f} s, faults every {period:.0f} s")
    print(header)
    print("-" * len(header))
    for name, samples, failed in [
        *((p, soak.latencies[p], soak.failures[p]) for p in phases),
        ("all", every, failures),
    ]:
        s = Summary.of(samples)
        print(
            f"{name:26}{len(samples):>8,} {failed:>9,} {s.median * 1000:>9.1f} {s.p99 * 1000:>9.1f} "
            f"{max(samples, default=0.0) * 1000:>9.1f}"
        )
    print()
    print(
        f"Throughput {calls / wall:,.0f} calls/s; upstream requests {requests:,} ({requests / max(calls, 1):.3f} per call)"
    )
    print("Server memory (MB: resident anonymous + file-backed; the memory tier's entries and accounted bytes):")
    for label, r in zip(("after the warm-up", "halfway", "at the end"), readings):
        print(
            f"  {label:18} {r.anon / MB:7.1f} + {r.file / MB:6.1f}   tier {r.tier_entries:>6,} entries "
            f"{r.tier_bytes / MB:6.1f} MB"
        )
    start, end = readings[0], readings[-1]
    leak = memory.unexplained(start, end)
    print(
        f"  anonymous growth {(end.anon - start.anon) / MB:+.1f} MB: the memory tier's entries "
        f"{(end.tier_cost - start.tier_cost) / MB:+.1f} MB, SQLite's page caches at most "
        f"{memory.PAGE_CACHES / MB:.0f} MB, unexplained {leak / MB:+.1f} MB; file-backed "
        f"{(end.file - start.file) / MB:+.1f} MB (the mapped SQLite file); anonymous growth in the second "
        f"half {(end.anon - readings[1].anon) / MB:+.1f} MB"
    )
    print("Failures by cause: " + (", ".join(f"{c} {n:,}" for c, n in sorted(soak.causes.items())) or "none"))
    print("Faults injected:")
    for event in soak.events:
        print(f"  {event}")
    for error in soak.errors:
        print(f"  error: {error}")
    print()
    calm_failures = soak.failures[CALM]
    unexplained = sum(n for c, n in soak.causes.items() if c not in OUTAGE)
    print_targets(
        [
            Target(
                "the Redis kill and the hung upstream fail no call (failures other than 503s and open circuits)",
                f"{unexplained} of {calls:,}",
                not unexplained,
            ),
            Target(
                "no failed call outside the fault windows",
                f"{calm_failures} of {len(soak.latencies[CALM]):,}",
                not calm_failures,
            ),
            Target(
                "server memory grows by less than 50 MB beyond what its bounded caches hold",
                f"{leak / MB:+.1f} MB over {wall:.0f} s (resident {(end.anon + end.file - start.anon - start.file) / MB:+.1f} MB)",
                leak < LEAK_LIMIT,
            ),
        ]
    )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load (300)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument("--period", type=float, default=None, help="seconds between rounds of faults (60; 30 quick)")
    parser.add_argument("--quick", action="store_true", help="one 30 s period with shorter faults")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse()
    if args.quick:
        args.duration = min(args.duration, 30.0)
    period = args.period or (30.0 if args.quick else 60.0)
    asyncio.run(main(args.duration, args.clients, period, args.quick))
