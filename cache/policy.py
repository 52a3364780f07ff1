"""What a caller asks of the cache (policy) and what it gets back (result with metadata)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

T = TypeVar("T")

TierName = Literal["memory", "redis", "sqlite"]


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """How one kind of value is cached.

    ``fresh_ttl``: seconds after creation the value is served as fresh.
    ``stale_ttl``: seconds after creation the value may still be served stale while it is
    refreshed behind the caller (must be >= fresh_ttl; equal disables stale serving).
    ``tags``: fixed tags; ``tags_from``: tags computed from the loaded value (e.g. the NCT ids
    a search page contains), added to ``tags``.
    """

    namespace: str
    fresh_ttl: float
    stale_ttl: float
    tags: tuple[str, ...] = ()
    tags_from: Callable[[Any], Iterable[str]] | None = None

    def __post_init__(self) -> None:
        if self.fresh_ttl <= 0:
            raise ValueError(f"fresh_ttl must be positive, got {self.fresh_ttl}")
        if self.stale_ttl < self.fresh_ttl:
            raise ValueError(f"stale_ttl ({self.stale_ttl}) must be >= fresh_ttl ({self.fresh_ttl})")


@dataclass(frozen=True, slots=True)
class CacheMeta:
    """How an answer was obtained. ``tier`` is None when the loader produced it (a miss)."""

    hit: bool
    tier: TierName | None
    age: float
    stale: bool


@dataclass(frozen=True, slots=True)
class CacheResult(Generic[T]):
    value: T
    meta: CacheMeta
