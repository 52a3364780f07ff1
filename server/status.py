"""Operational tools: ``service_status``, ``cache_stats`` and the ``cache://stats`` resource."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from server import __version__
from tools.http.health import UpstreamHealth

_LOCAL = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


class TierStatus(BaseModel):
    name: Literal["memory", "redis", "sqlite"] = Field(description="Cache tier.")
    answers: bool = Field(description="True when the tier answered a ping just now.")


class UpstreamState(BaseModel):
    """The wire form of :class:`tools.http.health.UpstreamHealth` (published names, no clock readings)."""

    name: str = Field(description="Upstream short name: ctgov, twse, tpex, mis or yahoo.")
    base_url: str
    circuit: str = Field(description="closed (healthy), open (failing fast) or half_open (probing).")
    consecutive_failures: int
    total_failures: int
    total_requests: int
    last_error: str | None = Field(None, description="Text of the most recent failure, if any.")
    retry_in_seconds: float | None = Field(None, description="When an open circuit lets a probe through.")

    @classmethod
    def of(cls, health: UpstreamHealth) -> UpstreamState:
        return cls(name=health.name, base_url=health.base_url, circuit=health.state,
                   consecutive_failures=health.consecutive_failures, total_failures=health.total_failures,
                   total_requests=health.total_requests, last_error=health.last_error,
                   retry_in_seconds=health.retry_in)


class ServiceStatus(BaseModel):
    version: str
    uptime_seconds: float
    cache_tiers: list[TierStatus] = Field(description="Configured tiers in read order.")
    upstreams: list[UpstreamState]


class CacheStats(BaseModel):
    stats: dict[str, Any] = Field(
        description="Since start: hits, misses, stale serves, loader calls, errors and latency per tier and per "
        "namespace; plus sections for cross-process events, refresh-ahead and the scheduler."
    )
    analytics: dict[str, Any] = Field(
        description="Hit rate, time saved and efficiency per namespace over the last 1 min, 15 min and 1 h."
    )
    recommendations: list[str] = Field(description="Plain-language suggestions derived from the figures.")


async def service_status(ctx: Context) -> ServiceStatus:
    """Health of this server: version, cache tiers and upstream circuit breakers.

    Reports whether each cache tier answers, and for each upstream its circuit state (closed =
    healthy, open = failing fast) with failure counts and the last error. Call it when answers look stale or tools report an upstream as unavailable.
    """
    state = ctx.request_context.lifespan_context
    pings = await state.cache.ping()
    tiers = [TierStatus(name=name, answers=ok) for name, ok in pings.items()]
    upstreams = [UpstreamState.of(client.status()) for client in state.upstreams.values()]
    uptime = max(0.0, state.clock() - state.started_at)
    return ServiceStatus(version=__version__, uptime_seconds=round(uptime, 3), cache_tiers=tiers, upstreams=upstreams)


async def cache_stats(ctx: Context) -> CacheStats:
    """Cache statistics: hit rates, misses, stale serves, errors and latency.

    Figures are per tier (memory, redis, sqlite) and per namespace (one per tool family), with
    windowed hit rates, time saved by the cache, an efficiency figure and recommendations.
    """
    return cache_report(ctx.request_context.lifespan_context)


def cache_report(state: Any) -> CacheStats:
    """The figures of ``cache_stats`` and of the ``cache://stats`` resource."""
    report = state.background.analytics.report()
    return CacheStats(
        stats=state.cache.stats.snapshot(),
        analytics={k: v for k, v in report.items() if k != "recommendations"},
        recommendations=report["recommendations"],
    )


def register(mcp: MCPServer, current_state: Callable[[], Any]) -> None:
    """Register the tools; ``current_state`` gives the AppState to the static resource, which the
    SDK calls without a Context."""
    mcp.tool(annotations=_LOCAL)(service_status)
    mcp.tool(annotations=_LOCAL)(cache_stats)

    @mcp.resource("cache://stats", name="cache_stats", mime_type="application/json")
    async def stats_resource() -> str:
        """Cache statistics as JSON (the same figures as the cache_stats tool)."""
        return cache_report(current_state()).model_dump_json()
