"""``Services``: everything a tool function reads, built once per process by the server's lifespan.

A tool gets them from its MCP request (:func:`tools.registry.services_of`) or, when the process
runs a tool itself (warming, tests), as its first argument.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cache import TieredCache
from cache.observe import Analytics
from tools.clinical_trials.service import TrialsService
from tools.http.client import UpstreamClient
from tools.http.config import HttpPolicy
from tools.stocks.service import StocksService


@dataclass(frozen=True)
class Services:
    """The domain services, and what the operational tools report on."""

    trials: TrialsService
    stocks: StocksService
    cache: TieredCache
    upstreams: Mapping[str, UpstreamClient]
    """One client per upstream, by short name (ctgov, twse, tpex, mis, yahoo), in report order."""
    analytics: Analytics
    clock: Callable[[], float]
    started_at: float
    """``clock()`` when the services were built (uptime is measured from it)."""
    call_deadline: float = HttpPolicy.model_fields["call_deadline"].default
    """Seconds a tool call may take (``TRIALSTOCK_HTTP__CALL_DEADLINE``); see :func:`tools.registry.domain_tool`."""

    @classmethod
    def started(
        cls,
        trials: TrialsService,
        stocks: StocksService,
        cache: TieredCache,
        upstreams: Mapping[str, UpstreamClient],
        clock: Callable[[], float],
        call_deadline: float = HttpPolicy.model_fields["call_deadline"].default,
    ) -> Services:
        """Services starting now: analytics over ``cache`` and ``started_at = clock()``."""
        return cls(trials, stocks, cache, upstreams, Analytics(cache, clock=clock), clock, clock(), call_deadline)
