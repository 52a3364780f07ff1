"""HTTP policy: the knobs of the resilient HTTP layer, as one frozen value.

Owner: the HTTP layer; the defaults are written here once. The server nests the model as its
``http`` settings section (``TRIALSTOCK_HTTP__TIMEOUT`` sets :attr:`HttpPolicy.timeout`) and
hands ``settings.http`` to every upstream client; tests build a policy directly.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class HttpPolicy(BaseModel):
    """Timeouts, pool limits, retry caps and breaker thresholds for one upstream.

    All durations are seconds. ``max_attempts`` counts the first attempt;
    ``max_retry_time`` caps the whole retry loop (waits included); ``retry_after_cap`` is
    the longest ``Retry-After`` honoured; a breaker opens after
    ``breaker_failure_threshold`` consecutive failed calls and lets one probe through
    ``breaker_recovery_time`` seconds later.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    timeout: float = Field(15.0, gt=0, description="Read and write timeout per request, seconds.")
    connect_timeout: float = Field(5.0, gt=0, description="Connect timeout, seconds.")
    pool_timeout: float = Field(5.0, gt=0, description="Wait for a free pooled connection, seconds.")
    max_connections: int = Field(20, ge=1, description="Pooled connections per upstream.")
    max_keepalive: int = Field(10, ge=0, description="Idle keep-alive connections per upstream.")
    max_attempts: int = Field(3, ge=1, le=10, description="Attempts per request, the first included.")
    max_retry_time: float = Field(30.0, gt=0, description="Cap on the whole retry loop, seconds.")
    backoff_initial: float = Field(0.5, gt=0, description="First exponential backoff step, seconds.")
    backoff_max: float = Field(8.0, gt=0, description="Longest single backoff, seconds.")
    retry_after_cap: float = Field(20.0, gt=0, description="Longest Retry-After honoured, seconds.")
    breaker_failure_threshold: int = Field(5, ge=1, description="Consecutive failures that open a breaker.")
    breaker_recovery_time: float = Field(30.0, gt=0, description="Seconds an open breaker waits before a probe.")
