"""The agent contract (docs/tools.md) on every tool, through the official MCP client over stdio
with the console script against a replay upstream process: bounded answers with working cuts,
one compact text, unknown arguments refused with the closest name, forgiven slips, structured
errors, progress, prompts and resource templates, one freshness object, a lean catalog."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import jsonschema
import orjson
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult

from server.toolset import TOOLS
from tests.support.console_script import CONSOLE_SCRIPT, server_env, upstream_env
from tests.support.output_schemas import full_output_schemas
from tools.budget import EXPLICIT_BUDGET, RECORD_BUDGET
from tools.errors import ERROR_KINDS
from tools.registry import tool_name

CALLS: dict[str, dict[str, Any]] = {
    "service_status": {},
    "cache_stats": {},
    "search_trials": {"condition": "Phelan-McDermid Syndrome", "page_size": 50},
    "get_trial": {"nct_id": "NCT04280705"},
    "get_trial_results": {"nct_id": "NCT04280705"},
    "search_trials_by_mutation": {"mutation": "EGFR L858R"},
    "search_trials_for_mutations": {"mutations": ["EGFR L858R", "KRAS G12C"]},
    "find_trials_for_patient": {
        "condition": "non-small cell lung cancer",
        "mutations": ["EGFR L858R"],
        "age": 58,
        "sex": "female",
    },
    "count_trials": {"condition": "Phelan-McDermid Syndrome"},
    "get_stock_quote": {"symbols": ["2330", "AAPL"]},
    "get_price_history": {"symbol": "2330", "start_date": "2026-08-01", "end_date": "2026-09-04"},
    "get_stock_info": {"symbol": "AAPL"},
    "analyze_stock": {"symbol": "2330"},
    "compare_stocks": {"symbols": ["2330", "AAPL"], "start_date": "2020-09-01", "end_date": "2020-11-06"},
    "get_market_overview": {},
    "get_institutional_flows": {"symbol": "2409", "start_date": "2026-09-01", "end_date": "2026-09-04"},
    "get_margin_balance": {"symbol": "0050", "date": "2026-09-03"},
}
"""A representative call of every tool: each must answer within the record budget."""

EXPLICIT: list[tuple[str, dict[str, Any]]] = [
    ("get_trial", {"nct_id": "NCT04280705", "sections": ["results"]}),
    ("get_price_history", {"symbol": "AAPL", "start_date": "2020-08-31", "end_date": "2020-11-06"}),
]
"""Large parts asked for explicitly: within the explicit budget."""

SERVER_TOOLS = {"service_status", "cache_stats"}
CACHE_KEYS = {"hit", "age_seconds", "stale", "fresh_for_seconds"}


@asynccontextmanager
async def stdio_client(replay: str, tmp_path: Path) -> AsyncIterator[Client]:
    env = server_env(tmp_path, **upstream_env(replay))
    async with Client(
        StdioServerParameters(command=CONSOLE_SCRIPT, args=["serve"], env=env), read_timeout_seconds=60
    ) as c:
        yield c


def structured_size(result: CallToolResult) -> int:
    return len(orjson.dumps(result.structured_content))


def text_of(result: CallToolResult) -> str:
    assert len(result.content) == 1 and result.content[0].type == "text"
    return result.content[0].text


def caches(value: Any) -> Iterator[dict[str, Any]]:
    """Every ``cache`` object in an answer, depth first."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "cache" and isinstance(item, dict):
                yield item
            else:
                yield from caches(item)
    elif isinstance(value, list):
        for item in value:
            yield from caches(item)


def test_every_tool_has_a_representative_call() -> None:
    assert sorted(CALLS) == sorted(tool_name(fn) for fn, _ in TOOLS)


async def test_every_answer_is_bounded_compact_and_says_how_fresh(replay_process: str, tmp_path: Path) -> None:
    async with stdio_client(replay_process, tmp_path) as client:
        answers = {name: await client.call_tool(name, arguments) for name, arguments in CALLS.items()}
        explicit = [await client.call_tool(name, arguments) for name, arguments in EXPLICIT]
    for name, result in answers.items():
        assert not result.is_error, (name, result.content)
        size = structured_size(result)
        assert size <= RECORD_BUDGET, (name, size)
        assert orjson.loads(text_of(result)) == result.structured_content, name  # the text is the same data
        assert len(text_of(result).encode()) <= 1.1 * size, name
        found = list(caches(result.structured_content))
        assert found or name in SERVER_TOOLS, f"{name}: no cache object"
        for cache in found:
            assert CACHE_KEYS <= set(cache) <= CACHE_KEYS | {"tier"}, (name, cache)
            assert cache["fresh_for_seconds"] >= 0 and (cache["fresh_for_seconds"] == 0) >= cache["stale"]
    for result in explicit:
        assert not result.is_error and structured_size(result) <= EXPLICIT_BUDGET
        assert len(text_of(result).encode()) <= 1.1 * structured_size(result)
    full = full_output_schemas()
    for name, result in [*answers.items(), *((name, result) for (name, _), result in zip(EXPLICIT, explicit))]:
        jsonschema.validate(result.structured_content, full[name])  # the whole nested shape, not the outline


async def test_a_cut_answer_says_so_and_its_next_arguments_get_the_rest(replay_process: str, tmp_path: Path) -> None:
    arguments = {"nct_id": "NCT04280705", "sections": ["results"]}
    async with stdio_client(replay_process, tmp_path) as client:
        cut = await client.call_tool("get_trial", arguments)
        data = cut.structured_content
        assert data is not None and data["truncated"] is True and data["cuts"]
        first = data["cuts"][0]
        assert first["returned"] >= 1 and first["dropped"] >= 1
        rest = await client.call_tool("get_trial", {**arguments, **first["next"]})
    assert not rest.is_error, rest.content
    assert rest.structured_content is not None and structured_size(rest) <= EXPLICIT_BUDGET
    if "sites" in first["next"]:  # the record's sites continue in the sites view, from the next one
        assert rest.structured_content["sites"]["offset"] == first["returned"] == first["next"]["sites"]["offset"]
    else:
        assert rest.structured_content["path"] == first["next"]["path"]


async def test_misspelt_arguments_are_refused_with_the_closest_name_on_every_tool(
    replay_process: str, tmp_path: Path
) -> None:
    async with stdio_client(replay_process, tmp_path) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        refusals = {}
        for name, arguments in CALLS.items():
            properties = list(tools[name].input_schema.get("properties", {}))
            wrong = properties[0][:-1] if properties else "verbose"  # e.g. 'nct_i' for 'nct_id'
            refusals[name] = (properties[:1], await client.call_tool(name, {**arguments, wrong: "x"}))
    for name, (close, result) in refusals.items():
        assert result.is_error and result.structured_content is not None, name
        error = result.structured_content["error"]
        assert error["kind"] == "invalid_argument" and error["message"] == text_of(result), name
        assert "unknown argument" in error["message"] and "Error executing tool" not in error["message"]
        if close:
            assert f"did you mean {close[0]!r}?" in error["message"], (name, error)


async def test_slips_are_forgiven_and_errors_have_a_kind(replay_process: str, tmp_path: Path) -> None:
    async with stdio_client(replay_process, tmp_path) as client:
        info = await client.call_tool("get_stock_info", {"symbol": 2330})
        trial = await client.call_tool("get_trial", {"nct_id": 4280705})
        statuses = await client.call_tool("count_trials", {"condition": "melanoma", "statuses": "recruiting"})
        quotes = await client.call_tool("get_stock_quote", {"symbols": "2330,AAPL"})
        missing = await client.call_tool("get_trial", {"nct_id": "NCT09999999"})
        bad = await client.call_tool("search_trials", {"condition": "melanoma", "page_size": 1000})
    assert info.structured_content is not None and info.structured_content["symbol"] == "2330"
    assert trial.structured_content is not None and trial.structured_content["trial"]["nct_id"] == "NCT04280705"
    assert not statuses.is_error, statuses.content
    assert quotes.structured_content is not None
    assert [q["symbol"] for q in quotes.structured_content["quotes"]] == ["2330", "AAPL"]
    for result, kind in ((missing, "not_found"), (bad, "invalid_argument")):
        assert result.is_error and result.structured_content is not None
        error = result.structured_content["error"]
        assert error["kind"] == kind and error["kind"] in ERROR_KINDS and error["message"] == text_of(result)
    assert bad.structured_content is not None and bad.structured_content["error"]["field"] == "page_size"


async def test_long_calls_report_progress_with_the_total_known_up_front(replay_process: str, tmp_path: Path) -> None:
    history: list[tuple[float, float | None, str | None]] = []
    quotes: list[tuple[float, float | None, str | None]] = []

    async def on_history(progress: float, total: float | None, message: str | None) -> None:
        history.append((progress, total, message))

    async def on_quotes(progress: float, total: float | None, message: str | None) -> None:
        quotes.append((progress, total, message))

    async with stdio_client(replay_process, tmp_path) as client:
        months = await client.call_tool(
            "get_price_history",
            {"symbol": "2330", "start_date": "2025-09-01", "end_date": "2026-09-04"},
            progress_callback=on_history,
        )
        batch = await client.call_tool(
            "get_stock_quote", {"symbols": ["2330", "6488", "AAPL"]}, progress_callback=on_quotes
        )
    assert not months.is_error and not batch.is_error
    assert [p for p, _, _ in history] == list(range(1, 14)) and {t for _, t, _ in history} == {13}
    assert all(message and "2330" in message for _, _, message in history)
    assert [p for p, _, _ in quotes] == [1, 2, 3] and {t for _, t, _ in quotes} == {3}


async def test_prompts_and_resource_templates(replay_process: str, tmp_path: Path) -> None:
    async with stdio_client(replay_process, tmp_path) as client:
        prompts = (await client.list_prompts()).prompts
        templates = (await client.list_resource_templates()).resource_templates
        patient = await client.get_prompt(
            "match_patient_to_trials",
            {"condition": "non-small cell lung cancer", "mutation": "EGFR L858R", "age": "58", "sex": "female"},
        )
        trial = await client.read_resource("trial://NCT04280705")
        month = await client.read_resource("stock://2330/history/2026-08")
    assert {"match_patient_to_trials", "summarise_trial", "technical_read_of_stock"} <= {p.name for p in prompts}
    assert {"trial://{nct_id}", "stock://{symbol}/history/{month}"} <= {t.uri_template for t in templates}
    text = " ".join(getattr(m.content, "text", "") for m in patient.messages)
    assert "search_trials_by_mutation" in text and "EGFR L858R" in text
    record = orjson.loads(trial.contents[0].text)  # type: ignore[union-attr]
    assert record["trial"]["nct_id"] == "NCT04280705" and "cache" in record
    bars = orjson.loads(month.contents[0].text)["bars"]  # type: ignore[union-attr]
    assert bars and all(bar["date"].startswith("2026-08") for bar in bars)


async def test_the_catalog_is_lean_and_stable(replay_process: str, tmp_path: Path) -> None:
    async with stdio_client(replay_process, tmp_path) as client:
        first = (await client.list_tools()).tools
        second = (await client.list_tools()).tools
    assert [t.name for t in first] == [t.name for t in second] == [tool_name(fn) for fn, _ in TOOLS]
    visible = [
        len(orjson.dumps({"name": t.name, "description": t.description, "inputSchema": t.input_schema})) for t in first
    ]
    whole = [len(orjson.dumps(t.model_dump(mode="json", by_alias=True, exclude_none=True))) for t in first]
    assert sum(visible) / len(first) <= 1_000, dict(zip([t.name for t in first], visible, strict=True))
    assert sum(whole) / len(first) <= 3_000, dict(zip([t.name for t in first], whole, strict=True))
    for tool in first:
        assert tool.description and "TTL" not in tool.description and " 60 s" not in tool.description
