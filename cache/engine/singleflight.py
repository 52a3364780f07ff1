"""Single-flight: at most one running call per key in this process; everyone else joins it.

The shared call runs in its own task. Callers await it through :func:`asyncio.shield`, so a
caller that is cancelled (an MCP client cancelling its request) stops waiting without cancelling
the call the others are waiting for. The call's result or exception reaches every caller; when
the call ends the key is free again (nothing is remembered: errors are never cached here).

A caller may also *claim* a key and do the work inline, in its own task (:meth:`claim`): that
saves creating a task and the extra event-loop rounds of a shielded wait when the work is short
(a lower-tier read). While the claim is held, other callers join it like a running call; the
claimer ends it with :meth:`settle` (a result) or :meth:`hand_over` (the rest of the work runs
as a shared task, whose outcome the joiners get).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import Context
from typing import Any, Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


class SingleFlight(Generic[T]):
    """Deduplicate concurrent calls by key. Holds references to its tasks until they end."""

    def __init__(self, name: str = "cache") -> None:
        self._name = name
        self._tasks: dict[str, asyncio.Future[T]] = {}  # running tasks and inline claims

    def start(
        self, key: str, call: Callable[[], Awaitable[T]], context: Context | None = None
    ) -> tuple[asyncio.Future[T], bool]:
        """The flight running for ``key`` (a task, or a claim), starting ``call()`` in a task if
        none is; and whether it started now. Await it through :func:`asyncio.shield`.

        The task runs in ``context`` (default: a copy of the caller's, as for any task)."""
        task = self._tasks.get(key)
        if task is not None:
            return task, False
        task = asyncio.get_running_loop().create_task(_coroutine(call), context=context)
        self._tasks[key] = task
        task.add_done_callback(lambda done: self._finished(key, done))
        return task, True

    def claim(self, key: str) -> asyncio.Future[T] | None:
        """Make the caller the flight for ``key`` while it works inline; None when a flight is
        already running (join that one with :meth:`start`).

        The claimer MUST end the claim with :meth:`settle` or :meth:`hand_over`, also when it
        is cancelled (then hand over, so the callers who joined still get an answer).
        """
        if key in self._tasks:
            return None
        claim: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._tasks[key] = claim
        return claim

    def settle(self, key: str, claim: asyncio.Future[T], result: T) -> None:
        """End an inline flight with ``result``: every caller who joined it gets it.

        Raises CancelledError when the flight was cancelled meanwhile (:meth:`aclose`).
        """
        if self._tasks.get(key) is claim:
            del self._tasks[key]
        if claim.cancelled():
            raise asyncio.CancelledError
        claim.set_result(result)

    def hand_over(self, key: str, claim: asyncio.Future[T], call: Callable[[], Awaitable[T]]) -> asyncio.Task[T]:
        """Go on with an inline flight as a shared task running ``call()`` (callers who joined
        the claim get its outcome); returns the task, to be awaited through a shield.

        Raises CancelledError (and starts nothing) when the flight was cancelled meanwhile.
        """
        if claim.cancelled():
            self._release(key, claim)
            raise asyncio.CancelledError
        task = asyncio.ensure_future(call())
        self._tasks[key] = task
        task.add_done_callback(lambda done: self._finished(key, done, claim))
        return task

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
        """Cancel every running call (and inline claim) and wait for them to end."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _release(self, key: str, flight: asyncio.Future[Any]) -> None:
        if self._tasks.get(key) is flight:
            del self._tasks[key]

    def _finished(self, key: str, task: asyncio.Future[Any], claim: asyncio.Future[Any] | None = None) -> None:
        self._release(key, task)
        if claim is not None and not claim.done():  # relay the outcome to who joined the claim
            error = None if task.cancelled() else task.exception()
            if task.cancelled():
                claim.cancel()
            elif error is not None:
                claim.set_exception(error)
                claim.exception()  # retrieved here: nobody may have joined
            else:
                claim.set_result(task.result())
        # Retrieve the outcome so an error nobody awaited any more is logged once, not lost.
        if not task.cancelled() and task.exception() is not None:
            log.debug("%s single-flight call for %r failed: %r", self._name, key, task.exception())


async def _coroutine(call: Callable[[], Awaitable[T]]) -> T:
    """``call()`` as a coroutine, which ``create_task`` needs (``ensure_future`` took any awaitable)."""
    return await call()
