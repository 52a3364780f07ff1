"""Whole-market days through the cache: one entry per (exchange, date) serves every stock.

``stocks.flows_day`` holds a :class:`~tools.stocks.flows.FlowsDay` and ``stocks.margin_day`` a
:class:`~tools.stocks.margin.MarginDay`, keyed by market and ISO date. A day before today (in
Taipei) never changes: it is kept ``closed_day_fresh`` (a year: for good, in practice), an
empty one too (a holiday stays a holiday). Today's may still be unpublished (TWSE posts flows
after the close, margin in the evening): it is kept ``stocks_open_month_fresh`` (10 min), so
the published table replaces the empty answer soon after it appears. A value read back is not
validated again (it was when parsed): a TWSE day holds ~17,000 rows (warrants included), and a
call reads one of them from each day. Requests go through the
exchanges' clients, so their rate limiters (TWSE ~3 per 5 s) space them. Days without a session
(weekends, exchange holidays) are never asked for: the flows desk asks for the XTAI calendar's
sessions only (:mod:`tools.stocks.flows_service`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from cache import CacheMeta, CachePolicy, TieredCache, make_key
from tools.http.client import UpstreamClient
from tools.stocks.config import StocksConfig
from tools.stocks.flows import FlowsDay, FlowsSource
from tools.stocks.margin import MarginDay, MarginSource
from tools.stocks.models import Market

FLOWS_NAMESPACE = "stocks.flows_day"
MARGIN_NAMESPACE = "stocks.margin_day"


class MarketDays:
    """Cached whole-market flows and margin days of TWSE and TPEx."""

    def __init__(
        self,
        twse: UpstreamClient,
        tpex: UpstreamClient,
        cache: TieredCache,
        config: StocksConfig,
        clock: Callable[[], float],
    ) -> None:
        self._flows, self._margin = FlowsSource(twse, tpex), MarginSource(twse, tpex)
        self._cache, self._config, self._clock = cache, config, clock

    def today(self) -> date:
        """Today in Taipei."""
        return self._config.hours.today(self._clock())

    def policy(self, namespace: str, market: Market, day: date) -> CachePolicy:
        """For good for a day before today (Taipei); short-lived for today's."""
        if day < self.today():
            fresh = stale = self._config.closed_day_fresh
        else:
            fresh, stale = self._config.ttl.stocks_open_month_fresh, self._config.open_month_stale
        tag = f"{market.lower()}-day:{day.isoformat()}"
        return CachePolicy(namespace, fresh_ttl=fresh, stale_ttl=max(stale, fresh), tags=(tag,))

    async def flows(self, market: Market, day: date) -> tuple[FlowsDay, CacheMeta]:
        """The institutional flows of every security of ``market`` on ``day`` (empty: no data)."""

        async def load() -> dict[str, Any]:
            return (await self._flows.fetch(market, day)).model_dump(mode="json")

        key = make_key(FLOWS_NAMESPACE, {"market": market, "date": day.isoformat()})
        result = await self._cache.get_or_fetch(key, load, self.policy(FLOWS_NAMESPACE, market, day))
        return FlowsDay.model_construct(market=market, date=day, rows=result.value["rows"]), result.meta

    async def margin(self, market: Market, day: date) -> tuple[MarginDay, CacheMeta]:
        """The margin and short balances of every security of ``market`` on ``day``."""

        async def load() -> dict[str, Any]:
            return (await self._margin.fetch(market, day)).model_dump(mode="json")

        key = make_key(MARGIN_NAMESPACE, {"market": market, "date": day.isoformat()})
        result = await self._cache.get_or_fetch(key, load, self.policy(MARGIN_NAMESPACE, market, day))
        value = result.value
        return MarginDay.model_construct(
            market=market, date=day, rows=value["rows"], summary=value["summary"]
        ), result.meta
