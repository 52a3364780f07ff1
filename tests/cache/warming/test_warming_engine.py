"""The warming engine: priorities, concurrency, progress, outcomes, trending, custom, schedules."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cache.coordination.shared_store import MemoryStore
from cache.coordination.tunables import COST_CUTOFF, Tunables
from cache.engine.tiered import TieredCache
from cache.keys import make_key
from cache.policy import CachePolicy
from cache.warming import (
    CallSpec,
    Strategy,
    TtlOverride,
    UnknownStrategyError,
    UsageLog,
    Warmer,
    WarmOutcome,
)
from cache.warming.refresh_ahead import RefreshAhead
from tests.support.clock import ManualClock

POLICY = CachePolicy("tool", fresh_ttl=60.0, stale_ttl=600.0)


async def custom_warm(cache: TieredCache) -> WarmOutcome:
    """A custom strategy target (imported by dotted path)."""
    await cache.set("custom:v1:done", True, POLICY)
    return WarmOutcome.already_fresh()


class ToolRunner:
    """Plays the server: a tool call is a get_or_fetch under the call's key; counts upstream loads."""

    def __init__(self, cache: TieredCache, fail: set[str] | None = None) -> None:
        self.cache = cache
        self.fail = fail or set()
        self.loads: list[str] = []
        self.ttls: list[TtlOverride | None] = []
        self.in_flight = self.peak = 0

    async def __call__(self, tool: str, arguments: dict[str, Any], **options: Any) -> WarmOutcome:
        self.ttls.append(options.get("ttl"))
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:

            async def load() -> dict[str, Any]:
                await asyncio.sleep(0)  # a real suspension, so concurrent calls overlap
                self.loads.append(tool)
                if tool in self.fail:
                    raise ConnectionError(f"{tool} upstream down")
                return {"tool": tool, **arguments}

            result = await self.cache.get_or_fetch(make_key("tool", {"t": tool, **arguments}), load, POLICY)
        finally:
            self.in_flight -= 1
        fresh = result.meta.hit and not result.meta.stale
        return WarmOutcome.already_fresh() if fresh else WarmOutcome.warmed()


def calls(name: str, count: int, **fields: Any) -> Strategy:
    specs = tuple(CallSpec(f"{name}_tool", {"n": n}) for n in range(count))
    return Strategy(name=name, kind="calls", calls=specs, **fields)


async def test_strategies_run_by_priority_with_progress_and_a_second_run_is_all_fresh(cache: TieredCache) -> None:
    runner = ToolRunner(cache)
    strategies = [calls("low", 2, priority=1), calls("high", 5, priority=9, concurrency=2), calls("mid", 1)]
    warmer = Warmer(runner, cache, strategies)
    seen: list[tuple[int, int, str, str]] = []
    summary = await warmer.run(
        progress=lambda done, total, item, out: seen.append((done, total, item.strategy, out.status))
    )
    assert [r.name for r in summary.strategies] == ["high", "low", "mid"]
    assert [(d, t) for d, t, _, _ in seen] == [(n, 8) for n in range(1, 9)]
    assert [s for _, _, s, _ in seen] == ["high"] * 5 + ["low"] * 2 + ["mid"]
    assert runner.peak == 2  # "high" holds two calls in flight at most (the others one at a time)
    assert (summary.warmed, summary.already_fresh, summary.failed) == (8, 0, 0)
    loads = len(runner.loads)
    again = await warmer.run()
    assert (again.warmed, again.already_fresh, again.failed) == (0, 8, 0)
    assert len(runner.loads) == loads  # no upstream request the second time


async def test_failures_carry_their_reasons_and_do_not_stop_the_others(cache: TieredCache) -> None:
    runner = ToolRunner(cache, fail={"bad_tool"})

    async def odd_runner(tool: str, arguments: dict[str, Any]) -> Any:
        return "done" if tool == "odd_tool" else await runner(tool, arguments)

    strategies = [calls("bad", 1), calls("good", 2), calls("odd", 1)]
    summary = await Warmer(odd_runner, cache, strategies).run(progress=lambda *_: 1 / 0)
    report = {r.name: r.to_dict() for r in summary.strategies}
    assert report["bad"]["failed"] == [{"item": "bad_tool(n=0)", "reason": "ConnectionError: bad_tool upstream down"}]
    assert report["good"]["warmed"] == 2
    assert report["odd"]["failed"][0]["reason"] == "runner returned str, not a WarmOutcome"
    assert summary.to_dict()["failed"] == 2


async def test_named_strategies_run_even_when_disabled_and_unknown_names_are_refused(cache: TieredCache) -> None:
    runner = ToolRunner(cache)
    warmer = Warmer(runner, cache, [calls("on", 1), calls("off", 1, enabled=False)])
    assert [r.name for r in (await warmer.run()).strategies] == ["on"]
    assert [r.name for r in (await warmer.run(["off"])).strategies] == ["off"]
    with pytest.raises(UnknownStrategyError, match="no warming strategy named 'nope'; known: on, off"):
        await warmer.run(["nope"])


async def test_a_ttl_override_reaches_the_runner_only_when_set(cache: TieredCache) -> None:
    runner = ToolRunner(cache)
    ttl = TtlOverride(7200.0, 86400.0)
    await Warmer(runner, cache, [calls("plain", 1), calls("long", 1, ttl=ttl, priority=-1)]).run()
    assert runner.ttls == [None, ttl]

    async def two_arguments(tool: str, arguments: dict[str, Any]) -> WarmOutcome:
        return WarmOutcome.warmed()

    assert (await Warmer(two_arguments, cache, [calls("plain", 1)]).run()).warmed == 1


async def test_trending_runs_the_most_used_calls_then_tops_up_with_hot_keys(
    cache: TieredCache, clock: ManualClock
) -> None:
    usage = UsageLog(clock=clock)
    for count, symbol in ((3, "2330"), (1, "2317"), (2, "0050")):
        for _ in range(count):
            usage.record("get_stock_quote", {"symbols": [symbol], "market": None})
    tunables = Tunables(MemoryStore(), clock=clock, defaults={COST_CUTOFF: 0.1})
    ahead = RefreshAhead(cache, tunables, clock=clock)
    await ahead.attach()
    for key in ("ns:v1:fresh", "ns:v1:stale"):
        await cache.set(key, "old", POLICY, fetch_cost=1.0)
        await cache.get_or_fetch(key, _constant("new"), POLICY)
    await cache.get_or_fetch("ns:v1:stale", _constant("new"), POLICY)  # the hotter key
    clock.advance(30)
    await cache.set("ns:v1:fresh", "old", POLICY, fetch_cost=1.0)  # re-stored: fresh for 60 s more
    clock.advance(40)  # "ns:v1:stale" is now stale
    runner = ToolRunner(cache)
    ttl = TtlOverride(5000.0, 9000.0)
    strategy = Strategy(name="trending", kind="trending", top=5, window=3600.0, ttl=ttl)
    seen: list[str] = []
    summary = await Warmer(runner, cache, [strategy], clock=clock, usage=usage, hot_keys=ahead).run(
        progress=lambda done, total, item, outcome: seen.append(f"{item.label}:{outcome.status}")
    )
    assert sorted(seen) == sorted(
        [
            "get_stock_quote(symbols=['2330']):warmed",
            "get_stock_quote(symbols=['0050']):warmed",
            "get_stock_quote(symbols=['2317']):warmed",
            "ns:v1:stale:warmed",
            "ns:v1:fresh:already_fresh",
        ]
    )
    assert (summary.strategies[0].warmed, summary.strategies[0].already_fresh) == (4, 1)
    entry = cache.peek("ns:v1:stale")
    assert entry is not None and entry.value == "new" and entry.fresh_until - entry.created_at == 5000.0
    await ahead.aclose()


async def test_a_custom_strategy_awaits_its_function_with_the_cache(cache: TieredCache) -> None:
    strategy = Strategy(name="mine", kind="custom", target=f"{__name__}:custom_warm")
    summary = await Warmer(ToolRunner(cache), cache, [strategy]).run()
    assert summary.already_fresh == 1
    assert (await cache.get("custom:v1:done")) is not None


async def test_schedules_and_start_up_runs(cache: TieredCache, clock: ManualClock) -> None:
    runner = ToolRunner(cache)
    strategies = [
        calls("boot", 1, run_at_startup=True),
        calls("every-minute", 1, interval=60.0),
        calls("hourly", 1, interval=3600.0),
        calls("paused", 1, interval=1.0, enabled=False),
    ]
    warmer = Warmer(runner, cache, strategies, clock=clock)
    assert [r.name for r in (await warmer.run_startup()).strategies] == ["boot"]
    assert warmer.due() == [] and warmer.seconds_until_due() == 60.0
    clock.advance(60)
    assert [r.name for r in (await warmer.run_due()).strategies] == ["every-minute"]
    assert warmer.due() == [] and warmer.seconds_until_due() == 60.0
    clock.advance(3540)
    assert warmer.due() == ["every-minute", "hourly"]


def _constant(value: Any) -> Any:
    async def load() -> Any:
        return value

    return load
