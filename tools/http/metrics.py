"""The upstreams' health as Prometheus text (exposition format 0.0.4), next to the cache's.

``render_upstream_metrics(healths)`` returns the families below (prefix ``trialstock_upstream_``,
label ``upstream``), appended by the server to the cache's ``/metrics`` text:

- ``requests_total``: HTTP requests sent, retries included;
- ``failures_total``: failed calls the circuit breaker counted;
- ``circuit_open``: 1 while the circuit is open or half open, else 0;
- ``rate_limit_queued``: calls waiting for the upstream's rate limit now;
- ``rate_limit_shed_total``: calls the rate limit turned away at once (queue full, or a wait
  longer than their deadline);
- ``retries_denied_total``: retries the upstream's retry budget refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tools.http.health import UpstreamHealth

PREFIX = "trialstock_upstream_"

_FAMILIES: tuple[tuple[str, str, str, Callable[[UpstreamHealth], float]], ...] = (
    ("requests_total", "counter", "HTTP requests sent, retries included.", lambda h: h.total_requests),
    ("failures_total", "counter", "Failed calls counted by the circuit breaker.", lambda h: h.total_failures),
    ("circuit_open", "gauge", "1 while the circuit is open or half open.", lambda h: float(h.state != "closed")),
    ("rate_limit_queued", "gauge", "Calls waiting for the rate limit now.", lambda h: h.queued),
    (
        "rate_limit_shed_total",
        "counter",
        "Calls the rate limit turned away at once (queue full, or a wait longer than their deadline).",
        lambda h: h.shed_total,
    ),
    ("retries_denied_total", "counter", "Retries the retry budget refused.", lambda h: h.retries_denied_total),
)


def render_upstream_metrics(healths: Iterable[UpstreamHealth]) -> str:
    """Exposition text for ``healths`` (one sample per upstream and family); "" when none."""
    rows = list(healths)
    if not rows:
        return ""
    lines: list[str] = []
    for name, kind, help_text, value in _FAMILIES:
        lines.append(f"# HELP {PREFIX}{name} {help_text}")
        lines.append(f"# TYPE {PREFIX}{name} {kind}")
        lines.extend(f'{PREFIX}{name}{{upstream="{_label(h.name)}"}} {_number(value(h))}' for h in rows)
    return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
