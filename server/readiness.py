"""Readiness: may a load balancer send this process traffic now? (``GET /readyz``)

Not ready while a configured cache tier does not answer its ping (for Redis a real write and
read), or while every upstream's circuit breaker is open (no tool could reach anything). One
upstream down is not a reason: the other domains still answer, and stale values are served.
Liveness is ``/healthz``, which checks nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tools.http.health import UpstreamHealth


@dataclass(frozen=True)
class Readiness:
    ready: bool
    body: dict[str, Any]


def readiness(pings: Mapping[str, bool], upstreams: Iterable[UpstreamHealth]) -> Readiness:
    """The verdict and the JSON body: ``ready``, each tier's answer, each upstream's circuit
    state, and ``reasons`` (empty when ready)."""
    circuits = {health.name: health.state for health in upstreams}
    reasons = [f"cache tier {name} does not answer" for name, ok in pings.items() if not ok]
    if circuits and all(state == "open" for state in circuits.values()):
        reasons.append("every upstream's circuit breaker is open")
    ready = not reasons
    return Readiness(ready, {"ready": ready, "tiers": dict(pings), "upstreams": circuits, "reasons": reasons})
