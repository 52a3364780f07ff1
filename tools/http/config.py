"""HTTP policy: the knobs of the resilient HTTP layer, as one frozen value.

The fields mirror ``server.settings.HttpSettings`` one for one, so the server builds it with
``HttpPolicy(**settings.http.model_dump())``. ``tools.http`` never imports the settings module:
the dependency runs server -> tools, and tests build a policy directly.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts, pool limits, retry caps and breaker thresholds for one upstream.

    All durations are seconds. ``max_attempts`` counts the first attempt;
    ``max_retry_time`` caps the whole retry loop (waits included); ``retry_after_cap`` is
    the longest ``Retry-After`` honoured; a breaker opens after
    ``breaker_failure_threshold`` consecutive failed calls and lets one probe through
    ``breaker_recovery_time`` seconds later.
    """

    timeout: float = 15.0
    connect_timeout: float = 5.0
    pool_timeout: float = 5.0
    max_connections: int = 20
    max_keepalive: int = 10
    max_attempts: int = 3
    max_retry_time: float = 30.0
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    retry_after_cap: float = 20.0
    breaker_failure_threshold: int = 5
    breaker_recovery_time: float = 30.0
