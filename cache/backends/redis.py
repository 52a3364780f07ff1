"""The shared Redis tier (redis.asyncio, RESP3 by default; reply shapes are not assumed).

Layout under ``prefix`` (default ``trialstock:``); every name carries a ``{hash tag}`` so that on
Redis Cluster what one command touches lives in one slot:

- ``<prefix>{<key>}``: a string holding the value bytes exactly, expiring with ``PX`` at the
  record's ``expires_at`` (reads return what MGET returns: no copy, no header);
- ``<prefix>keytags:{<key>}``: the set of tags the key carries now, same expiry and same slot as
  the value (they are written and unlinked together);
- ``<prefix>tag:{<tag>}``: a set of keys, expiring as late as its longest-lived member;
- ``<prefix>lock:{<key>}``: single-flight locks (:mod:`cache.backends.redis_lock`), in the
  key's slot;
- ``<prefix>health:{<id>}``: :meth:`RedisBackend.ping`'s probe value, one per backend, living 10 s.
  Only names starting with ``<prefix>{`` are entries: :meth:`RedisBackend.match` lists nothing else.
  (A key that is empty or starts with ``}`` has no usable hash tag: on a cluster its value and tag
  list may then fall in different slots; the engine's keys always start with a namespace.)

:meth:`RedisBackend.tagged` checks each linked key against its ``keytags`` set, so an overwrite
with other tags takes effect at once; tag links of deleted or overwritten keys are removed
lazily there. Batches are one round trip on a single server: ``get_many`` one MGET, ``set_many``
one non-transactional pipeline. On a cluster (:mod:`cache.backends.redis_cluster_ops`) batches
are grouped per slot (one MGET or UNLINK per slot) and redis-py's cluster pipeline sends each
node its share at once; ``match`` and ``clear`` SCAN every primary. ``match`` and ``clear`` use
SCAN (never KEYS); ``clear`` UNLINKs this prefix only (never FLUSHDB).
Connection and timeout errors surface as :class:`BackendError` within the socket timeouts.

Concurrency: at most ``max_connections`` commands of this backend run at once
(:mod:`cache.backends.redis_slots`; beyond it a command waits up to ``pool_timeout``). The
connection pool itself allows a few more, for a pub/sub subscriber sharing
:attr:`RedisBackend.client`.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager

from redis.asyncio import RedisCluster
from redis.exceptions import RedisError

from cache.backends.glob import glob_regex, redis_escape, redis_match
from cache.backends.redis_client import Mode, RedisClient, connect
from cache.backends.redis_cluster_ops import by_slot, cluster_healthy
from cache.backends.redis_slots import CommandSlots, failure
from cache.backends.redis_tags import current_tags, tag_candidates, text
from cache.config import DEFAULT_REDIS
from cache.entry import Record

_NEVER_TTL_MS = 365 * 86_400 * 1000  # tag-set lifetime when a member never expires
_SCAN_COUNT = 1000
_UNLINK_BATCH = 500
_HEALTH_TTL_MS = 10_000  # the ping's probe key outlives the ping only briefly


class RedisBackend:
    """Cache tier on a (shared) Redis. Build with :meth:`from_url`."""

    name = "redis"

    def __init__(
        self,
        client: RedisClient,
        *,
        prefix: str = DEFAULT_REDIS.key_prefix,
        clock: Callable[[], float] = time.time,
        max_connections: int = DEFAULT_REDIS.max_connections,
        pool_timeout: float = 1.0,
    ) -> None:
        """Wrap a ready client (tests and the pub/sub layer may share one). Owns and closes it.

        ``max_connections`` bounds this backend's concurrent commands; a command waits up to
        ``pool_timeout`` seconds for a slot, then fails with :class:`BackendError`.
        """
        if "{" in prefix or "}" in prefix:
            raise ValueError("the Redis key prefix must not contain '{' or '}' (they mark hash tags)")
        self._slots = CommandSlots(max_connections, pool_timeout)
        self.client = client
        self.cluster = isinstance(client, RedisCluster)
        self.prefix = prefix
        self._entry_prefix = prefix + "{"
        self._match_prefix = redis_escape(self._entry_prefix)
        self._health_key = f"{prefix}health:{{{uuid.uuid4().hex}}}"  # this backend's own: pings never race
        self._clock = clock

    @classmethod
    def from_url(
        cls,
        url: str | None,
        *,
        mode: Mode = "single",
        nodes: Sequence[str] = (),
        sentinels: Sequence[str] = (),
        service_name: str = DEFAULT_REDIS.service_name,
        prefix: str = DEFAULT_REDIS.key_prefix,
        socket_timeout: float = DEFAULT_REDIS.socket_timeout,
        connect_timeout: float = DEFAULT_REDIS.connect_timeout,
        max_connections: int = DEFAULT_REDIS.max_connections,
        health_check_interval: int = 30,
        pool_timeout: float = 1.0,
        clock: Callable[[], float] = time.time,
        tls: Mapping[str, str] | None = None,
    ) -> RedisBackend:
        """A backend on ``url`` (``redis://[[user]:password@]host:port/db``, ``rediss://`` for
        TLS, ``unix://``) through :func:`cache.backends.redis_client.connect`; ``mode`` cluster
        adds seed ``nodes``, sentinel finds the primary ``service_name`` through ``sentinels``.
        ``clock`` (the engine's) turns ``Record.expires_at`` into a relative ``PX``. Raises
        ValueError for a malformed URL."""
        client = connect(
            url,
            mode=mode,
            nodes=nodes,
            sentinels=sentinels,
            service_name=service_name,
            max_connections=max_connections,
            socket_timeout=socket_timeout,
            connect_timeout=connect_timeout,
            health_check_interval=health_check_interval,
            tls=tls,
        )
        return cls(client, prefix=prefix, clock=clock, max_connections=max_connections, pool_timeout=pool_timeout)

    @property
    def where(self) -> str:
        """The key prefix (the :class:`~cache.backends.capabilities.Describable` capability;
        never the URL, which may carry credentials)."""
        return self.prefix

    def key(self, key: str) -> str:
        """The Redis key that stores ``key`` (hash-tagged by the whole key)."""
        return f"{self._entry_prefix}{key}}}"

    def tag_key(self, tag: str) -> str:
        """The set of keys linked to ``tag``."""
        return f"{self.prefix}tag:{{{tag}}}"

    def keytags_key(self, key: str) -> str:
        """The set of tags ``key`` carries (in the slot of ``key``)."""
        return f"{self.prefix}keytags:{{{key}}}"

    # -- Backend protocol -------------------------------------------------------------------

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        """Values of the keys that exist (Redis expires them); one MGET (on a cluster one per
        slot, pipelined per node)."""
        if not keys:
            return {}
        entry = self._entry_prefix
        names = [f"{entry}{key}}}" for key in keys]
        await self._slots.take("get_many")
        try:
            # Built without decode_responses, the client answers MGET with bytes (or None), never str.
            # execute_command, not mget(): the same MGET without its argument copy and options.
            values: list[bytes | None] = (
                await self._cluster_mget(names) if self.cluster else await self.client.execute_command("MGET", *names)
            )
        except (RedisError, OSError) as exc:
            raise failure("get_many", exc) from exc
        finally:
            self._slots.release()
        return {key: raw for key, raw in zip(keys, values) if raw is not None}

    async def set_many(self, records: Sequence[Record]) -> None:
        """Store every record with its PX expiry and tag links in one pipeline round trip.

        A record already expired deletes the key instead (so a replace never leaves an older
        value behind); an infinite ``expires_at`` stores without expiry.
        """
        if not records:
            return
        now = self._clock()
        pipe = self.client.pipeline(transaction=False)
        tag_members: dict[str, list[str]] = {}
        tag_ttl: dict[str, int] = {}
        for record in {r.key: r for r in records}.values():
            name, keytags = self.key(record.key), self.keytags_key(record.key)
            if record.expires_at <= now:
                pipe.execute_command("UNLINK", name, keytags)  # one slot: one command on a cluster too
                continue
            never = math.isinf(record.expires_at)
            ttl_ms = _NEVER_TTL_MS if never else max(1, math.ceil((record.expires_at - now) * 1000))
            pipe.set(name, record.data, px=None if never else ttl_ms)
            pipe.execute_command("UNLINK", keytags)  # the cluster pipeline's unlink() is not a queued command
            if record.tags:
                pipe.sadd(keytags, *record.tags)
                if not never:
                    pipe.pexpire(keytags, ttl_ms)
            for tag in set(record.tags):
                tag_members.setdefault(tag, []).append(record.key)
                tag_ttl[tag] = max(tag_ttl.get(tag, 0), ttl_ms)
        for tag, members in tag_members.items():
            tag_key = self.tag_key(tag)
            pipe.sadd(tag_key, *members)
            pipe.pexpire(tag_key, tag_ttl[tag], nx=True)  # a new set gets the member's lifetime
            pipe.pexpire(tag_key, tag_ttl[tag], gt=True)  # an existing one only ever grows
        await self._slots.take("set_many")
        try:
            await pipe.execute()
        except (RedisError, OSError) as exc:
            raise failure("set_many", exc) from exc
        finally:
            self._slots.release()

    async def delete_many(self, keys: Sequence[str]) -> int:
        """UNLINK the keys and their tag lists; returns how many keys existed. The links in the
        tag sets go lazily (see :meth:`tagged`)."""
        unique = list(dict.fromkeys(keys))
        if not unique:
            return 0
        pipe = self.client.pipeline(transaction=False)
        if not self.cluster:
            pipe.unlink(*[self.key(k) for k in unique])
            pipe.unlink(*[self.keytags_key(k) for k in unique])
            async with self.command("delete_many"):
                removed, _ = await pipe.execute()
            return int(removed)
        groups = by_slot(unique, self.key)
        for group in groups:  # same-slot names: one UNLINK each, sent raw (redis-py splits its own)
            pipe.execute_command("UNLINK", *[self.key(k) for k in group])
            pipe.execute_command("UNLINK", *[self.keytags_key(k) for k in group])
        async with self.command("delete_many"):
            replies = await pipe.execute()
        return sum(int(n) for n in replies[::2])

    async def match(self, pattern: str) -> list[str]:
        """Keys matching the glob (:mod:`cache.backends.glob`), found with SCAN MATCH ... TYPE
        string. Redis matches bytes, so its MATCH only narrows the scan: each key it returns is
        checked against the pattern here."""
        redis_pattern = self._match_prefix + redis_match(pattern)
        exact = glob_regex(pattern).fullmatch
        found: dict[str, None] = {}
        redis_pattern += "}"
        cut = len(self._entry_prefix)
        async with self.command("match"):  # a cluster client scans every primary
            async for raw in self.client.scan_iter(match=redis_pattern, count=_SCAN_COUNT, _type="string"):
                name = text(raw)
                key = name[cut:-1]
                if name.startswith(self._entry_prefix) and name.endswith("}") and exact(key):
                    found[key] = None
        return list(found)

    async def tagged(self, tags: Sequence[str]) -> list[str]:
        """Existing keys that still carry any of ``tags``; stale tag links are removed on the way."""
        unique = list(dict.fromkeys(tags))
        if not unique:
            return []
        async with self.command("tagged"):
            candidates = await tag_candidates(self.client, self, unique)
            if not candidates:
                return []
            current = await current_tags(self.client, self, list(candidates))
            stale = [(tag, key) for key, linked in candidates.items() for tag in linked - current[key]]
            if stale:
                pipe = self.client.pipeline(transaction=False)
                for tag, key in stale:
                    pipe.srem(self.tag_key(tag), key)
                await pipe.execute()
        return [key for key, linked in candidates.items() if linked & current[key]]

    async def heads(self, keys: Sequence[str], size: int) -> dict[str, bytes]:
        """The first ``size`` bytes of each existing key's value (GETRANGE, one pipeline): lets
        the engine read entry headers (creation time) without transferring values."""
        if not keys:
            return {}
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.getrange(self.key(key), 0, size - 1)
        async with self.command("heads"):
            replies = await pipe.execute()
        return {key: bytes(raw) for key, raw in zip(keys, replies) if raw}

    async def clear(self) -> int:
        """UNLINK every key under this backend's prefix (SCAN, batches of 500); returns how many
        entries were removed (the tag sets and locks under the prefix go too, uncounted)."""
        batch: list[bytes | str] = []
        removed = 0
        async with self.command("clear"):  # a cluster client scans every primary
            async for raw in self.client.scan_iter(match=redis_escape(self.prefix) + "*", count=_SCAN_COUNT):
                batch.append(raw)
                if len(batch) >= _UNLINK_BATCH:
                    removed += await self._unlink_counting(batch)
                    batch = []
            if batch:
                removed += await self._unlink_counting(batch)
        return removed

    async def ping(self) -> bool:
        """True when Redis stores a short-lived probe value and reads it back (one round trip),
        so a node that answers PING but refuses writes (read-only replica, ACL, OOM) is not
        healthy; on a cluster, every primary must also report ``cluster_state:ok`` in
        ``CLUSTER INFO`` (a node without slots, or a cluster missing a slot's primary, is not
        healthy). False (never an exception) otherwise."""
        if self._slots.closed:
            return False
        if self.cluster and not await cluster_healthy(self.client):  # type: ignore[arg-type]
            return False
        token = uuid.uuid4().bytes
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self._health_key, token, px=_HEALTH_TTL_MS)
        pipe.get(self._health_key)
        try:
            _, value = await pipe.execute()
        except Exception:  # noqa: BLE001 - ping reports, it does not raise
            return False
        return bool(value == token)

    async def aclose(self) -> None:
        """Close the client and its connection pool. Idempotent."""
        if not self._slots.closed:
            self._slots.close()
            await self.client.aclose()

    # -- internals ----------------------------------------------------------------------------

    async def _unlink_counting(self, names: list[bytes | str]) -> int:
        """UNLINK ``names`` (full Redis keys under the prefix); how many of them were entries."""
        entry = self._entry_prefix.encode()
        entries: list[bytes | str] = []
        others: list[bytes | str] = []
        for name in names:  # compared as bytes: a foreign key under the prefix need not be UTF-8
            raw = name if isinstance(name, bytes) else name.encode()
            (entries if raw.startswith(entry) else others).append(name)
        # On a cluster redis-py splits a multi-key UNLINK per slot and adds up the counts.
        removed = int(await self.client.unlink(*entries)) if entries else 0
        if others:
            await self.client.unlink(*others)
        return removed

    async def _cluster_mget(self, names: list[str]) -> list[bytes | None]:
        """MGET of ``names`` on a cluster: one MGET per slot in one cluster pipeline (redis-py
        sends each node its commands together and follows MOVED/ASK)."""
        groups = by_slot(names, lambda name: name)
        pipe = self.client.pipeline(transaction=False)
        for group in groups:
            pipe.execute_command("MGET", *group)  # redis-py blocks pipe.mget in cluster mode
        found: dict[str, bytes | None] = {}
        for group, values in zip(groups, await pipe.execute()):
            found.update(zip(group, values))
        return [found[name] for name in names]

    def command(self, op: str) -> AbstractAsyncContextManager[None]:
        """Hold one of the backend's connection slots and map redis-py and socket errors
        raised inside the block to :class:`BackendError` (the lock layer uses it too)."""
        return self._slots.command(op)
