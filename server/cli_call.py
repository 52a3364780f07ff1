"""``trialstock-mcp tools`` and ``trialstock-mcp call``: the real server, in-process, via the SDK client."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import jsonschema
import orjson
from mcp import Client
from mcp.types import TextContent

from server.app import build_app
from server.cli_errors import UsageError
from server.render import render_table, render_tree
from server.settings import Settings


def parse_arguments(pairs: Sequence[str], json_args: str | None) -> dict[str, Any]:
    """``key=value`` pairs (JSON values when they parse, else text) merged over ``--json``."""
    arguments: dict[str, Any] = {}
    if json_args:
        try:
            arguments = orjson.loads(json_args)
        except orjson.JSONDecodeError as exc:
            raise UsageError(f"--json is not valid JSON: {exc}") from None
        if not isinstance(arguments, dict):
            raise UsageError("--json must be a JSON object, e.g. '{\"nct_id\": \"NCT04280705\"}'")
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"argument {pair!r} is not key=value")
        try:
            arguments[key] = orjson.loads(text)
        except orjson.JSONDecodeError:
            arguments[key] = text
    return arguments


async def list_tools(settings: Settings) -> int:
    async with Client(build_app(settings, role="cli").mcp) as client:
        tools = (await client.list_tools()).tools
    rows = [(tool.name, summary(tool.description)) for tool in tools]
    print(render_table(("tool", "description"), rows))
    return 0


async def call_tool(settings: Settings, name: str, arguments: dict[str, Any], *, raw: bool) -> int:
    async with Client(build_app(settings, role="cli").mcp) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        tool = tools.get(name)
        if tool is None:
            raise UsageError(f"unknown tool {name!r}; available: {', '.join(sorted(tools))}")
        _check_arguments(name, arguments, tool.input_schema)
        result = await client.call_tool(name, arguments, progress_callback=_progress)
    if result.is_error:
        text = " ".join(c.text for c in result.content if isinstance(c, TextContent))
        print(f"trialstock-mcp: {name} failed: {text}", file=sys.stderr)
        return 1
    data = result.structured_content
    if data is None:
        data = [c.text for c in result.content if isinstance(c, TextContent)]
    print(orjson.dumps(data).decode() if raw else render_tree(data))
    return 0


def summary(description: str | None, width: int = 100) -> str:
    """The first paragraph of a tool description on one line, cut at ``width``."""
    first = " ".join((description or "").strip().split("\n\n")[0].split())
    return first if len(first) <= width else first[: width - 1].rstrip() + "…"


def _check_arguments(name: str, arguments: dict[str, Any], schema: dict[str, Any]) -> None:
    """Reject bad arguments before the call, naming the field and what the schema allows."""
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(arguments))
    if error is None:
        return
    field = ".".join(str(p) for p in error.absolute_path) or "(arguments)"
    allowed = ", ".join(sorted(schema.get("properties", {}))) or "none"
    raise UsageError(f"bad argument for {name}: {field}: {error.message} (arguments: {allowed})")


async def _progress(done: float, total: float | None, message: str | None) -> None:
    of = f"/{total:g}" if total else ""
    print(f"  progress {done:g}{of} {message or ''}", file=sys.stderr)
