"""A small periodic-job scheduler for the background work of one process.

Each :class:`Job` runs every ``every`` seconds (or once, when ``every`` is None) in a task of its
own, so a long warming run never delays the analytics tick; a job still running when it comes
due again is not started twice. ``leader_only`` jobs run only while ``is_leader()`` is true (the
scheduler lease, see :mod:`cache.coordination.lease`), so a deployment runs them once however many processes
it has. A job that raises is logged and counted; the scheduler goes on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cache import stop_tasks

log = logging.getLogger(__name__)

#: Seconds between looks for due jobs (the ``worker.tick`` setting defaults to it).
DEFAULT_TICK = 1.0


@dataclass
class Job:
    name: str
    run: Callable[[], Awaitable[Any]]
    every: float | None
    leader_only: bool = False
    first_after: float = 0.0  # seconds after the scheduler starts before the first run
    next_at: float = 0.0
    runs: int = 0
    failures: int = 0
    last_error: str | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def snapshot(self) -> dict[str, Any]:
        return {
            "every": self.every,
            "leader_only": self.leader_only,
            "runs": self.runs,
            "failures": self.failures,
            "last_error": self.last_error,
            "running": self.task is not None and not self.task.done(),
        }


class Scheduler:
    """Runs due jobs every ``tick`` seconds until :meth:`aclose`."""

    def __init__(
        self,
        jobs: Sequence[Job],
        *,
        is_leader: Callable[[], bool],
        tick: float = DEFAULT_TICK,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.jobs = {job.name: job for job in jobs}
        for job in self.jobs.values():
            job.next_at = clock() + job.first_after
        self._is_leader = is_leader
        self._tick = tick
        self._clock = clock
        self._sleep = sleep
        self._loop: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._loop is None:
            self._loop = asyncio.create_task(self._run_forever(), name="scheduler")

    def start_due(self) -> list[str]:
        """Start every due job that may run here now; returns their names."""
        now, leader = self._clock(), self._is_leader()
        started = []
        for job in self.jobs.values():
            if job.next_at > now or (job.leader_only and not leader):
                continue
            if job.task is not None and not job.task.done():
                continue
            if job.every is None and job.runs + job.failures > 0:
                continue
            job.next_at = now + (job.every if job.every is not None else float("inf"))
            job.task = asyncio.create_task(self._guarded(job), name=f"job:{job.name}")
            started.append(job.name)
        return started

    async def run_due(self) -> list[str]:
        """Start the due jobs and wait for them (tests and the worker's first pass use this)."""
        names = self.start_due()
        await asyncio.gather(*(task for name in names if (task := self.jobs[name].task) is not None))
        return names

    def snapshot(self) -> dict[str, Any]:
        return {"leader": self._is_leader(), "jobs": {name: job.snapshot() for name, job in self.jobs.items()}}

    async def aclose(self) -> None:
        """Stop the loop and cancel running jobs. Idempotent."""
        tasks = [task for task in (self._loop, *(job.task for job in self.jobs.values())) if task is not None]
        self._loop = None
        await stop_tasks(tasks)

    async def _run_forever(self) -> None:
        while True:
            self.start_due()
            await self._sleep(self._tick)

    async def _guarded(self, job: Job) -> None:
        try:
            await job.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a background job has nobody to raise to
            error = f"{type(exc).__name__}: {exc}"
            # The same failure again (e.g. Redis still down) is logged quietly.
            log.log(
                logging.DEBUG if error == job.last_error else logging.WARNING,
                "background job %s failed: %s",
                job.name,
                error,
            )
            job.failures += 1
            job.last_error = error
        else:
            job.runs += 1
            job.last_error = None
