"""The warming engine: runs strategies in priority order, each within its concurrency bound.

How each kind expands into items:

- ``calls``: one item per call, run by the injected ``runner`` (the server runs its own tool
  function, so the values land under the keys real requests use and the runner can tell
  ``warmed`` from ``already_fresh``). A runner that accepts a ``ttl`` keyword receives the
  strategy's :class:`~cache.warming.model.TtlOverride`; it is passed only when one is set.
- ``trending``: the ``top`` most-used calls of the last ``window`` seconds from the
  :class:`~cache.warming.usage.UsageLog` (run like ``calls``), topped up with the hottest keys
  refresh-ahead tracks (their loaders re-run through :meth:`TieredCache.refresh`, skipped as
  ``already_fresh`` while the memory entry is fresh).
- ``custom``: one item awaiting the named async function with the cache; it may return a
  WarmOutcome (None counts as ``warmed``).

An item that raises becomes ``failed`` with ``"<ExceptionType>: <message>"``; warming never
raises for an item. ``progress(done, total, item, outcome)`` (plain or async) is called after
every item; ``total`` counts the items of every selected strategy.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from cache.engine.tiered import TieredCache
from cache.warming.config import resolve_target
from cache.warming.model import (
    CallSpec,
    Strategy,
    StrategyReport,
    WarmItem,
    WarmOutcome,
    WarmSummary,
    apply_ttl,
)
from cache.warming.refresh_ahead import HotKey

log = logging.getLogger(__name__)

Runner = Callable[..., Awaitable[WarmOutcome]]
"""``async run_call(tool: str, arguments: dict[str, Any][, ttl=TtlOverride]) -> WarmOutcome``."""
Progress = Callable[[int, int, WarmItem, WarmOutcome], Any]


class HotKeySource(Protocol):
    def hot_keys(self, limit: int | None = None) -> list[HotKey]: ...


class UsageSource(Protocol):
    """The most used calls: a process's :class:`~cache.warming.usage.UsageLog`, or the whole
    deployment's :class:`~cache.warming.shared_usage.SharedUsage`."""

    def top(self, n: int, window: float) -> list[tuple[CallSpec, int]]: ...


class UnknownStrategyError(ValueError):
    """A strategy name that is not in the loaded strategies."""


class Warmer:
    """Runs warming strategies over ``cache``; remembers when each ran for :meth:`run_due`."""

    def __init__(
        self,
        runner: Runner,
        cache: TieredCache,
        strategies: Sequence[Strategy],
        *,
        clock: Callable[[], float] = time.time,
        usage: UsageSource | None = None,
        hot_keys: HotKeySource | None = None,
    ) -> None:
        self._runner = runner
        self._cache = cache
        self.strategies = {s.name: s for s in strategies}
        self._clock = clock
        self._usage = usage
        self._hot = hot_keys
        self._created = clock()
        self.last_run: dict[str, float] = {}

    async def run(self, names: Iterable[str] | None = None, progress: Progress | None = None) -> WarmSummary:
        """Run the named strategies (None: every enabled one), higher priority first."""
        selected = self._select(names)
        plans = [(strategy, self._items(strategy)) for strategy in selected]
        total = sum(len(items) for _, items in plans)
        counter = _Progress(total, progress)
        summary = WarmSummary()
        began = self._clock()
        for strategy, items in plans:
            summary.strategies.append(await self._run_strategy(strategy, items, counter))
        summary.elapsed = self._clock() - began
        return summary

    async def run_startup(self, progress: Progress | None = None) -> WarmSummary:
        """Run the enabled strategies marked ``run_at_startup``."""
        return await self.run([s.name for s in self.strategies.values() if s.enabled and s.run_at_startup], progress)

    def due(self) -> list[str]:
        """Enabled scheduled strategies whose interval has passed since their last run (or since
        this engine was created, for one that has not run yet)."""
        now = self._clock()
        return [
            s.name
            for s in self.strategies.values()
            if s.enabled and s.interval is not None and now >= self._next_run(s)
        ]

    def seconds_until_due(self) -> float | None:
        """Seconds until the next scheduled strategy is due (0 if one is), None if none is scheduled."""
        scheduled = [self._next_run(s) for s in self.strategies.values() if s.enabled and s.interval is not None]
        return None if not scheduled else max(0.0, min(scheduled) - self._clock())

    async def run_due(self, progress: Progress | None = None) -> WarmSummary:
        """Run the strategies :meth:`due` returns."""
        return await self.run(self.due(), progress)

    # -- internals -----------------------------------------------------------------------------------

    def _next_run(self, strategy: Strategy) -> float:
        return self.last_run.get(strategy.name, self._created) + (strategy.interval or 0.0)

    def _select(self, names: Iterable[str] | None) -> list[Strategy]:
        if names is None:
            chosen = [s for s in self.strategies.values() if s.enabled]
        else:
            wanted = list(dict.fromkeys(names))
            unknown = [name for name in wanted if name not in self.strategies]
            if unknown:
                known = ", ".join(self.strategies) or "none"
                raise UnknownStrategyError(f"no warming strategy named {', '.join(map(repr, unknown))}; known: {known}")
            chosen = [self.strategies[name] for name in wanted]
        order = list(self.strategies)
        return sorted(chosen, key=lambda s: (-s.priority, order.index(s.name)))

    async def _run_strategy(self, strategy: Strategy, items: list[WarmItem], counter: _Progress) -> StrategyReport:
        report = StrategyReport(strategy.name, strategy.kind)
        slots = asyncio.Semaphore(strategy.concurrency)
        began = self._clock()

        async def one(item: WarmItem) -> None:
            async with slots:
                outcome = await _guarded(item)
            report.add(item, outcome)
            await counter.step(item, outcome)

        await asyncio.gather(*(one(item) for item in items))
        report.elapsed = self._clock() - began
        self.last_run[strategy.name] = self._clock()
        return report

    def _items(self, strategy: Strategy) -> list[WarmItem]:
        if strategy.kind == "calls":
            return [self._call_item(strategy, spec) for spec in strategy.calls]
        if strategy.kind == "trending":
            return self._trending_items(strategy)
        target = strategy.target or ""

        async def custom() -> WarmOutcome:
            outcome = await resolve_target(target)(self._cache)
            return outcome if isinstance(outcome, WarmOutcome) else WarmOutcome.warmed()

        return [WarmItem(strategy.name, target, custom)]

    def _call_item(self, strategy: Strategy, spec: CallSpec) -> WarmItem:
        extra: Mapping[str, Any] = {} if strategy.ttl is None else {"ttl": strategy.ttl}

        async def call() -> WarmOutcome:
            return await self._runner(spec.tool, dict(spec.arguments), **extra)

        return WarmItem(strategy.name, spec.label, call)

    def _trending_items(self, strategy: Strategy) -> list[WarmItem]:
        items: list[WarmItem] = []
        if self._usage is not None:
            items = [self._call_item(strategy, spec) for spec, _ in self._usage.top(strategy.top, strategy.window)]
        if self._hot is not None and len(items) < strategy.top:
            horizon = self._clock() - strategy.window
            hot = [h for h in self._hot.hot_keys() if h.last_hit >= horizon][: strategy.top - len(items)]
            items += [self._key_item(strategy, h) for h in hot]
        return items

    def _key_item(self, strategy: Strategy, hot: HotKey) -> WarmItem:
        policy = apply_ttl(hot.policy, strategy.ttl)

        async def refetch() -> WarmOutcome:
            entry = self._cache.peek(hot.key)
            if entry is not None and entry.is_fresh(self._clock()):
                return WarmOutcome.already_fresh()
            await self._cache.refresh(hot.key, hot.loader, policy)
            return WarmOutcome.warmed()

        return WarmItem(strategy.name, hot.key, refetch)


class _Progress:
    def __init__(self, total: int, callback: Progress | None) -> None:
        self.done, self.total, self._callback = 0, total, callback

    async def step(self, item: WarmItem, outcome: WarmOutcome) -> None:
        self.done += 1
        if self._callback is None:
            return
        try:
            result = self._callback(self.done, self.total, item, outcome)
            if inspect.isawaitable(result):
                await result
        except Exception:  # a broken progress display must not stop warming
            log.exception("warming progress callback failed")


async def _guarded(item: WarmItem) -> WarmOutcome:
    try:
        outcome = await item.run()
    except Exception as exc:  # every failure becomes an outcome with its reason
        log.info("warming %s (%s) failed: %r", item.label, item.strategy, exc)
        return WarmOutcome.failed(f"{type(exc).__name__}: {exc}")
    if not isinstance(outcome, WarmOutcome):
        return WarmOutcome.failed(f"runner returned {type(outcome).__name__}, not a WarmOutcome")
    return outcome
