"""``build_server(settings)``: the MCPServer with every tool registered and one shared lifespan."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import partial

import httpx
from mcp.server.mcpserver import MCPServer

from server import __version__, status
from server.lifespan import SharedLifespan, app_state
from server.settings import Settings
from tools import clinical_trials, stocks

INSTRUCTIONS = (
    "Clinical-trial lookups (ClinicalTrials.gov) and stock lookups (Taiwan TWSE/TPEx, realtime quotes, "
    "global symbols via Yahoo). Answers come from a cache when possible; each result says whether it "
    "was cached and how old it is."
)


def build_server(
    settings: Settings,
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    clock: Callable[[], float] = time.time,
) -> MCPServer:
    """Return the configured server; its state is built when the first client connects."""
    lifespan = SharedLifespan(partial(app_state, settings, transports=transports, clock=clock))
    mcp = MCPServer(
        "trialstock-mcp",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        log_level=settings.log_level,
    )
    status.register(mcp, lambda: lifespan.current)
    clinical_trials.register(mcp)
    stocks.register(mcp)
    return mcp
