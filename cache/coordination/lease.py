"""The scheduler lease: at most one process runs the schedules at a time.

:class:`Lease` is one Redis key holding its holder's id with an expiry: taken with
``SET NX PX``, renewed and released only by its holder (Lua compare-and-pexpire and
compare-and-delete, so a holder whose lease lapsed can never extend or delete a successor's).
A holder that dies stops renewing and the key expires by itself after ``ttl``.

Locally, a lease counts as held only until ``(time the acquiring/renewing request was sent) +
ttl`` on the injected monotonic ``clock``: that is never later than the key's expiry in Redis,
so a holder whose renewals hang or fail stops acting as leader before anyone else can take over.

:class:`LocalLease` has the same interface and is always held: without Redis the server runs
the schedules itself. :class:`LeaseKeeper` keeps either one in the background: it acquires
when free, renews while held, and reports :attr:`LeaseKeeper.is_leader` (with callbacks and a
wait on every change).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from cache.coordination.instance import instance_id as default_holder_id
from cache.coordination.pulse import Pulse
from cache.hooks import Hooks, Unsubscribe
from cache.tasks import stop_tasks

if TYPE_CHECKING:  # redis is imported only by processes configured to use it
    from redis.commands.core import AsyncScript

    from cache.backends.redis_client import RedisClient

__all__ = ["Lease", "LeaseError", "LeaseKeeper", "LeaseLike", "LocalLease"]

log = logging.getLogger(__name__)

_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return {1, 0}
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, 0}
end
return {0, redis.call('PTTL', KEYS[1])}
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class LeaseError(Exception):
    """Redis did not answer a lease command (down, timed out); leadership is unknown."""


class LeaseLike(Protocol):
    name: str
    holder_id: str
    ttl: float

    async def try_acquire(self) -> bool: ...
    async def renew(self) -> bool: ...
    async def release(self) -> bool: ...
    async def holder(self) -> str | None: ...
    def is_held(self) -> bool: ...
    @property
    def retry_after(self) -> float | None: ...


class Lease:
    """A lease on the Redis key ``name`` (used verbatim: include your prefix) for ``ttl`` seconds."""

    def __init__(
        self,
        redis_client: RedisClient,
        name: str,
        *,
        ttl: float,
        holder_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl <= 0:
            raise ValueError(f"ttl must be positive, got {ttl}")
        self.name = name
        self.ttl = ttl
        self.holder_id = holder_id or default_holder_id()
        self._client = redis_client
        self._clock = clock
        self._ttl_ms = str(max(1, math.ceil(ttl * 1000)))
        self._acquire = redis_client.register_script(_ACQUIRE)
        self._renew = redis_client.register_script(_RENEW)
        self._release = redis_client.register_script(_RELEASE)
        self._held_until = -math.inf
        self._retry_after: float | None = None

    async def try_acquire(self) -> bool:
        """Take the lease if free (``SET NX PX``) or extend it if already ours (one Lua script,
        atomic); True when held.

        When another holder has it, :attr:`retry_after` tells how long until it lapses.
        Raises LeaseError when Redis does not answer.
        """
        started = self._clock()
        acquired, remaining = (int(x) for x in await self._call(self._acquire, "acquire"))
        if acquired:
            self._held_until, self._retry_after = started + self.ttl, None
            return True
        self._held_until = -math.inf
        self._retry_after = remaining / 1000 if remaining >= 0 else None  # -1: the key has no expiry
        return False

    async def renew(self) -> bool:
        """Extend the lease by ``ttl`` if it is still ours (compare-and-pexpire). False when it
        lapsed or someone else holds it; the lease then counts as not held. Raises LeaseError."""
        started = self._clock()
        renewed = bool(await self._call(self._renew, "renew"))
        self._held_until = started + self.ttl if renewed else -math.inf
        return renewed

    async def release(self) -> bool:
        """Delete the lease if it is still ours (compare-and-delete); True when this call did.
        Counts as not held afterwards either way. Raises LeaseError."""
        self._held_until = -math.inf
        return bool(await self._call(self._release, "release"))

    async def holder(self) -> str | None:
        """The current holder's id, or None when the lease is free. Raises LeaseError."""
        try:
            raw = await self._client.get(self.name)
        except Exception as exc:  # redis-py and socket errors alike
            raise LeaseError(f"lease {self.name}: holder lookup failed: {exc}") from exc
        return raw.decode() if isinstance(raw, bytes) else raw

    def is_held(self) -> bool:
        """True while the last acquire/renew succeeded and its ttl has not run out locally."""
        return self._clock() < self._held_until

    @property
    def retry_after(self) -> float | None:
        """Seconds until the other holder's lease lapses, as of the last failed acquire."""
        return self._retry_after

    async def _call(self, script: AsyncScript, op: str) -> Any:
        try:
            return await script(keys=[self.name], args=[self.holder_id, self._ttl_ms])
        except Exception as exc:  # redis-py and socket errors alike
            raise LeaseError(f"lease {self.name}: {op} failed: {type(exc).__name__}: {exc}") from exc


class LocalLease:
    """The lease of a process without Redis: always held by this process."""

    def __init__(self, name: str = "scheduler", *, ttl: float = math.inf, holder_id: str | None = None) -> None:
        self.name = name
        self.ttl = ttl
        self.holder_id = holder_id or default_holder_id()

    async def try_acquire(self) -> bool:
        return True

    async def renew(self) -> bool:
        return True

    async def release(self) -> bool:
        return True

    async def holder(self) -> str | None:
        return self.holder_id

    def is_held(self) -> bool:
        return True

    @property
    def retry_after(self) -> float | None:
        return None


class LeaseKeeper:
    """Holds ``lease`` in the background: acquire when free, renew every ``renew_every`` seconds
    while held (default ttl/3; must be shorter than the ttl).

    A failed or errored renewal ends leadership at once; a follower retries every
    ``renew_every`` or, sooner, right when the holder's lease lapses (so a dead holder is
    replaced within its ttl). Each attempt is bounded by ``renew_every``. Callbacks given to
    :meth:`subscribe_changes` get the new ``is_leader`` value (plain functions or coroutine
    functions).
    """

    def __init__(self, lease: LeaseLike, renew_every: float | None = None) -> None:
        if renew_every is None:
            renew_every = lease.ttl / 3 if math.isfinite(lease.ttl) else 60.0
        if not 0 < renew_every < lease.ttl:
            raise ValueError(f"renew_every must be positive and shorter than the ttl ({lease.ttl}s)")
        self.lease = lease
        self.renew_every = renew_every
        self.changes = 0
        self.attempts = 0
        self._on_change: Hooks[Callable[[bool], Any]] = Hooks()
        self._leader = False
        self._task: asyncio.Task[None] | None = None
        self._pulse = Pulse()
        self._failing = False

    @property
    def is_leader(self) -> bool:
        """True while this process holds the lease (and its ttl has not run out locally)."""
        return self._leader and self.lease.is_held()

    async def start(self) -> None:
        """Start keeping the lease in the background (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"lease:{self.lease.name}")

    def subscribe_changes(self, callback: Callable[[bool], Any]) -> Unsubscribe:
        """Call ``callback(is_leader)`` on every change of leadership; returns the unsubscribe."""
        return self._on_change.subscribe(callback)

    async def wait_for(self, leader: bool = True, timeout: float = 10.0) -> None:
        """Wait until ``is_leader == leader``; TimeoutError after ``timeout`` seconds."""
        await self.wait_until(lambda: self.is_leader == leader, timeout)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` holds, checked after every attempt and change."""
        await self._pulse.wait_until(predicate, timeout)

    async def aclose(self, *, release: bool = True) -> None:
        """Stop; with ``release`` hand the lease back at once (else it lapses after its ttl)."""
        task, self._task = self._task, None
        await stop_tasks([task])
        if release and self._leader:
            try:
                await self.lease.release()
            except LeaseError as exc:
                log.warning("releasing %s failed (it will lapse by itself): %s", self.lease.name, exc)
        await self._set(False)

    async def _run(self) -> None:
        while True:
            held = await self._attempt()
            self.attempts += 1
            await self._set(held)
            self._changed()
            await asyncio.sleep(self._pause(held))

    async def _attempt(self) -> bool:
        try:
            async with asyncio.timeout(self.renew_every):
                held = await (self.lease.renew() if self._leader else self.lease.try_acquire())
            self._failing = False
            return held
        except (LeaseError, TimeoutError) as exc:
            # Loud when it costs the leadership or is the first failure; quiet while it lasts.
            level = logging.WARNING if self._leader or not self._failing else logging.DEBUG
            log.log(level, "lease %s: %s", self.lease.name, exc or "no answer in time")
            self._failing = True
            return False

    def _pause(self, held: bool) -> float:
        retry_after = self.lease.retry_after
        if held or retry_after is None:
            return self.renew_every
        return min(self.renew_every, retry_after + 0.001)

    async def _set(self, leader: bool) -> None:
        if leader == self._leader:
            return
        self._leader = leader
        self.changes += 1
        log.info("lease %s: %s", self.lease.name, "now leader" if leader else "no longer leader")
        for callback in self._on_change.current:
            try:
                outcome = callback(leader)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:  # a callback must not stop the keeper
                log.exception("lease change callback %r failed", callback)
        self._changed()

    def _changed(self) -> None:
        self._pulse.changed()
