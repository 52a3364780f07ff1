"""Cross-process single-flight locks on the Redis tier.

The engine names a lock ``lock:<key>``; it is stored as ``<prefix>lock:{<key>}`` (so on a Redis
Cluster it lives in the slot of the entry it guards), holding a random token, set with
``SET NX PX`` so it expires by itself if its holder dies. A live holder extends it
(compare-and-PEXPIRE) while it loads, so the lifetime can stay short: a dead holder's lock lapses
within one lifetime and a waiter takes over. Release is compare-and-delete in one Lua script
(registered once, run by EVALSHA), so a holder whose lock already expired can never delete or
extend a successor's lock. Acquiring is safe to resend: redis-py may resend a ``SET NX`` whose
reply a dying connection lost (it ran, and may have been replicated to a promoted replica); a
refused ``SET NX`` is therefore followed by a ``GET``, and a lock already holding this call's
token counts as taken.
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
        """The Redis name of lock ``key`` (``lock:<entry key>`` from the engine, or any name)."""
        return f"{self._backend.prefix}lock:{{{key.removeprefix('lock:')}}}"

    async def acquire(self, key: str, ttl: float) -> str | None:
        """Take the lock on ``key`` for ``ttl`` seconds: the token on success, None when held."""
        millis = _millis(ttl)
        token = secrets.token_hex(16)
        name = self.lock_key(key)
        async with self._backend.command("lock acquire"):
            taken = await self._backend.client.set(name, token, nx=True, px=millis)
            if not taken:  # held; or our own SET ran and was resent after a lost reply
                taken = await self._backend.client.get(name) == token.encode()
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
