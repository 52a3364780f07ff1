"""Prometheus text format 0.0.4: checked by a strict parser of our own, then by value."""

from __future__ import annotations

import math
import re

from cache.backends.memory import MemoryBackend
from cache.coordination.shared_store import MemoryStore
from cache.coordination.tunables import Tunables
from cache.engine.tiered import TieredCache
from cache.observe.analytics import Analytics
from cache.observe.prometheus import CONTENT_TYPE, render_metrics
from cache.policy import CachePolicy
from cache.warming.refresh_ahead import RefreshAhead
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory
from tests.support.faults import LoaderSpy

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"({NAME})(?:\{{({LABEL}(?:,{LABEL})*)\}})? (\S+)")
VALUE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|Inf)|NaN")
TYPES = {"counter", "gauge", "summary", "histogram", "untyped"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> tuple[dict[str, str], Samples]:
    """Family types and samples; raises AssertionError on anything format 0.0.4 does not allow."""
    assert text.endswith("\n") and "\n\n" not in text
    types: dict[str, str] = {}
    samples: Samples = {}
    family: str | None = None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            assert re.fullmatch(NAME, name) and name not in types, line
            family = name
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name == family and kind in TYPES and name not in types, line
            types[name] = kind
        else:
            match = SAMPLE.fullmatch(line)
            assert match is not None, f"malformed sample line: {line!r}"
            name, labels, value = match.groups()
            allowed = {family, f"{family}_sum", f"{family}_count"} if types.get(family) == "summary" else {family}
            assert family in types and name in allowed, f"sample outside its family: {line!r}"
            assert VALUE.fullmatch(value), line
            pairs = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels or ""))
            assert (name, pairs) not in samples, f"duplicate sample: {line!r}"
            samples[(name, pairs)] = float(value.replace("Inf", "inf"))
    return types, samples


def get(samples: Samples, name: str, **labels: str) -> float:
    return samples[("trialstock_cache_" + name, frozenset(labels.items()))]


async def test_the_exposition_parses_and_carries_the_numbers(clock: ManualClock, make_cache: CacheFactory) -> None:
    lower = MemoryBackend(clock=clock)
    cache = make_cache(sqlite=lower)
    policy = CachePolicy("trials.search", fresh_ttl=60.0, stale_ttl=600.0)
    analytics = Analytics(cache, clock=clock, windows=(60.0,))  # marks the counters before the traffic
    for _ in range(3):
        await cache.get_or_fetch("trials.search:v1:a", LoaderSpy("v"), policy)
    await cache.invalidate_keys("trials.search:v1:a", tiers=("memory",))
    await cache.get_or_fetch("trials.search:v1:a", LoaderSpy("v"), policy)  # answered by sqlite
    ahead = RefreshAhead(cache, Tunables(MemoryStore(), clock=clock), clock=clock)
    await ahead.attach()
    cache.stats.add_section(
        "events", lambda: {"connected": True, "propagation_ms": {"p50": 1.5, "p99": None}, "channel": "x"}
    )

    text = render_metrics(cache, analytics)
    types, samples = parse(text)

    assert CONTENT_TYPE == "text/plain; version=0.0.4; charset=utf-8"
    assert types["trialstock_cache_hits_total"] == "counter"
    assert get(samples, "hits_total", tier="memory", namespace="trials.search") == 2
    assert get(samples, "hits_total", tier="sqlite", namespace="trials.search") == 1
    assert get(samples, "misses_total", namespace="trials.search") == 1
    assert get(samples, "tier_lookups_total", tier="sqlite", result="hit") == 1
    assert get(samples, "tier_failures_total", tier="sqlite", kind="timeout") == 0
    assert get(samples, "tier_up", tier="sqlite") == 1
    assert types["trialstock_cache_tier_latency_seconds"] == "summary"
    assert get(samples, "tier_latency_seconds_count", tier="sqlite") == 2
    assert get(samples, "tier_latency_seconds", tier="sqlite", quantile="0.99") >= 0
    assert get(samples, "memory_entries") == 1
    assert get(samples, "hit_ratio", namespace="trials.search", window="1m") == 0.75
    assert get(samples, "refresh_ahead_cutoff_seconds") == 0.5
    assert get(samples, "refresh_ahead_total", outcome="failed") == 0
    assert get(samples, "events_connected") == 1 and get(samples, "events_propagation_ms_p50") == 1.5
    assert ("trialstock_cache_events_propagation_ms_p99", frozenset()) not in samples  # None is left out
    await ahead.aclose()
    await cache.aclose()


async def test_label_values_are_escaped_and_infinities_spelled_out(cache: TieredCache, clock: ManualClock) -> None:
    odd = 'we"ird\\ns'
    await cache.get_or_fetch(f"{odd}:v1:k", LoaderSpy(1), CachePolicy("plain", 10, 10))
    tunables = Tunables(MemoryStore(), clock=clock)
    await tunables.set_cost_cutoff(math.inf)
    ahead = RefreshAhead(cache, tunables, clock=clock)
    await ahead.attach()
    text = render_metrics(cache)
    assert 'namespace="we\\"ird\\\\ns"' in text
    assert "trialstock_cache_refresh_ahead_cutoff_seconds +Inf" in text
    _, samples = parse(text)
    assert get(samples, "misses_total", namespace='we\\"ird\\\\ns') == 1
    await ahead.aclose()


def test_the_parser_rejects_what_the_format_forbids() -> None:
    bad = [
        "trialstock_cache_x 1\n",  # a sample before its TYPE
        "# HELP a h\n# TYPE a counter\na{l=unquoted} 1\n",
        "# HELP a h\n# TYPE a counter\na 1\n# HELP a h\n# TYPE a counter\n",
        "# HELP a h\n# TYPE a counter\nb 1\n",
        "# HELP a h\n# TYPE a counter\na one\n",
    ]
    for text in bad:
        try:
            parse(text)
        except AssertionError:
            continue
        raise AssertionError(f"accepted: {text!r}")
