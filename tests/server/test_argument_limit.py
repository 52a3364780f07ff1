"""Oversized tool-call arguments are refused by the middleware, and the usage log records only
validated calls of real tools by their canonical arguments (through the real MCP client)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
from mcp import Client

from cache.warming import UsageLog, export
from server.app import build_app
from server.settings import Settings
from server.tool_runner import MEMO_KEY_BYTES, MEMO_SIZE, UsageMiddleware
from tests.support.recorded_upstream import RecordedUpstream, ctgov_upstream, stocks_upstream

MEGABYTE = "x" * 1_000_000


@asynccontextmanager
async def connected(
    tmp_path: Path, stocks: RecordedUpstream, **settings: object
) -> AsyncIterator[tuple[Client, UsageLog]]:
    config = Settings(_env_file=None, sqlite_path=str(tmp_path / "cache.sqlite3"), **settings)
    transports = {
        "ctgov": ctgov_upstream().transport(),
        **{name: stocks.transport() for name in ("twse", "tpex", "mis", "yahoo")},
    }
    app = build_app(config, transports=transports, role="cli")
    async with app.lifespan(app.mcp) as state, Client(app.mcp) as client:
        yield client, state.background.usage


def text_of(result: object) -> str:
    return " ".join(getattr(part, "text", "") for part in getattr(result, "content", []))


async def test_oversized_arguments_are_refused_before_validation_or_any_request(tmp_path: Path) -> None:
    stocks = stocks_upstream()
    async with connected(tmp_path, stocks) as (client, usage):
        for _ in range(20):
            result = await client.call_tool("get_stock_quote", {"symbols": ["2330"], "padding": MEGABYTE})
            assert result.is_error
        unknown = await client.call_tool("no_such_tool", {"padding": MEGABYTE})
        invalid = await client.call_tool("get_trial", {"nct_id": MEGABYTE})
    message = text_of(result)
    assert "1,000,0" in message and "65,536" in message and "get_stock_quote" in message
    assert unknown.is_error and invalid.is_error and "65,536" in text_of(invalid)
    assert stocks.requests == []  # the refused call never reached an upstream
    assert len(usage) == 0 and usage.held_bytes == 0 and export(usage) == []


async def test_only_validated_calls_of_real_tools_are_recorded_by_canonical_arguments(tmp_path: Path) -> None:
    stocks = stocks_upstream()
    async with connected(tmp_path, stocks) as (client, usage):
        accepted = await client.call_tool("get_stock_quote", {"symbols": 2330})  # forgiven into ["2330"]
        again = await client.call_tool("get_stock_quote", {"symbols": ["2330"], "market": "auto"})
        misspelt = await client.call_tool("get_stock_quote", {"symbols": ["2330"], "extra": "y" * 30_000})
        rejected = await client.call_tool("get_trial", {"nct_id": "NCT123"})
        unknown = await client.call_tool("no_such_tool", {"q": "small"})
    assert not accepted.is_error and not again.is_error
    assert rejected.is_error and unknown.is_error and misspelt.is_error
    ((spec, count),) = usage.top(10, 3600)
    assert (spec.tool, dict(spec.arguments), count) == ("get_stock_quote", {"symbols": ["2330"], "market": "auto"}, 2)
    assert usage.held_bytes < 100 and len(orjson.dumps(export(usage))) < 200  # what would reach Redis


async def test_repeated_calls_are_each_counted_and_a_refused_one_never_is(tmp_path: Path) -> None:
    """The middleware remembers the canonical form of arguments it has seen (server.tool_runner):
    a repeat is counted again under the same canonical call, a refused repeat stays unrecorded,
    and other arguments are validated on their own."""
    async with connected(tmp_path, stocks_upstream()) as (client, usage):
        for _ in range(3):
            assert not (await client.call_tool("get_stock_quote", {"symbols": 2330})).is_error
            assert (await client.call_tool("get_trial", {"nct_id": "NCT123"})).is_error
        assert not (await client.call_tool("get_stock_quote", {"symbols": ["2330"], "market": "twse"})).is_error
    counts = {orjson.dumps(dict(spec.arguments), option=orjson.OPT_SORT_KEYS): n for spec, n in usage.top(10, 3600)}
    assert counts == {b'{"market":"auto","symbols":["2330"]}': 3, b'{"market":"twse","symbols":["2330"]}': 1}


async def test_the_limit_is_a_setting(tmp_path: Path) -> None:
    async with connected(tmp_path, stocks_upstream(), transport={"max_argument_bytes": 2048}) as (client, usage):
        refused = await client.call_tool("get_stock_quote", {"symbols": ["2330"], "extra": "y" * 3000})
    assert refused.is_error and "2,048" in text_of(refused) and len(usage) == 0


def test_the_remembered_canonical_forms_are_bounded(tmp_path: Path) -> None:
    server = build_app(Settings(_env_file=None, sqlite_path=str(tmp_path / "cache.sqlite3"))).mcp
    middleware = UsageMiddleware(server.checked_arguments)
    for i in range(MEMO_SIZE + 100):
        assert middleware._canonical_of("get_stock_quote", {"symbols": [str(1000 + i)]}) is not None
    long_symbols = {"symbols": [str(1000 + i) for i in range(30)], "market": "twse" + " " * MEMO_KEY_BYTES}
    middleware._canonical_of("get_stock_quote", long_symbols)  # refused or not, an oversized key is never kept
    assert len(middleware._canonical) == MEMO_SIZE
    assert all(len(sent) <= MEMO_KEY_BYTES for _, sent in middleware._canonical)
