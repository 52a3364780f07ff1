"""Each process publishes its statistics where every process (and the CLI) can read them.

Statistics live in the memory of the process that served the requests; ``trialstock-mcp cache
stats`` runs in another process. Every process therefore writes its snapshot, as JSON, into the
``stats`` scope of :mod:`cache.shared_store` under its instance id, every few seconds; readers
keep the snapshots published within ``max_age`` seconds (older ones are processes that died or
stopped) and can add them up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from cache.shared_store import SharedStore


class StatsBoard:
    """Publish this process's snapshot; read everyone's."""

    def __init__(self, store: SharedStore, instance_id: str, *, clock: Callable[[], float] = time.time,
                 max_age: float = 120.0) -> None:
        self._store = store
        self.instance_id = instance_id
        self._clock = clock
        self._max_age = max_age

    @property
    def where(self) -> str:
        return self._store.where

    async def publish(self, snapshot: dict[str, Any]) -> None:
        """Store ``snapshot`` (JSON-able) as this instance's latest figures."""
        record = {"at": self._clock(), "instance": self.instance_id, "stats": snapshot}
        await self._store.write(self.instance_id, orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS).decode())

    async def read(self) -> list[dict[str, Any]]:
        """Snapshots published within ``max_age`` seconds, newest first; unreadable ones skipped."""
        now = self._clock()
        records = []
        for text in (await self._store.read_all()).values():
            try:
                record = orjson.loads(text)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict) and now - float(record.get("at", 0)) <= self._max_age:
                records.append(record)
        return sorted(records, key=lambda r: r["at"], reverse=True)


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
