"""Wake waiters whenever some state changes, so tests and callers wait on events, not sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Pulse:
    """``changed()`` wakes every ``wait_until`` caller to re-check its predicate."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def changed(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Return once ``predicate()`` holds (checked at once and after every change);
        TimeoutError after ``timeout`` seconds."""
        async with asyncio.timeout(timeout):
            while True:
                event = self._event
                if predicate():
                    return
                await event.wait()
