"""``trialstock-mcp worker``: the background schedules in a process of their own.

The worker builds the same state as a server (cache, upstream clients, services) and runs the
scheduler; it serves no MCP transport. With Redis it competes for the scheduler lease with the
other workers and servers, so each shared schedule runs once in the deployment; a worker whose
lease lapses (killed, partitioned) is replaced within ``TRIALSTOCK_WORKER__LEASE_TTL``.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from server.app import build_app
from server.settings import Settings

log = logging.getLogger(__name__)


async def run_worker(settings: Settings, *, stop: asyncio.Event | None = None) -> int:
    """Run until SIGINT/SIGTERM (or ``stop`` is set); returns the exit code."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    app = build_app(settings, role="worker")
    async with app.lifespan(app.mcp) as state:
        keeper = state.background.keeper
        log.info("worker %s started (lease %s)", state.background.instance_id, keeper.lease.name)
        keeper.subscribe_changes(
            lambda leader: log.info(
                "worker %s %s the scheduler lease", state.background.instance_id, "holds" if leader else "lost"
            )
        )
        await stop.wait()
    log.info("worker stopped")
    return 0
