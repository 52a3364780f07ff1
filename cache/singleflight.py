"""Single-flight: at most one running call per key in this process; everyone else joins it.

The shared call runs in its own task. Callers await it through :func:`asyncio.shield`, so a
caller that is cancelled (an MCP client cancelling its request) stops waiting without cancelling
the call the others are waiting for. The call's result or exception reaches every caller; when
the call ends the key is free again (nothing is remembered: errors are never cached here).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


class SingleFlight(Generic[T]):
    """Deduplicate concurrent calls by key. Holds references to its tasks until they end."""

    def __init__(self, name: str = "cache") -> None:
        self._name = name
        self._tasks: dict[str, asyncio.Task[T]] = {}

    def start(self, key: str, call: Callable[[], Awaitable[T]]) -> tuple[asyncio.Task[T], bool]:
        """The task running for ``key``, starting ``call()`` if none is; and whether it started now."""
        task = self._tasks.get(key)
        if task is not None:
            return task, False
        task = asyncio.ensure_future(call())
        self._tasks[key] = task
        task.add_done_callback(lambda done: self._finished(key, done))
        return task, True

    async def do(self, key: str, call: Callable[[], Awaitable[T]]) -> T:
        """Run ``call()`` once for all concurrent callers with this key and return its result."""
        task, _ = self.start(key, call)
        return await asyncio.shield(task)

    def running(self, key: str) -> bool:
        return key in self._tasks

    def __len__(self) -> int:
        return len(self._tasks)

    async def wait_all(self) -> None:
        """Wait until no call is running (calls started meanwhile included); never cancels them."""
        while self._tasks:
            await asyncio.wait(list(self._tasks.values()))

    async def aclose(self) -> None:
        """Cancel every running call and wait for them to end."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _finished(self, key: str, task: asyncio.Task[Any]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        # Retrieve the outcome so an error nobody awaited any more is logged once, not lost.
        if not task.cancelled() and task.exception() is not None:
            log.debug("%s single-flight call for %r failed: %r", self._name, key, task.exception())
