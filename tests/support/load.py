"""Driving many tool calls at a server under fault, and the figures a fault test reports.

- :func:`fault_settings`: in-process ``Settings`` for ``build_app`` against a replay upstream
  (every rate limit raised unless the test says otherwise, warming at start-up off, no Redis
  unless given, a SQLite file in the test's folder);
- :class:`Tally`: what the callers saw (calls, failed, lost, latencies, first errors) and
  :meth:`Tally.figures`, the one line a test prints and puts in its assertion messages;
- :func:`drive`: run coroutines with bounded concurrency, each timed and classified;
- :func:`rss_bytes`: this process's resident memory (``/proc/self/statm``).

"Failed" is an answer with ``isError``; "lost" is a call that got no answer at all (an
exception or a timeout on the client side).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp.types import CallToolResult

from server.settings import Settings

RELAXED = "100000/1"
UPSTREAMS = ("ctgov", "twse", "tpex", "mis", "yahoo")


def relaxed_rates(**overrides: str) -> dict[str, str]:
    """Every upstream's rate limit raised far above what a test sends (``ctgov_rate=...`` to keep one)."""
    return {**{f"{name}_rate": RELAXED for name in UPSTREAMS}, **overrides}


def fault_settings(replay_url: str, folder: Path, **overrides: Any) -> Settings:
    """Settings for an in-process server against the replay upstream at ``replay_url``."""
    upstreams = {**relaxed_rates(), **overrides.pop("upstreams", {})}
    worker = {"warm_at_startup": False, **overrides.pop("worker", {})}
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        redis=overrides.pop("redis", {"url": None}),
        redis_url=overrides.pop("redis_url", None),
        sqlite_path=str(folder / "cache.sqlite3"),
        ctgov_base_url=f"{replay_url}/api/v2",
        twse_base_url=replay_url,
        tpex_base_url=replay_url,
        mis_base_url=replay_url,
        yahoo_base_url=replay_url,
        upstreams=upstreams,
        worker=worker,
        **overrides,
    )


@dataclass
class Tally:
    """What the callers saw. ``errors`` keeps the first few messages, for the report."""

    calls: int = 0
    failed: int = 0
    lost: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outcomes: list[tuple[float, CallToolResult | BaseException]] = field(default_factory=list)
    """Every call's (seconds, result or exception), in the order they ended."""
    started: float = field(default_factory=time.perf_counter)

    @property
    def answered(self) -> int:
        return self.calls - self.failed - self.lost

    @property
    def max_latency(self) -> float:
        return max(self.latencies, default=0.0)

    def refusals(self) -> list[tuple[float, str]]:
        """(seconds, text) of every answer that was an error."""
        return [(s, error_text(r)) for s, r in self.outcomes if isinstance(r, CallToolResult) and r.is_error]

    def note(self, message: str) -> None:
        if len(self.errors) < 5:
            self.errors.append(message[:300])

    def record(self, seconds: float, result: CallToolResult | BaseException) -> None:
        self.calls += 1
        self.latencies.append(seconds)
        self.outcomes.append((seconds, result))
        if isinstance(result, BaseException):
            self.lost += 1
            self.note(f"lost: {result!r}")
        elif result.is_error:
            self.failed += 1
            self.note(f"failed: {error_text(result)}")

    def figures(self, **extra: object) -> str:
        """``calls=1000 failed=0 lost=0 max_latency=0.412s wall=9.1s`` plus ``extra`` and the first errors."""
        parts = [
            f"calls={self.calls}",
            f"failed={self.failed}",
            f"lost={self.lost}",
            f"max_latency={self.max_latency:.3f}s",
            f"wall={time.perf_counter() - self.started:.1f}s",
        ]
        parts += [f"{name}={value}" for name, value in extra.items()]
        return " ".join(parts) + (f" first errors: {self.errors}" if self.errors else "")


def error_text(result: CallToolResult) -> str:
    """The text of a result's first content block ('' when it has none)."""
    first = result.content[0] if result.content else None
    return str(getattr(first, "text", "")) if first is not None else ""


async def timed(call: Awaitable[CallToolResult], timeout: float | None = None) -> tuple[float, Any]:
    """``(seconds, result or the exception it raised)``; a call past ``timeout`` is a TimeoutError."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            result: Any = await call
    except Exception as exc:  # counted as lost by the caller
        result = exc
    return time.perf_counter() - started, result


async def drive(
    calls: Iterable[Callable[[], Awaitable[CallToolResult]]],
    *,
    concurrency: int,
    tally: Tally,
    timeout: float | None = None,
    on_result: Callable[[int, CallToolResult], None] | None = None,
) -> Tally:
    """Run every call, at most ``concurrency`` at once, recording each in ``tally``;
    ``on_result(index, result)`` sees each answered (non-error) result."""
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int, make: Callable[[], Awaitable[CallToolResult]]) -> None:
        async with gate:
            seconds, result = await timed(make(), timeout)
        tally.record(seconds, result)
        if on_result is not None and isinstance(result, CallToolResult) and not result.is_error:
            on_result(index, result)

    await asyncio.gather(*(one(index, make) for index, make in enumerate(calls)))
    return tally


def rss_bytes(pid: int | str = "self") -> int:
    """Resident memory of a process, bytes (Linux ``/proc/<pid>/statm``: pages resident x page size)."""
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")
