"""``Retry-After`` parsing (RFC 9110 section 10.2.3): delta-seconds or an HTTP-date.

An HTTP-date is measured against the response's own ``Date`` header when present (this
sidesteps clock skew between us and the upstream), else against ``now()`` (wall clock).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime


def parse_retry_after(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait according to ``Retry-After``; None when absent or unreadable.

    Never negative: a date in the past means 0.
    """
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    if value[:1].isalpha():
        return _from_http_date(value, headers.get("date"), now)
    return None


def _from_http_date(value: str, date_header: str | None, now: Callable[[], float]) -> float | None:
    target = _epoch(value)
    if target is None:
        return None
    reference = _epoch(date_header) if date_header else None
    return max(target - (reference if reference is not None else now()), 0.0)


def _epoch(text: str) -> float | None:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # RFC 850 / asctime forms carry no zone: they mean GMT
        return moment.replace(tzinfo=UTC).timestamp()
    return moment.timestamp()
