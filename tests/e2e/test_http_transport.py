"""End to end over streamable HTTP: the console script serving on a loopback port."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from tests.support.serving import serving

TOKEN = "test-token-1234"


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    with serving(tmp_path, "http", TRIALSTOCK_AUTH_TOKEN=TOKEN) as base:
        yield base


@pytest.fixture
def sse_server(tmp_path: Path) -> Iterator[str]:
    with serving(tmp_path, "sse") as base:
        yield base


def test_healthz_needs_no_token(http_server: str) -> None:
    response = httpx.get(f"{http_server}/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_mcp_without_token_is_401(http_server: str) -> None:
    response = httpx.post(f"{http_server}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    wrong = httpx.post(
        f"{http_server}/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={"Authorization": "Bearer nope"},
    )
    assert wrong.status_code == 401


def test_foreign_host_header_is_421(http_server: str) -> None:
    response = httpx.post(
        f"{http_server}/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={
            "Authorization": f"Bearer {TOKEN}",
            "Host": "evil.example:80",
            "Accept": "application/json, text/event-stream",
        },
    )
    assert response.status_code == 421


async def test_sdk_client_with_token_calls_a_tool(http_server: str) -> None:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as http:
        async with Client(streamable_http_client(f"{http_server}/mcp", http_client=http)) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            result = await client.call_tool("service_status", {})
    assert "service_status" in names
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["version"]


def test_metrics_are_prometheus_text_behind_the_token(http_server: str) -> None:
    assert httpx.get(f"{http_server}/metrics").status_code == 401
    response = httpx.get(f"{http_server}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = [line for line in response.text.splitlines() if line and not line.startswith("#")]
    assert any(line.startswith("trialstock_cache_") for line in samples)
    assert 'trialstock_upstream_rate_limit_shed_total{upstream="ctgov"} 0' in samples
    assert all(len(line.rsplit(" ", 1)) == 2 for line in samples)  # "name{labels} value"


async def test_legacy_sse_transport_serves_the_tools(sse_server: str) -> None:
    async with Client(sse_client(f"{sse_server}/sse")) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("service_status", {})
    assert {"service_status", "search_trials", "get_stock_quote"} <= names
    assert not result.is_error and result.structured_content["version"]


def test_foreign_host_is_refused_on_every_route(http_server: str) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for path in ("/healthz", "/metrics"):
        assert httpx.get(f"{http_server}{path}", headers={**auth, "Host": "evil.example"}).status_code == 421
        assert httpx.get(f"{http_server}{path}", headers=auth).status_code == 200


def test_the_bearer_scheme_is_case_insensitive(http_server: str) -> None:
    for scheme in ("Bearer", "bearer", "BEARER", "bEaReR"):
        for spaces in (" ", "  "):
            response = httpx.get(f"{http_server}/metrics", headers={"Authorization": f"{scheme}{spaces}{TOKEN}"})
            assert response.status_code == 200, (scheme, spaces)
    for refused in (f"Basic {TOKEN}", f"Bearer{TOKEN}", f"bearer {TOKEN}x", f"bearer {TOKEN[:-1]}", "bearer", ""):
        assert httpx.get(f"{http_server}/metrics", headers={"Authorization": refused}).status_code == 401, refused


async def test_sse_state_lives_for_the_process_not_for_its_clients(sse_server: str) -> None:
    """The last SSE client leaving must not rebuild the state (memory tier, breakers, uptime)."""
    assert httpx.get(f"{sse_server}/metrics").status_code == 200  # built at start-up, before any client
    async with Client(sse_client(f"{sse_server}/sse")) as client:
        first = (await client.call_tool("service_status", {})).structured_content
    await asyncio.sleep(0.5)  # the only client is gone
    assert httpx.get(f"{sse_server}/metrics").status_code == 200
    async with Client(sse_client(f"{sse_server}/sse")) as client:
        second = (await client.call_tool("service_status", {})).structured_content
    assert first is not None and second is not None
    assert second["uptime_seconds"] >= first["uptime_seconds"] + 0.5  # same state, still counting
