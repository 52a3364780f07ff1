"""An in-process MCP client that synchronous code can call: its event loop runs in a thread.

Property-based tests (hypothesis's ``@given``) are synchronous and run many examples; opening
a client per example would rebuild the server's state each time, and an ``async with
Client(...)`` fixture wider than one test fails at teardown under pytest-asyncio (another
task). :class:`PortalClient` enters ``mcp.Client(server)`` once inside an anyio blocking portal
(an event loop in a background thread) and exits it in the same task::

    with PortalClient(build_app(settings).mcp) as client:
        result = client.call_tool("get_trial", {"nct_id": "NCT04280705"})
        assert client.alive()
"""

from __future__ import annotations

from contextlib import AbstractContextManager, ExitStack
from typing import Any

from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import Client
from mcp.types import CallToolResult, Tool


class PortalClient:
    """``mcp.Client(server)`` driven from synchronous code; every call is bounded by ``timeout``."""

    def __init__(self, server: Any, *, timeout: float = 60.0) -> None:
        self._server = server
        self._timeout = timeout
        self._stack = ExitStack()
        self._portal: BlockingPortal | None = None
        self._client: Client | None = None

    def __enter__(self) -> PortalClient:
        try:
            portal_cm: AbstractContextManager[BlockingPortal] = start_blocking_portal(name="portal-client")
            self._portal = self._stack.enter_context(portal_cm)
            self._client = self._stack.enter_context(self._portal.wrap_async_context_manager(Client(self._server)))
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    def call_tool(self, name: str, arguments: dict[str, Any]) -> CallToolResult:
        client, portal = self._parts()
        return portal.call(lambda: client.call_tool(name, arguments, read_timeout_seconds=self._timeout))

    def list_tools(self) -> list[Tool]:
        client, portal = self._parts()
        return portal.call(client.list_tools).tools

    def alive(self) -> bool:
        """Whether the session still answers: a call of the cheapest tool (``service_status``)
        succeeds. (Not ``ping``: the newest protocol removed it.)"""
        return not self.call_tool("service_status", {}).is_error

    def _parts(self) -> tuple[Client, BlockingPortal]:
        if self._client is None or self._portal is None:
            raise RuntimeError("PortalClient is not entered")
        return self._client, self._portal
