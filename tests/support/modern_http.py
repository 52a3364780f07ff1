"""Tool calls as a 2026-07-28 client sends them over streamable HTTP: one self-contained POST per
call (no ``initialize``, no ``Mcp-Session-Id``), so a load balancer may send each to any replica.

:func:`call_tool` returns a :class:`Served`: the JSON-RPC result (or error), the HTTP status and
the ``X-Served-By`` header that ``deploy/haproxy.cfg`` adds (which replica answered).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

PROTOCOL = "2026-07-28"
_ids = itertools.count(1)


@dataclass(frozen=True)
class Served:
    status: int
    served_by: str | None
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        """HTTP 200 with a tool result that is not an error."""
        result = self.body.get("result")
        return self.status == 200 and isinstance(result, dict) and not result.get("isError")

    @property
    def structured(self) -> dict[str, Any]:
        result = self.body.get("result") or {}
        return dict(result.get("structuredContent") or {})


def tool_request(name: str, arguments: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """Headers and body of a modern ``tools/call`` request."""
    headers = {
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": PROTOCOL,
        "Mcp-Method": "tools/call",
        "Mcp-Name": name,
    }
    meta = {
        "io.modelcontextprotocol/protocolVersion": PROTOCOL,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "trialstock-tests", "version": "0"},
    }
    body = {
        "jsonrpc": "2.0",
        "id": next(_ids),
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments, "_meta": meta},
    }
    return headers, body


async def call_tool(client: httpx.AsyncClient, url: str, name: str, arguments: dict[str, Any]) -> Served:
    """POST one modern tool call to ``url`` (the MCP endpoint). Transport errors propagate."""
    headers, body = tool_request(name, arguments)
    response = await client.post(url, json=body, headers=headers)
    try:
        payload = response.json()
    except ValueError:
        payload = {"error": {"message": response.text[:200]}}
    return Served(response.status_code, response.headers.get("x-served-by"), payload)
