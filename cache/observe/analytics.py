"""Cache analytics: hit rates over time windows, time saved, efficiency, recommendations.

Definitions (per namespace and in total, over a window or the whole life of the process):

- requests = hits + misses; hit rate = hits / requests (a stale serve is a hit);
- time saved = the sum of the ``fetch_cost`` of every entry served from the cache: the loader
  (upstream) seconds those requests would have cost without it;
- time spent loading = seconds spent in loader runs, refreshes (ahead or behind) included;
- **efficiency = time saved / (time saved + time spent loading)**: the share of the loader time
  the demand called for that the cache absorbed. 1.0 means nothing had to be loaded, 0.5 that
  the cache saved as much upstream time as it spent, None that nothing happened. Refresh-ahead
  lowers it a little (it loads before anyone asks) in exchange for no caller ever waiting.

Windows (default 1 min, 15 min, 1 h) are differences between the live cumulative counters and
a mark of them taken earlier. Marks are taken by :meth:`Analytics.tick` at most every
``mark_every`` seconds (call it from a timer; every report calls it too) and kept for the
longest window: the hot path only increments counters that already exist. A window starts at
the mark nearest to its nominal start and reports the span it really ``covered`` (shorter
while the process is young; otherwise within about ``mark_every`` of the window when marks are
taken regularly).

Recommendations are plain sentences derived from the longest window by
:func:`cache.observe.recommendations.recommend`.
"""

from __future__ import annotations

import functools
import math
import operator
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cache.engine.stats import NamespaceCounters
from cache.engine.tiered import TieredCache
from cache.observe.recommendations import Facts, recommend

NS_FIELDS = (
    "hits",
    "misses",
    "stale_serves",
    "refreshed_ahead",
    "loader_calls",
    "loader_errors",
    "time_saved",
    "load_seconds",
)
_ZERO = (0.0,) * len(NS_FIELDS)


class Figures(NamedTuple):
    """The counts of one namespace (or the total) over a span. A named tuple: a report builds
    one per namespace and window (~40 per ``cache_stats`` call), and a frozen dataclass cost
    several times as much to build."""

    hits: int = 0
    misses: int = 0
    stale_serves: int = 0
    refreshed_ahead: int = 0
    loader_calls: int = 0
    loader_errors: int = 0
    time_saved: float = 0.0
    load_seconds: float = 0.0
    fresh_ttl: float | None = None
    max_fetch_cost: float = 0.0

    @property
    def requests(self) -> int:
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float | None:
        return self.hits / self.requests if self.requests else None

    @property
    def efficiency(self) -> float | None:
        spent = self.time_saved + self.load_seconds
        return self.time_saved / spent if spent > 0 else None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: _round(getattr(self, name)) for name in NS_FIELDS}
        data.update(requests=self.requests, hit_rate=_round(self.hit_rate), efficiency=_round(self.efficiency))
        return data


@dataclass(frozen=True)
class Window:
    """What happened over ``covered`` seconds (asked for: ``seconds``)."""

    seconds: float
    covered: float
    namespaces: dict[str, Figures] = field(default_factory=dict)
    evicted_refetched: int = 0  # live memory entries dropped, then asked for again
    tier_failures: dict[str, int] = field(default_factory=dict)  # errors + timeouts per lower tier
    refreshes: int = 0  # refresh-ahead runs that stored a value
    refresh_failures: int = 0

    @functools.cached_property
    def total(self) -> Figures:
        if not self.namespaces:
            return Figures()
        columns = dict(zip(Figures._fields, zip(*self.namespaces.values(), strict=True), strict=True))
        sums = {name: sum(columns[name]) for name in NS_FIELDS}
        return Figures(**sums, max_fetch_cost=max(columns["max_fetch_cost"]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "covered": round(self.covered, 1),
            **self.total.to_dict(),
            "evicted_refetched": self.evicted_refetched,
            "tier_failures": dict(self.tier_failures),
            "refreshes": self.refreshes,
            "refresh_failures": self.refresh_failures,
            "namespaces": {name: f.to_dict() for name, f in sorted(self.namespaces.items())},
        }


@dataclass(frozen=True)
class _Mark:
    at: float
    namespaces: dict[str, tuple[float, ...]]
    flat: dict[str, float]


@dataclass(frozen=True)
class Views:
    """Every window (by its length, shortest first), the lifetime figures and the facts, all
    read from one reading of the counters (:meth:`Analytics.views`)."""

    windows: dict[float, Window]
    lifetime: Window
    facts: Facts


class Analytics:
    """Windows and recommendations over ``cache``'s statistics (see module doc)."""

    def __init__(
        self,
        cache: TieredCache,
        *,
        clock: Callable[[], float] = time.time,
        windows: Sequence[float] = (60.0, 900.0, 3600.0),
        mark_every: float = 60.0,
    ) -> None:
        if not windows or min(windows) <= 0 or mark_every <= 0:
            raise ValueError("windows and mark_every must be positive")
        self._cache = cache
        self._clock = clock
        self.windows = tuple(sorted(windows))
        self._mark_every = mark_every
        self._marks: deque[_Mark] = deque(maxlen=math.ceil(self.windows[-1] / mark_every) + 2)
        self._marks.append(self._take())

    def tick(self) -> None:
        """Take a mark if the last one is at least ``mark_every`` seconds old."""
        if self._clock() - self._marks[-1].at >= self._mark_every:
            self._marks.append(self._take())

    def window(self, seconds: float) -> Window:
        """The figures of the last ``seconds`` (as far back as the marks reach)."""
        now = self._now()
        return self._window(seconds, now, self._cache.stats.namespace_counters())

    def lifetime(self) -> Window:
        return _difference(math.inf, _BIRTH, self._take(), self._cache.stats.namespace_counters())

    def facts(self) -> Facts:
        return self._facts(self._cache.stats.snapshot())

    def views(self, snapshot: Mapping[str, Any] | None = None) -> Views:
        """Every window, the lifetime figures and the facts from ONE statistics snapshot
        (``snapshot``: the ``cache.stats.snapshot()`` the caller already took, if any). A report
        wants them together; read one by one, each would take a snapshot of its own."""
        snapshot = self._cache.stats.snapshot() if snapshot is None else snapshot
        now = self._now(snapshot)
        live = self._cache.stats.namespace_counters()
        windows = {seconds: self._window(seconds, now, live) for seconds in self.windows}
        return Views(windows, _difference(math.inf, _BIRTH, now, live), self._facts(snapshot))

    def report(self) -> dict[str, Any]:
        """JSON-able: every window, the lifetime figures and the recommendations."""
        views = self.views()
        longest = views.windows[self.windows[-1]]
        return {
            "efficiency_definition": "time saved / (time saved + time spent loading)",
            "windows": {window_label(seconds): w.to_dict() for seconds, w in views.windows.items()},
            "lifetime": {k: v for k, v in views.lifetime.to_dict().items() if k not in ("seconds", "covered")},
            "recommendations": [r.message for r in recommend(longest, views.facts)],
        }

    def _now(self, snapshot: Mapping[str, Any] | None = None) -> _Mark:
        """A mark of the counters now, kept as the next mark when one is due (as :meth:`tick`)."""
        now = self._take(snapshot)
        if now.at - self._marks[-1].at >= self._mark_every:
            self._marks.append(now)
        return now

    def _window(self, seconds: float, now: _Mark, live: Mapping[str, NamespaceCounters]) -> Window:
        start = now.at - seconds
        base = min(self._marks, key=lambda mark: abs(mark.at - start))  # the nearest bucket boundary
        return _difference(seconds, base, now, live)

    def _facts(self, snapshot: Mapping[str, Any]) -> Facts:
        memory = self._cache.memory
        section = snapshot.get("refresh_ahead") or {}
        cutoff = section.get("cutoff") if section else None
        return Facts(
            memory.max_bytes,
            memory.max_entries,
            len(memory),
            refresh_cutoff=cutoff,
            refresh_tracked=section.get("tracked", 0),
        )

    def _take(self, snapshot: Mapping[str, Any] | None = None) -> _Mark:
        stats = self._cache.stats
        namespaces = {
            name: tuple(float(getattr(c, f)) for f in NS_FIELDS) for name, c in stats.namespace_counters().items()
        }
        flat: dict[str, float] = {}
        for name, tier in stats.tier_counters().items():
            flat[f"tier:{name}"] = float(tier.errors + tier.timeouts)
        snapshot_memory = stats.snapshot() if snapshot is None else snapshot
        flat["evicted_refetched"] = float(snapshot_memory["tiers"].get("memory", {}).get("evicted_refetched", 0))
        refresh = snapshot_memory.get("refresh_ahead") or {}
        flat["refreshes"] = float(refresh.get("refreshed", 0))
        flat["refresh_failures"] = float(refresh.get("failed", 0))
        return _Mark(self._clock(), namespaces, flat)


_BIRTH = _Mark(-math.inf, {}, {})  # the base of the lifetime figures


def _difference(seconds: float, base: _Mark, now: _Mark, live: Mapping[str, NamespaceCounters]) -> Window:
    namespaces = {}
    for name, current in now.namespaces.items():
        delta = tuple(map(operator.sub, current, base.namespaces.get(name, _ZERO)))
        if min(delta) < 0:  # a counter went down: the counters were reset meanwhile
            delta = current
        hits, misses, stale_serves, refreshed_ahead, loader_calls, loader_errors, time_saved, load_seconds = delta
        counters = live.get(name)
        namespaces[name] = Figures(
            hits=int(hits),
            misses=int(misses),
            stale_serves=int(stale_serves),
            refreshed_ahead=int(refreshed_ahead),
            loader_calls=int(loader_calls),
            loader_errors=int(loader_errors),
            time_saved=time_saved,
            load_seconds=load_seconds,
            fresh_ttl=None if counters is None else counters.fresh_ttl,
            max_fetch_cost=0.0 if counters is None else counters.max_fetch_cost,
        )

    def grew(key: str) -> int:
        return int(max(0.0, now.flat.get(key, 0.0) - base.flat.get(key, 0.0)))

    tiers = {key[5:]: grew(key) for key in now.flat if key.startswith("tier:") and key != "tier:memory"}
    covered = now.at - base.at if math.isfinite(base.at) else math.inf
    return Window(
        seconds, covered, namespaces, grew("evicted_refetched"), tiers, grew("refreshes"), grew("refresh_failures")
    )


def window_label(seconds: float) -> str:
    """A window's name in reports: '1m', '15m', '1h'."""
    if seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    return f"{seconds / 60:g}m" if seconds % 60 == 0 else f"{seconds:g}s"


def _round(value: float | None) -> float | None:
    return round(value, 4) if isinstance(value, float) else value
