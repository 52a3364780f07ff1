"""override_policy: values loaded inside the block are stored under the changed policy; hits,
and loads outside the block, keep the caller's policy. Warming's TTL strategies use it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from cache.backends.sqlite import SqliteBackend
from cache.engine.tiered import TieredCache
from cache.policy import CachePolicy, override_policy, policy_override
from cache.serialization import Serializer
from cache.warming import CallSpec, Strategy, TtlOverride, Warmer, WarmOutcome
from cache.warming.model import apply_ttl
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory
from tests.support.faults import LoaderSpy

POLICY = CachePolicy("ns", fresh_ttl=60.0, stale_ttl=600.0)
LONG = TtlOverride(7200.0, 86400.0)


def ttls(cache: TieredCache, key: str) -> tuple[float, float]:
    entry = cache.peek(key)
    assert entry is not None
    return entry.fresh_until - entry.created_at, entry.stale_until - entry.created_at


async def test_a_load_inside_the_block_is_stored_under_the_override(
    tmp_path: Path, clock: ManualClock, make_cache: CacheFactory
) -> None:
    sqlite = await SqliteBackend.open(tmp_path / "cache.sqlite", clock=clock)
    cache = make_cache(sqlite=sqlite)
    try:
        with override_policy(lambda policy: apply_ttl(policy, LONG)):
            await cache.get_or_fetch("ns:warmed", LoaderSpy("w"), POLICY)
        await cache.get_or_fetch("ns:plain", LoaderSpy("p"), POLICY)
        assert ttls(cache, "ns:warmed") == (7200.0, 86400.0)
        assert ttls(cache, "ns:plain") == (60.0, 600.0)
        stored = Serializer().loads((await sqlite.get_many(["ns:warmed"]))["ns:warmed"])
        assert stored.stale_until - stored.created_at == 86400.0  # the lower tiers get it too
        assert policy_override.get() is None  # the block restored the context
    finally:
        await cache.aclose()


async def test_a_hit_inside_the_block_changes_nothing(cache: TieredCache) -> None:
    await cache.get_or_fetch("ns:k", LoaderSpy(1), POLICY)
    with override_policy(lambda policy: apply_ttl(policy, LONG)):
        result = await cache.get_or_fetch("ns:k", LoaderSpy(2), POLICY)
    assert result.meta.hit and result.value == 1
    assert ttls(cache, "ns:k") == (60.0, 600.0)


async def test_the_override_stays_with_its_own_task(cache: TieredCache) -> None:
    gate = asyncio.Event()
    spies = LoaderSpy("a", gate=gate), LoaderSpy("b", gate=gate)

    async def warmed() -> None:
        with override_policy(lambda policy: apply_ttl(policy, LONG)):
            await cache.get_or_fetch("ns:a", spies[0], POLICY)

    task = asyncio.create_task(warmed())
    other = asyncio.create_task(cache.get_or_fetch("ns:b", spies[1], POLICY))
    await asyncio.gather(*(spy.started.wait() for spy in spies))  # both loads running at once
    gate.set()
    await asyncio.gather(task, other)
    assert ttls(cache, "ns:a") == (7200.0, 86400.0)
    assert ttls(cache, "ns:b") == (60.0, 600.0)


async def test_warming_a_ttl_strategy_through_an_overriding_runner(cache: TieredCache) -> None:
    async def runner(tool: str, arguments: dict[str, Any], ttl: TtlOverride | None = None) -> WarmOutcome:
        async def load() -> str:
            return tool

        if ttl is None:
            await cache.get_or_fetch(f"ns:{tool}", load, POLICY)
        else:
            with override_policy(lambda policy: apply_ttl(policy, ttl)):
                await cache.get_or_fetch(f"ns:{tool}", load, POLICY)
        return WarmOutcome.warmed()

    strategies = [
        Strategy("long", "calls", ttl=LONG, calls=(CallSpec("a"),)),
        Strategy("plain", "calls", calls=(CallSpec("b"),)),
    ]
    summary = await Warmer(runner, cache, strategies).run()
    assert (summary.warmed, summary.failed) == (2, 0)
    assert ttls(cache, "ns:a") == (7200.0, 86400.0)
    assert ttls(cache, "ns:b") == (60.0, 600.0)


def test_apply_ttl_without_a_ttl_is_the_policy_itself() -> None:
    assert apply_ttl(POLICY, None) is POLICY
    assert apply_ttl(POLICY, LONG) == CachePolicy("ns", fresh_ttl=7200.0, stale_ttl=86400.0)
