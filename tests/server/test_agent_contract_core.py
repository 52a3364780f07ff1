"""The agent contract's server side, through the real MCP client in memory: strict argument names
with the closest real one, forgiven slips, one compact text per answer, structured errors with
a kind, the hard cap on an answer's size, the lean catalog."""

from __future__ import annotations

import typing
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from jsonschema import Draft202012Validator, ValidationError
from mcp import Client
from mcp.types import CallToolResult
from pydantic import BaseModel

from server.app import build_app
from server.catalog import outline_of, result_model
from server.results import answer, failure_of
from server.settings import Settings
from server.toolset import TOOLS
from tests.support.output_schemas import full_output_schemas, outline
from tests.support.recorded_upstream import RecordedUpstream, ctgov_upstream, stocks_upstream
from tools.budget import HARD_CAP, Cut, Cuts, Truncated
from tools.compact import Compact
from tools.errors import ERROR_KINDS
from tools.registry import tool_name

FAST = {f"{name}_rate": "1000/1" for name in ("ctgov", "twse", "tpex", "mis", "yahoo")}


@asynccontextmanager
async def connected(
    tmp_path: Path, **settings: Any
) -> AsyncIterator[tuple[Client, RecordedUpstream, RecordedUpstream]]:
    trials, stocks = ctgov_upstream(), stocks_upstream()
    config = Settings(_env_file=None, sqlite_path=str(tmp_path / "cache.sqlite3"), upstreams=FAST, **settings)
    transports = {
        "ctgov": trials.transport(),
        **{name: stocks.transport() for name in ("twse", "tpex", "mis", "yahoo")},
    }
    app = build_app(config, transports=transports, role="cli")
    async with app.lifespan(app.mcp), Client(app.mcp) as client:
        yield client, trials, stocks


def error_of(result: CallToolResult) -> dict[str, Any]:
    assert result.is_error, result.content
    assert result.structured_content is not None, "an error carries structured content"
    error = result.structured_content["error"]
    assert error["kind"] in ERROR_KINDS and error["message"] == result.content[0].text  # type: ignore[union-attr]
    assert "Error executing tool" not in error["message"]
    return dict(error)


async def test_a_misspelt_argument_is_refused_with_the_closest_name_before_any_request(tmp_path: Path) -> None:
    async with connected(tmp_path) as (client, trials, stocks):
        history = await client.call_tool("get_price_history", {"symbol": "2330", "start": "2026-08-01"})
        trial = await client.call_tool("get_trial", {"nct_id": "NCT04280705", "section": ["results"]})
        tool = await client.call_tool("get_trail", {"nct_id": "NCT04280705"})
    refused = error_of(history)
    assert (refused["kind"], refused["field"]) == ("invalid_argument", "start")
    assert "unknown argument; did you mean 'start_date'?" in refused["message"]
    assert "did you mean 'sections'?" in error_of(trial)["message"]
    unknown_tool = error_of(tool)
    assert unknown_tool["kind"] == "invalid_argument" and "did you mean 'get_trial'?" in unknown_tool["message"]
    assert trials.requests == [] and stocks.requests == []


async def test_harmless_slips_are_forgiven(tmp_path: Path) -> None:
    async with connected(tmp_path) as (client, trials, _):
        by_number = await client.call_tool("get_stock_info", {"symbol": 2330})
        one_status = await client.call_tool("count_trials", {"condition": "melanoma", "statuses": "RECRUITING"})
        listed = await client.call_tool("get_stock_quote", {"symbols": "2330, 6488"})
        one_symbol = await client.call_tool("get_stock_quote", {"symbols": 2330})
    assert not by_number.is_error and by_number.structured_content["symbol"] == "2330"  # type: ignore[index]
    assert not one_status.is_error, one_status.content
    assert trials.params(path="/api/v2/studies")["filter.overallStatus"] == "RECRUITING"
    assert [q["symbol"] for q in listed.structured_content["quotes"]] == ["2330", "6488"]  # type: ignore[index]
    assert [q["symbol"] for q in one_symbol.structured_content["quotes"]] == ["2330"]  # type: ignore[index]


async def test_a_value_still_wrong_after_forgiving_names_its_field(tmp_path: Path) -> None:
    async with connected(tmp_path) as (client, trials, _):
        bad = await client.call_tool("search_trials", {"condition": "melanoma", "page_size": "many"})
        flag = await client.call_tool("get_stock_info", {"symbol": True})
    assert error_of(bad)["field"] == "page_size" and error_of(flag)["field"] == "symbol"
    assert trials.requests == []


async def test_every_answer_is_one_compact_text_of_its_structured_content(tmp_path: Path) -> None:
    async with connected(tmp_path) as (client, _, _):
        results = [
            await client.call_tool("get_trial", {"nct_id": "NCT06604689"}),
            await client.call_tool("search_trials", {"condition": "melanoma", "statuses": ["RECRUITING"]}),
            await client.call_tool("get_stock_quote", {"symbols": ["2330"]}),
            await client.call_tool("service_status", {}),
        ]
    for result in results:
        assert not result.is_error and len(result.content) == 1
        text = result.content[0].text  # type: ignore[union-attr]
        assert orjson.loads(text) == result.structured_content
        assert len(text.encode()) <= 1.1 * len(orjson.dumps(result.structured_content))


async def test_an_unknown_trial_is_not_found(tmp_path: Path) -> None:
    async with connected(tmp_path) as (client, _, _):
        result = await client.call_tool("get_trial", {"nct_id": "NCT09999998"})
    error = error_of(result)
    assert error["kind"] == "not_found" and "NCT09999998" in error["message"]


@pytest.mark.parametrize(
    ("reply", "kind", "retry"),
    [
        (httpx.Response(429, headers={"Retry-After": "7"}, text="slow down"), "rate_limited", 7),
        (httpx.Response(503, text="maintenance"), "upstream_unavailable", None),
        (httpx.Response(400, text="unknown filter value"), "invalid_argument", None),
    ],
)
async def test_upstream_failures_carry_their_kind(
    tmp_path: Path, reply: httpx.Response, kind: str, retry: int | None
) -> None:
    async with connected(tmp_path, http={"max_attempts": 1}) as (client, trials, _):
        trials.script(*[reply] * 3)
        result = await client.call_tool("count_trials", {"condition": "melanoma"})
    error = error_of(result)
    assert error["kind"] == kind and error.get("retry_after_s") == retry, error


async def test_a_deadline_is_a_timeout_with_a_retry_time(tmp_path: Path) -> None:
    async with connected(tmp_path, http={"call_deadline": 0.3}) as (client, trials, _):
        trials.held.add("clinicaltrials.gov")
        result = await client.call_tool("count_trials", {"condition": "melanoma"})
        trials.release()
    error = error_of(result)
    assert error["kind"] == "timeout" and error["retry_after_s"] >= 1


class Huge(Compact):
    items: list[str]
    truncated: Truncated = None
    cuts: Cuts = None


def test_an_answer_above_the_hard_cap_is_refused_never_sent() -> None:
    fits = answer(
        "t",
        Huge(
            items=["x" * 1000] * 10,
            truncated=True,
            cuts=[Cut(list="items", returned=10, dropped=5, next={"offset": 10})],
        ),
    )
    assert not fits.is_error and fits.structured_content["cuts"][0]["next"] == {"offset": 10}  # type: ignore[index]
    refused = answer("t", Huge(items=["x" * 1000] * (HARD_CAP // 1000 + 1)))
    error = error_of(refused)
    assert error["kind"] == "too_large" and f"{HARD_CAP:,}" in error["message"] and error["hint"]


def test_a_crash_is_internal_and_keeps_its_text_on_the_server(caplog: pytest.LogCaptureFixture) -> None:
    from mcp.server.mcpserver.exceptions import UnexpectedToolError

    try:
        try:
            raise RuntimeError("secret detail")
        except RuntimeError as exc:
            raise UnexpectedToolError("Error executing tool t") from exc
    except UnexpectedToolError as wrapped:
        failure = failure_of("t", wrapped)
    assert failure.kind == "internal" and "secret" not in failure.message and "Error executing" not in failure.message
    assert "secret detail" in caplog.text


async def test_oversized_arguments_are_too_large_with_structure(tmp_path: Path) -> None:
    async with connected(tmp_path, transport={"max_argument_bytes": 2048}) as (client, _, stocks):
        result = await client.call_tool("get_stock_quote", {"symbols": ["2330"], "market": "x" * 4000})
    error = error_of(result)
    assert (error["kind"], error["field"]) == ("too_large", "arguments") and stocks.requests == []


async def test_the_catalog_is_lean_ordered_and_hinted(tmp_path: Path) -> None:
    async with connected(tmp_path) as (client, _, _):
        first = await client.list_tools()
        second = await client.list_tools()
    names = [tool.name for tool in first.tools]
    assert names == [tool.name for tool in second.tools] and len(names) == len(set(names))
    assert first.ttl_ms is not None and first.ttl_ms > 0 and first.cache_scope == "public"
    for tool in first.tools:
        assert "title" not in keywords(tool.input_schema)
        assert tool.output_schema is None or not {"title", "description"} & keywords(tool.output_schema)


async def test_output_schemas_are_one_level_outlines_that_the_answers_pass(tmp_path: Path) -> None:
    async with connected(tmp_path) as (client, _, _):
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        answer = await client.call_tool("get_trial", {"nct_id": "NCT06604689"})  # the client checks it
    for tool in tools.values():
        schema = tool.output_schema
        assert schema is not None and schema["type"] == "object" and "$defs" not in schema, tool.name
        for name, field in schema["properties"].items():
            assert not {"properties", "items", "$ref"} & keywords(field), (tool.name, name, field)
    trial = tools["get_trial"].output_schema
    assert trial is not None and trial["required"] == ["cache"]
    assert trial["properties"]["trial"] == {"type": "object", "required": ["nct_id", "url", "locations"]}
    assert not answer.is_error and answer.structured_content is not None
    Draft202012Validator(trial).validate(answer.structured_content)
    with pytest.raises(ValidationError, match="'nct_id' is a required property"):
        Draft202012Validator(trial).validate({**answer.structured_content, "trial": {"url": "y", "locations": []}})


@pytest.mark.parametrize("name", sorted(full_output_schemas()))
def test_the_published_outline_read_off_the_fields_is_the_outline_of_the_whole_schema(name: str) -> None:
    functions = {tool_name(fn): fn for fn, _ in TOOLS}
    assert outline_of(result_model(functions[name])) == outline(full_output_schemas()[name])


def test_no_required_output_field_can_be_none() -> None:
    """Answers leave None fields out (tools.compact.Compact), so a required field that admits
    None would break the published schema's promise the first time it was None."""
    offenders = [
        f"{model.__name__}.{name}"
        for model in output_models()
        for name, field in model.model_fields.items()
        if field.is_required() and _admits_none(field.annotation)
    ]
    assert offenders == []


def output_models() -> set[type[BaseModel]]:
    """Every model reachable from the tools' result models."""
    found: set[type[BaseModel]] = set()
    todo: list[Any] = [result_model(fn) for fn, _ in TOOLS]
    while todo:
        item = todo.pop()
        if isinstance(item, type) and issubclass(item, BaseModel):
            if item not in found:
                found.add(item)
                todo += [field.annotation for field in item.model_fields.values()]
        else:
            todo += list(typing.get_args(item))
    return found


def _admits_none(annotation: Any) -> bool:
    if typing.get_origin(annotation) is typing.Annotated:
        return _admits_none(typing.get_args(annotation)[0])
    return annotation is Any or annotation is None or type(None) in typing.get_args(annotation)


def test_an_outline_follows_refs_and_choices_and_stops_one_level_down() -> None:
    schema = {
        "$defs": {
            "Inner": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]},
            "Kind": {"enum": ["a", "b"], "type": "string"},
        },
        "type": "object",
        "properties": {
            "inner": {"$ref": "#/$defs/Inner", "description": "dropped"},
            "kind": {"$ref": "#/$defs/Kind"},
            "either": {"anyOf": [{"$ref": "#/$defs/Inner"}, {"type": "array", "items": {"type": "string"}}]},
            "when": {"type": "string", "format": "date", "title": "When"},
        },
        "required": ["inner"],
        "additionalProperties": False,
    }
    assert outline(schema) == {
        "type": "object",
        "properties": {
            "inner": {"type": "object", "required": ["x"]},
            "kind": {"type": "string", "enum": ["a", "b"]},
            "either": {"anyOf": [{"type": "object", "required": ["x"]}, {"type": "array"}]},
            "when": {"type": "string", "format": "date"},
        },
        "required": ["inner"],
        "additionalProperties": False,
    }


def keywords(schema: Any) -> set[str]:
    """Every schema keyword used in ``schema`` (property names are not keywords)."""
    found: set[str] = set()
    if isinstance(schema, list):
        for item in schema:
            found |= keywords(item)
    elif isinstance(schema, dict):
        for key, value in schema.items():
            found.add(key)
            children = value.values() if key in ("properties", "$defs") and isinstance(value, dict) else [value]
            for child in children:
                found |= keywords(child)
    return found
