"""RetryBudget on its own: a floor per window plus a share of the calls begun in it (fake clock)."""

from __future__ import annotations

import pytest

from tests.support.clock import ManualClock
from tools.http.retry_budget import RetryBudget


def test_budget_allows_the_floor_plus_a_share_of_the_calls_in_its_window() -> None:
    clock = ManualClock(0.0)
    budget = RetryBudget(0.5, 2, 10.0, clock=clock)
    assert [budget.withdraw() for _ in range(3)] == [True, True, False]  # the floor alone
    for _ in range(4):
        budget.deposit()
    assert budget.available() == pytest.approx(2.0)
    assert [budget.withdraw() for _ in range(3)] == [True, True, False]
    assert budget.denied == 2
    clock.advance(10.0)  # everything above has left the window
    assert budget.available() == 2.0


def test_budget_counts_only_its_window() -> None:
    clock = ManualClock(0.0)
    budget = RetryBudget(1.0, 0, 10.0, clock=clock)
    budget.deposit()
    clock.advance(5.0)
    budget.deposit()
    assert [budget.withdraw(), budget.withdraw(), budget.withdraw()] == [True, True, False]
    clock.advance(5.0)  # the first call has left the window, and both retries still count
    assert budget.available() == pytest.approx(-1.0)
    clock.advance(5.0)
    assert budget.available() == 0.0


def test_invalid_budgets_are_refused() -> None:
    with pytest.raises(ValueError):
        RetryBudget(-0.1, 0, 10.0)
    with pytest.raises(ValueError):
        RetryBudget(0.5, 0, 0.0)
