"""The month argument of ``stock://{symbol}/history/{month}``."""

from __future__ import annotations

from datetime import date

import pytest
from mcp.server.mcpserver.exceptions import ResourceNotFoundError

from server.resources import month_range

TODAY = date(2026, 12, 6)


@pytest.mark.parametrize(
    "month, first, last",
    [
        ("2026-08", date(2026, 8, 1), date(2026, 8, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),  # this month: the tool clips to today
    ],
)
def test_a_month_is_its_first_and_last_day(month: str, first: date, last: date) -> None:
    assert month_range(month, TODAY) == (first, last)


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "2026-8", "26-08", "2026/08", "august", "0000-01", ""])
def test_a_malformed_month_is_named(month: str) -> None:
    with pytest.raises(ResourceNotFoundError, match=r"is not a calendar month written yyyy-mm"):
        month_range(month, TODAY)


def test_a_month_after_this_one_is_in_the_future() -> None:
    with pytest.raises(ResourceNotFoundError, match=r"month 2027-01 is in the future \(today is 2026-12-06 UTC\)"):
        month_range("2027-01", TODAY)
