"""The entry envelope and the unit a backend stores.

The engine wraps every value in an :class:`Entry` (times are epoch seconds from the engine's
injectable clock), serializes it to bytes, and hands backends a :class:`Record`: the bytes plus
just enough plain metadata (expiry, tags) for a backend to expire, evict and match by tag
without ever deserializing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1


@dataclass(slots=True)
class Entry:
    """A cached value and its life.

    - fresh until ``fresh_until``: served as is;
    - stale between ``fresh_until`` and ``stale_until``: served at once, refreshed behind;
    - gone after ``stale_until`` (the hard TTL; backends drop it).
    ``fetch_cost`` is how many seconds the loader took; refresh-ahead uses it.
    """

    value: Any
    created_at: float
    fresh_until: float
    stale_until: float
    tags: tuple[str, ...] = ()
    fetch_cost: float = 0.0
    schema_version: int = SCHEMA_VERSION

    def is_fresh(self, now: float) -> bool:
        return now < self.fresh_until

    def is_expired(self, now: float) -> bool:
        return now >= self.stale_until

    def age(self, now: float) -> float:
        return max(0.0, now - self.created_at)


@dataclass(frozen=True, slots=True)
class Record:
    """What a backend stores under ``key``: opaque bytes that expire at ``expires_at``.

    ``created_at`` is the entry's creation time (the engine fills it; 0.0 means unknown and a
    backend that keeps it records its own write time instead) for invalidation by age.
    """

    key: str
    data: bytes
    expires_at: float
    tags: tuple[str, ...] = field(default=())
    created_at: float = 0.0
