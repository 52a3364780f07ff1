"""Requests that need the process state wait for it; the catalog and the handshake never do.

Over stdio the state (cache tiers, HTTP clients, services, background work) is built after
the handshake instead of before it (:meth:`server.lifespan.SharedLifespan.held_lazily`):
``initialize`` and the list methods answer from what registration built, and the build starts
just after the first list answer has been sent, ``START_AFTER_HANDSHAKE`` seconds after
``initialize`` when no list comes, or at once when a request needs the state before that.
Every other request (``tools/call``, ``resources/read``, ``prompts/get``, ...) waits here
until the state is built. When not held lazily (streamable HTTP, in-process
clients), the state is already built and the gate passes straight through.
"""

from __future__ import annotations

import logging
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR

from server.lifespan import SharedLifespan

log = logging.getLogger(__name__)

NO_STATE = frozenset(
    {
        "initialize",
        "ping",
        "server/discover",
        "tools/list",
        "prompts/list",
        "resources/list",
        "resources/templates/list",
    }
)
"""Methods answered from what registration built: they never wait for the state."""

START_AFTER = 0.05
"""Seconds between answering a catalog request and starting the build, so that the answer is
written before the build's first synchronous steps take the event loop."""
START_AFTER_HANDSHAKE = 1.0
"""Seconds after ``initialize`` when the build starts anyway (background work such as warming
starts with the state)."""


class StateGate:
    """Server middleware: hold every request that reads the state until it is built."""

    def __init__(self, lifespan: SharedLifespan) -> None:
        self._lifespan = lifespan

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.request_id is None or ctx.method in NO_STATE:
            result = await call_next(ctx)
            if ctx.request_id is not None:
                self._lifespan.start_later(START_AFTER_HANDSHAKE if ctx.method == "initialize" else START_AFTER)
            return result
        try:
            await self._lifespan.ready()
        except Exception as exc:
            log.error("the server state could not be built: %s", exc)
            raise MCPError(INTERNAL_ERROR, f"the server could not start its cache and clients: {exc}") from None
        return await call_next(ctx)
