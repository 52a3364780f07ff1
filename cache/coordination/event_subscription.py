"""Keeping one Redis pub/sub subscription alive: the transport under the event bus.

:meth:`Subscription.run` subscribes to the channel, polls it every ``poll`` seconds and hands
every message (subscribe confirmations included) to ``on_message``. Any error ends the session:
``on_dropped(error)`` is awaited, then it waits with jittered exponential backoff (from the
smaller to the larger of ``backoff``, doubling) and subscribes again, until cancelled. The
owner calls :meth:`Subscription.reset_backoff` once a subscription is confirmed. What a message
or a drop means is the owner's business (:mod:`cache.coordination.events`).

With ``sharded`` (a Redis Cluster client) the subscription is sharded pub/sub: ``SSUBSCRIBE`` on
the primary that owns the channel's slot (messages come as ``smessage``/``ssubscribe``). A
``sunsubscribe`` from the server (the slot moved, or its primary changed) ends the session like
an error; before subscribing again the client's slot map is refreshed, so a failover or a
migration is followed.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # redis is imported only by processes configured to use it
    from cache.backends.redis_client import RedisClient

log = logging.getLogger(__name__)

MessageHandler = Callable[[dict[str, Any]], Awaitable[None]]
"""Takes one raw pub/sub message (redis-py's dict: ``type``, ``channel``, ``data``)."""
DropHandler = Callable[[Exception], Awaitable[None]]
"""Takes the error that ended a session."""


class Subscription:
    """One channel's subscription, resubscribed after every drop; see the module doc."""

    def __init__(
        self,
        client: RedisClient,
        channel: str,
        *,
        on_message: MessageHandler,
        on_dropped: DropHandler,
        backoff: tuple[float, float],
        poll: float,
        sharded: bool = False,
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
        self._sharded = sharded
        self._sessions = 0

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
        self._sessions += 1
        if self._sharded:
            await self._sharded_session()
            return
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

    async def _sharded_session(self) -> None:
        await _ready(self._client)
        if self._sessions > 1:
            await _refresh_slots(self._client)
        pubsub = self._client.pubsub()
        try:
            await _sharded_loop(self, pubsub)
        finally:
            try:
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py
            except Exception:  # the connection is gone already
                log.debug("closing the event subscription failed", exc_info=True)


def is_cluster(client: Any) -> bool:
    """Whether ``client`` is a Redis Cluster client (checked without importing redis)."""
    return callable(getattr(client, "get_node_from_key", None))


class ShardMoved(ConnectionError):
    """The server unsubscribed a shard channel: its slot moved or its primary changed."""


async def _refresh_slots(client: Any) -> None:
    """Re-read the cluster's slot map (redis-py's NodesManager) before subscribing again."""
    await client.nodes_manager.initialize()


async def _ready(client: Any) -> None:
    """The cluster client's first slot map and command table (a no-op once done)."""
    await client.initialize()


async def _sharded_loop(subscription: Subscription, pubsub: Any) -> None:
    await pubsub.ssubscribe(subscription._channel)  # noqa: SLF001 - module-private helper
    while not subscription._stopping:  # noqa: SLF001
        message = await pubsub.get_sharded_message(timeout=subscription._poll)  # noqa: SLF001
        if message is None:
            continue
        if message.get("type") in ("sunsubscribe", b"sunsubscribe"):
            raise ShardMoved(f"shard channel {subscription._channel} was unsubscribed by the server")  # noqa: SLF001
        await subscription._on_message(message)  # noqa: SLF001
