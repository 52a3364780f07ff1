"""Background loads belong to no caller: they run without the caller's context (manual clock).

A caller's context can carry what bounds its own call (the tools' deadline is a context
variable); a stale-while-revalidate refresh or a refresh-ahead load outlives the call that
started it, so it must not inherit that. The policy override (warming's TTLs) does travel.
"""

from __future__ import annotations

from contextvars import ContextVar

from cache import override_policy
from cache.engine.tiered import TieredCache
from cache.policy import CachePolicy
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory

CALLER: ContextVar[str | None] = ContextVar("caller", default=None)


def recording(seen: list[str | None], value: str):  # noqa: ANN201 - a loader
    async def load() -> str:
        seen.append(CALLER.get())
        return value

    return load


async def test_a_background_refresh_runs_outside_the_callers_context(
    cache: TieredCache, clock: ManualClock, policy: CachePolicy
) -> None:
    seen: list[str | None] = []
    token = CALLER.set("call 1")
    try:
        await cache.get_or_fetch("ns:k", recording(seen, "v1"), policy)  # the caller waits: its context
    finally:
        CALLER.reset(token)
    clock.advance(policy.fresh_ttl + 1)
    token = CALLER.set("call 2")
    try:
        with override_policy(lambda p: CachePolicy(p.namespace, 1000.0, 2000.0)):
            stale = await cache.get_or_fetch("ns:k", recording(seen, "v2"), policy)
    finally:
        CALLER.reset(token)
    await cache.wait_idle()
    assert stale.meta.stale and seen == ["call 1", None]
    entry = cache.peek("ns:k")
    assert entry is not None and entry.value == "v2"
    assert entry.fresh_until - entry.created_at == 1000.0  # the caller's policy override travelled


async def test_a_refresh_runs_outside_the_callers_context(make_cache: CacheFactory, policy: CachePolicy) -> None:
    cache = make_cache()
    seen: list[str | None] = []
    token = CALLER.set("scheduler pass")
    try:
        await cache.refresh("ns:k", recording(seen, "v"), policy)
    finally:
        CALLER.reset(token)
    assert seen == [None]
