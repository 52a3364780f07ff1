"""What a caller asks of the cache (policy) and what it gets back (result with metadata).

:func:`override_policy` lets a caller change the policy values loaded within a block are STORED
under, without threading it through every layer in between (warming runs a real tool with its
own TTLs this way): the engine applies :data:`policy_override` when it stores a value its
loader produced, never on hits. The override follows the asyncio context, so it reaches loads
started inside the block (their tasks copy the context) and nothing else; a load already
running for another caller, which this block only joins, keeps that caller's policy.

Background loads (stale-while-revalidate, refresh-ahead) belong to no caller: they run in
:func:`detached_context`, which carries the override and nothing else of the caller's context
(so a caller's deadline, say, never bounds a refresh that outlives the call).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import Context, ContextVar
from dataclasses import dataclass
from typing import Any, Generic, Literal, NamedTuple, TypeVar

T = TypeVar("T")

TierName = Literal["memory", "redis", "sqlite"]
_TIER_NAMES: dict[str, TierName] = {"memory": "memory", "redis": "redis", "sqlite": "sqlite"}


def tier_name(name: str) -> TierName:
    """``name`` as a :data:`TierName`; ValueError for any other name."""
    try:
        return _TIER_NAMES[name]
    except KeyError:
        raise ValueError(f"{name!r} is not a cache tier (memory, redis, sqlite)") from None


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


class CacheMeta(NamedTuple):
    """How an answer was obtained. ``tier`` is None when the loader produced it (a miss).

    (Named tuples: built on every hit, and a tuple is several times cheaper to make than a
    frozen dataclass.)"""

    hit: bool
    tier: TierName | None
    age: float
    stale: bool
    fresh_for: float = 0.0
    """Seconds the value stays fresh from now (0 when stale)."""


class CacheResult(NamedTuple, Generic[T]):
    value: T
    meta: CacheMeta


PolicyOverride = Callable[[CachePolicy], CachePolicy]

policy_override: ContextVar[PolicyOverride | None] = ContextVar("cache_policy_override", default=None)
"""The override in force in this context (None: policies apply as given)."""


@contextmanager
def override_policy(fn: PolicyOverride) -> Iterator[None]:
    """Within the block, values loaded by the cache are stored under ``fn(policy)``. Nested
    blocks replace the outer override; leaving a block restores it."""
    token = policy_override.set(fn)
    try:
        yield
    finally:
        policy_override.reset(token)


def detached_context() -> Context:
    """A context for work that belongs to no caller: empty but for the policy override in force."""
    context = Context()
    override = policy_override.get()
    if override is not None:
        context.run(policy_override.set, override)
    return context
