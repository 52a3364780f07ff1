"""Cross-process invalidation over Redis pub/sub: every process keeps its memory tier honest.

:class:`EventBus` joins one :class:`~cache.engine.tiered.TieredCache` to a Redis channel (on a
Redis Cluster a sharded channel: SPUBLISH/SSUBSCRIBE, served by the primary owning its slot):

- **Sending.** :meth:`EventBus.start` subscribes to the cache's invalidations: every local
  invalidation (keys, tags, pattern, namespace, clear) is published as one compact JSON message
  (:mod:`cache.coordination.event_codec`) carrying a fresh event id, this instance's id and the sender's
  clock. :meth:`EventBus.publish_domain` publishes a named domain event
  (``trials.data_version``, ``stocks.session_closed``). A failed publish is logged and counted,
  never raised into the invalidation (a domain publish raises :class:`EventPublishError`).
- **Receiving.** A background task subscribes to the channel. Messages from this instance and
  repeated event ids (a bounded LRU of seen ids) are ignored; invalidations are applied with
  ``cache.apply_event`` on the memory tier and the SQLite tier (which may be this machine's own
  file); Redis is left alone, the sender already changed it;
  domain events run the handlers registered with :meth:`EventBus.on_domain` (each in its own
  task, so a slow handler never delays invalidations). Malformed messages are counted and
  ignored. Propagation latency (receive-and-apply time minus the sender's ``ts``; both clocks
  are epoch clocks, so across hosts it includes their skew) goes to a reservoir.
- **Gaps.** When the subscription drops (connection error, server restart, killed client) the
  memory tier is CLEARED at once (it may miss events) and the bus resubscribes with jittered
  exponential backoff (:mod:`cache.coordination.event_subscription`). redis-py may reconnect
  and resubscribe by itself: a new subscribe confirmation counts as a drop too. Every
  re-subscription clears the memory tier once more (entries stored while unsubscribed may
  already be stale); so does the first subscription when the memory tier is not empty (start
  the bus before serving).

Statistics appear as ``cache.engine.stats.snapshot()["events"]`` (see :meth:`EventBus.snapshot`).
Close the bus before the cache (the cache owns and closes the Redis client).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cache.coordination.domain_events import DomainHandler, DomainHandlers
from cache.coordination.event_codec import (
    DomainEvent,
    MalformedMessage,
    Message,
    SeenIds,
    decode,
    encode,
    new_message,
    validate_domain_name,
)
from cache.coordination.event_subscription import Subscription, is_cluster
from cache.coordination.instance import instance_id as default_instance_id
from cache.coordination.pulse import Pulse
from cache.engine.invalidator import InvalidationEvent
from cache.engine.stats import Reservoir
from cache.engine.tiered import TieredCache
from cache.hooks import Unsubscribe
from cache.tasks import stop_tasks

if TYPE_CHECKING:  # redis is imported only by processes configured to use it
    from cache.backends.redis_client import RedisClient

__all__ = ["DomainEvent", "DomainHandler", "EventBus", "EventPublishError"]

log = logging.getLogger(__name__)

RECEIVER_TIERS = ("memory", "sqlite")
"""Tiers a received invalidation is applied to (see the module doc)."""

_CLEAR = InvalidationEvent("clear")
_COUNTERS = (
    "published",
    "publish_errors",
    "received",
    "ignored_own",
    "duplicates",
    "malformed",
    "apply_errors",
    "subscriptions",
    "drops",
    "memory_clears",
)


class EventPublishError(Exception):
    """A domain event could not be published (Redis down or too slow)."""


class EventBus:
    """Publishes this cache's invalidations and applies everyone else's. See the module doc."""

    def __init__(
        self,
        redis_client: RedisClient,
        channel: str,
        cache: TieredCache,
        *,
        instance_id: str | None = None,
        clock: Callable[[], float] = time.time,
        reconnect_backoff: tuple[float, float] = (0.05, 2.0),
        seen_ids: int = 10_000,
        latency_samples: int = 1024,
        poll_interval: float = 1.0,
        stats_section: str = "events",
    ) -> None:
        self._subscription = Subscription(
            redis_client,
            channel,
            on_message=self._on_message,
            on_dropped=self._dropped,
            backoff=reconnect_backoff,
            poll=poll_interval,
            sharded=is_cluster(redis_client),
        )
        self._sharded = is_cluster(redis_client)
        self.channel = channel
        self.instance_id = instance_id or default_instance_id()
        self.latency = Reservoir(latency_samples)
        self._client = redis_client
        self._cache = cache
        self._clock = clock
        self._section = stats_section
        self._seen = SeenIds(seen_ids)
        self.domain = DomainHandlers(self._changed)
        self._task: asyncio.Task[None] | None = None
        self._stop_publishing: Unsubscribe = _nothing
        self._connected = False
        self._pulse = Pulse()
        self.published = self.publish_errors = self.received = self.ignored_own = 0  # see _COUNTERS
        self.duplicates = self.malformed = self.apply_errors = 0
        self.subscriptions = self.drops = self.memory_clears = 0

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while the subscription is confirmed and no drop has been seen since."""
        return self._connected

    async def start(self) -> None:
        """Hook into the cache, report statistics and subscribe in the background. Returns at
        once; use :meth:`wait_connected` to wait for the first subscription."""
        if self._task is not None:
            return
        self._stop_publishing = self._cache.subscribe_invalidations(self._publish_invalidation)
        self._cache.stats.add_section(self._section, self.snapshot)  # kept after aclose: the last figures
        self._task = asyncio.create_task(self._subscription.run(), name=f"event-bus:{self.channel}")

    async def aclose(self) -> None:
        """Stop receiving and publishing; running domain handlers are cancelled. Idempotent."""
        self._stop_publishing()
        self._subscription.stop()  # ends the receive loop by itself if a cancel is lost
        task, self._task = self._task, None
        await stop_tasks([task])
        await self.domain.aclose()
        self._connected = False
        self._changed()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` holds; it is checked after every message and state change.
        TimeoutError after ``timeout`` seconds."""
        await self._pulse.wait_until(predicate, timeout)

    async def wait_connected(self, timeout: float = 10.0) -> None:
        """Wait until the subscription is confirmed (TimeoutError after ``timeout``)."""
        await self.wait_until(lambda: self._connected, timeout)

    # -- sending -----------------------------------------------------------------------------

    def on_domain(self, name: str, handler: DomainHandler) -> Unsubscribe:
        """Run ``await handler(event)`` for every domain event ``name`` from another instance,
        until the returned function is called. The handler decides what to invalidate; received
        invalidations only need the memory tier (``tiers=("memory",), notify=False``) since the
        sender changed the shared tiers."""
        return self.domain.register(name, handler)

    async def publish_domain(self, name: str, data: dict[str, Any], *, run_local: bool = False) -> str:
        """Publish domain event ``name`` with JSON-able ``data``; returns the event id.

        Other instances run their handlers; this one only when ``run_local``. Raises ValueError
        for a bad name, TypeError for data that is not JSON-able, EventPublishError when Redis
        does not take it.
        """
        event = DomainEvent(validate_domain_name(name), dict(data))
        message = new_message(self.instance_id, self._clock(), event)
        payload = encode(message)
        try:
            await self._send(payload)
        except Exception as exc:  # redis-py and socket errors alike
            self.publish_errors += 1
            raise EventPublishError(f"publishing {name} on {self.channel} failed: {exc}") from exc
        self.published += 1
        if run_local:
            self.domain.dispatch(event)
        return message.id

    async def _publish_invalidation(self, event: InvalidationEvent) -> None:
        payload = encode(new_message(self.instance_id, self._clock(), event))
        try:
            await self._send(payload)
        except Exception as exc:  # invalidation must go on: the others will clear on their gap
            self.publish_errors += 1
            log.warning("publishing %s invalidation on %s failed: %s", event.kind, self.channel, exc)
            return
        self.published += 1

    async def _send(self, payload: bytes) -> None:
        """PUBLISH, or SPUBLISH on a cluster (to the primary owning the channel's slot)."""
        if self._sharded:
            # initialize() returns at once when done; without it redis-py 8.1 may route the first
            # SPUBLISH through an unready command parser (AttributeError).
            await self._client.initialize()
            await self._client.spublish(self.channel, payload)
        else:
            await self._client.publish(self.channel, payload)

    # -- receiving ---------------------------------------------------------------------------

    async def _on_message(self, message: dict[str, Any]) -> None:
        kind = _text(message.get("type"))
        if kind in ("message", "smessage"):
            await self._receive(message.get("data"))
        elif kind in ("subscribe", "ssubscribe") and _text(message.get("channel")) == self.channel:
            await self._subscribed()

    async def _subscribed(self) -> None:
        if self.subscriptions and self._connected:  # redis-py reconnected by itself: first sign of it
            self.drops += 1
            log.warning("event subscription on %s was re-established by the client", self.channel)
        if self.subscriptions or len(self._cache.memory):  # entries from before may have missed events
            await self._clear_memory()
        self.subscriptions += 1
        self._connected = True
        self._subscription.reset_backoff()
        self._changed()

    async def _dropped(self, error: Exception) -> None:
        # Loud once per outage; the retries while Redis stays down are debug noise.
        level = logging.WARNING if self._connected else logging.DEBUG
        log.log(level, "event subscription on %s dropped: %s: %s", self.channel, type(error).__name__, error)
        if self._connected:
            self._connected = False
            self.drops += 1
            await self._clear_memory()
        self._changed()

    async def _clear_memory(self) -> None:
        self.memory_clears += 1
        await self._cache.apply_event(_CLEAR)

    async def _receive(self, data: Any) -> None:
        try:
            message = decode(data)
        except MalformedMessage as exc:
            self.malformed += 1
            log.warning("ignoring a malformed message on %s: %s", self.channel, exc)
            self._changed()
            return
        if message.src == self.instance_id:
            self.ignored_own += 1
        elif not self._seen.first_time(message.id):
            self.duplicates += 1
        else:
            self.received += 1
            await self._apply(message)
            self.latency.add(max(0.0, self._clock() - message.ts))
        self._changed()

    async def _apply(self, message: Message) -> None:
        payload = message.payload
        if isinstance(payload, DomainEvent):
            self.domain.dispatch(payload)
            return
        try:
            # Memory and SQLite: the SQLite file may be this machine's own (not shared with the
            # sender); deleting from a shared one a second time is harmless. Redis is shared.
            await self._cache.apply_event(payload, tiers=RECEIVER_TIERS)
        except Exception:
            self.apply_errors += 1
            log.exception("applying %s invalidation from %s failed", payload.kind, message.src)

    def _changed(self) -> None:
        self._pulse.changed()

    # -- statistics --------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Counters and propagation latency (milliseconds), JSON-able."""
        latency = self.latency

        def ms(fraction: float) -> float | None:
            value = latency.percentile(fraction)
            return None if value is None else round(value * 1000, 3)

        data: dict[str, Any] = {"channel": self.channel, "instance_id": self.instance_id, "connected": self._connected}
        data.update({name: getattr(self, name) for name in _COUNTERS})
        data["domain"], data["domain_errors"] = dict(self.domain.counts), self.domain.errors
        data["propagation_ms"] = {
            "p50": ms(0.5),
            "p90": ms(0.9),
            "p99": ms(0.99),
            "max": ms(1.0),
            "samples": latency.count,
        }
        return data


def _nothing() -> None:
    """The unsubscribe of a bus that has not subscribed yet."""


def _text(raw: Any) -> Any:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else raw
