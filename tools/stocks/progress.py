"""Progress of a stock call made of many parts (months of a history, symbols of a batch).

Parts finish concurrently; :class:`Steps` numbers them in the order they finish and sends
each report before the next is counted, so a client sees 1, 2, ... ``total`` in order. A
report that cannot be sent is logged and dropped: progress never fails the call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], Awaitable[None]]
"""(done, total, message): the shape of :func:`tools.registry.progress_of`'s reporter."""


class Steps:
    """Counts finished parts out of ``total`` and reports each to ``report`` (None: nowhere)."""

    def __init__(self, report: Progress | None, total: int) -> None:
        self._report, self.total = report, total
        self.done = 0
        self._lock = asyncio.Lock()

    async def step(self, message: str) -> None:
        """One more part finished; ``message`` says which (e.g. '2330 2026-03: 21 bars')."""
        if self._report is None:
            self.done += 1
            return
        async with self._lock:
            self.done += 1
            try:
                await self._report(self.done, self.total, message)
            except Exception:  # a lost notification must not fail the call
                log.warning("progress report failed", exc_info=True)
