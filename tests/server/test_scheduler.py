"""The background scheduler: intervals, leader-only jobs, one-shot jobs, no overlap, failures."""

from __future__ import annotations

import asyncio

from server.scheduler import Job, Scheduler
from tests.support.clock import ManualClock


def counting(runs: list[str], name: str, gate: asyncio.Event | None = None):
    async def run() -> None:
        runs.append(name)
        if gate is not None:
            await gate.wait()

    return run


async def test_jobs_run_when_due_and_leader_only_jobs_wait_for_the_lease() -> None:
    clock, runs, leader = ManualClock(0.0), [], [False]
    scheduler = Scheduler(
        [
            Job("tick", counting(runs, "tick"), 10.0),
            Job("shared", counting(runs, "shared"), 10.0, leader_only=True),
            Job("later", counting(runs, "later"), 10.0, first_after=5.0),
        ],
        is_leader=lambda: leader[0],
        clock=clock,
    )
    assert await scheduler.run_due() == ["tick"]
    clock.advance(5.0)
    assert await scheduler.run_due() == ["later"]  # tick is not due again yet; shared needs the lease
    leader[0] = True
    assert await scheduler.run_due() == ["shared"]  # t=5: shared next at 15
    clock.advance(5.0)
    assert await scheduler.run_due() == ["tick"]  # t=10
    clock.advance(5.0)
    assert await scheduler.run_due() == ["shared", "later"]  # t=15
    assert runs.count("tick") == 2 and runs.count("shared") == 2 and runs.count("later") == 2


async def test_one_shot_job_runs_once_and_a_running_job_is_not_started_twice() -> None:
    clock, runs, gate = ManualClock(0.0), [], asyncio.Event()
    scheduler = Scheduler(
        [Job("once", counting(runs, "once"), None), Job("slow", counting(runs, "slow", gate), 1.0)],
        is_leader=lambda: True,
        clock=clock,
    )
    assert sorted(scheduler.start_due()) == ["once", "slow"]
    await asyncio.gather(scheduler.jobs["once"].task)  # "slow" is now waiting on the gate
    clock.advance(5.0)
    assert scheduler.start_due() == []  # "slow" still runs; "once" ran
    gate.set()
    await asyncio.gather(scheduler.jobs["slow"].task)
    clock.advance(1.0)
    assert scheduler.start_due() == ["slow"]  # finished, so due again
    await scheduler.aclose()
    assert runs[:2] == ["once", "slow"] and runs.count("once") == 1


async def test_a_failing_job_is_counted_and_the_others_go_on() -> None:
    clock, runs = ManualClock(0.0), []

    async def broken() -> None:
        raise RuntimeError("upstream down")

    scheduler = Scheduler(
        [Job("broken", broken, 1.0), Job("fine", counting(runs, "fine"), 1.0)], is_leader=lambda: True, clock=clock
    )
    await scheduler.run_due()
    clock.advance(1.0)
    await scheduler.run_due()
    snap = scheduler.snapshot()["jobs"]
    assert snap["broken"]["failures"] == 2 and snap["broken"]["last_error"] == "RuntimeError: upstream down"
    assert snap["fine"]["runs"] == 2 and runs == ["fine", "fine"]
