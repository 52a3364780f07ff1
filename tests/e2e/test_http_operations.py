"""What an operator relies on over HTTP: session limits and idle timeout, and ``GET /readyz``.

Each test runs the console script on a loopback port (upstreams on the discard port, warming at
start-up off so no upstream is touched unless the test does it).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.support.ports import free_port
from tests.support.redis_server import RedisServer
from tests.support.serving import serving

QUIET = {"TRIALSTOCK_WORKER__WARM_AT_STARTUP": "false"}
UPSTREAMS = {"ctgov", "twse", "tpex", "mis", "yahoo"}
OPEN_SESSION = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


def open_session(base: str) -> httpx.Response:
    """An ``initialize`` of the session-based protocol era: the server keeps a session for it."""
    return httpx.post(f"{base}/mcp", json=OPEN_SESSION, headers=MCP_HEADERS, timeout=10)


def wait_for(condition: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)  # bounded poll of a real server's state


def test_session_limit_and_idle_timeout_come_from_the_settings(tmp_path: Path) -> None:
    env = {"TRIALSTOCK_TRANSPORT__MAX_SESSIONS": "1", "TRIALSTOCK_TRANSPORT__SESSION_IDLE_TIMEOUT": "1", **QUIET}
    with serving(tmp_path, **env) as base:
        first = open_session(base)
        assert first.status_code == 200
        session = first.headers["mcp-session-id"]
        assert open_session(base).status_code == 503  # one session at a time
        # Nobody uses the first session: it is closed after one idle second, making room.
        wait_for(lambda: open_session(base).status_code == 200)
        ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
        stale = httpx.post(f"{base}/mcp", json=ping, headers={**MCP_HEADERS, "mcp-session-id": session})
        assert stale.status_code == 404


def readyz(base: str, **headers: str) -> httpx.Response:
    return httpx.get(f"{base}/readyz", headers=headers, timeout=10)


def test_readyz_is_public_and_ready_on_the_embedded_default(tmp_path: Path) -> None:
    with serving(tmp_path, TRIALSTOCK_AUTH_TOKEN="tok-123456", **QUIET) as base:
        response = readyz(base)  # no token: load balancers probe without one
        assert response.status_code == 200
        body = response.json()
        assert body["ready"] is True
        assert body["tiers"] == {"memory": True, "sqlite": True}
        assert body["upstreams"] == dict.fromkeys(UPSTREAMS, "closed")
        assert readyz(base, Host="evil.example").status_code == 421
        assert httpx.get(f"{base}/metrics").status_code == 401  # everything else keeps the token


def test_readyz_is_503_while_a_configured_redis_does_not_answer(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path, TRIALSTOCK_REDIS_URL=f"redis://127.0.0.1:{port}/0", **QUIET) as base:
        response = readyz(base)
        assert response.status_code == 503
        body = response.json()
        assert body["ready"] is False
        assert body["tiers"] == {"memory": True, "redis": False, "sqlite": True}
        assert "redis" in " ".join(body["reasons"])
        with RedisServer(port=port):
            wait_for(lambda: readyz(base).status_code == 200)
            assert readyz(base).json()["tiers"]["redis"] is True


async def test_readyz_is_503_once_every_upstream_circuit_is_open(tmp_path: Path) -> None:
    env = {
        "TRIALSTOCK_HTTP__MAX_ATTEMPTS": "1",
        "TRIALSTOCK_HTTP__BREAKER_FAILURE_THRESHOLD": "1",
        "TRIALSTOCK_HTTP__BREAKER_RECOVERY_TIME": "600",
        "TRIALSTOCK_HTTP__BREAKER_FIRST_RECOVERY": "600",
        **QUIET,
    }
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("ctgov", "get_trial", {"nct_id": "NCT04280705"}),
        ("mis", "get_market_overview", {}),
        ("twse", "get_price_history", {"symbol": "2330", "market": "twse"}),
        ("tpex", "get_price_history", {"symbol": "6488", "market": "tpex"}),
        ("yahoo", "get_price_history", {"symbol": "AAPL"}),
    ]
    with serving(tmp_path, **env) as base:
        async with httpx2.AsyncClient(timeout=30) as http:
            async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
                opened: set[str] = set()
                for upstream, tool, arguments in calls:
                    assert readyz(base).status_code == 200, f"ready while {upstream} is closed"
                    result = await client.call_tool(tool, arguments)
                    assert result.is_error
                    opened.add(upstream)
                    circuits = readyz(base).json()["upstreams"]
                    assert {name for name, state in circuits.items() if state == "open"} == opened, tool
        response = readyz(base)
        assert response.status_code == 503
        body = response.json()
        assert body["ready"] is False and body["tiers"] == {"memory": True, "sqlite": True}
        assert body["upstreams"] == dict.fromkeys(UPSTREAMS, "open")
        assert "upstream" in " ".join(body["reasons"])


def test_readyz_before_the_first_sse_client_is_ready_with_nothing_to_check(tmp_path: Path) -> None:
    with serving(tmp_path, "sse", **QUIET) as base:
        response = readyz(base)
        assert response.status_code == 200
        assert response.json()["ready"] is True
