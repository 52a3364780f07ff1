"""The floor of ``benchmarks.peer``: a cacheless MCP server, one upstream GET per tool call.

Two tools with the real server's names and arguments, ``search_trials`` and ``get_trial``;
each does one ``httpx`` GET to the ClinicalTrials.gov v2 base in ``CACHELESS_CTGOV_BASE``
(the replay upstream) on a keep-alive client and returns the decoded JSON as it came. No
cache, no parsing into models, no compaction: what any MCP server over the same upstream
cannot go below. Run as a process (stdio; stdout carries only the protocol)::

    CACHELESS_CTGOV_BASE=http://127.0.0.1:PORT/api/v2 python -m benchmarks._cacheless
"""

from __future__ import annotations

import os
from typing import Any

import httpx
from mcp.server.mcpserver import MCPServer

BASE_ENV = "CACHELESS_CTGOV_BASE"
RECORD_FIELDS = "ProtocolSection,HasResults"
"""What a record asks for: ``tools.clinical_trials.service.RECORD_FIELDS`` (checked by
``tests/test_benchmark_floor.py``), written out so the floor imports nothing of ours."""


def build_cacheless(base_url: str) -> MCPServer:
    """A server whose two tools each forward one GET to ``base_url`` (no cache)."""
    mcp = MCPServer("cacheless-floor", log_level="WARNING")
    http = httpx.AsyncClient(base_url=base_url, timeout=30.0)

    async def fetch(path: str, params: dict[str, str | int] | None = None) -> dict[str, Any]:
        response = await http.get(path, params=params)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    @mcp.tool()
    async def search_trials(condition: str, page_size: int = 10, statuses: list[str] | None = None) -> dict[str, Any]:
        """Search ClinicalTrials.gov studies by condition (one upstream GET, no cache)."""
        params: dict[str, str | int] = {"query.cond": condition, "pageSize": page_size}
        if statuses:
            params["filter.overallStatus"] = ",".join(statuses)
        return await fetch("/studies", params)

    @mcp.tool()
    async def get_trial(nct_id: str) -> dict[str, Any]:
        """One ClinicalTrials.gov study by NCT id (one upstream GET, no cache): the pieces the
        real server asks for."""
        return await fetch(f"/studies/{nct_id}", {"fields": RECORD_FIELDS})

    return mcp


def main() -> None:
    build_cacheless(os.environ[BASE_ENV]).run()


if __name__ == "__main__":
    main()
