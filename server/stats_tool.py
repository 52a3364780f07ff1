"""The ``cache_stats`` tool: a bounded view of the cache statistics and analytics.

The full report (every window of every namespace, the ``cache://stats`` resource) grows with
the number of namespaces; this view stays within :data:`tools.budget.RECORD_BUDGET` whatever
that number. Fixed-size parts (tiers, totals, windows, component sections, cache-wide advice)
come whole; ``namespaces`` is a page of one entry per namespace (lifetime counters, the
longest window's rate and the advice about that namespace), cut to fit with a :class:`Cut`
whose ``next`` (``offset``) fetches the following entries.
"""

# No ``from __future__ import annotations`` here: the SDK reads these functions' annotations when
# it registers them, and real objects spare it evaluating strings (typing.get_type_hints, per
# function) at start-up.

from typing import Annotated, Any

from pydantic import Field, JsonValue

from cache.observe import Figures, Recommendation, Views, recommend, window_label
from tools.budget import RECORD_BUDGET, Cut, Cuts, Truncated, fit, json_size
from tools.compact import Compact
from tools.errors import InvalidInput, translate_errors
from tools.registry import ToolContext, services_of
from tools.services import Services

KNOWN_SHOWN = 20
"""How many namespace names an unknown-namespace error lists at most."""

_CUT_RESERVE = 512
"""Bytes kept for ``truncated`` and the cut record when fitting the page."""


class NamespaceFigures(Compact):
    name: str
    hits: int
    misses: int
    hit_rate: float | None = None
    stale_serves: int
    stale_on_error: int
    coalesced: int
    loader_calls: int
    loader_errors: int
    time_saved: float = Field(description="Loader seconds the cache saved.")
    load_seconds: float
    efficiency: float | None = Field(None, description="time_saved / (time_saved + load_seconds).")
    window: str = Field(description="The window of window_requests and window_hit_rate, e.g. '1h'.")
    window_requests: int
    window_hit_rate: float | None = None
    advice: list[str] | None = Field(None, description="Recommendations about this namespace.")


class CacheStats(Compact):
    tiers: dict[str, dict[str, Any]] = Field(description="Per tier: hits, misses, errors, latency, gauges.")
    totals: dict[str, Any] = Field(description="All namespaces added up since start.")
    windows: dict[str, dict[str, Any]] = Field(description="Whole-cache figures over 1m, 15m, 1h.")
    sections: dict[str, Any] = Field(description="Component figures: refresh_ahead, events, scheduler.")
    recommendations: list[str] = Field(description="Cache-wide advice; per-namespace advice is in namespaces.")
    namespaces: list[NamespaceFigures]
    namespaces_total: int = Field(description="Namespaces matching the filter.")
    truncated: Truncated = None
    cuts: Cuts = None


Namespace = Annotated[str, Field(max_length=200, description="Only this namespace or those under it, e.g. 'trials'.")]
Offset = Annotated[int, Field(ge=0, description="Skip this many namespaces (see cuts).")]


@translate_errors
async def cache_stats(ctx: ToolContext, namespace: Namespace = "", offset: Offset = 0) -> CacheStats:
    """Cache hit rates, misses, stale serves, errors and latency per tier, time window and namespace."""
    return cache_view(services_of(ctx), namespace.strip(), offset)


def cache_view(services: Services, namespace: str = "", offset: int = 0, budget: int = RECORD_BUDGET) -> CacheStats:
    """The bounded answer of ``cache_stats``: namespaces from ``offset``, as many as ``budget`` allows."""
    analytics = services.analytics
    snapshot = services.cache.stats.snapshot()
    counters: dict[str, dict[str, Any]] = snapshot["namespaces"]
    names = [name for name in counters if _under(name, namespace)]
    if namespace and not names:
        known = ", ".join(list(counters)[:KNOWN_SHOWN]) or "none yet"
        raise InvalidInput("namespace", f"no namespace {namespace!r} has statistics; known: {known}")
    views = analytics.views(snapshot)  # every figure from the one snapshot
    longest = analytics.windows[-1]
    hour = views.windows[longest]
    advice = recommend(hour, views.facts)
    lifetime = views.lifetime.namespaces
    label = window_label(longest)
    entries = [
        _entry(name, counters[name], lifetime.get(name, Figures()), hour.namespaces.get(name), label, advice)
        for name in names[offset:]
    ]
    view = CacheStats(
        tiers=snapshot["tiers"],
        totals=snapshot["totals"],
        windows=_windows(views),
        sections={k: v for k, v in snapshot.items() if k not in ("tiers", "namespaces", "totals")},
        recommendations=[r.message for r in advice if r.namespace is None],
        namespaces=[],
        namespaces_total=len(names),
    )
    room = budget - json_size(view) - _CUT_RESERVE
    kept = fit(entries, room) if entries else 0
    view.namespaces = entries[:kept]
    if kept < len(entries):
        following: dict[str, JsonValue] = {"offset": offset + kept, **({"namespace": namespace} if namespace else {})}
        view.truncated = True
        view.cuts = [Cut(list="namespaces", returned=kept, dropped=len(entries) - kept, next=following)]
    return view


def _under(name: str, namespace: str) -> bool:
    return not namespace or name == namespace or name.startswith(namespace + ".")


def _entry(
    name: str,
    counts: dict[str, Any],
    lifetime: Figures,
    window: Figures | None,
    label: str,
    advice: list[Recommendation],
) -> NamespaceFigures:
    window = window or Figures()
    return NamespaceFigures(
        name=name,
        **counts,
        time_saved=round(lifetime.time_saved, 4),
        load_seconds=round(lifetime.load_seconds, 4),
        efficiency=_round(lifetime.efficiency),
        window=label,
        window_requests=window.requests,
        window_hit_rate=_round(window.hit_rate),
        advice=[r.message for r in advice if r.namespace == name] or None,
    )


def _windows(views: Views) -> dict[str, dict[str, Any]]:
    windows = {}
    for seconds, window in views.windows.items():
        figures = window.total.to_dict()
        figures.update(
            covered=round(window.covered, 1),
            evicted_refetched=window.evicted_refetched,
            tier_failures=dict(window.tier_failures),
            refreshes=window.refreshes,
            refresh_failures=window.refresh_failures,
        )
        windows[window_label(seconds)] = figures
    return windows


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
