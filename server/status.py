"""Operational tools: ``service_status``, ``cache_stats`` (:mod:`server.stats_tool`) and the
``cache://stats`` resource.

Tools like the domain ones (see :mod:`tools.registry`): ``ctx`` is an MCP request's Context or
the process's Services; ``TOOLS`` lists them. Both answers are bounded: ``service_status`` has
one entry per tier and per upstream, error texts clipped to :data:`ERROR_CHARS`.
"""

# No ``from __future__ import annotations`` here: the SDK reads these functions' annotations when
# it registers them, and real objects spare it evaluating strings (typing.get_type_hints, per
# function) at start-up.

from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from cache import TierName, tier_name
from server import __version__
from server.stats_tool import cache_stats
from tools.deferred import Deferred
from tools.http.health import UpstreamHealth
from tools.registry import Tool, ToolContext, services_of
from tools.services import Services

ERROR_CHARS = 300
"""Characters of an upstream's last error that ``service_status`` reports at most."""

_LOCAL = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


class TierStatus(Deferred):
    name: TierName = Field(description="Cache tier.")
    answers: bool = Field(description="True when the tier answered a ping just now.")
    dropped_writes: int | None = Field(
        None, description="Writes dropped because the tier's write queue was full (tiers that queue writes)."
    )


# The wire form of tools.http.health.UpstreamHealth: its published names, without the breaker's
# clock reading. (No docstring: it would be published as the schema's description.)
class UpstreamState(Deferred):
    name: str = Field(description="Upstream short name: ctgov, twse, tpex, mis or yahoo.")
    base_url: str
    circuit: str = Field(description="closed (healthy), open (failing fast) or half_open (probing).")
    consecutive_failures: int
    total_failures: int
    total_requests: int
    last_error: str | None = Field(None, description="Text of the most recent failure, if any.")
    retry_in_seconds: float | None = Field(None, description="When an open circuit lets a probe through.")
    queued: int = Field(0, description="Calls waiting for this upstream's rate limit now.")
    shed_total: int = Field(
        0, description="Calls the rate limit turned away at once (queue full, or a wait longer than their deadline)."
    )
    retries_denied_total: int = Field(0, description="Retries the upstream's retry budget refused.")

    @classmethod
    def of(cls, health: UpstreamHealth) -> "UpstreamState":
        return cls(
            name=health.name,
            base_url=health.base_url,
            circuit=health.state,
            consecutive_failures=health.consecutive_failures,
            total_failures=health.total_failures,
            total_requests=health.total_requests,
            last_error=_clip(health.last_error),
            retry_in_seconds=health.retry_in,
            queued=health.queued,
            shed_total=health.shed_total,
            retries_denied_total=health.retries_denied_total,
        )


class ServiceStatus(Deferred):
    version: str
    uptime_seconds: float
    cache_tiers: list[TierStatus] = Field(description="Configured tiers in read order.")
    upstreams: list[UpstreamState]


class CacheReport(Deferred):
    stats: dict[str, Any]
    analytics: dict[str, Any]
    recommendations: list[str]


async def service_status(ctx: ToolContext) -> ServiceStatus:
    """Server health: cache tiers up; per upstream its circuit (closed/open/half_open), failures, last error."""
    services = services_of(ctx)
    pings = await services.cache.ping()
    gauge = services.cache.stats.gauge
    tiers = [
        TierStatus(name=tier_name(name), answers=ok, dropped_writes=gauge(name, "dropped_writes"))
        for name, ok in pings.items()
    ]
    upstreams = [UpstreamState.of(client.status()) for client in services.upstreams.values()]
    uptime = max(0.0, services.clock() - services.started_at)
    return ServiceStatus(version=__version__, uptime_seconds=round(uptime, 3), cache_tiers=tiers, upstreams=upstreams)


def cache_report(services: Services) -> CacheReport:
    """The full figures of the ``cache://stats`` resource: every window of every namespace (it
    grows with the namespaces; the ``cache_stats`` tool is the bounded view)."""
    report = services.analytics.report()
    return CacheReport(
        stats=services.cache.stats.snapshot(),
        analytics={k: v for k, v in report.items() if k != "recommendations"},
        recommendations=report["recommendations"],
    )


TOOLS: list[Tool] = [(service_status, _LOCAL), (cache_stats, _LOCAL)]


def add_stats_resource(mcp: MCPServer[Any], current_services: Callable[[], Services]) -> None:
    """The ``cache://stats`` resource; the SDK reads a static resource without a Context, so
    ``current_services`` gives it this process's Services."""

    @mcp.resource("cache://stats", name="cache_stats", mime_type="application/json")
    async def stats_resource() -> str:
        """Full cache statistics as JSON: every window of every namespace, and recommendations."""
        return cache_report(current_services()).model_dump_json()


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= ERROR_CHARS:
        return text
    return text[: ERROR_CHARS - 3] + "..."
