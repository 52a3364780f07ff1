"""The operator's view of the tiers: names, backends, guard states, facts, pings and gauges.

:class:`TierViews` reads the memory tier and the lower tiers' guards of one
:class:`~cache.engine.tiered.TieredCache`; it changes nothing, so it is kept apart from the
read/write/invalidate logic. :meth:`TierViews.register_gauges` makes the memory tier's size,
each guard's state and, for a tier that queues its writes, ``queued_writes`` and
``dropped_writes`` part of every statistics snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cache.backends.base import Backend, BackendError
from cache.backends.capabilities import QueuedWrites
from cache.backends.memory import MemoryBackend
from cache.engine.stats import CacheStats
from cache.engine.tier_guard import TierGuard


class TierViews:
    """Facts about ``memory`` and the tiers behind ``guards`` (in read order)."""

    def __init__(self, memory: MemoryBackend, guards: Sequence[TierGuard[Backend]]) -> None:
        self._memory = memory
        self._guards = list(guards)

    def tiers(self) -> list[str]:
        """Names of the configured tiers, in read order."""
        return ["memory", *(guard.name for guard in self._guards)]

    def backend(self, name: str) -> Backend | None:
        """The backend of lower tier ``name``, or None when it is not configured."""
        return next((guard.backend for guard in self._guards if guard.name == name), None)

    async def tier_info(self, name: str) -> dict[str, Any]:
        """Facts about one tier: state, where, entries (and bytes for memory). ValueError if unknown."""
        if name == "memory":
            return {
                "state": "closed",
                "where": "in-process",
                "entries": len(self._memory),
                "bytes": self._memory.bytes_used,
            }
        for guard in self._guards:
            if guard.name == name:
                return await guard.info()
        raise ValueError(f"no cache tier named {name!r}; tiers: {', '.join(self.tiers())}")

    async def flush(self) -> None:
        """Wait until every lower tier that queues its writes has stored those queued so far;
        BackendError (after all tiers) when some could not be stored."""
        failures = []
        for guard in self._guards:
            if isinstance(guard.backend, QueuedWrites):
                try:
                    await guard.backend.flush()
                except BackendError as exc:
                    failures.append(str(exc))
        if failures:
            raise BackendError("; ".join(failures))

    def tier_states(self) -> dict[str, str]:
        """Guard state per lower tier: 'closed', 'open' or 'half-open'."""
        return {guard.name: guard.state for guard in self._guards}

    async def ping(self) -> dict[str, bool]:
        """Whether each tier answers (bounded by the tier timeout)."""
        return {"memory": True, **{guard.name: await guard.ping() for guard in self._guards}}

    def register_gauges(self, stats: CacheStats) -> None:
        """Report the memory tier's entries, bytes and evictions and each guard's state in ``stats``."""
        memory = self._memory
        stats.add_gauge("memory", "entries", lambda: len(memory))
        stats.add_gauge("memory", "bytes", lambda: memory.bytes_used)
        stats.add_gauge("memory", "evictions", lambda: memory.evictions)
        for guard in self._guards:
            stats.add_gauge(guard.name, "state", _state_of(guard))
            backend = guard.backend
            if isinstance(backend, QueuedWrites):
                stats.add_gauge(guard.name, "queued_writes", _reader(backend, "queued_writes"))
                stats.add_gauge(guard.name, "dropped_writes", _reader(backend, "dropped_writes"))


def _state_of(guard: TierGuard[Backend]) -> Callable[[], str]:
    """A reader of ``guard.state`` bound to this guard (a lambda in the loop would see the last)."""
    return lambda: guard.state


def _reader(backend: QueuedWrites, name: str) -> Callable[[], int]:
    """A reader of ``backend.<name>`` bound to this backend."""
    return lambda: int(getattr(backend, name))
