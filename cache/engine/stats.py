"""Cache statistics: plain integer counters per tier and per namespace, plus latency samples.

Cheap on the hot path: attribute increments on ``__slots__`` objects (no locks: the engine runs
on one event loop). A namespace is a key's prefix before the first ``:`` (see
:func:`cache.keys.make_key`); after ``max_namespaces`` distinct ones, the rest are counted under
``"_other"`` so a bad key scheme cannot grow memory without bound.

Counting rules (per namespace): every read that returned a cached value is a ``hit`` (a stale
serve is also a hit and is counted in ``stale_serves``); every read that had to wait for the
loader is a ``miss`` (``coalesced`` of them joined a fetch already running); ``loader_calls`` and
``loader_errors`` count actual loader runs; ``stale_on_error`` counts stale values served
because the loader failed.

Figures kept out of the namespace ``snapshot()`` (read by :mod:`cache.observe.analytics` and
:mod:`cache.observe.prometheus` through :meth:`CacheStats.namespace_counters`): ``time_saved`` (sum of
the ``fetch_cost`` of the entries served from cache: loader seconds avoided), ``load_seconds``
(seconds spent in loader runs, failed ones included), ``refreshed_ahead`` (refresh-ahead
recomputes), ``redis_hits`` / ``sqlite_hits`` (hits answered by a lower tier; memory hits are
``hits`` minus both), ``fresh_ttl`` (the fresh TTL of the latest load) and ``max_fetch_cost``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from cache.hooks import Unsubscribe

OTHER_NAMESPACE = "_other"


class Reservoir:
    """The latest ``size`` samples (a ring buffer); percentiles computed on demand."""

    __slots__ = ("_samples", "_next", "_size", "count", "total")

    def __init__(self, size: int = 1024) -> None:
        self._samples: list[float] = []
        self._next = 0
        self._size = size
        self.count = 0
        self.total = 0.0  # sum of every sample added (a summary's _sum)

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        if len(self._samples) < self._size:
            self._samples.append(value)
        else:
            self._samples[self._next] = value
            self._next = (self._next + 1) % self._size

    def samples(self) -> list[float]:
        """A copy of the samples held (at most ``size``, in no particular order)."""
        return list(self._samples)

    def percentile(self, fraction: float) -> float | None:
        if not self._samples:
            return None
        ordered = sorted(self._samples)
        index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
        return ordered[index]


class TierCounters:
    """Counters of one tier. ``latency`` holds seconds per lookup call to the tier."""

    __slots__ = ("hits", "misses", "errors", "timeouts", "skips", "decode_errors", "writes", "latency")
    FIELDS = ("hits", "misses", "errors", "timeouts", "skips", "decode_errors", "writes")

    def __init__(self, reservoir_size: int) -> None:
        self.hits = self.misses = self.errors = self.timeouts = 0
        self.skips = self.decode_errors = self.writes = 0
        self.latency = Reservoir(reservoir_size)

    def snapshot(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: getattr(self, name) for name in self.FIELDS}
        data["hit_rate"] = _rate(self.hits, self.hits + self.misses)
        p50, p99 = self.latency.percentile(0.5), self.latency.percentile(0.99)
        data["latency_ms"] = {
            "p50": None if p50 is None else round(p50 * 1000, 4),
            "p99": None if p99 is None else round(p99 * 1000, 4),
            "samples": self.latency.count,
        }
        return data


class NamespaceCounters:
    FIELDS = ("hits", "misses", "stale_serves", "stale_on_error", "coalesced", "loader_calls", "loader_errors")
    EXTRA = ("time_saved", "load_seconds", "refreshed_ahead", "redis_hits", "sqlite_hits")
    __slots__ = (*FIELDS, *EXTRA, "fresh_ttl", "max_fetch_cost")

    def __init__(self) -> None:
        self.hits = self.misses = self.stale_serves = self.stale_on_error = 0
        self.coalesced = self.loader_calls = self.loader_errors = 0
        self.time_saved = self.load_seconds = 0.0
        self.refreshed_ahead = self.redis_hits = self.sqlite_hits = 0
        self.fresh_ttl: float | None = None
        self.max_fetch_cost = 0.0

    def count_lower_hit(self, tier: str | None) -> None:
        """Count a hit answered by a lower tier (``tier`` of the result's meta)."""
        if tier == "redis":
            self.redis_hits += 1
        elif tier == "sqlite":
            self.sqlite_hits += 1

    def count_load(self, seconds: float, fresh_ttl: float) -> None:
        """Count the time of one loader run (failed ones too) under a policy's fresh TTL."""
        self.load_seconds += seconds
        self.fresh_ttl = fresh_ttl
        if seconds > self.max_fetch_cost:
            self.max_fetch_cost = seconds

    def snapshot(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: getattr(self, name) for name in self.FIELDS}
        data["hit_rate"] = _rate(self.hits, self.hits + self.misses)
        return data


class CacheStats:
    """All counters of one TieredCache. ``snapshot()`` is JSON-able."""

    def __init__(self, *, reservoir_size: int = 1024, max_namespaces: int = 256) -> None:
        self._reservoir_size = reservoir_size
        self._max_namespaces = max_namespaces
        self._tiers: dict[str, TierCounters] = {}
        self._namespaces: dict[str, NamespaceCounters] = {}
        self._gauges: dict[str, dict[str, Callable[[], Any]]] = {}
        self._sections: dict[str, Callable[[], Any]] = {}

    def tier(self, name: str) -> TierCounters:
        counters = self._tiers.get(name)
        if counters is None:
            counters = self._tiers[name] = TierCounters(self._reservoir_size)
        return counters

    def namespace(self, namespace: str) -> NamespaceCounters:
        counters = self._namespaces.get(namespace)
        if counters is None:
            if len(self._namespaces) >= self._max_namespaces and namespace != OTHER_NAMESPACE:
                return self.namespace(OTHER_NAMESPACE)
            counters = self._namespaces[namespace] = NamespaceCounters()
        return counters

    def for_key(self, key: str) -> NamespaceCounters:
        """Counters of the key's namespace (prefix before the first ':')."""
        counters = self._namespaces.get(key.partition(":")[0])
        return counters if counters is not None else self.namespace(key.partition(":")[0])

    def add_gauge(self, tier: str, name: str, read: Callable[[], Any]) -> Unsubscribe:
        """Report ``read()`` as ``tiers[tier][name]`` in every snapshot (e.g. entry counts) until
        the returned function is called. Replaces a gauge of the same name."""
        self.tier(tier)
        gauges = self._gauges.setdefault(tier, {})
        gauges[name] = read
        return partial(_remove_if_same, gauges, name, read)

    def gauge(self, tier: str, name: str) -> Any:
        """The current value of gauge ``name`` of ``tier``, or None when it has none."""
        read = self._gauges.get(tier, {}).get(name)
        return None if read is None else read()

    def add_section(self, name: str, read: Callable[[], Any]) -> Unsubscribe:
        """Report ``read()`` (JSON-able) as ``snapshot()[name]``: a component's own figures (e.g.
        the event bus), until the returned function is called. Replaces a section of the same
        name (whose remover then does nothing); ValueError for a built-in key."""
        if name in ("tiers", "namespaces", "totals"):
            raise ValueError(f"{name!r} is a built-in statistics section")
        self._sections[name] = read
        return partial(_remove_if_same, self._sections, name, read)

    def namespace_counters(self) -> dict[str, NamespaceCounters]:
        """The live counters per namespace (a new dict; the counter objects are shared)."""
        return dict(self._namespaces)

    def tier_counters(self) -> dict[str, TierCounters]:
        """The live counters per tier (a new dict; the counter objects are shared)."""
        return dict(self._tiers)

    def reset(self) -> None:
        """Zero every counter (gauges stay registered)."""
        self._tiers = {name: TierCounters(self._reservoir_size) for name in self._tiers}
        self._namespaces = {}

    def snapshot(self) -> dict[str, Any]:
        tiers = {}
        for name, counters in self._tiers.items():
            data = counters.snapshot()
            for gauge, read in self._gauges.get(name, {}).items():
                data[gauge] = read()
            tiers[name] = data
        namespaces = {name: c.snapshot() for name, c in sorted(self._namespaces.items())}
        totals = {field: sum(ns[field] for ns in namespaces.values()) for field in NamespaceCounters.FIELDS}
        totals["hit_rate"] = _rate(totals["hits"], totals["hits"] + totals["misses"])
        snapshot = {"tiers": tiers, "namespaces": namespaces, "totals": totals}
        for name, read in self._sections.items():
            snapshot[name] = read()
        return snapshot


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def _remove_if_same(readers: dict[str, Callable[[], Any]], name: str, read: Callable[[], Any]) -> None:
    """Drop ``readers[name]`` if it is still ``read`` (not a replacement added since)."""
    if readers.get(name) is read:
        del readers[name]


class LostEntries:
    """Counts reads of keys the memory tier dropped before their hard expiry (evictions).

    The memory tier reports each eviction (:meth:`evicted`, subscribed with
    :meth:`~cache.backends.memory.MemoryBackend.subscribe_evictions`); the engine
    calls :meth:`missed` on a memory miss and :meth:`stored` when it puts the key in memory
    again. A miss on an evicted key whose ``stale_until`` is still ahead means memory lost a live
    entry that was asked for again (``refetched``). Invalidations call :meth:`clear` so
    deliberate drops are not counted. Only evicted keys are remembered (nothing per stored
    entry), at most ``limit`` of them (oldest evictions forgotten).
    """

    __slots__ = ("_until", "_limit", "refetched")

    def __init__(self, limit: int) -> None:
        self._until: dict[str, float] = {}
        self._limit = max(1, limit)
        self.refetched = 0

    def evicted(self, key: str, stale_until: float) -> None:
        until = self._until
        until.pop(key, None)
        until[key] = stale_until
        if len(until) > self._limit:
            del until[next(iter(until))]

    def stored(self, key: str) -> None:
        if self._until:
            self._until.pop(key, None)

    def missed(self, key: str, now: float) -> None:
        if self._until:
            stale_until = self._until.pop(key, None)
            if stale_until is not None and now < stale_until:
                self.refetched += 1

    def clear(self) -> None:
        self._until.clear()
