"""A backend wrapper that fails or hangs on demand, and counts calls (for degrade tests)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

from cache.backends.base import BackendError
from cache.backends.memory import MemoryBackend
from cache.engine.tiered import TieredCache
from cache.entry import Record
from tests.support.clock import ManualClock
from tests.support.engine import build_engine


class FaultyBackend:
    """Delegates to ``inner`` while ``mode`` is "ok"; raises BackendError on "fail"; never
    answers on "hang" (until :meth:`release_hangs`). ``calls`` counts attempted calls per method."""

    def __init__(self, inner: Any, name: str) -> None:
        self.inner = inner
        self.name = name
        self.mode = "ok"
        self.calls: Counter[str] = Counter()
        self._release = asyncio.Event()

    def release_hangs(self) -> None:
        self._release.set()

    async def _gate(self, method: str) -> None:
        self.calls[method] += 1
        if self.mode == "fail":
            raise BackendError(f"{self.name} is down")
        if self.mode == "hang":
            await self._release.wait()

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        await self._gate("get_many")
        return await self.inner.get_many(keys)

    async def set_many(self, records: Sequence[Record]) -> None:
        await self._gate("set_many")
        await self.inner.set_many(records)

    async def delete_many(self, keys: Sequence[str]) -> int:
        await self._gate("delete_many")
        return await self.inner.delete_many(keys)

    async def match(self, pattern: str) -> list[str]:
        await self._gate("match")
        return await self.inner.match(pattern)

    async def tagged(self, tags: Sequence[str]) -> list[str]:
        await self._gate("tagged")
        return await self.inner.tagged(tags)

    async def clear(self) -> int:
        await self._gate("clear")
        return int(await self.inner.clear())

    async def ping(self) -> bool:
        await self._gate("ping")
        return await self.inner.ping()

    async def aclose(self) -> None:
        self.calls["aclose"] += 1
        await self.inner.aclose()


class LoaderSpy:
    """An async loader returning ``value`` (or raising ``error``), counting its calls.

    With ``gate`` set to an asyncio.Event, every call waits for it first (so tests can hold a
    fetch open while more callers arrive).
    """

    def __init__(
        self, value: Any = None, error: BaseException | None = None, gate: asyncio.Event | None = None
    ) -> None:
        self.value = value
        self.error = error
        self.gate = gate
        self.calls = 0
        self.started = asyncio.Event()

    async def __call__(self) -> Any:
        self.calls += 1
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.value


class Stack(NamedTuple):
    """A cache over a memory tier and two fault-injecting stand-ins for Redis and SQLite."""

    cache: TieredCache
    memory: MemoryBackend
    redis: FaultyBackend
    sqlite: FaultyBackend


@asynccontextmanager
async def fault_stack(clock: ManualClock, **cache_options: Any) -> AsyncIterator[Stack]:
    """Memory tiers all round (the lower two wrapped in FaultyBackend); hangs released on exit."""

    def tier() -> MemoryBackend:
        return MemoryBackend(max_entries=1000, max_bytes=10_000_000, clock=clock)

    memory = tier()
    redis, sqlite = FaultyBackend(tier(), "redis"), FaultyBackend(tier(), "sqlite")
    cache = build_engine(memory, redis=redis, sqlite=sqlite, clock=clock, **cache_options)
    try:
        yield Stack(cache, memory, redis, sqlite)
    finally:
        redis.release_hangs()
        sqlite.release_hangs()
        await cache.aclose()
