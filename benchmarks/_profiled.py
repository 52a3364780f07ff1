"""A benchmark's server process under cProfile, profiling only while the load runs.

:func:`profiled_command` turns ``http_command(kind)`` into a process that runs the same server
module with a CPU-time profiler (``time.process_time``, so time the process spends waiting for
a core on a shared machine is not counted) that is off until the process gets SIGUSR1
(:func:`start_profiling`: the caller sends it after start-up and warm-up) and dumps its
statistics when SIGTERM stops the server. :func:`print_by_layer` splits the CPU per call by
layer (our code, the SDK, pydantic, the HTTP stack, the event loop, ...) for several servers
side by side; :func:`print_top` lists one profile's top entries.
"""

from __future__ import annotations

import os
import pstats
import re
import signal
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchmarks._harness import http_command

PROFILED_SERVER = """\
import cProfile, runpy, signal, sys, time
out, module = sys.argv[1], sys.argv[2]
sys.argv = [module, *sys.argv[3:]]
profiler = cProfile.Profile(time.process_time)
signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
def stop(*_):
    raise SystemExit(0)
signal.signal(signal.SIGTERM, stop)  # uvicorn re-raises SIGTERM after its graceful stop: exit, then dump
try:
    runpy.run_module(module, run_name="__main__", alter_sys=True)
except SystemExit:
    pass
finally:
    profiler.disable()
    profiler.dump_stats(out)
"""

_MODULES = {"trivial": "benchmarks._trivial", "trialstock": "server.cli"}
_OURS = ("cache", "tools", "server")
LAYERS = (
    "our code (cache/, tools/, server/)",
    "SDK (mcp)",
    "pydantic (validation, serialization)",
    "HTTP stack (uvicorn, h11, starlette, socket I/O)",
    "event loop (asyncio, anyio)",
    "json (stdlib)",
    "other",
)


def profiled_command(kind: str, output: Path) -> list[str]:
    """``http_command(kind)`` run as its module under the profiler, dumped to ``output``."""
    command = http_command(kind)
    if kind == "trialstock":
        args = command[command.index("serve") :]
    else:
        args = command[command.index(_MODULES[kind]) + 1 :]
    return [sys.executable, "-c", PROFILED_SERVER, str(output), _MODULES[kind], *args]


def start_profiling(pid: int) -> None:
    """Turn the profiler of a :func:`profiled_command` process on."""
    os.kill(pid, signal.SIGUSR1)


def _layer(filename: str, name: str) -> str:
    if filename == "~":
        if "pydantic_core" in name:
            return LAYERS[2]
        if "socket" in name:
            return LAYERS[3]
        if "epoll" in name:
            return LAYERS[4]
        return LAYERS[6]
    match = re.search(r"site-packages/([^/]+)/", filename)
    package = match.group(1) if match else ""
    if package in ("mcp", "mcp_types"):
        return LAYERS[1]
    if package.startswith("pydantic"):
        return LAYERS[2]
    if package in ("uvicorn", "h11", "starlette", "httptools"):
        return LAYERS[3]
    if package == "anyio" or "/asyncio/" in filename or filename.endswith(("selectors.py", "socket.py")):
        return LAYERS[4]
    if "/json/" in filename:
        return LAYERS[5]
    if not match and any(f"/{part}/" in filename for part in _OURS):
        return LAYERS[0]
    return LAYERS[6]


def by_layer(output: Path) -> Counter[str]:
    """CPU seconds of one profile (own time of each function) by :data:`LAYERS`."""
    layers: Counter[str] = Counter()
    entries: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(str(output)).stats  # type: ignore[attr-defined]
    for (filename, _line, name), (_cc, _nc, own, *_rest) in entries.items():
        layers[_layer(filename, name)] += own
    return layers


def print_by_layer(profiles: Mapping[str, tuple[Path, int]]) -> None:
    """Microseconds of server CPU per call by layer, one column per server (name -> (file, calls))."""
    columns = {name: (by_layer(path), calls) for name, (path, calls) in profiles.items() if path.exists()}
    if not columns:
        print("no profile was written (a server did not exit cleanly)")
        return
    width = max(len(layer) for layer in LAYERS) + 2
    print("\nServer CPU per call by layer (cProfile, CPU time, own time of each function; microseconds per call)")
    print(f"{'':{width}}" + "".join(f"{name:>14}" for name in columns))
    for layer in (*LAYERS, "total"):
        cells = []
        for seconds, calls in columns.values():
            value = sum(seconds.values()) if layer == "total" else seconds[layer]
            cells.append(f"{value / calls * 1e6:>14.0f}" if calls else f"{'-':>14}")
        print(f"{layer:{width}}" + "".join(cells))
    print("(the profiler itself makes every Python function call dearer: compare columns, not absolute figures)")


def print_top(output: Path, title: str, entries: int = 25) -> None:
    """The top entries of one profile by own time."""
    if not output.exists():
        return
    print(f"\n{title}, by own time:")
    pstats.Stats(str(output), stream=sys.stdout).strip_dirs().sort_stats("tottime").print_stats(entries)
