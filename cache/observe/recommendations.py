"""Plain-language advice derived from one analytics window: what to change and how.

Each :class:`Recommendation` has a stable ``code`` (for tests and dashboards) and a message
that names the figures it is based on and the setting or command that acts on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cache.observe.analytics import Window


@dataclass(frozen=True)
class Facts:
    """Configuration and state the recommendations refer to."""

    memory_max_bytes: int
    memory_max_entries: int
    memory_entries: int
    refresh_cutoff: float | None = None  # None: refresh-ahead not running
    refresh_tracked: int = 0


@dataclass(frozen=True)
class Recommendation:
    code: str
    message: str
    namespace: str | None = None
    """The namespace the advice is about; None for advice about a tier or the whole cache."""


def recommend(window: Window, facts: Facts, *, min_requests: int = 20) -> list[Recommendation]:
    """Plain-language advice from the figures of ``window`` and the ``facts``."""
    span = _span(window.covered)
    advice: list[Recommendation] = []
    for name, f in sorted(window.namespaces.items()):
        rate = f.hit_rate
        if f.requests >= min_requests and rate is not None and rate < 0.3 and (f.fresh_ttl or math.inf) <= 300:
            advice.append(
                Recommendation(
                    "short_ttl_low_hit_rate",
                    (
                        f"namespace {name}: hit rate {rate:.0%} over {span} with a fresh TTL of {f.fresh_ttl:g} s "
                        "- consider a longer TTL"
                    ),
                    name,
                )
            )
        if f.hits >= min_requests and f.stale_serves / f.hits >= 0.25:
            advice.append(
                Recommendation(
                    "stale_heavy",
                    (
                        f"namespace {name}: {f.stale_serves / f.hits:.0%} of hits over {span} were served stale "
                        "- a longer fresh TTL, or a refresh-ahead cutoff below its fetch cost "
                        f"(trialstock-mcp cache cutoff {_below(f.max_fetch_cost)}), keeps them fresh"
                    ),
                    name,
                )
            )
        if f.loader_calls >= 5 and f.loader_errors / f.loader_calls >= 0.2:
            advice.append(
                Recommendation(
                    "loader_errors",
                    (
                        f"namespace {name}: {f.loader_errors} of {f.loader_calls} loads failed over {span} "
                        "- the upstream is in trouble; stale values are served where the cache has them"
                    ),
                    name,
                )
            )
    total = window.total
    if window.evicted_refetched >= max(10, 0.02 * total.requests):
        setting, now = (
            ("TRIALSTOCK_CACHE__MEMORY_MAX_ENTRIES", f"{facts.memory_max_entries} entries")
            if facts.memory_entries >= 0.95 * facts.memory_max_entries
            else ("TRIALSTOCK_CACHE__MEMORY_MAX_BYTES", f"{facts.memory_max_bytes / 2**20:g} MiB")
        )
        advice.append(
            Recommendation(
                "memory_evicts_hot",
                (
                    f"memory tier evicted {window.evicted_refetched} entries over {span} that were asked for again "
                    f"- raise {setting} (now {now})"
                ),
            )
        )
    cutoff = facts.refresh_cutoff
    if cutoff is not None and facts.refresh_tracked == 0 and total.loader_calls > 0 and total.max_fetch_cost <= cutoff:
        advice.append(
            Recommendation(
                "cutoff_above_every_cost",
                (
                    f"refresh-ahead cutoff ({cutoff:g} s) is above every key's fetch cost (slowest load "
                    f"{total.max_fetch_cost:.3g} s): nothing is refreshed ahead - lower it with "
                    f"`trialstock-mcp cache cutoff {_below(total.max_fetch_cost)}`"
                ),
            )
        )
    tried = window.refreshes + window.refresh_failures
    if window.refresh_failures >= 3 and window.refresh_failures / tried >= 0.2:
        advice.append(
            Recommendation(
                "refresh_failures",
                (
                    f"refresh-ahead: {window.refresh_failures} of {tried} refreshes failed over {span} "
                    "- check the upstream; those keys fall back to stale-while-revalidate"
                ),
            )
        )
    for tier, failures in sorted(window.tier_failures.items()):
        if failures >= 5:
            advice.append(
                Recommendation(
                    "tier_failing",
                    (
                        f"tier {tier} failed {failures} times over {span} (errors and timeouts); requests fell "
                        "through to the next tier - check it"
                    ),
                )
            )
    return advice


def _below(cost: float) -> str:
    """A cutoff that takes a key costing ``cost`` seconds: half of it, rounded for a person."""
    return f"{cost / 2:.2g}"


def _span(covered: float) -> str:
    if math.isinf(covered):
        return "the life of the process"
    return "the last " + (f"{covered / 3600:.3g} h" if covered >= 3600 else f"{covered / 60:.3g} min")
