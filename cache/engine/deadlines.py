"""Timeouts for many short calls that all get the same limit, with one timer between them.

``async with asyncio.timeout(t)`` arms a timer per call (a handle pushed on the event loop's
heap, cancelled again a few microseconds later): about 4 us per call, measured as a third of
the engine's own work on a lower-tier hit. :class:`Deadlines` keeps the watched calls in start
order instead; as every call gets the same ``timeout``, that is deadline order too, so one timer
set for the oldest call suffices. When it fires, the calls past their deadline are cancelled
and it is re-armed for the next oldest; calls that ended meanwhile were simply forgotten. A
call costs a dict insert and delete, and a timer only when none is armed.

Protocol (synchronous, so the caller's own coroutine is the only frame around the call)::

    task = deadlines.enter()          # None: cannot watch here, use asyncio.timeout instead
    try:
        result = await call()
    except asyncio.CancelledError:
        if task is not None and deadlines.expired(task):
            ...                       # the deadline passed: a timeout, the cancel is withdrawn
        raise
    finally:
        if task is not None:
            deadlines.leave(task)

Semantics are those of :func:`asyncio.timeout`: the task is cancelled at the deadline and that
cancellation is reported as expired (and withdrawn with ``Task.uncancel``) unless the task was
also cancelled from outside, which then propagates unchanged. :meth:`enter` returns None outside
a task and for a call nested in a watched call of the same task.
"""

from __future__ import annotations

import asyncio
from typing import Any


class Deadlines:
    """Watch calls against one ``timeout`` (seconds of loop time); see the module doc."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._running: dict[asyncio.Task[Any], float] = {}  # task -> deadline, oldest first
        self._baseline: dict[asyncio.Task[Any], int] = {}  # task.cancelling() at enter, when not 0
        self._expired: set[asyncio.Task[Any]] = set()  # cancelled by the timer, not yet left
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def enter(self) -> asyncio.Task[Any] | None:
        """Watch the current task's call from now on: the task, or None (see the module doc)."""
        task = asyncio.current_task()
        if task is None or task in self._running:
            return None
        loop = task.get_loop()
        if loop is not self._loop:  # first use, or a new event loop: nothing of the old one lives on
            self._reset(loop)
        deadline = loop.time() + self.timeout
        self._running[task] = deadline
        if self._timer is None:
            self._timer = loop.call_at(deadline, self._expire)
        cancelling = task.cancelling()
        if cancelling:
            self._baseline[task] = cancelling
        return task

    def expired(self, task: asyncio.Task[Any]) -> bool:
        """Called on CancelledError: True when it came from the deadline alone (withdrawn)."""
        if task not in self._expired:
            return False
        self._expired.discard(task)
        return task.uncancel() <= self._baseline.get(task, 0)

    def leave(self, task: asyncio.Task[Any]) -> None:
        """Stop watching ``task``'s call (always call it, whatever the outcome)."""
        self._running.pop(task, None)
        if self._baseline:
            self._baseline.pop(task, None)
        if self._expired and task in self._expired:  # the call ended otherwise despite the cancel
            self._expired.discard(task)
            task.uncancel()

    def _expire(self) -> None:
        self._timer = None
        loop, running = self._loop, self._running
        if loop is None:
            return
        now = loop.time()
        while running:
            task = next(iter(running))
            deadline = running[task]
            if deadline > now:
                self._timer = loop.call_at(deadline, self._expire)
                return
            del running[task]
            if not task.done():
                self._expired.add(task)
                task.cancel()

    def _reset(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._running.clear()
        self._baseline.clear()
        self._expired.clear()
        self._loop = loop
