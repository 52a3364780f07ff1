"""Resident memory: idle, per streamable-HTTP session, per 10,000 memory-tier entries: ``python -m benchmarks.memory [--quick]``.

Resident memory is the kernel's figure (``VmRSS``, :func:`tests.support.load.rss_bytes`) of the
server process, read from this process; every figure has the trivial server
(``benchmarks._trivial --http``, one constant tool) measured the same way in the same run.

1. Idle: ``trialstock-mcp serve --transport http`` (bearer token on, replay upstream, memory +
   SQLite tiers, as ``benchmarks.load`` starts it) after its first ``tools/list`` answer.
2. Per session: ``--sessions`` official SDK clients (each its own streamable-HTTP session and
   connection pool) are opened concurrently and held open, each initialized and having made one
   warm tool call (``get_trial`` NCT04280705; the trivial server's ``constant``); then all are
   closed (the client sends DELETE) and the server's memory is
   polled until it settles. Three open/close cycles: memory that grows from one cycle's closed
   figure to the next is held per session and never returned (a leak); the first cycle's
   retention also holds what the allocators keep for reuse (arenas, free lists) and what the
   first sessions warmed once. Target: growth after the first cycle <= 10 KB per closed session.
   The record is fetched by a first server process, stopped before the measured one starts on the
   same SQLite file: the measured process never parses the 466 KB upstream body, whose freed
   memory would be reused by the sessions and hide their cost. Its first call is a SQLite hit.
3. Per 10,000 memory-tier entries: in a fresh child process (a clean heap), 10,000 distinct
   values are stored through ``TieredCache`` (memory tier only, the engine's default serializer)
   and the resident growth is split into the encoded payload (``MemoryBackend.bytes_used``),
   the decoded values (the same values held in a plain list, measured next) and the rest, the
   tier's own cost (compare ``benchmarks.scale``'s ``tracemalloc`` figure, under 400 B). Two
   values: the real ``get_trial`` record (the cached value, from the replay upstream) and the
   ~2 KB trial summary of ``benchmarks.cache_tiers``.

Figures are whole-process memory on a machine others share. Between cycles the resident size
moves by 0-300 KB whatever the number of sessions (allocator and background work, not sessions):
with ``--quick``'s 30 sessions that is up to 10 KB a session, the target's size, so judge the
target on a full run (100 sessions), and read growth that does not scale with the number of
sessions as noise, not a leak.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import orjson
from mcp import Client, types
from mcp.client.streamable_http import streamable_http_client

from benchmarks._harness import TRIAL, HttpProcess, ToolCall, bench_settings, child_env, http_command, scratch
from benchmarks._table import Target, print_targets
from benchmarks._trivial import TOOL
from benchmarks.cache_tiers import _value
from benchmarks.load import TOKEN, request_for
from benchmarks.scale import memory_bytes_per_entry
from cache.keys import make_key
from server.lifespan import app_state
from tests.support.load import rss_bytes
from tests.support.replay import ReplayServer
from tools.clinical_trials.config import CACHE_FORMAT, NS_RECORD

CYCLES = 3
RETAINED_TARGET_KB = 10.0
OPEN_AT_ONCE = 16  # sessions being initialized at the same time (all stay open together)
SETTLE_SECONDS = 5.0


@dataclass
class Cycle:
    """Server memory (bytes) in one open/close cycle."""

    open: int
    closed: int


@dataclass
class SessionRun:
    """What one server did: idle memory, memory before the cycles, and each cycle."""

    name: str
    idle: int = 0
    before: int = 0
    cycles: list[Cycle] = field(default_factory=list)


def settled_rss(pid: int, seconds: float = SETTLE_SECONDS) -> int:
    """The process's memory once it stops moving (4 readings 0.25 s apart within 16 KB), or
    the last reading after ``seconds``."""
    readings = [rss_bytes(pid)]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.25)
        readings.append(rss_bytes(pid))
        last = readings[-4:]
        if len(last) == 4 and max(last) - min(last) <= 16 * 1024:
            break
    return readings[-1]


async def one_session(
    url: str,
    headers: dict[str, str],
    call: ToolCall | None,
    gate: asyncio.Semaphore,
    opened: asyncio.Queue[BaseException | None],
    release: asyncio.Event,
) -> None:
    """Open a session (at most OPEN_AT_ONCE opening at a time), list tools or make ``call``,
    report to ``opened`` (None, or what failed), hold the session until ``release``."""
    try:
        async with AsyncExitStack() as stack:
            async with gate:
                http = await stack.enter_async_context(httpx2.AsyncClient(headers=headers, timeout=60))
                client = await stack.enter_async_context(
                    Client(streamable_http_client(url, http_client=http), cache=None)
                )
                if call is None:
                    await client.list_tools()
                else:
                    result = await client.session.send_request(request_for(call), types.CallToolResult)
                    if result.is_error:
                        raise RuntimeError(f"{call[0]} failed: {result.content}")
            opened.put_nowait(None)
            await release.wait()
    except BaseException as exc:
        opened.put_nowait(exc)
        raise


async def hold_sessions(url: str, headers: dict[str, str], call: ToolCall | None, count: int, pid: int) -> int:
    """Open ``count`` sessions at once, each having made ``call``; returns the server's memory
    while all are open (all are closed before returning)."""
    gate, release = asyncio.Semaphore(OPEN_AT_ONCE), asyncio.Event()
    opened: asyncio.Queue[BaseException | None] = asyncio.Queue()
    tasks = [asyncio.create_task(one_session(url, headers, call, gate, opened, release)) for _ in range(count)]
    try:
        for _ in range(count):
            failure = await asyncio.wait_for(opened.get(), timeout=120)
            if failure is not None:
                raise RuntimeError(f"a session failed to open: {failure!r}") from failure
        measured = await asyncio.to_thread(settled_rss, pid, 2.0)
    finally:
        release.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise RuntimeError(f"{len(errors)} sessions failed to close: {errors[0]!r}")
    return measured


async def measure_server(
    name: str, server: HttpProcess, headers: dict[str, str], call: ToolCall, sessions: int
) -> SessionRun:
    """Idle memory after the first tools/list, then CYCLES open/close cycles of ``sessions``."""
    assert server.proc is not None
    pid, run = server.proc.pid, SessionRun(name)
    await hold_sessions(server.url, headers, None, 1, pid)  # the first tools/list
    run.idle = await asyncio.to_thread(settled_rss, pid)
    await hold_sessions(server.url, headers, call, 1, pid)  # the call's first time (a SQLite hit, promoted)
    run.before = await asyncio.to_thread(settled_rss, pid)
    for _ in range(CYCLES):
        opened = await hold_sessions(server.url, headers, call, sessions, pid)
        closed = await asyncio.to_thread(settled_rss, pid)
        run.cycles.append(Cycle(opened, closed))
    return run


async def sessions_part(sessions: int) -> tuple[SessionRun, SessionRun, int]:
    """Both servers' runs, and the upstream requests the measured real server made (0 expected:
    a first process, stopped before, fetched the record into the SQLite file both share, so the
    measured one never parses an upstream body, whose freed memory would hide the sessions')."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with ReplayServer() as replay, scratch() as folder:
        env = child_env(replay.url, folder, TRIALSTOCK_AUTH_TOKEN=TOKEN)
        with HttpProcess(http_command("trialstock"), env, folder) as primer:
            assert primer.proc is not None
            await hold_sessions(primer.url, headers, TRIAL, 1, primer.proc.pid)
        primed = replay.count()
        with HttpProcess(http_command("trialstock"), env, folder) as server:
            real = await measure_server("trialstock-mcp", server, headers, TRIAL, sessions)
        upstream = replay.count() - primed
        with HttpProcess(http_command("trivial"), child_env(replay.url, folder), folder) as trivial:
            base = await measure_server("trivial server", trivial, {}, (TOOL, {}), sessions)
    return real, base, upstream


def kb(value: float) -> str:
    return f"{value / 1024:8.1f}"


def leak_per_session(run: SessionRun, sessions: int) -> float:
    """Bytes per closed session per cycle that stayed after the first cycle."""
    first, last = run.cycles[0].closed, run.cycles[-1].closed
    return (last - first) / (sessions * (len(run.cycles) - 1))


def report_sessions(runs: tuple[SessionRun, SessionRun], sessions: int, upstream: int) -> list[Target]:
    real, base = runs
    print("\nResident memory, idle (after the first tools/list, streamable HTTP)")
    for run in runs:
        print(f"  {run.name:16} {run.idle / 2**20:7.1f} MB")
    print(f"  ratio            {real.idle / base.idle:7.2f}x the trivial server\n")
    print(f"Per streamable-HTTP session: {sessions} sessions open at once, {CYCLES} open/close cycles (KB)")
    header = f"{'':18}{'cycle':>5} {'open RSS':>10} {'per open':>9} {'closed RSS':>11} {'retained':>9} {'growth':>9}"
    print(header)
    print(f"{'':18}{'':>5} {'':>10} {'session':>9} {'':>11} {'/session':>9} {'/session':>9}")
    print("-" * len(header))
    for run in runs:
        previous = run.before
        for number, cycle in enumerate(run.cycles, 1):
            print(
                f"{run.name if number == 1 else '':18}{number:>5} {kb(cycle.open)}  {kb((cycle.open - run.before) / sessions)} "
                f"{kb(cycle.closed)}   {kb((cycle.closed - run.before) / sessions)} {kb((cycle.closed - previous) / sessions)}"
            )
            previous = cycle.closed
        print(f"{'':18}before the cycles {kb(run.before).strip()} KB; a leak shows as growth in every cycle")
    print(
        "open/retained per session: against the memory before the cycles; growth per session: "
        "against the previous cycle's closed figure. Upstream requests by the measured "
        f"trialstock-mcp process: {upstream} (its record came from the SQLite file a first process filled).\n"
    )
    leak, base_leak = leak_per_session(real, sessions), leak_per_session(base, sessions)
    return [
        Target(
            f"retained memory per closed HTTP session after the first cycle <= {RETAINED_TARGET_KB:.0f} KB",
            f"{leak / 1024:.1f} KB per session per cycle, {leak * sessions / 1024:.0f} KB a cycle in all "
            f"(trivial server {base_leak / 1024:.1f} KB; "
            f"first cycle retained {(real.cycles[0].closed - real.before) / sessions / 1024:.1f} KB, "
            f"trivial {(base.cycles[0].closed - base.before) / sessions / 1024:.1f} KB)",
            leak <= RETAINED_TARGET_KB * 1024,
        )
    ]


async def record_value() -> dict[str, Any]:
    """The value the engine caches for ``get_trial`` NCT04280705 (fetched from the replay)."""
    nct_id = TRIAL[1]["nct_id"]
    with ReplayServer() as replay, scratch() as folder:
        async with app_state(bench_settings(replay.url, folder / "record.sqlite3")) as state:
            await state.services.trials.get_trial(nct_id)
            entry = state.services.cache.memory.get_entry(
                make_key(NS_RECORD, {"nct": nct_id}, CACHE_FORMAT), time.time()
            )
    if entry is None:
        raise RuntimeError("get_trial left no record in the memory tier")
    return dict(entry.value)


# -- the child process of part 3 ------------------------------------------------------------


def fresh_values(template: bytes, count: int) -> Iterator[dict[str, Any]]:
    """``count`` distinct decoded values (as the tier holds them: each decoded on its own)."""
    for index in range(count):
        value = orjson.loads(template)
        value["_index"] = index  # no two alike
        yield value


async def tier_child(template_path: Path, count: int, mode: str) -> dict[str, int]:
    """Resident growth of this (fresh) process while it stores ``count`` distinct values in a
    memory-only TieredCache (``mode`` "tier") or merely holds them in a list ("values")."""
    from cache.backends.memory import MemoryBackend
    from cache.engine.tiered import TieredCache
    from cache.policy import CachePolicy

    template = template_path.read_bytes()
    policy = CachePolicy("bench.memory", fresh_ttl=86_400, stale_ttl=7 * 86_400)
    memory = MemoryBackend(max_entries=count * 2, max_bytes=1 << 40)  # never evicts here
    engine = TieredCache(memory)
    keys = [f"trials.record:v3:{index:032x}" for index in range(count)]
    await engine.set("warm-up", orjson.loads(template), policy)  # first-use allocations out of the figure
    memory.delete_now(["warm-up"])
    held: list[dict[str, Any]] = []
    gc.collect()
    start = rss_bytes()
    if mode == "tier":
        for key, value in zip(keys, fresh_values(template, count)):
            await engine.set(key, value, policy)
        del value
    else:
        held.extend(fresh_values(template, count))
    gc.collect()
    grown = rss_bytes() - start
    figures = {"grown": grown, "encoded": memory.bytes_used - sum(map(len, keys)) if mode == "tier" else 0}
    await engine.aclose()
    return figures


@dataclass(frozen=True)
class TierFigures:
    label: str
    count: int
    tier: float
    values: float
    encoded: float

    @property
    def beyond_payload(self) -> float:
        """Bytes per entry beyond the encoded payload (decoded value + tier cost)."""
        return (self.tier - self.encoded) / self.count

    @property
    def own(self) -> float:
        """Bytes per entry beyond encoded payload and decoded value: the tier's own cost."""
        return (self.tier - self.encoded - self.values) / self.count


def child_figures(path: Path, count: int, mode: str) -> dict[str, int]:
    """Run :func:`tier_child` in a fresh interpreter (bounded) and return its figures."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", "--tier-child", str(path), "--mode", mode, "--entries", str(count)],
        capture_output=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"tier child failed: {done.stderr.decode(errors='replace')[-2000:]}")
    figures: dict[str, int] = orjson.loads(done.stdout.splitlines()[-1])
    return figures


def run_tier_child(label: str, value: dict[str, Any], count: int, folder: Path) -> TierFigures:
    """The tier's and the bare values' growth for ``count`` copies of ``value``, each in its own process."""
    path = folder / f"{label.split()[0]}.json"
    path.write_bytes(orjson.dumps(value))
    tier, values = child_figures(path, count, "tier"), child_figures(path, count, "values")
    return TierFigures(label, count, tier["grown"], values["grown"], tier["encoded"])


def report_tier(rows: list[TierFigures]) -> None:
    print("Memory tier: 10,000 distinct entries stored in a fresh process (memory tier only)")
    header = (
        f"{'value':34}{'RSS growth':>12} {'per entry':>10} {'encoded':>9} {'beyond':>9} {'decoded':>9} {'tier own':>9}"
    )
    print(header)
    print(f"{'':34}{'per 10,000':>12} {'':>10} {'payload':>9} {'payload':>9} {'value':>9} {'cost':>9}")
    print("-" * len(header))
    for row in rows:
        scale = 10_000 / row.count
        print(
            f"{row.label:34}{row.tier * scale / 2**20:9.1f} MB {row.tier / row.count:8,.0f} B "
            f"{row.encoded / row.count:7,.0f} B {row.beyond_payload:7,.0f} B {row.values / row.count:7,.0f} B "
            f"{row.own:7,.0f} B"
        )
    print(
        "beyond payload = RSS per entry - encoded bytes (the decoded value the tier keeps next to its "
        "bytes, plus the tier's own cost); decoded value = the same values held in a list, measured "
        "in a process of its own; tier own cost = the rest (benchmarks.scale measures it with tracemalloc, target < 400 B). "
        "RSS adds what tracemalloc does not see: allocator slack, and the holes left by the transient "
        "copies of every store (the caller's value and the encoded JSON are freed; the tier keeps a "
        "value decoded again from the bytes, as a reader sees it)."
    )
    print(
        "The tier's byte bound (memory_max_bytes, 64 MB by default) counts encoded bytes (plus keys): "
        + "; ".join(f"{row.label.split(' (')[0]} resident {row.tier / row.encoded:.1f}x what it counts" for row in rows)
        + "\n"
    )


async def main(sessions: int, entries: int) -> None:
    record = await record_value()
    with scratch() as folder:
        tier_rows = [
            run_tier_child("get_trial record (real, cached)", record, entries, folder),
            run_tier_child("trial summary (~2 KB, synthetic)", _value(0), entries, folder),
        ]
    real, base, upstream = await sessions_part(sessions)
    targets = report_sessions((real, base), sessions, upstream)
    report_tier(tier_rows)
    per_payload, overhead, _top = await memory_bytes_per_entry(2_000)
    print(
        f"benchmarks.scale's figure, same run (tracemalloc, 2,000 entries of the ~2 KB summary): payload "
        f"{per_payload:,.0f} B per entry (decoded + encoded), tier own cost {overhead:,.0f} B per entry\n"
    )
    print_targets(targets)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100, help="HTTP sessions open at once (100)")
    parser.add_argument("--entries", type=int, default=10_000, help="memory-tier entries (10,000)")
    parser.add_argument("--quick", action="store_true", help="30 sessions")
    parser.add_argument("--tier-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=("tier", "values"), default="tier", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse()
    if args.tier_child is not None:
        print(orjson.dumps(asyncio.run(tier_child(args.tier_child, args.entries, args.mode))).decode())
    else:
        asyncio.run(main(30 if args.quick else args.sessions, args.entries))
