"""Log a recurring condition twice, when it starts and when it ends, instead of once per event.

A tier that times out under a burst fails hundreds of calls a second; a line per failure buries
everything else in the log and costs time on the hot path. :class:`StateLog` turns a run of
events into an episode: the first event is logged with its detail, the rest are only counted
(by kind), and :meth:`StateLog.end` logs one line with the counts and when the episode began,
e.g. ``cache tier sqlite: recovered (1000 timeouts, 52 skipped calls since 12:00:01)``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class StateLog:
    """Episodes of ``subject``'s trouble on ``logger`` at ``level``; ``clock`` gives epoch seconds."""

    __slots__ = ("_logger", "_subject", "_clock", "_level", "_since", "_counts")

    def __init__(
        self,
        logger: logging.Logger,
        subject: str,
        *,
        clock: Callable[[], float] = time.time,
        level: int = logging.WARNING,
    ) -> None:
        self._logger = logger
        self._subject = subject
        self._clock = clock
        self._level = level
        self._since: float | None = None
        self._counts: dict[str, int] = {}

    @property
    def active(self) -> bool:
        """True between the first event of an episode and :meth:`end`."""
        return self._since is not None

    def count(self, kind: str) -> int:
        """How many events of ``kind`` the current episode has had (0 outside one)."""
        return self._counts.get(kind, 0)

    def event(self, kind: str, detail: str = "", *, n: int = 1, exc_info: bool = False) -> bool:
        """Count ``n`` events of ``kind`` (a plural noun: "timeouts", "dropped writes"); the first
        of an episode is logged with ``detail`` (and the current exception when ``exc_info``).
        True when this call logged."""
        self._counts[kind] = self._counts.get(kind, 0) + n
        if self._since is not None:
            return False
        self._since = self._clock()
        suffix = f": {detail}" if detail else ""
        self._logger.log(
            self._level,
            "%s: %s%s (further ones are counted until this ends)",
            self._subject,
            kind,
            suffix,
            exc_info=exc_info,
        )
        return True

    def end(self, message: str) -> bool:
        """End the episode with one line: ``message`` and the counts since it began. Nothing is
        logged outside an episode. True when this call logged."""
        since = self._since
        if since is None:
            return False
        counts = ", ".join(f"{n} {kind}" for kind, n in self._counts.items())
        self._since = None
        self._counts = {}
        self._logger.log(
            self._level,
            "%s: %s (%s since %s)",
            self._subject,
            message,
            counts,
            time.strftime("%H:%M:%S", time.localtime(since)),
        )
        return True
