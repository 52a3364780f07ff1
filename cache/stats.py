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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

OTHER_NAMESPACE = "_other"


class Reservoir:
    """The latest ``size`` samples (a ring buffer); percentiles computed on demand."""

    __slots__ = ("_samples", "_next", "_size", "count")

    def __init__(self, size: int = 1024) -> None:
        self._samples: list[float] = []
        self._next = 0
        self._size = size
        self.count = 0

    def add(self, value: float) -> None:
        self.count += 1
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
    __slots__ = ("hits", "misses", "stale_serves", "stale_on_error", "coalesced", "loader_calls",
                 "loader_errors")
    FIELDS = __slots__

    def __init__(self) -> None:
        self.hits = self.misses = self.stale_serves = self.stale_on_error = 0
        self.coalesced = self.loader_calls = self.loader_errors = 0

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

    def add_gauge(self, tier: str, name: str, read: Callable[[], Any]) -> None:
        """Report ``read()`` as ``tiers[tier][name]`` in every snapshot (e.g. entry counts)."""
        self.tier(tier)
        self._gauges.setdefault(tier, {})[name] = read

    def add_section(self, name: str, read: Callable[[], Any]) -> None:
        """Report ``read()`` (JSON-able) as ``snapshot()[name]``: a component's own figures
        (e.g. the event bus). Replaces a section of the same name; ValueError for a built-in key."""
        if name in ("tiers", "namespaces", "totals"):
            raise ValueError(f"{name!r} is a built-in statistics section")
        self._sections[name] = read

    def remove_section(self, name: str) -> None:
        """Stop reporting section ``name`` (no-op when absent)."""
        self._sections.pop(name, None)

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
