"""tools.errors: typed failures become is_error tool results through a real MCPServer + Client."""

from __future__ import annotations

import httpx
import pytest
from mcp import Client
from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel

from tools.errors import InvalidInput, translate_errors
from tools.http.config import HttpPolicy
from tools.http.errors import BadPayload, NotFound, RateLimited, Rejected, TimedOut, Unavailable
from tools.http.factory import build_upstream

CTGOV_400 = "Invalid value in parameter `overallStatus`: `BADSTATUS`"

FAILURES: dict[str, Exception] = {
    "rejected": Rejected("ctgov", 400, CTGOV_400),
    "notfound": NotFound("ctgov", "no study with id NCT00000000"),
    "unavailable": Unavailable("ctgov", "circuit open after 5 consecutive failures", retry_in=12.4),
    "timedout": TimedOut("twse", "did not answer in time (ReadTimeout)"),
    "ratelimited": RateLimited("yahoo", "rate limited (HTTP 429)", retry_after=5.0),
    "badpayload": BadPayload("ctgov", "answered an HTML page instead of JSON"),
    "invalid": InvalidInput("symbol", "must be a TWSE code such as 2330"),
    "crash": RuntimeError("secret internal detail"),
}


class Quote(BaseModel):
    """A price."""

    symbol: str
    price: float


async def quote(symbol: str, ctx: Context, decimals: int = 2) -> Quote:
    """Latest price of ``symbol``; ``decimals`` rounds it."""
    assert isinstance(ctx, Context)
    if symbol in FAILURES:
        raise FAILURES[symbol]
    if symbol == "validation":
        return Quote(symbol=symbol, price="not a number")  # type: ignore[arg-type]
    return Quote(symbol=symbol, price=round(1.23456, decimals))


def make_server() -> MCPServer:
    server = MCPServer("errors-test")
    server.tool(name="plain_quote")(quote)
    server.tool(name="quote")(translate_errors(quote))

    @server.tool()
    @translate_errors
    async def search(term: str) -> Quote:
        """Calls an upstream that answers 403."""
        transport = httpx.MockTransport(lambda request: httpx.Response(403, text="<html>Access denied</html>"))
        async with build_upstream(
            "ctgov",
            "https://clinicaltrials.gov/api/v2",
            policy=HttpPolicy(),
            rate=None,
            user_agent="python-httpx",
            transport=transport,
        ) as blocked:
            return Quote.model_validate(await blocked.get_json("/studies", {"query.term": term}))

    return server


async def test_wrapping_keeps_schemas_context_and_structured_output() -> None:
    async with Client(make_server()) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        result = await client.call_tool("quote", {"symbol": "2330", "decimals": 1})
    wrapped, plain = tools["quote"], tools["plain_quote"]
    assert wrapped.input_schema == plain.input_schema
    assert set(wrapped.input_schema["properties"]) == {"symbol", "decimals"}  # ctx stays injected
    assert wrapped.output_schema == plain.output_schema and wrapped.output_schema is not None
    assert wrapped.description == plain.description == quote.__doc__
    assert result.is_error is False
    assert result.structured_content == {"symbol": "2330", "price": 1.2}


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("rejected", f'ctgov rejected the request (HTTP 400): "{CTGOV_400}"'),
        ("notfound", "ctgov: no study with id NCT00000000"),
        ("unavailable", "ctgov is unavailable (circuit open after 5 consecutive failures); retry in 12 s"),
        ("timedout", "twse timed out"),
        ("ratelimited", "yahoo is rate limiting our requests; retry in 5 s"),
        ("badpayload", "upstream fault: ctgov sent a response that cannot be read"),
        ("invalid", "Invalid input 'symbol': must be a TWSE code such as 2330"),
        ("validation", "Invalid input: price: Input should be a valid number"),
    ],
)
async def test_typed_failures_become_actionable_tool_errors(symbol: str, expected: str) -> None:
    async with Client(make_server()) as client:
        result = await client.call_tool("quote", {"symbol": symbol})
        plain = await client.call_tool("plain_quote", {"symbol": symbol})
    text = result.content[0].text
    assert result.is_error is True and result.structured_content is None
    assert expected in text and "Traceback" not in text
    # Without the decorator the same failure is reported as a crash with no message.
    assert plain.is_error is True and expected not in plain.content[0].text


async def test_blocked_upstream_names_host_and_user_agent_setting() -> None:
    async with Client(make_server()) as client:
        result = await client.call_tool("search", {"term": "EGFR"})
    text = result.content[0].text
    assert result.is_error is True
    assert "blocked by clinicaltrials.gov (HTTP 403); set TRIALSTOCK_USER_AGENT" in text


async def test_unexpected_exceptions_are_not_translated() -> None:
    async with Client(make_server()) as client:
        result = await client.call_tool("quote", {"symbol": "crash"})
    assert result.is_error is True and "secret" not in result.content[0].text


def test_only_async_functions_are_accepted() -> None:
    def sync_tool() -> int:
        return 1

    with pytest.raises(TypeError):
        translate_errors(sync_tool)  # type: ignore[arg-type]
