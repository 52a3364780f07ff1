"""Each recommendation: numbers that produce it, and numbers just short of it that do not."""

from __future__ import annotations

from typing import Any

import pytest

from cache.observe.analytics import Figures, Window
from cache.observe.recommendations import Facts, recommend

FACTS = Facts(memory_max_bytes=64 * 2**20, memory_max_entries=10_000, memory_entries=500)


def window(namespaces: dict[str, Figures] | None = None, **fields: Any) -> Window:
    return Window(3600.0, 3600.0, namespaces or {}, **fields)


def codes(w: Window, facts: Facts = FACTS) -> list[str]:
    return [r.code for r in recommend(w, facts)]


CASES = {
    "short_ttl_low_hit_rate": (
        window({"quotes": Figures(hits=5, misses=45, fresh_ttl=60.0)}),
        window({"quotes": Figures(hits=5, misses=45, fresh_ttl=3600.0)}),  # a long TTL: not the TTL's fault
    ),
    "stale_heavy": (
        window({"trials.search": Figures(hits=40, misses=2, stale_serves=12)}),
        window({"trials.search": Figures(hits=40, misses=2, stale_serves=8)}),
    ),
    "loader_errors": (
        window({"stocks.quote": Figures(hits=1, misses=10, loader_calls=10, loader_errors=3)}),
        window({"stocks.quote": Figures(hits=1, misses=10, loader_calls=10, loader_errors=1)}),
    ),
    "memory_evicts_hot": (
        window({"ns": Figures(hits=100, misses=100)}, evicted_refetched=12),
        window({"ns": Figures(hits=100, misses=100)}, evicted_refetched=9),
    ),
    "refresh_failures": (
        window(refreshes=6, refresh_failures=4),
        window(refreshes=60, refresh_failures=4),  # under a fifth of the attempts
    ),
    "tier_failing": (
        window(tier_failures={"redis": 7, "sqlite": 0}),
        window(tier_failures={"redis": 4}),
    ),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_the_numbers_produce_the_recommendation(code: str) -> None:
    assert codes(CASES[code][0]) == [code]


@pytest.mark.parametrize("code", sorted(CASES))
def test_numbers_short_of_it_do_not(code: str) -> None:
    assert codes(CASES[code][1]) == []


def test_a_cutoff_above_every_cost_is_reported_only_when_nothing_is_tracked() -> None:
    loads = window({"trials.search": Figures(hits=10, misses=5, loader_calls=5, max_fetch_cost=0.8)})
    above = Facts(64 * 2**20, 10_000, 10, refresh_cutoff=2.0, refresh_tracked=0)
    assert codes(loads, above) == ["cutoff_above_every_cost"]
    (message,) = [r.message for r in recommend(loads, above)]
    assert message.startswith("refresh-ahead cutoff (2 s) is above every key's fetch cost (slowest load 0.8 s)")
    assert message.endswith("lower it with `trialstock-mcp cache cutoff 0.4`")  # the command, not an attribute
    assert codes(loads, Facts(64 * 2**20, 10_000, 10, refresh_cutoff=0.5, refresh_tracked=0)) == []
    assert codes(loads, Facts(64 * 2**20, 10_000, 10, refresh_cutoff=2.0, refresh_tracked=3)) == []
    assert codes(loads, FACTS) == []  # refresh-ahead not running


def test_messages_name_the_namespace_the_numbers_and_the_setting() -> None:
    (ttl,) = recommend(CASES["short_ttl_low_hit_rate"][0], FACTS)
    assert ttl.message == (
        "namespace quotes: hit rate 10% over the last 1 h with a fresh TTL of 60 s - consider a longer TTL"
    )
    (memory,) = recommend(CASES["memory_evicts_hot"][0], FACTS)
    assert memory.message == (
        "memory tier evicted 12 entries over the last 1 h that were asked for again "
        "- raise TRIALSTOCK_CACHE__MEMORY_MAX_BYTES (now 64 MiB)"
    )
    full = Facts(memory_max_bytes=64 * 2**20, memory_max_entries=1000, memory_entries=1000)
    (entries,) = recommend(CASES["memory_evicts_hot"][0], full)
    assert "raise TRIALSTOCK_CACHE__MEMORY_MAX_ENTRIES (now 1000 entries)" in entries.message


def test_too_few_requests_give_no_advice() -> None:
    assert codes(window({"quotes": Figures(hits=1, misses=9, fresh_ttl=60.0)})) == []
