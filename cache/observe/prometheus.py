"""The cache statistics and analytics as Prometheus text exposition format 0.0.4.

Serve :func:`render_metrics` with :data:`CONTENT_TYPE`. Families (all prefixed ``trialstock_cache_``):

- counters per namespace: ``hits_total{tier,namespace}`` (memory hits = hits not answered by a
  lower tier), ``misses_total``, ``stale_serves_total``, ``stale_on_error_total``,
  ``coalesced_total``, ``loader_calls_total``, ``loader_errors_total``,
  ``loader_seconds_total``, ``time_saved_seconds_total``, ``refreshed_ahead_total``;
- per tier: ``tier_lookups_total{tier,result}``, ``tier_failures_total{tier,kind}``,
  ``tier_writes_total``, ``tier_up`` (1 while the tier is in use), for tiers that queue their
  writes (SQLite) ``tier_writes_dropped_total`` (queue full) and ``tier_write_queue`` (waiting now), the summary
  ``tier_latency_seconds{tier,quantile}`` with ``_sum`` and ``_count`` (over the sampled lookups);
- memory: ``memory_entries``, ``memory_bytes``, ``memory_evictions_total``,
  ``memory_evicted_refetched_total``;
- with analytics: ``hit_ratio{namespace,window}`` and ``efficiency{window}`` gauges;
- refresh-ahead (when attached): ``refresh_ahead_total{outcome}``, ``refresh_ahead_tracked_keys``,
  ``refresh_ahead_running``, ``refresh_ahead_cutoff_seconds`` (+Inf when off);
- any other statistics section (e.g. the event bus): its numeric fields as untyped samples
  named ``<section>_<field>`` (nested fields joined with ``_``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from cache.engine.tiered import TieredCache
from cache.observe.analytics import Analytics

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "trialstock_cache_"
_NS_COUNTERS = (
    ("misses", "misses_total", "Reads that waited for the loader."),
    ("stale_serves", "stale_serves_total", "Hits served stale while a refresh ran behind."),
    ("stale_on_error", "stale_on_error_total", "Stale values served because the loader failed."),
    ("coalesced", "coalesced_total", "Misses that joined a load already running."),
    ("loader_calls", "loader_calls_total", "Loader runs."),
    ("loader_errors", "loader_errors_total", "Loader runs that failed."),
    ("load_seconds", "loader_seconds_total", "Seconds spent in loader runs."),
    ("time_saved", "time_saved_seconds_total", "Loader seconds avoided by serving from the cache."),
    ("refreshed_ahead", "refreshed_ahead_total", "Refresh-ahead recomputes."),
)
_FAILURES = ("errors", "timeouts", "skips", "decode_errors")
_QUANTILES = (0.5, 0.9, 0.99)
_BUILT_IN = {"tiers", "namespaces", "totals", "refresh_ahead"}


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(
        self, name: str, kind: str, help_text: str, samples: Iterable[tuple[str, Mapping[str, str], float]]
    ) -> None:
        rows = list(samples)
        if not rows:
            return
        self.lines.append(f"# HELP {PREFIX}{name} {_escape_help(help_text)}")
        self.lines.append(f"# TYPE {PREFIX}{name} {kind}")
        for suffix, labels, value in rows:
            self.lines.append(f"{PREFIX}{name}{suffix}{_labels(labels)} {_value(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def render_metrics(cache: TieredCache, analytics: Analytics | None = None) -> str:
    """The exposition text of ``cache``'s statistics (and ``analytics`` windows when given)."""
    out = _Writer()
    snapshot = cache.stats.snapshot()
    _namespaces(out, cache)
    _tiers(out, cache, snapshot["tiers"])
    if analytics is not None:
        _windows(out, analytics)
    refresh = snapshot.get("refresh_ahead")
    if isinstance(refresh, Mapping):
        _refresh_ahead(out, refresh)
    for section, data in sorted(snapshot.items()):
        if section not in _BUILT_IN:
            flat = dict(_numbers(_name(section), data))
            for name, value in sorted(flat.items()):
                out.family(name, "untyped", f"{section} statistic", [("", {}, value)])
    return out.text()


def _namespaces(out: _Writer, cache: TieredCache) -> None:
    counters = sorted(cache.stats.namespace_counters().items())
    tiers = cache.tiers()
    hits = []
    for ns, c in counters:
        lower = {"redis": c.redis_hits, "sqlite": c.sqlite_hits}
        for tier in tiers:
            value = lower.get(tier, max(0, c.hits - c.redis_hits - c.sqlite_hits))
            hits.append(("", {"tier": tier, "namespace": ns}, value))
    out.family("hits_total", "counter", "Reads answered from the cache, by answering tier.", hits)
    for attribute, name, help_text in _NS_COUNTERS:
        out.family(name, "counter", help_text, [("", {"namespace": ns}, getattr(c, attribute)) for ns, c in counters])


def _tiers(out: _Writer, cache: TieredCache, tiers: Mapping[str, Mapping[str, Any]]) -> None:
    live = sorted(cache.stats.tier_counters().items())
    out.family(
        "tier_lookups_total",
        "counter",
        "Lookups in each tier by result.",
        [
            ("", {"tier": t, "result": result}, value)
            for t, c in live
            for result, value in (("hit", c.hits), ("miss", c.misses))
        ],
    )
    out.family(
        "tier_failures_total",
        "counter",
        "Tier calls that failed, timed out, were skipped or undecodable.",
        [("", {"tier": t, "kind": kind.rstrip("s")}, getattr(c, kind)) for t, c in live for kind in _FAILURES],
    )
    out.family(
        "tier_writes_total", "counter", "Entries written to each tier.", [("", {"tier": t}, c.writes) for t, c in live]
    )
    for gauge, name, kind, help_text in (
        (
            "dropped_writes",
            "tier_writes_dropped_total",
            "counter",
            "Writes dropped because the tier's write queue was full.",
        ),
        ("queued_writes", "tier_write_queue", "gauge", "Writes waiting in the tier's write queue."),
    ):
        values = [(t, data.get(gauge)) for t, data in sorted(tiers.items())]
        out.family(name, kind, help_text, [("", {"tier": t}, v) for t, v in values if isinstance(v, int)])
    states = cache.tier_states()
    out.family(
        "tier_up",
        "gauge",
        "1 while the tier is in use, 0 while its breaker skips it.",
        [("", {"tier": t}, 1 if t == "memory" or states.get(t) == "closed" else 0) for t in cache.tiers()],
    )
    latency = []
    for tier, c in live:
        if c.latency.count:
            latency += [("", {"tier": tier, "quantile": f"{q:g}"}, c.latency.percentile(q) or 0.0) for q in _QUANTILES]
            latency += [("_sum", {"tier": tier}, c.latency.total), ("_count", {"tier": tier}, c.latency.count)]
    out.family("tier_latency_seconds", "summary", "Seconds per tier lookup (sampled).", latency)
    memory = tiers.get("memory", {})
    for key, name, kind, help_text in (
        ("entries", "memory_entries", "gauge", "Entries in the memory tier."),
        ("bytes", "memory_bytes", "gauge", "Bytes held by the memory tier."),
        ("evictions", "memory_evictions_total", "counter", "Memory tier evictions."),
        (
            "evicted_refetched",
            "memory_evicted_refetched_total",
            "counter",
            "Live entries evicted from memory and asked for again.",
        ),
    ):
        if isinstance(memory.get(key), (int, float)):
            out.family(name, kind, help_text, [("", {}, memory[key])])


def _windows(out: _Writer, analytics: Analytics) -> None:
    ratios, efficiency = [], []
    for label, window in analytics.report()["windows"].items():
        ratios += [
            ("", {"namespace": ns, "window": label}, f["hit_rate"])
            for ns, f in window["namespaces"].items()
            if f["hit_rate"] is not None
        ]
        if window["efficiency"] is not None:
            efficiency.append(("", {"window": label}, window["efficiency"]))
    out.family("hit_ratio", "gauge", "Hits / (hits + misses) over the window.", ratios)
    out.family("efficiency", "gauge", "Time saved / (time saved + time spent loading) over the window.", efficiency)


def _refresh_ahead(out: _Writer, data: Mapping[str, Any]) -> None:
    outcomes = [
        ("", {"outcome": k}, v)
        for k, v in sorted(data.items())
        if k not in ("tracked", "running", "cutoff") and isinstance(v, int)
    ]
    out.family("refresh_ahead_total", "counter", "Refresh-ahead decisions by outcome.", outcomes)
    out.family("refresh_ahead_tracked_keys", "gauge", "Hot expensive keys tracked.", [("", {}, data.get("tracked", 0))])
    out.family("refresh_ahead_running", "gauge", "Refreshes running now.", [("", {}, data.get("running", 0))])
    cutoff = data.get("cutoff")
    out.family(
        "refresh_ahead_cutoff_seconds",
        "gauge",
        "Fetch cost above which hot keys are refreshed ahead.",
        [("", {}, math.inf if cutoff is None else cutoff)],
    )


def _numbers(prefix: str, data: Any) -> Iterable[tuple[str, float]]:
    if isinstance(data, bool):
        yield prefix, float(data)
    elif isinstance(data, (int, float)):
        yield prefix, data
    elif isinstance(data, Mapping):
        for key, value in data.items():
            yield from _numbers(f"{prefix}_{_name(str(key))}", value)


def _name(text: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", text)


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape_label(str(v))}"' for k, v in labels.items()) + "}"


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _value(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))
