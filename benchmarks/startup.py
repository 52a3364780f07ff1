"""Start-up: process start to the first ``tools/list`` answer over stdio: ``python -m benchmarks.startup``.

Each sample spawns the server the way an agent does (the SDK client's stdio transport with
``StdioServerParameters``), completes the handshake and times until ``tools/list`` has
answered; the process is then shut down (untimed). ``trialstock-mcp serve`` (memory + SQLite
tiers, five upstream clients, a fresh cache file each time) alternates with the trivial
baseline server (``benchmarks._trivial``, one tool), both run by the same interpreter.

Then the pieces, each timed on its own: importing what ``serve`` loads (``python -X
importtime``, summed, with the slowest packages) against importing the trivial server;
``build_server`` (registering every tool: the SDK builds a model and a JSON schema for each
tool's input and output) against ``build_trivial``; and ``app_state`` (the lifespan: cache
tiers, HTTP clients, services), which the trivial server does not have.

Target: the real server answers its first ``tools/list`` within 1.3x of the trivial server.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from mcp import Client

from benchmarks._harness import REPO, bench_settings, child_env, quick_flag, scratch, stdio_params
from benchmarks._table import Row, Target, print_table, print_targets
from benchmarks._trivial import build_trivial
from server.app import build_server
from server.lifespan import app_state
from tests.support.replay import ReplayServer

TARGET = 1.3


async def first_list(kind: str, replay_url: str, folder: Path) -> float:
    """Seconds from spawning ``kind`` to its first tools/list answer."""
    folder.mkdir()
    params = stdio_params(kind, child_env(replay_url, folder), folder)
    started = time.perf_counter()
    async with Client(params, cache=None, read_timeout_seconds=60) as client:
        tools = (await client.list_tools()).tools
        elapsed = time.perf_counter() - started
    if not tools:
        raise RuntimeError(f"{kind} listed no tools")
    return elapsed


async def samples(replay_url: str, folder: Path, count: int) -> tuple[list[float], list[float]]:
    real: list[float] = []
    trivial: list[float] = []
    await first_list("trivial", replay_url, folder / "warmup-trivial")  # fill the OS file cache alike
    await first_list("trialstock", replay_url, folder / "warmup-real")
    for index in range(count):
        trivial.append(await first_list("trivial", replay_url, folder / f"trivial-{index}"))
        real.append(await first_list("trialstock", replay_url, folder / f"real-{index}"))
    return real, trivial


def import_profile(module: str, top: int = 6) -> tuple[float, list[tuple[str, float]]]:
    """Seconds to import ``module`` in a fresh interpreter (``-X importtime``, summed self
    times) and the top-level packages that took longest (self time, seconds)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    totals: Counter[str] = Counter()
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+)\s+\|\s+\d+\s+\|\s*(\S+)", line)
        if match:
            totals[match[2].split(".")[0]] += int(match[1]) / 1e6
    return sum(totals.values()), totals.most_common(top)


def build_seconds(settings_folder: Path, replay_url: str, count: int) -> tuple[list[float], list[float]]:
    """In-process ``build_server`` (all tools registered) and ``build_trivial`` times."""
    real, trivial = [], []
    for index in range(count):
        settings = bench_settings(replay_url, settings_folder / f"build-{index}.sqlite3")
        started = time.perf_counter()
        build_server(settings)
        real.append(time.perf_counter() - started)
        started = time.perf_counter()
        build_trivial()
        trivial.append(time.perf_counter() - started)
    return real, trivial


async def lifespan_seconds(replay_url: str, folder: Path, count: int) -> list[float]:
    out = []
    for index in range(count):
        settings = bench_settings(replay_url, folder / f"lifespan-{index}.sqlite3")
        started = time.perf_counter()
        async with app_state(settings):
            out.append(time.perf_counter() - started)
    return out


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


async def main(quick: bool = False) -> None:
    count = 3 if quick else 10
    with ReplayServer() as replay, scratch() as folder:
        real, trivial = await samples(replay.url, folder, count)
        state = await lifespan_seconds(replay.url, folder, count)
        built, built_trivial = build_seconds(folder, replay.url, count)
    row = Row(
        "trialstock-mcp serve: first tools/list",
        real,
        "trivial server: first tools/list",
        trivial,
        note="spawn + handshake + tools/list over stdio",
    )
    print_table([row], title="Start-up over stdio", unit="ms")
    real_import, real_top = import_profile("server.serve")
    trivial_import, trivial_top = import_profile("benchmarks._trivial")
    print("Where the difference goes (in-process pieces; medians; one import run each):")
    print(
        f"  import server.serve      {real_import * 1000:7.0f} ms   vs import benchmarks._trivial "
        f"{trivial_import * 1000:7.0f} ms"
    )
    print("    slowest packages (self time, ms): " + ", ".join(f"{n} {t * 1000:.0f}" for n, t in real_top))
    print("    baseline's slowest:               " + ", ".join(f"{n} {t * 1000:.0f}" for n, t in trivial_top))
    print(
        f"  build_server (register tools) {_median(built) * 1000:7.1f} ms   vs build_trivial "
        f"{_median(built_trivial) * 1000:7.1f} ms"
    )
    print(
        f"  app_state (lifespan: cache tiers, HTTP clients, services) {_median(state) * 1000:7.1f} ms"
        " - built before the first answer\n"
    )
    print_targets(
        [Target(f"first tools/list within {TARGET}x of the trivial server", f"{row.ratio:.2f}x", row.ratio <= TARGET)]
    )


if __name__ == "__main__":
    asyncio.run(main(quick_flag()))
