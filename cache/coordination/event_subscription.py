"""Keeping one Redis pub/sub subscription alive: the transport under the event bus.

:meth:`Subscription.run` subscribes to the channel, polls it every ``poll`` seconds and hands
every message (subscribe confirmations included) to ``on_message``. Any error ends the session:
``on_dropped(error)`` is awaited, then it waits with jittered exponential backoff (from the
smaller to the larger of ``backoff``, doubling) and subscribes again, until cancelled. The
owner calls :meth:`Subscription.reset_backoff` once a subscription is confirmed. What a message
or a drop means is the owner's business (:mod:`cache.coordination.events`).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # redis is imported only by processes configured to use it
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

MessageHandler = Callable[[dict[str, Any]], Awaitable[None]]
"""Takes one raw pub/sub message (redis-py's dict: ``type``, ``channel``, ``data``)."""
DropHandler = Callable[[Exception], Awaitable[None]]
"""Takes the error that ended a session."""


class Subscription:
    """One channel's subscription, resubscribed after every drop; see the module doc."""

    def __init__(
        self,
        client: Redis,
        channel: str,
        *,
        on_message: MessageHandler,
        on_dropped: DropHandler,
        backoff: tuple[float, float],
        poll: float,
    ) -> None:
        low, high = backoff
        if not 0 < low <= high:
            raise ValueError("reconnect_backoff must be (min, max) with 0 < min <= max")
        self._client = client
        self._channel = channel
        self._on_message = on_message
        self._on_dropped = on_dropped
        self._backoff = (low, high)
        self._delay = low
        self._poll = poll
        self._stopping = False

    def stop(self) -> None:
        """Make :meth:`run` return after the current poll, even if a cancel is lost in redis-py."""
        self._stopping = True

    def reset_backoff(self) -> None:
        """The subscription is confirmed: the next drop waits the shortest delay again."""
        self._delay = self._backoff[0]

    async def run(self) -> None:
        """Subscribe, pass messages on, resubscribe after drops; returns when cancelled or
        :meth:`stop` was called."""
        self._stopping = False
        while not self._stopping:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection refused, reset, timeout, server restart
                await self._on_dropped(exc)
            delay = self._delay
            self._delay = min(self._delay * 2, self._backoff[1])
            await asyncio.sleep(delay * (0.5 + random.random() / 2))  # jitter spreads a herd of reconnects

    async def _session(self) -> None:
        pubsub = self._client.pubsub()
        try:
            await pubsub.subscribe(self._channel)
            while not self._stopping:
                message = await pubsub.get_message(timeout=self._poll)
                if message is not None:
                    await self._on_message(message)
        finally:
            try:
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves PubSub.aclose unannotated
            except Exception:  # the connection is gone already
                log.debug("closing the event subscription failed", exc_info=True)
