"""Finding old entries in a tier that keeps no creation time of its own (Redis), from entry headers.

Redis stores each value as the serializer's bytes, whose body starts with the schema version and
``created_at`` (:mod:`cache.serialization`). So age is read from a value's first bytes, never the
value: the keys come from the backend's ``match`` (SCAN, never KEYS), then batches of
:data:`BATCH` keys get one GETRANGE pipeline of :data:`HEAD_BYTES` each (``reader.heads``);
heads that do not decode (a zlib body needs its block header) get one more pass with
:data:`LONG_HEAD_BYTES`. A key whose head still does not decode (foreign or corrupt bytes) is
kept and counted in the log. Cost: about 64 bytes per key plus ~1 KB per compressed entry,
and memory for the key list; every call is bounded by the tier guard's timeout.

Use for "older than" only: Redis keeps no last-read time we may use cheaply (OBJECT IDLETIME
needs a non-LFU policy and a round trip per key), so "unused" skips Redis.
"""

from __future__ import annotations

import logging

from cache.backends.base import Backend
from cache.backends.capabilities import HeadReader
from cache.engine.tier_guard import SKIPPED, Skipped, TierGuard
from cache.serialization import Serializer

log = logging.getLogger(__name__)

BATCH = 500
HEAD_BYTES = 64
LONG_HEAD_BYTES = 1024


async def created_before_by_heads(
    guard: TierGuard[Backend], reader: HeadReader, serializer: Serializer, cutoff: float, pattern: str
) -> list[str] | Skipped:
    """Keys of ``guard.backend`` matching ``pattern`` created before ``cutoff``, their heads read
    through ``reader`` (the same backend); SKIPPED when the tier failed on the way (nothing is
    known then)."""
    keys = await guard.call(guard.backend.match, pattern, force=True)
    if keys is SKIPPED:
        return SKIPPED
    old: list[str] = []
    unreadable = 0
    for start in range(0, len(keys), BATCH):
        batch = keys[start : start + BATCH]
        undecided: list[str] = []
        for size in (HEAD_BYTES, LONG_HEAD_BYTES):
            heads = await guard.call(reader.heads, batch, size, force=True)
            if heads is SKIPPED:
                return SKIPPED
            undecided = []
            for key, head in heads.items():
                created = serializer.created_at(head)
                if created is None:
                    undecided.append(key)
                elif created < cutoff:
                    old.append(key)
            batch = undecided
            if not batch:
                break
        unreadable += len(undecided)
    if unreadable:
        log.info("age scan of %s: kept %d entries whose header could not be read", guard.name, unreadable)
    return old
