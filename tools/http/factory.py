"""``build_upstream``: one pooled ``httpx.AsyncClient`` wrapped in an ``UpstreamClient``, which
builds it on its first request (start-up does not pay for a pool it may not use yet).

``base_url`` may carry a path (``https://clinicaltrials.gov/api/v2``): client paths such as
``/studies`` are appended to it. Timeouts and pool limits come from the policy; the
User-Agent header is set on every request; redirects are followed. Pass ``transport`` to
route requests to an ``httpx.MockTransport`` (then the pool limits do not apply).
"""

from __future__ import annotations

import asyncio
import functools
import random
import ssl
import time
from collections.abc import Awaitable, Callable

import httpx

from tools.http.client import UpstreamClient
from tools.http.config import HttpPolicy
from tools.http.ratelimit import RateLimiter


def build_upstream(
    name: str,
    base_url: str,
    *,
    policy: HttpPolicy,
    rate: tuple[int, float] | None,
    user_agent: str,
    transport: httpx.AsyncBaseTransport | None = None,
    verify: ssl.SSLContext | bool = True,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: Callable[[], float] = random.random,
) -> UpstreamClient:
    """Build the client for one upstream; ``rate`` is (requests, per_seconds) or None (then
    nothing queues: ``policy.rate_limit_queue`` bounds the rate limiter's queue).

    ``verify``: pass one shared ``ssl.SSLContext`` when building several clients; httpx
    otherwise loads the whole CA bundle for each (~25 ms apiece at start-up)."""
    http = functools.partial(
        httpx.AsyncClient,
        base_url=base_url.rstrip("/"),
        timeout=timeout_for(policy),
        limits=httpx.Limits(
            max_connections=policy.max_connections,
            max_keepalive_connections=policy.max_keepalive,
        ),
        headers={"User-Agent": user_agent},
        follow_redirects=True,
        transport=transport,
        verify=verify,
    )
    limiter = None
    if rate is not None:
        limiter = RateLimiter(rate[0], rate[1], clock=clock, sleep=sleep, max_queue=policy.rate_limit_queue)
    return UpstreamClient(
        name, http, policy=policy, limiter=limiter, base_url=base_url, clock=clock, sleep=sleep, rng=rng
    )


def timeout_for(policy: HttpPolicy) -> httpx.Timeout:
    """Connect, read, write and pool timeouts from the policy."""
    return httpx.Timeout(
        policy.timeout,
        connect=policy.connect_timeout,
        read=policy.timeout,
        write=policy.timeout,
        pool=policy.pool_timeout,
    )
