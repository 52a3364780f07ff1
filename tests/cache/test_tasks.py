"""stop_tasks: a bounded shutdown even when the task's code swallows a cancel."""

from __future__ import annotations

import asyncio
import logging

import pytest

from cache import stop_tasks


async def _swallows_one_cancel(stopped: list[str]) -> None:
    """Like a loop around redis-py's get_message: the first cancel comes back as a timeout."""
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        pass  # lost, as async_timeout loses it
    try:
        await asyncio.sleep(3600)
    finally:
        stopped.append("second")


async def _stops_only_when_released(release: asyncio.Event) -> None:
    while not release.is_set():
        try:
            await release.wait()
        except asyncio.CancelledError:
            continue


async def test_a_lost_cancel_is_repeated_until_the_task_ends() -> None:
    stopped: list[str] = []
    task = asyncio.create_task(_swallows_one_cancel(stopped))
    await asyncio.sleep(0)
    assert await stop_tasks([task], timeout=2.0) is True
    assert task.cancelled() and stopped == ["second"]


async def test_a_task_that_never_stops_is_abandoned_after_the_timeout(caplog: pytest.LogCaptureFixture) -> None:
    release = asyncio.Event()
    task = asyncio.create_task(_stops_only_when_released(release), name="stubborn")
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with caplog.at_level(logging.WARNING, logger="cache.tasks"):
        assert await stop_tasks([task], timeout=0.2) is False
    assert loop.time() - started < 1.0
    assert "stubborn" in caplog.text and not task.done()
    release.set()
    await task


async def test_finished_failed_and_missing_tasks_are_fine() -> None:
    async def boom() -> None:
        raise RuntimeError("boom")

    done = asyncio.create_task(asyncio.sleep(0))
    failed = asyncio.create_task(boom())
    await asyncio.sleep(0.01)
    assert await stop_tasks([done, failed, None]) is True
