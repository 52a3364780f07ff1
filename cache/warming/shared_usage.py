"""Tool usage of the whole deployment, for "trending" warming and refresh-ahead in a worker.

Each process counts the tool calls it serves in its :class:`~cache.warming.usage.UsageLog` and
publishes :func:`export` of it with its statistics (:mod:`cache.observe.board`). The process that
runs the shared schedules (the lease holder, possibly a worker that serves no requests) reads
every published list with :meth:`SharedUsage.refresh` and ranks the calls of all processes
together in :meth:`SharedUsage.top`. Published counts cover the window given to ``export``
(an hour by default); ``top``'s own ``window`` only narrows this process's live log.

What is published is bounded: ``top`` calls, each within the log's ``max_call_bytes`` (calls
are recorded with their canonical arguments only). A published call above this process's own
``max_call_bytes`` is ignored when read.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from cache.keys import canonical_args
from cache.observe.board import StatsBoard
from cache.warming.model import CallSpec
from cache.warming.usage import UsageLog, call_identity

EXPORT_TOP = 50
EXPORT_WINDOW = 3600.0


def export(usage: UsageLog, top: int = EXPORT_TOP, window: float = EXPORT_WINDOW) -> list[dict[str, Any]]:
    """The most used calls as JSON-able ``{tool, arguments, count}`` records."""
    return [
        {"tool": spec.tool, "arguments": dict(spec.arguments), "count": count} for spec, count in usage.top(top, window)
    ]


class SharedUsage:
    """This process's live usage plus what the other processes last published."""

    def __init__(self, local: UsageLog, board: StatsBoard) -> None:
        self.local = local
        self._board = board
        self._remote: list[tuple[CallSpec, int]] = []

    async def refresh(self) -> int:
        """Read every other process's published usage; returns how many processes published."""
        merged: Counter[bytes] = Counter()
        specs: dict[bytes, CallSpec] = {}
        records = [r for r in await self._board.read() if r.get("instance") != self._board.instance_id]
        for record in records:
            for item in record.get("stats", {}).get("usage", []):
                spec = _spec(item)
                if spec is None:
                    continue
                canonical = canonical_args(spec.arguments)
                if len(canonical) + len(spec.tool) > self.local.max_call_bytes:
                    continue
                identity = call_identity(spec.tool, canonical)
                specs.setdefault(identity, spec)
                merged[identity] += int(item.get("count", 0))
        self._remote = [(specs[identity], count) for identity, count in merged.most_common()]
        return len(records)

    def top(self, n: int, window: float) -> list[tuple[CallSpec, int]]:
        """The ``n`` most used calls of the deployment (this process's last ``window`` seconds
        plus the other processes' published counts)."""
        totals: Counter[bytes] = Counter()
        specs: dict[bytes, CallSpec] = {}
        for spec, count in [*self.local.top(n * 4, window), *self._remote]:
            identity = _identity(spec)
            specs.setdefault(identity, spec)
            totals[identity] += count
        return [(specs[identity], count) for identity, count in totals.most_common(n)]


def _identity(spec: CallSpec) -> bytes:
    return call_identity(spec.tool, canonical_args(spec.arguments))


def _spec(item: Any) -> CallSpec | None:
    if not isinstance(item, dict) or not isinstance(item.get("tool"), str):
        return None
    arguments = item.get("arguments")
    return CallSpec(item["tool"], arguments) if isinstance(arguments, dict) else None
