"""``gather(*awaitables)``: ``asyncio.gather``, without its tasks when there is only one.

``asyncio.gather`` wraps each coroutine in a task, which starts on the event loop's next turn:
on a busy loop, a call whose batch holds one part (one symbol, one month) waited a whole extra
turn for nothing, and showed up in the load benchmark at twice the median of other tools.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["gather"]

T = TypeVar("T")


async def gather(*parts: Awaitable[T]) -> list[T]:
    """The results of ``parts`` in order; one part is awaited in place, several concurrently."""
    if len(parts) == 1:
        return [await parts[0]]
    return list(await asyncio.gather(*parts))
