"""Scale out: 1, 2 and 3 replicas behind haproxy: ``python -m benchmarks.scale_out [--duration 20] [--clients 32]``.

Each run starts N server replicas (the console script on streamable HTTP, one shared throwaway
redis-server, a SQLite file each) behind haproxy on ``deploy/haproxy.cfg`` (the file the
deployment docs and ``tests/e2e/test_replicas.py`` use), in front of the replay upstream. Redis
is emptied before each run. The mixed workload (``benchmarks._harness.MIXED``) is called once
to fill the shared tiers, then enough times for every replica's memory tier to hold it; then
``--clients`` concurrent HTTP clients (2026-07-28 requests, one self-contained POST per call,
so haproxy balances each call round-robin), spread over ``--client-processes`` processes (one
Python process driving 32 connections is itself the bottleneck), call it back to back for
``--duration`` seconds.

Reported per N: calls/s, p50/p99 latency, errors, upstream requests per 1,000 measured calls,
the CPU used by the replicas, haproxy and the client process (cores: CPU seconds per wall
second) and each replica's resident memory at the end. The machine has 2 cores shared by the
client, haproxy, Redis and every replica: the figures show the overhead and correctness of
scaling out, not a speed-up.

``--redis cluster`` shares a throwaway Redis Cluster (3 primaries with a replica each) instead
of one redis-server.

Sizing (``--sizing-entries``, default 10,000): Redis ``used_memory`` before and after writing
that many entries through ``TieredCache`` with a Redis tier (a ~2 KB trial-summary value each,
tagged with its NCT id, as trial records are stored), and the mean ``MEMORY USAGE`` of the
real workload's entries left by the 3-replica run. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks._harness import MIXED, cpu_seconds, scratch
from benchmarks._redis_sizing import real_entry_bytes, sizing
from benchmarks._table import percentile
from tests.support.modern_http import call_tool
from tests.support.redis_server import RedisServer
from tests.support.redis_topologies import ClusterServers
from tests.support.replay import ReplayServer
from tests.support.replicas import Fleet, fleet


@dataclass
class Run:
    replicas: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    wall: float = 0.0
    upstream: int = 0
    warmup_upstream: int = 0
    served: Counter[str | None] = field(default_factory=Counter)
    failures: Counter[int] = field(default_factory=Counter)
    cpu: dict[str, float] = field(default_factory=dict)
    rss_mib: list[float] = field(default_factory=list)

    def row(self) -> str:
        calls = len(self.latencies)
        p50, p99 = (percentile(self.latencies, q) * 1000 for q in (0.5, 0.99))
        per_1k = self.upstream * 1000 / calls if calls else float("nan")
        cpu = " ".join(f"{k} {v:.2f}" for k, v in self.cpu.items())
        rss = "/".join(f"{m:.0f}" for m in self.rss_mib)
        return (
            f"{self.replicas:>8} {calls / self.wall:>8.0f} {p50:>8.1f} {p99:>8.1f} {self.errors:>6} "
            f"{per_1k:>12.2f} {rss:>14}   {cpu}"
        )


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def warm(client: httpx.AsyncClient, url: str, replicas: int) -> None:
    for name, arguments in MIXED:  # one replica loads each, the others find it in Redis
        answer = await call_tool(client, url, name, arguments)
        if not answer.ok:
            raise RuntimeError(f"warm-up {name} failed: {answer.body}")
    for _ in range(replicas * 2):  # round-robin: every replica's memory tier gets every call
        for name, arguments in MIXED:
            await call_tool(client, url, name, arguments)


@dataclass
class Share:
    """What one client process saw."""

    latencies: list[float]
    errors: int
    served: Counter[str | None]
    cpu: float
    failures: Counter[int] = field(default_factory=Counter)


async def _client_loop(url: str, clients: int, offset: int, stop_at: float) -> Share:
    share = Share([], 0, Counter(), 0.0)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    started_cpu = time.process_time()
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def one(index: int) -> None:
            i = index
            while time.time() < stop_at:
                name, arguments = MIXED[i % len(MIXED)]
                t0 = time.perf_counter()
                answer = await call_tool(client, url, name, arguments)
                share.latencies.append(time.perf_counter() - t0)
                share.served[answer.served_by] += 1
                if not answer.ok:
                    share.errors += 1
                    share.failures[answer.status] += 1
                i += 1

        await asyncio.gather(*(one(offset + i) for i in range(clients)))
    share.cpu = time.process_time() - started_cpu
    return share


def client_process(url: str, clients: int, offset: int, stop_at: float) -> Share:
    """One client process: ``clients`` concurrent callers until ``stop_at`` (epoch seconds)."""
    return asyncio.run(_client_loop(url, clients, offset, stop_at))


async def drive(running: Fleet, upstream: ReplayServer, args: argparse.Namespace, pool: ProcessPoolExecutor) -> Run:
    run = Run(len(running.replicas))
    url = running.lb.mcp_url
    async with httpx.AsyncClient(timeout=60) as client:
        before = upstream.count()
        await warm(client, url, run.replicas)
        run.warmup_upstream = upstream.count() - before
    pids = {r.name: r.proc.pid for r in running.replicas if r.proc is not None}
    assert running.lb.proc is not None
    pids["haproxy"] = running.lb.proc.pid
    per_process = args.clients // args.client_processes
    stop_at = time.time() + 1.0 + args.duration  # a second for the client processes to start
    futures = [
        pool.submit(client_process, url, per_process, k * per_process, stop_at) for k in range(args.client_processes)
    ]
    await asyncio.sleep(max(0.0, stop_at - args.duration - time.time()))
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    before, started = upstream.count(), time.monotonic()
    shares = [await asyncio.wrap_future(future) for future in futures]
    run.wall = time.monotonic() - started
    run.upstream = upstream.count() - before
    for share in shares:
        run.latencies += share.latencies
        run.errors += share.errors
        run.served.update(share.served)
        run.failures.update(share.failures)
    replica_cpu = sum(cpu_seconds(pids[r.name]) - cpu_before[r.name] for r in running.replicas)
    run.cpu = {
        "replicas": replica_cpu / run.wall,
        "haproxy": (cpu_seconds(pids["haproxy"]) - cpu_before["haproxy"]) / run.wall,
        "clients": sum(share.cpu for share in shares) / run.wall,
    }
    run.rss_mib = [rss_mib(pids[r.name]) for r in running.replicas]
    return run


@contextmanager
def shared_redis(kind: str) -> Iterator[tuple[dict[str, str], Callable[[], None], list[str]]]:
    """(environment for the replicas, a function emptying it, URLs of its primaries)."""
    if kind == "single":
        with RedisServer() as server:
            yield {"TRIALSTOCK_REDIS_URL": server.url}, server.flushall, [server.url]
        return
    with ClusterServers() as cluster:
        config = cluster.redis_config()
        env = {
            "TRIALSTOCK_REDIS_URL": config.url.get_secret_value() if config.url else "",
            "TRIALSTOCK_REDIS__MODE": "cluster",
            "TRIALSTOCK_REDIS__NODES": ",".join(config.nodes),
        }
        yield env, cluster.flushall, [f"redis://127.0.0.1:{port}" for port in cluster.primary_ports()]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale_out", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds per replica count")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--client-processes", type=int, default=4, help="processes the clients are spread over")
    parser.add_argument("--replicas", default="1,2,3", help="comma list of replica counts (1 to 3)")
    parser.add_argument("--sizing-entries", type=int, default=10_000)
    parser.add_argument("--redis", choices=("single", "cluster"), default="single", help="the shared Redis")
    parser.add_argument("--quick", action="store_true", help="5 s per replica count, 2,000 sizing entries")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.sizing_entries = 5.0, 2_000
    return args


async def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if shutil.which("haproxy") is None:
        print("haproxy is not installed (apt-get install -y haproxy)", file=sys.stderr)
        return 1
    counts = [int(n) for n in args.replicas.split(",")]
    print(
        f"load average at start (1/5/15 min): {' / '.join(f'{x:.2f}' for x in os.getloadavg())}; cores: {os.cpu_count()}"
    )
    runs: list[Run] = []
    real: tuple[int, float] = (0, float("nan"))
    with (
        ReplayServer() as upstream,
        shared_redis(args.redis) as (redis_env, flush, primaries),
        scratch("trialstock-scale-out-") as folder,
        ProcessPoolExecutor(args.client_processes) as pool,
    ):
        env = dict(redis_env)
        url = env.pop("TRIALSTOCK_REDIS_URL")
        for n in counts:
            flush()
            with fleet(folder / f"n{n}", n, redis_url=url, upstream=upstream.url, **env) as running:
                runs.append(await drive(running, upstream, args, pool))
            real = real_entry_bytes(primaries)
    where = "one redis-server" if args.redis == "single" else "a Redis Cluster (3 primaries + 1 replica each)"
    print(
        f"\nScale out behind haproxy on {where}: {args.clients} HTTP clients, warm mixed workload, "
        f"{args.duration:.0f} s per row\n"
    )
    print(
        f"{'replicas':>8} {'calls/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'upstream/1k':>12} {'RSS MiB':>14}   CPU (cores)"
    )
    print("-" * 100)
    for run in runs:
        print(run.row())
    print()
    for run in runs:
        spread = ", ".join(f"{k} {v}" for k, v in sorted(run.served.items(), key=lambda kv: str(kv[0])))
        print(
            f"{run.replicas} replica(s): {len(run.latencies):,} calls in {run.wall:.1f} s; served by {spread}; "
            f"upstream requests: warm-up {run.warmup_upstream}, measured {run.upstream}"
            + (f"; failed calls by HTTP status {dict(run.failures)}" if run.failures else "")
        )
    print(
        f"real workload entries in Redis after the last run: {real[0]}, mean MEMORY USAGE {real[1]:,.0f} B "
        "(entry plus its share of the tag index)"
    )
    if args.sizing_entries > 0:
        print(await sizing(args.sizing_entries))
    print(f"load average at the end (1/5/15 min): {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    errors = sum(run.errors for run in runs)
    print("\nTargets:")
    print(f"{'TARGET MET' if errors == 0 else 'MISSED'}  zero errors at every replica count: {errors} errors")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
