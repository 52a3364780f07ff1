"""Each process publishes its statistics where every process (and the CLI) can read them.

Statistics live in the memory of the process that served the requests; ``trialstock-mcp cache
stats`` runs in another process. Every process therefore writes its snapshot, as JSON, into the
``stats`` scope of :mod:`cache.coordination.shared_store` under its instance id, every few seconds; readers
keep the snapshots published within ``max_age`` seconds (older ones are processes that died or
stopped) and can add them up.

Every process start adds a name (a new instance id), so the board prunes itself: records older
than ``PRUNE_AFTER`` x ``max_age`` and unreadable ones are deleted by :meth:`StatsBoard.prune`,
which :meth:`StatsBoard.publish` runs at most once per ``max_age``. (A process silent for that
long that publishes again between another process's read and delete loses one snapshot until
its next publish: harmless.)
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

import orjson

from cache.coordination.shared_store import SharedStore

log = logging.getLogger(__name__)

PRUNE_AFTER = 10.0
"""Records older than this many ``max_age`` are deleted by :meth:`StatsBoard.prune`."""


class StatsBoard:
    """Publish this process's snapshot; read everyone's; prune the dead."""

    def __init__(
        self, store: SharedStore, instance_id: str, *, clock: Callable[[], float] = time.time, max_age: float = 120.0
    ) -> None:
        self._store = store
        self.instance_id = instance_id
        self._clock = clock
        self._max_age = max_age
        self._pruned_at = -math.inf

    @property
    def where(self) -> str:
        return self._store.where

    async def publish(self, snapshot: dict[str, Any]) -> None:
        """Store ``snapshot`` (JSON-able) as this instance's latest figures, then prune if the
        last prune is ``max_age`` old. A failing prune is logged, never raised."""
        now = self._clock()
        record = {"at": now, "instance": self.instance_id, "stats": snapshot}
        await self._store.write(self.instance_id, orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS).decode())
        if now - self._pruned_at >= self._max_age:
            self._pruned_at = now
            try:
                await self.prune()
            except Exception as exc:  # housekeeping: the snapshot is published already
                log.warning("pruning old statistics in %s failed: %s", self.where, exc)

    async def prune(self) -> int:
        """Delete records published more than ``PRUNE_AFTER`` x ``max_age`` seconds ago and
        unreadable ones; returns how many were deleted."""
        horizon = self._clock() - PRUNE_AFTER * self._max_age
        doomed = [
            name
            for name, text in (await self._store.read_all()).items()
            if (_parse(text) or {}).get("at", -math.inf) < horizon
        ]
        return await self._store.delete(doomed) if doomed else 0

    async def read(self) -> list[dict[str, Any]]:
        """Snapshots published within ``max_age`` seconds, newest first; unreadable ones skipped."""
        now = self._clock()
        records = []
        for text in (await self._store.read_all()).values():
            record = _parse(text)
            if record is not None and now - record["at"] <= self._max_age:
                records.append(record)
        return sorted(records, key=lambda r: r["at"], reverse=True)


def _parse(text: str) -> dict[str, Any] | None:
    """The record in ``text`` with a numeric ``at`` (as float), or None if unreadable."""
    try:
        record = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(record, dict):
        return None
    at = record.get("at")
    if isinstance(at, bool) or not isinstance(at, (int, float)) or not math.isfinite(at):
        return None
    record["at"] = float(at)
    return record


def merge_namespaces(records: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Add up the per-namespace counters of several snapshots (numbers only)."""
    total: dict[str, dict[str, float]] = {}
    for record in records:
        for namespace, counters in record["stats"].get("namespaces", {}).items():
            into = total.setdefault(namespace, {})
            for name, value in counters.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    into[name] = into.get(name, 0) + value
    return total
