"""Stopping background tasks within a bound, whatever the code they run does with a cancel.

A cancel can be lost: redis-py's socket reads run under ``async_timeout``, which turns a
cancellation that arrives as its own timeout fires into a plain timeout (a known, unfixed
issue of that library), so a loop around ``pubsub.get_message(timeout=...)`` can go on after
``task.cancel()``. Every ``aclose`` therefore stops its tasks through :func:`stop_tasks`: it
cancels again until the tasks end, and gives up after ``timeout`` with a warning, so a process
always finishes its shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

log = logging.getLogger(__name__)

STOP_TIMEOUT = 2.0
_RECANCEL_EVERY = 0.05


async def stop_tasks(tasks: Iterable[asyncio.Task[object] | None], timeout: float = STOP_TIMEOUT) -> bool:
    """Cancel ``tasks`` (``None`` entries are skipped) and wait until they end, cancelling again
    every 50 ms; returns False (and logs) when some are still running after ``timeout`` seconds.
    Their results and exceptions are consumed."""
    pending = {task for task in tasks if task is not None and not task.done()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while pending:
        for task in pending:
            task.cancel()
        remaining = deadline - loop.time()
        if remaining <= 0:
            names = ", ".join(sorted(task.get_name() for task in pending))
            log.warning("gave up waiting for %s to stop after %.1f s", names, timeout)
            return False
        _, pending = await asyncio.wait(pending, timeout=min(_RECANCEL_EVERY, remaining))
    return True
