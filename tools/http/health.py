"""``UpstreamHealth``: how one upstream looks from this process, the one record of that fact.

The circuit breaker fills the circuit fields; the ``UpstreamClient`` adds what only it sees
(its base URL, the HTTP requests it sent, retries included, its rate limiter's queue and the
calls it turned away, the retries its budget refused). ``service_status`` publishes
it as is, under its wire names (:class:`server.status.UpstreamState`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CircuitState = Literal["closed", "open", "half_open"]


@dataclass(frozen=True)
class UpstreamHealth:
    """A snapshot. ``retry_in`` is seconds until an open circuit lets a probe through (open
    state only); ``opened_at`` is the breaker clock's reading when the circuit last opened."""

    name: str
    state: CircuitState
    consecutive_failures: int
    total_failures: int
    last_error: str | None
    opened_at: float | None
    retry_in: float | None
    base_url: str = ""
    total_requests: int = 0
    queued: int = 0
    shed_total: int = 0
    retries_denied_total: int = 0
