"""tools.gathering.gather: one part runs in the caller's task, several concurrently, in order."""

from __future__ import annotations

import asyncio

import pytest

from tools.gathering import gather


async def task_of(value: int) -> tuple[int, asyncio.Task[object] | None]:
    await asyncio.sleep(0)
    return value, asyncio.current_task()


async def test_one_part_is_awaited_in_the_callers_task() -> None:
    ((value, task),) = await gather(task_of(1))
    assert value == 1 and task is asyncio.current_task()


async def test_several_parts_run_concurrently_and_keep_their_order() -> None:
    started: list[int] = []

    async def part(value: int, pause: float) -> int:
        started.append(value)
        await asyncio.sleep(pause)
        return value

    assert await gather(part(1, 0.02), part(2, 0.0), part(3, 0.01)) == [1, 2, 3]
    assert started == [1, 2, 3]


async def test_an_error_of_one_part_propagates() -> None:
    async def fail() -> int:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await gather(fail())
    with pytest.raises(ValueError, match="boom"):
        await gather(task_of(1), fail())
