"""Ranges that reach today, cached under what was asked, not under the dates they cover.

``period="1mo"`` covers different dates every day: keyed by its dates, its entry would be
abandoned at midnight, and with the upstream down the next call would find nothing stale to
answer with. A range reaching today is therefore one entry (namespace ``stocks.recent``) keyed
by the symbol and what the caller asked (a period name, a fixed first day, the analysis window);
the dates it covers are inside the value, worked out when it is loaded. The entry is fresh
until the next midnight of the symbol's calendar (Taipei for Taiwan codes, UTC for Yahoo) and
at most ``stocks_open_month_fresh``, then served stale while it is recomputed for the new day,
or, when the upstream is down, kept (flagged stale) until ``open_month_stale`` after it was
loaded.

Taiwan entries are built from the month entries (``stocks.month``), so past months are still
shared between ranges; a Yahoo range is fetched directly (one entry, not two).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from cache import CacheMeta, CachePolicy, TieredCache, make_key
from tools.freshness import CacheInfo
from tools.stocks.config import StocksConfig
from tools.stocks.history import Bars
from tools.stocks.models import DailyBar, Market
from tools.stocks.sessions import TAIPEI
from tools.stocks.symbols import Resolved

RECENT_NAMESPACE = "stocks.recent"

Window = Callable[[date], tuple[date, date]]
"""The (first, last) days a range covers when today is the given day."""

Fetch = Callable[[date, date], Awaitable[tuple[Bars, Market]]]
"""Bars of the symbol between two days, and the market that answered."""


@dataclass(frozen=True, slots=True)
class Recent:
    """A range that reaches today, as the cache holds it."""

    market: Market
    currency: str | None
    start: date
    end: date
    bars: list[DailyBar]
    months: int  # exchange months the range covers (Taiwan), 0 for Yahoo
    months_cached: int  # how many of them came from the cache
    cache: CacheInfo
    corporate: dict[str, Any] | None = None  # Yahoo: events and adjusted closes (tools.stocks.adjust)

    @classmethod
    def of(cls, item: Resolved, bars: Bars, market: Market, start: date, end: date) -> Recent:
        """The span ``bars`` cover, as just read (through the month or chart entries)."""
        months = len(bars.metas) if item.source == "taiwan" else 0
        return cls(
            market=market,
            currency=bars.currency,
            start=start,
            end=end,
            bars=bars.bars,
            months=months,
            months_cached=sum(meta.hit for meta in bars.metas) if months else 0,
            cache=CacheInfo.combine(bars.metas),
            corporate=bars.corporate,
        )


class RecentRanges:
    """Reads and loads ``stocks.recent`` entries (see the module docstring)."""

    def __init__(self, cache: TieredCache, config: StocksConfig, clock: Callable[[], float]) -> None:
        self._cache, self._config, self._clock = cache, config, clock

    def zone(self, item: Resolved) -> tzinfo:
        """The calendar whose days the symbol's ranges count in."""
        return TAIPEI if item.source == "taiwan" else UTC

    def today(self, item: Resolved) -> date:
        return datetime.fromtimestamp(self._clock(), self.zone(item)).date()

    def policy(self, item: Resolved) -> CachePolicy:
        """Fresh until the next midnight of the symbol's calendar, at most the open month's TTL."""
        now = self._clock()
        midnight = datetime.combine(self.today(item) + timedelta(days=1), time(), self.zone(item)).timestamp()
        fresh = max(1.0, min(midnight - now, self._config.ttl.stocks_open_month_fresh))
        stale = max(fresh, self._config.open_month_stale)
        return CachePolicy(RECENT_NAMESPACE, fresh_ttl=fresh, stale_ttl=stale, tags=(f"stock:{item.symbol}",))

    async def get(self, item: Resolved, asked: Mapping[str, Any], window: Window, fetch: Fetch) -> Recent:
        """The range ``asked`` describes (JSON-able, e.g. ``{"period": "1mo"}``), covering
        ``window(today)`` when loaded; ``fetch`` gets its bars."""

        async def load() -> dict[str, Any]:
            first, last = window(self.today(item))
            bars, market = await fetch(first, last)
            span = Recent.of(item, bars, market, first, last)
            return {
                "market": span.market,
                "currency": span.currency,
                "start": first.isoformat(),
                "end": last.isoformat(),
                "bars": [bar.model_dump(mode="json") for bar in span.bars],
                "months": span.months,
                "months_cached": span.months_cached,
                "metas": [list(meta) for meta in bars.metas],  # how its months were read
                "corporate": span.corporate,
            }

        explicit = item.market if item.explicit else None
        key = make_key(RECENT_NAMESPACE, {"symbol": item.symbol, "source": item.source, "market": explicit, **asked})
        result = await self._cache.get_or_fetch(key, load, self.policy(item))
        value, meta = result.value, result.meta
        return Recent(
            market=value["market"],
            currency=value["currency"],
            start=date.fromisoformat(value["start"]),
            end=date.fromisoformat(value["end"]),
            bars=[DailyBar.model_validate(bar) for bar in value["bars"]],
            months=value["months"],
            months_cached=value["months"] if meta.hit else value["months_cached"],
            cache=_freshness(meta, value.get("metas")),
            corporate=value.get("corporate"),
        )


def _freshness(meta: CacheMeta, months: list[list[Any]] | None) -> CacheInfo:
    """A range read from its entry: that entry's freshness. One loaded now: that of the month
    entries it was built from (an answer built from cached months is a hit); a Yahoo range has
    none, its entry was fetched now."""
    if meta.hit or not months:
        return CacheInfo.from_meta(meta)
    return CacheInfo.combine(CacheMeta(*month) for month in months)
