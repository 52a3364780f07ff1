"""Cross-process single-flight locks on the Redis tier.

A lock is ``<prefix>lock:{<key>}`` (in the slot of ``key`` on a cluster) holding a random token, set with ``SET NX PX`` so it expires
by itself if its holder dies. A live holder extends it (compare-and-PEXPIRE) while it loads, so
the lifetime can stay short: a dead holder's lock lapses within one lifetime and a waiter takes
over. Release is compare-and-delete in one Lua script (registered once, run by EVALSHA), so a
holder whose lock already expired can never delete or extend a successor's lock.
"""

from __future__ import annotations

import math
import secrets

from cache.backends.redis import RedisBackend

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""

_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


def _millis(ttl: float) -> int:
    if ttl <= 0:
        raise ValueError(f"ttl must be positive, got {ttl}")
    return max(1, math.ceil(ttl * 1000))


class RedisLocker:
    """Token locks under the backend's prefix. Errors surface as ``BackendError``."""

    def __init__(self, backend: RedisBackend) -> None:
        self._backend = backend
        self._release = backend.client.register_script(_RELEASE)
        self._extend = backend.client.register_script(_EXTEND)

    def lock_key(self, key: str) -> str:
        return f"{self._backend.prefix}lock:{{{key}}}"

    async def acquire(self, key: str, ttl: float) -> str | None:
        """Take the lock on ``key`` for ``ttl`` seconds: the token on success, None when held."""
        millis = _millis(ttl)
        token = secrets.token_hex(16)
        async with self._backend.command("lock acquire"):
            taken = await self._backend.client.set(self.lock_key(key), token, nx=True, px=millis)
        return token if taken else None

    async def extend(self, key: str, token: str, ttl: float) -> bool:
        """Give the lock ``ttl`` seconds more if it still holds ``token``; False when it lapsed."""
        millis = _millis(ttl)
        async with self._backend.command("lock extend"):
            extended = await self._extend(keys=[self.lock_key(key)], args=[token, millis])
        return bool(extended)

    async def release(self, key: str, token: str) -> bool:
        """Delete the lock if it still holds ``token``; True when this call released it."""
        async with self._backend.command("lock release"):
            deleted = await self._release(keys=[self.lock_key(key)], args=[token])
        return bool(deleted)
