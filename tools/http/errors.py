"""The upstream error tree: every failure of an upstream call is one of these.

Raised by the resilient HTTP layer (``tools.http``) and by domain clients; translated into
MCP tool errors in exactly one place (``tools.errors.to_tool_error``). Each message is written
for an agent: it says what happened and what to do next.
"""

from __future__ import annotations


class UpstreamError(Exception):
    """Base class. ``upstream`` is the short name ('ctgov', 'twse', 'tpex', 'mis', 'yahoo')."""

    retryable: bool = False
    local: bool = False
    """True when the upstream was not asked: we turned the call away ourselves (our rate limit's
    queue, a deadline with no time left for a request). The breaker does not count such errors."""

    def __init__(self, upstream: str, message: str) -> None:
        super().__init__(message)
        self.upstream = upstream
        self.message = message

    def __str__(self) -> str:
        return f"{self.upstream}: {self.message}"


class Rejected(UpstreamError):
    """The upstream refused the request (4xx other than 403/404/429); ``body`` is its message."""

    def __init__(self, upstream: str, status: int, body: str) -> None:
        super().__init__(upstream, f"rejected the request (HTTP {status}): {body.strip()[:500]}")
        self.status = status
        self.body = body


class NotFound(UpstreamError):
    """The thing asked for does not exist upstream (404, or a domain-level 'no such id').

    ``body`` keeps the upstream's text (Yahoo puts its reason in a JSON ``chart.error``).
    """

    def __init__(self, upstream: str, message: str, body: str = "") -> None:
        super().__init__(upstream, message)
        self.body = body


class Blocked(UpstreamError):
    """403: the upstream blocks us. Never retried."""


class RateLimited(UpstreamError):
    """429 after the retries ran out; ``retry_after`` seconds if the upstream said."""

    retryable = True

    def __init__(self, upstream: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(upstream, message)
        self.retry_after = retry_after


class Throttled(RateLimited):
    """Our own rate limit for the upstream cannot serve the call within its deadline, or its
    queue is full: the call is turned away at once instead of waiting. ``queued`` callers were
    waiting; a slot is expected in ``retry_after`` seconds."""

    local = True

    def __init__(self, upstream: str, queued: int, retry_after: float) -> None:
        super().__init__(
            upstream,
            f"rate-limited upstream {upstream}: {queued} calls queued, retry in {max(round(retry_after), 1)} s",
            retry_after=retry_after,
        )
        self.queued = queued


class Unavailable(UpstreamError):
    """The upstream is down: 5xx after retries, connection failures, or the breaker is open.

    ``retry_in`` is the number of seconds until the breaker lets a probe through, when known.
    """

    retryable = True

    def __init__(self, upstream: str, message: str, retry_in: float | None = None) -> None:
        super().__init__(upstream, message)
        self.retry_in = retry_in


class TimedOut(UpstreamError):
    """The upstream did not answer within the configured time, after retries."""

    retryable = True


class DeadlineExceeded(TimedOut):
    """The call's deadline (``seconds`` long) passed before the upstream answered; ``retry_in`` is
    a suggested wait. ``local``: no request could be sent in the time that was left."""

    def __init__(
        self, upstream: str, seconds: float, detail: str = "", retry_in: float | None = None, *, local: bool = False
    ) -> None:
        text = f"no answer within the call's {seconds:g} s deadline"
        super().__init__(upstream, f"{text} ({detail})" if detail else text)
        self.seconds = seconds
        self.retry_in = retry_in
        self.local = local


class BadPayload(UpstreamError):
    """The upstream answered with something we cannot read (HTML, malformed JSON, wrong shape)."""
