"""Building cache engines in tests: one way, on the test's clock, each closed when the test ends.

In a test, ask for the ``make_cache`` fixture (``tests/conftest.py``), a :class:`CacheFactory`
on the test's ``clock``::

    async def test_x(make_cache, clock):
        cache = make_cache(sqlite=MemoryBackend(clock=clock), tier_timeout=5.0)

Where no fixture can help (a child process, a virtual-time event loop, a context manager that
opens and closes its own engine), call :func:`build_engine` and close the engine yourself.
"""

from __future__ import annotations

from typing import Any

from cache import Backend, MemoryBackend, TieredCache
from tests.support.clock import Clock, system_clock


def bounded_memory(clock: Clock = system_clock) -> MemoryBackend:
    """A memory tier of 1000 entries / 10 MB on ``clock``: the size most engine tests use."""
    return MemoryBackend(max_entries=1000, max_bytes=10_000_000, clock=clock)


def build_engine(
    memory: MemoryBackend | None = None,
    redis: Backend | None = None,
    sqlite: Backend | None = None,
    *,
    clock: Clock = system_clock,
    **engine_kwargs: Any,
) -> TieredCache:
    """A TieredCache on ``clock`` over ``memory`` (a default-sized MemoryBackend on ``clock`` when
    None) and the given lower tiers; ``engine_kwargs`` go to TieredCache as they are."""
    if memory is None:
        memory = MemoryBackend(clock=clock)
    return TieredCache(memory, redis=redis, sqlite=sqlite, clock=clock, **engine_kwargs)


class CacheFactory:
    """``factory(memory=None, redis=None, sqlite=None, **engine_kwargs)`` builds an engine with
    :func:`build_engine` on ``clock`` (unless ``clock=`` is given) and remembers it;
    :meth:`aclose` closes every engine it built (closing twice is harmless)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.built: list[TieredCache] = []

    def __call__(
        self,
        memory: MemoryBackend | None = None,
        redis: Backend | None = None,
        sqlite: Backend | None = None,
        **engine_kwargs: Any,
    ) -> TieredCache:
        engine_kwargs.setdefault("clock", self.clock)
        cache = build_engine(memory, redis, sqlite, **engine_kwargs)
        self.built.append(cache)
        return cache

    async def aclose(self) -> None:
        while self.built:
            await self.built.pop().aclose()
