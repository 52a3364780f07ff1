"""HTTP policy: the knobs of the resilient HTTP layer, as one frozen value.

Owner: the HTTP layer; the defaults are written here once. The server nests the model as its
``http`` settings section (``TRIALSTOCK_HTTP__TIMEOUT`` sets :attr:`HttpPolicy.timeout`) and
hands ``settings.http`` to every upstream client; tests build a policy directly.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class HttpPolicy(BaseModel):
    """Deadlines, timeouts, pool limits, retry caps and budgets, rate-limit queue and breaker
    thresholds for one upstream.

    All durations are seconds. A tool call has ``call_deadline`` seconds (a tool may declare a
    longer one); a call made outside any tool call (a background refresh) has
    ``background_deadline`` seconds. Within it, transient failures are retried while time is
    left, at most ``max_attempts`` attempts (the first included) and ``max_retry_time`` seconds
    of loop; ``retry_after_cap`` is the longest ``Retry-After`` honoured. Retries of one
    upstream are budgeted: within any ``retry_budget_window`` at most
    ``retry_budget_floor`` + ``retry_budget_ratio`` x the calls begun in it. At most
    ``rate_limit_queue`` calls wait for an upstream's rate limit. A breaker opens after
    ``breaker_failure_threshold`` consecutive failed calls and lets one probe through
    ``breaker_first_recovery`` seconds later, twice as long after each failed probe, at most
    ``breaker_recovery_time``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    call_deadline: float = Field(
        10.0, gt=0, description="Deadline of one tool call, seconds: waits, retries and requests fit inside it."
    )
    background_deadline: float = Field(
        30.0, gt=0, description="Deadline of each upstream call made outside a tool call (background refreshes)."
    )
    timeout: float = Field(15.0, gt=0, description="Read and write timeout per request, seconds.")
    connect_timeout: float = Field(5.0, gt=0, description="Connect timeout, seconds.")
    pool_timeout: float = Field(5.0, gt=0, description="Wait for a free pooled connection, seconds.")
    max_connections: int = Field(20, ge=1, description="Pooled connections per upstream.")
    max_keepalive: int = Field(10, ge=0, description="Idle keep-alive connections per upstream.")
    max_attempts: int = Field(8, ge=1, le=10, description="Attempts per request, the first included.")
    max_retry_time: float = Field(
        30.0, gt=0, description="Cap on the whole retry loop, seconds (the deadline usually ends it first)."
    )
    backoff_initial: float = Field(0.2, gt=0, description="First exponential backoff step, seconds.")
    backoff_max: float = Field(2.0, gt=0, description="Longest single backoff, seconds.")
    retry_after_cap: float = Field(20.0, gt=0, description="Longest Retry-After honoured, seconds.")
    retry_budget_ratio: float = Field(
        0.5, ge=0, le=10, description="Retries allowed per call begun, over the budget window."
    )
    retry_budget_floor: int = Field(20, ge=0, description="Retries allowed per budget window whatever the traffic.")
    retry_budget_window: float = Field(10.0, gt=0, description="Window of the retry budget, seconds.")
    rate_limit_queue: int = Field(
        100, ge=0, description="Calls that may wait for one upstream's rate limit; more are turned away at once."
    )
    breaker_failure_threshold: int = Field(5, ge=1, description="Consecutive failures that open a breaker.")
    breaker_recovery_time: float = Field(
        30.0, gt=0, description="Longest wait of an open breaker before a probe, seconds (a long outage's)."
    )
    breaker_first_recovery: float = Field(
        1.0,
        gt=0,
        description="First wait of an open breaker before a probe, seconds; doubled after each failed probe, "
        "up to breaker_recovery_time.",
    )
