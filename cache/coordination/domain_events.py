"""Domain-event dispatch for the event bus: named handlers, each run in its own task.

A domain event (``trials.data_version``, ``stocks.session_closed``) tells other processes that
something happened; their handlers decide what to invalidate. Running every handler in its own
task keeps a slow handler from delaying the invalidations behind it on the channel. Failures are
logged and counted, never raised into the receive loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from cache.coordination.event_codec import DomainEvent, validate_domain_name
from cache.hooks import Hooks, Unsubscribe
from cache.tasks import stop_tasks

__all__ = ["DomainHandler", "DomainHandlers"]

log = logging.getLogger(__name__)

DomainHandler = Callable[[DomainEvent], Awaitable[Any]]


class DomainHandlers:
    """Handlers per event name; ``counts`` per name dispatched, ``errors`` of failed handlers.
    ``on_done`` is called after every handler run (the bus wakes its waiters with it)."""

    def __init__(self, on_done: Callable[[], None]) -> None:
        self.counts: dict[str, int] = {}
        self.errors = 0
        self._handlers: dict[str, Hooks[DomainHandler]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._on_done = on_done

    def register(self, name: str, handler: DomainHandler) -> Unsubscribe:
        """Add ``handler`` for ``name`` (ValueError for a malformed name); returns its remover."""
        return self._handlers.setdefault(validate_domain_name(name), Hooks()).subscribe(handler)

    def dispatch(self, event: DomainEvent) -> None:
        """Count ``event`` and start its handlers (returns at once)."""
        self.counts[event.name] = self.counts.get(event.name, 0) + 1
        hooks = self._handlers.get(event.name)
        for handler in hooks.current if hooks is not None else ():
            task = asyncio.create_task(self._run(handler, event), name=f"domain-event:{event.name}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Cancel the handlers still running and wait for them to end."""
        await stop_tasks(list(self._tasks))

    async def _run(self, handler: DomainHandler, event: DomainEvent) -> None:
        try:
            await handler(event)
        except Exception:
            self.errors += 1
            log.exception("domain event handler %r for %s failed", handler, event.name)
        self._on_done()
