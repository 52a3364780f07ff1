"""HttpPolicy: the HTTP layer's own knobs (defaults and bounds written once, there); timeouts follow it."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from tools.http.config import HttpPolicy
from tools.http.factory import timeout_for


def test_policy_owns_its_defaults_and_bounds() -> None:
    assert HttpPolicy() == HttpPolicy(timeout=15.0, max_attempts=8, breaker_recovery_time=30.0, call_deadline=10.0)
    assert (HttpPolicy().background_deadline, HttpPolicy().rate_limit_queue) == (30.0, 100)
    assert (HttpPolicy().retry_budget_ratio, HttpPolicy().retry_budget_floor) == (0.5, 20)
    assert HttpPolicy(timeout=3.0, max_attempts=5).max_attempts == 5
    for bad in ({"max_attempts": 0}, {"max_attempts": 11}, {"timeout": 0}, {"retries": 3}, {"call_deadline": 0}):
        with pytest.raises(ValidationError):
            HttpPolicy(**bad)


def test_timeouts_come_from_the_policy() -> None:
    timeout = timeout_for(HttpPolicy(timeout=7.0, connect_timeout=2.0, pool_timeout=1.0))
    assert timeout == httpx.Timeout(7.0, connect=2.0, read=7.0, write=7.0, pool=1.0)
