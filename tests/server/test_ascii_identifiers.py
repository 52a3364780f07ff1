"""Identifiers are ASCII: Unicode digits (fullwidth, Arabic-Indic) in an NCT id, a stock code
or a date are refused naming the field, before any upstream request (through the real server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from server.app import build_app
from server.settings import Settings
from tests.support.recorded_upstream import RecordedUpstream, ctgov_upstream, stocks_upstream
from tools.clinical_trials.values import NCT_INPUT_PATTERN

FULLWIDTH_FIVE = "\uff15"
ARABIC_INDIC = "\u0662\u0663\u0663\u0660"  # 2330 in Arabic-Indic digits


@asynccontextmanager
async def connected(tmp_path: Path) -> AsyncIterator[tuple[Client, list[RecordedUpstream]]]:
    stocks, ctgov = stocks_upstream(), ctgov_upstream()
    transports = {"ctgov": ctgov.transport(), **{n: stocks.transport() for n in ("twse", "tpex", "mis", "yahoo")}}
    app = build_app(Settings(_env_file=None, sqlite_path=str(tmp_path / "c.db")), transports=transports, role="cli")
    async with Client(app.mcp) as client:
        yield client, [ctgov, stocks]


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("get_trial", {"nct_id": "NCT0428070" + FULLWIDTH_FIVE}, "nct_id"),
        ("get_trial", {"nct_id": "NCT\u0660\u0664\u0662\u0668\u0660\u0667\u0660\u0665"}, "nct_id"),
        ("get_stock_quote", {"symbols": [ARABIC_INDIC]}, "symbols[0]"),
        ("get_stock_quote", {"symbols": ["2330", "233" + FULLWIDTH_FIVE]}, "symbols[1]"),
        ("get_price_history", {"symbol": ARABIC_INDIC}, "symbol"),
        ("get_price_history", {"symbol": "aap\u017f"}, "symbol"),  # long s: upper() makes it 'AAPS'
        ("get_stock_info", {"symbol": "\u0662330", "market": "twse"}, "symbol"),
        ("get_price_history", {"symbol": "2330", "start_date": "2026-08-0\u0663"}, "start_date"),
        ("analyze_stock", {"symbol": "\uff12\uff13\uff13\uff10"}, "symbol"),
    ],
)
async def test_unicode_digits_are_refused_naming_the_field_before_any_request(
    tmp_path: Path, tool: str, arguments: dict[str, Any], field: str
) -> None:
    async with connected(tmp_path) as (client, upstreams):
        result = await client.call_tool(tool, arguments)
    assert result.is_error
    text = " ".join(getattr(block, "text", "") for block in result.content)
    assert field in text
    assert [upstream.requests for upstream in upstreams] == [[], []]


async def test_the_published_schema_says_ascii_digits(tmp_path: Path) -> None:
    async with connected(tmp_path) as (client, _):
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    pattern = tools["get_trial"].input_schema["properties"]["nct_id"]["pattern"]
    assert pattern == NCT_INPUT_PATTERN == "^([Nn][Cc][Tt])?[0-9]{7,8}$"
