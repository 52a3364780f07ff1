"""Over stdio the process state is built after the handshake: the catalog answers without it,
a request that needs it waits for it, and a build that fails is an error naming the cause
(through the real MCP client, in memory, with the state held as ``serve_stdio`` holds it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from server.app import App, build_app
from server.lifespan import AppState
from server.settings import Settings
from tests.support.recorded_upstream import ctgov_upstream, stocks_upstream


def app_for(tmp_path: Path) -> App:
    config = Settings(_env_file=None, sqlite_path=str(tmp_path / "cache.sqlite3"))
    stocks = stocks_upstream()
    transports = {
        "ctgov": ctgov_upstream().transport(),
        **{name: stocks.transport() for name in ("twse", "tpex", "mis", "yahoo")},
    }
    return build_app(config, transports=transports, role="cli")


async def test_the_catalog_answers_before_the_state_and_a_call_waits_for_it(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    build = app.lifespan._factory
    started, release = asyncio.Event(), asyncio.Event()

    @asynccontextmanager
    async def held_back() -> AsyncIterator[AppState]:
        started.set()
        await release.wait()
        async with build() as state:
            yield state

    app.lifespan._factory = held_back
    async with app.lifespan.held_lazily(), Client(app.mcp) as client:
        listed = await client.list_tools()  # the build cannot finish: the list does not need it
        assert "get_trial" in [tool.name for tool in listed.tools]
        assert (await client.list_prompts()).prompts
        call = asyncio.create_task(client.call_tool("get_stock_quote", {"symbols": ["2330"]}))
        await asyncio.wait_for(started.wait(), 10)  # the call started the build
        await asyncio.sleep(0)
        assert not call.done()
        release.set()
        result = await asyncio.wait_for(call, 30)
        assert not result.is_error
        assert app.lifespan.current.services is not None
    with pytest.raises(RuntimeError):
        _ = app.lifespan.current  # closed with the process's hold


async def test_a_failed_build_is_an_error_naming_its_cause(tmp_path: Path) -> None:
    app = app_for(tmp_path)

    @asynccontextmanager
    async def broken() -> AsyncIterator[AppState]:
        raise OSError("disk full")
        yield  # pragma: no cover

    app.lifespan._factory = broken
    async with app.lifespan.held_lazily(), Client(app.mcp) as client:
        assert (await client.list_tools()).tools
        with pytest.raises(MCPError, match="disk full"):
            await client.call_tool("get_stock_quote", {"symbols": ["2330"]})


async def test_not_held_lazily_the_state_is_built_with_the_connection(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    async with Client(app.mcp) as client:
        assert app.lifespan.current.services is not None
        assert not (await client.call_tool("get_stock_quote", {"symbols": ["2330"]})).is_error
