"""``trialstock-mcp tools`` and ``trialstock-mcp call``: the real server, in-process, via the SDK client."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from mcp import Client
from mcp.types import TextContent

from server.app import build_app
from server.cli_errors import UsageError
from server.render import render_table, render_tree
from server.settings import Settings
from tools.arguments import closest, shape


def parse_arguments(pairs: Sequence[str], json_args: str | None) -> tuple[dict[str, Any], dict[str, str]]:
    """``--json`` object and the raw ``key=value`` texts (typed later against the tool's schema)."""
    arguments: dict[str, Any] = {}
    if json_args:
        try:
            arguments = orjson.loads(json_args)
        except orjson.JSONDecodeError as exc:
            raise UsageError(f"--json is not valid JSON: {exc}") from None
        if not isinstance(arguments, dict):
            raise UsageError('--json must be a JSON object, e.g. \'{"nct_id": "NCT04280705"}\'')
    texts: dict[str, str] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"argument {pair!r} is not key=value")
        texts[key] = text
    return arguments, texts


def typed_arguments(
    name: str, schema: dict[str, Any], arguments: dict[str, Any], texts: dict[str, str]
) -> dict[str, Any]:
    """Merge ``key=value`` texts over ``arguments``, typed by the tool's input schema: JSON when the
    property wants a number, boolean, array or object, text when it wants a string (so
    ``symbol=2330`` stays "2330"); for a list, a bare value or comma-separated values become its
    items (``symbols=2330,AAPL``). Unknown and missing arguments are usage errors; value checks
    are the server's."""
    properties = schema.get("properties", {})
    merged = dict(arguments)
    for key, text in texts.items():
        merged[key] = _coerce(text, properties.get(key, {}), schema)
    unknown = sorted(set(merged) - set(properties))
    if unknown:
        raise UsageError(
            f"{name} has no argument {', '.join(unknown)}{did_you_mean(unknown[0], properties)}; "
            f"its arguments: {', '.join(sorted(properties))}"
        )
    missing = sorted(set(schema.get("required", [])) - set(merged))
    if missing:
        raise UsageError(f"{name} needs {', '.join(missing)}")
    return merged


def _coerce(text: str, prop: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    types, items = shape(prop, root)
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        value = text
    if isinstance(value, (list, dict)):
        return value
    if "array" in types and "string" not in types:
        return [_coerce(part.strip(), items, root) for part in text.split(",")]
    return text if "string" in types else value


async def list_tools(settings: Settings) -> int:
    async with Client(build_app(settings, role="cli").mcp) as client:
        tools = (await client.list_tools()).tools
    rows = [(tool.name, summary(tool.description)) for tool in tools]
    print(render_table(("tool", "description"), rows))
    return 0


async def describe_tool(settings: Settings, name: str) -> int:
    """``trialstock-mcp tools NAME``: the tool's description and a table of its arguments."""
    async with Client(build_app(settings, role="cli").mcp) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    tool = tools.get(name)
    if tool is None:
        raise UsageError(f"unknown tool {name!r}{did_you_mean(name, tools)}; available: {', '.join(sorted(tools))}")
    print(f"{tool.name}: {summary(tool.description, width=10_000)}\n")
    print(render_table(("argument", "type", "required", "default", "description"), argument_rows(tool.input_schema)))
    return 0


def argument_rows(schema: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """One row per property of an input schema: name, type, required, default, description."""
    required = set(schema.get("required", ()))
    rows = []
    for key, prop in schema.get("properties", {}).items():
        default = "" if prop.get("default") is None else orjson.dumps(prop["default"]).decode()
        rows.append(
            (
                key,
                _type_label(prop, schema),
                "yes" if key in required else "no",
                default,
                " ".join(str(prop.get("description", "")).split()),
            )
        )
    return rows


def _type_label(prop: dict[str, Any], root: dict[str, Any]) -> str:
    choices = _choices(prop, root)
    if choices:
        shown = ", ".join(choices[:8]) + (", ..." if len(choices) > 8 else "")
        return f"one of {shown}" if "array" not in shape(prop, root)[0] else f"list of: {shown}"
    types, items = shape(prop, root)
    types.discard("null")
    if types == {"array"}:
        item_types = shape(items, root)[0] if items else {"any"}
        return "list of " + "/".join(sorted(item_types))
    return "/".join(sorted(types))


def _choices(prop: dict[str, Any], root: dict[str, Any]) -> list[str]:
    if "$ref" in prop:
        target: Any = root
        for part in prop["$ref"].removeprefix("#/").split("/"):
            target = target.get(part, {})
        return _choices(target, root)
    found = [str(v) for v in prop.get("enum", ())]
    for member in (*prop.get("anyOf", ()), *prop.get("oneOf", ()), *([prop["items"]] if "items" in prop else [])):
        found += [c for c in _choices(member, root) if c not in found]
    return found


def did_you_mean(word: str, choices: Any) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices``, or nothing."""
    close = closest(word, choices)
    return f"; did you mean {close!r}?" if close else ""


async def call_tool(
    settings: Settings, name: str, arguments: dict[str, Any], texts: dict[str, str], *, raw: bool
) -> int:
    """Exit 0 with the result printed, 2 for an unknown tool or invalid arguments, 1 when the
    tool failed (e.g. its upstream is down)."""
    async with Client(build_app(settings, role="cli").mcp) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        tool = tools.get(name)
        problem: UsageError | None = None
        if tool is None:
            problem = UsageError(
                f"unknown tool {name!r}{did_you_mean(name, tools)}; available: {', '.join(sorted(tools))}"
            )
        else:
            try:
                arguments = typed_arguments(name, tool.input_schema, arguments, texts)
            except UsageError as exc:
                problem = exc
        result = None if problem else await client.call_tool(name, arguments, progress_callback=_progress)
    if problem is not None or result is None:
        raise problem or UsageError(f"{name}: no result")
    if result.is_error:
        text = " ".join(c.text for c in result.content if isinstance(c, TextContent))
        if (result.structured_content or {}).get("error", {}).get("kind") == "invalid_argument":
            raise UsageError(f"{name}: {text}")
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


async def _progress(progress: float, total: float | None, message: str | None) -> None:
    # The SDK's ProgressFnT protocol: same parameter names, as it may pass them by keyword.
    of = f"/{total:g}" if total else ""
    print(f"  progress {progress:g}{of} {message or ''}", file=sys.stderr)
