"""Building the deferred models while the server has nothing to do.

Answer, cached and query models are built on first use (:mod:`tools.deferred`), so that
start-up does not pay for them: ~30 ms for all of them, 2-7 ms for one tool's, which the tool's
first call in a process paid instead. An agent lists the tools, then thinks for seconds before
its first call; :func:`build_when_idle` spends that time building them, one model at a time,
and gives way to any request: it starts only after the first ``tools/list`` has been answered,
builds only when no request has been in flight for :data:`QUIET` seconds, and lets the loop
take new requests between two models. A request that arrives while a model is being built
waits for that one model at most (~0.2-2.5 ms).

:class:`Activity` is the middleware that tells it when the server is busy.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from pydantic import BaseModel

from cache import stop_tasks

log = logging.getLogger(__name__)

QUIET = 0.05
"""Seconds without a request in flight before a model is built."""
BREATHE = 0.001
"""Seconds the loop gets between two models, for a request that has just arrived to reach the middleware."""


class Activity:
    """Middleware that counts the messages in flight, notes when the last one ended and whether
    a ``tools/list`` has been answered (:meth:`listed`)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._in_flight = 0
        self._last = clock()
        self._listed = False
        self._waiter: asyncio.Event | None = None  # made in the loop that waits

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        self._in_flight += 1
        try:
            return await call_next(ctx)
        finally:
            self._in_flight -= 1
            self._last = self._clock()
            if ctx.method == "tools/list" and not self._listed:
                self._listed = True
                if self._waiter is not None:
                    self._waiter.set()

    async def listed(self) -> None:
        """Return once a ``tools/list`` has been answered."""
        if not self._listed:
            if self._waiter is None:  # one event for every waiter: a second must not orphan the first
                self._waiter = asyncio.Event()
            await self._waiter.wait()

    def quiet_for(self) -> float:
        """Seconds since the last message ended; 0 while one is in flight."""
        return 0.0 if self._in_flight else self._clock() - self._last


async def build_when_idle(
    activity: Activity, models: Callable[[], Iterable[type[BaseModel]]], *, quiet: float = QUIET
) -> int:
    """Build ``models()`` (those not built yet) after the first ``tools/list``, in idle time
    only (see the module doc); returns how many this built. A model that cannot be built now
    (an unresolved forward reference) is left to its first use, which reports it."""
    await activity.listed()
    built = 0
    for model in models():
        while (idle := activity.quiet_for()) < quiet:
            await asyncio.sleep(quiet - idle)
        if model.__pydantic_complete__:  # a request built it meanwhile
            continue
        try:
            built += model.model_rebuild(raise_errors=False) is True
        except Exception:  # noqa: BLE001 - its first use raises it where a caller sees it
            log.debug("left %s to its first use", model.__qualname__, exc_info=True)
        await asyncio.sleep(BREATHE)
    log.debug("built %d models in idle time", built)
    return built


@asynccontextmanager
async def idle_build(activity: Activity, models: Callable[[], Iterable[type[BaseModel]]]) -> AsyncIterator[None]:
    """Run :func:`build_when_idle` in the background while the context is open; stopped on exit."""
    task = asyncio.create_task(build_when_idle(activity, models), name="idle-build")
    try:
        yield
    finally:
        await stop_tasks([task])
