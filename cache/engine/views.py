"""The operator's view of a TieredCache's tiers: names, backends, states, facts, pings, gauges.

A mixin of :class:`cache.engine.tiered.TieredCache` (it reads ``memory``, ``stats`` and the guards),
kept apart so the engine module holds only the read/write/invalidate logic.
"""

from __future__ import annotations

from typing import Any

from cache.backends.base import Backend
from cache.backends.memory import MemoryBackend
from cache.engine.stats import CacheStats
from cache.engine.tier_guard import TierGuard


class TierViews:
    memory: MemoryBackend
    stats: CacheStats
    _guards: list[TierGuard]

    def tiers(self) -> list[str]:
        """Names of the configured tiers, in read order."""
        return ["memory", *(guard.name for guard in self._guards)]

    @property
    def redis(self) -> Backend | None:
        """The Redis tier's backend, or None when not configured."""
        return self._backend("redis")

    @property
    def sqlite(self) -> Backend | None:
        """The SQLite tier's backend (backup, vacuum, check), or None when not configured."""
        return self._backend("sqlite")

    def _backend(self, name: str) -> Any:
        return next((guard.backend for guard in self._guards if guard.name == name), None)

    async def tier_info(self, name: str) -> dict[str, Any]:
        """Facts about one tier: state, where, entries (and bytes for memory). ValueError if unknown."""
        if name == "memory":
            return {"state": "closed", "where": "in-process", "entries": len(self.memory),
                    "bytes": self.memory.bytes_used}
        for guard in self._guards:
            if guard.name == name:
                return await guard.info()
        raise ValueError(f"no cache tier named {name!r}; tiers: {', '.join(self.tiers())}")

    def tier_states(self) -> dict[str, str]:
        """Guard state per lower tier: 'closed', 'open' or 'half-open'."""
        return {guard.name: guard.state for guard in self._guards}

    async def ping(self) -> dict[str, bool]:
        """Whether each tier answers (bounded by the tier timeout)."""
        return {"memory": True, **{guard.name: await guard.ping() for guard in self._guards}}

    def _register_gauges(self) -> None:
        memory = self.memory
        self.stats.add_gauge("memory", "entries", lambda: len(memory))
        self.stats.add_gauge("memory", "bytes", lambda: memory.bytes_used)
        self.stats.add_gauge("memory", "evictions", lambda: memory.evictions)
        for guard in self._guards:
            self.stats.add_gauge(guard.name, "state", lambda guard=guard: guard.state)
