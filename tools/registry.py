"""How tools are declared, registered and run in-process, for every domain and the server's own.

A tool is a module-level async function whose first parameter is ``ctx: ToolContext``: the MCP
``Context`` of a request (the SDK injects it and leaves it out of the input schema), or the
process's :class:`~tools.services.Services` when the process runs the tool itself (warming,
tests). Its other parameters carry the pydantic types and descriptions of the input schema, its
docstring is the description agents read. A domain tool is declared with :func:`domain_tool`:
it runs under a deadline and its typed failures become tool errors. Each tool module lists its tools with their
annotations in ``TOOLS``; :func:`register_all` publishes such a list on a server, and
:func:`validate_arguments` checks an in-process call's arguments with the same types the SDK
uses for a request, so both load (and cache) exactly the same thing.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel, ConfigDict, create_model

from tools.arguments import normalize_arguments
from tools.errors import translate_errors
from tools.http.deadline import within
from tools.http.errors import DeadlineExceeded
from tools.services import Services

ToolContext = Context | Services
"""Who runs a tool: an MCP request (its Context) or the process itself (its Services)."""

ToolFunction = Callable[..., Awaitable[BaseModel]]
Tool = tuple[ToolFunction, ToolAnnotations]
"""A tool function and the annotations it is published with."""

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=True)
"""The domain tools: they only read, and they reach an upstream."""

Progress = Callable[[int, int, str], Awaitable[None]]

BATCH_DEADLINE = 60.0
"""Deadline, in seconds, of the tools that may send many requests behind one upstream's rate
limit: search_trials_for_mutations (up to 20 searches), get_stock_quote (up to 30 symbols,
Yahoo's one by one) and get_price_history (a month per request, TWSE allows 3 per 5 s). The
configured call deadline applies when it is longer."""

BACKSTOP_GRACE = 0.5
"""Seconds past its deadline after which a tool call stops waiting whatever it waits for."""


@runtime_checkable
class PartialResult(Protocol):
    """A batch result whose items fail one by one (the others are still answered)."""

    def failures(self) -> list[str]:
        """One line per failed item; empty when every item was answered."""
        ...


def services_of(ctx: ToolContext) -> Services:
    """The Services a tool works with: given directly, or the server lifespan state's ``services``."""
    if isinstance(ctx, Services):
        return ctx
    services = getattr(ctx.request_context.lifespan_context, "services", None)
    if not isinstance(services, Services):
        raise TypeError("the server's lifespan state has no `services` (a tools.services.Services)")
    return services


def progress_of(ctx: ToolContext) -> Progress | None:
    """Where a long tool reports progress: to the MCP client, or nowhere when run in-process."""
    return ctx.report_progress if isinstance(ctx, Context) else None


def domain_tool(deadline: float | None = None) -> Callable[[ToolFunction], ToolFunction]:
    """Declare a domain tool: each call runs under a deadline, and its typed failures become
    ToolErrors (:func:`tools.errors.translate_errors`).

    The deadline is ``services.call_deadline`` seconds (``TRIALSTOCK_HTTP__CALL_DEADLINE``), or
    ``deadline`` when the tool declares a longer one (a batch). It is set here, once per call, so
    MCP requests and the process's own calls (warming) both get it; the HTTP layer fits its
    rate-limit waits, retries and requests inside it (:mod:`tools.http.deadline`), so an upstream
    that cannot answer in time fails the loader, and the cache answers with a stale value when it
    has one. Waits outside the HTTP layer (a slow cache tier, a load another caller started) are
    cut :data:`BACKSTOP_GRACE` seconds after the deadline with ``DeadlineExceeded``; a load shared
    with other callers goes on for them.
    """

    def declare(fn: ToolFunction) -> ToolFunction:
        @functools.wraps(fn)
        async def bounded(ctx: ToolContext, *args: Any, **kwargs: Any) -> BaseModel:
            seconds = max(services_of(ctx).call_deadline, deadline or 0.0)
            with within(seconds) as limit:
                backstop = asyncio.timeout(limit.remaining() + BACKSTOP_GRACE)
                try:
                    async with backstop:
                        return await fn(ctx, *args, **kwargs)
                except TimeoutError:
                    if not backstop.expired():
                        raise
                    raise DeadlineExceeded(
                        tool_name(fn), limit.seconds, "still waiting for the cache or a shared load", retry_in=seconds
                    ) from None

        return translate_errors(bounded)

    return declare


def tool_name(fn: ToolFunction) -> str:
    return fn.__name__


def register_all(mcp: MCPServer[Any], tools: Iterable[Tool], *, structured_output: bool | None = None) -> None:
    """Publish every tool of ``tools`` on ``mcp``, in order, under its function's name.

    ``structured_output=False`` leaves the SDK's result conversion out (no output validator or
    output JSON schema built at registration) for a server that renders answers itself."""
    for fn, hints in tools:
        _check_signature(fn)
        mcp.add_tool(fn, annotations=hints, structured_output=structured_output)


def normalize(fn: ToolFunction, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """``arguments`` of a call to ``fn`` with harmless type slips forgiven; an unknown argument
    name raises InvalidInput naming the closest real one (:mod:`tools.arguments`)."""
    return normalize_arguments(tool_name(fn), _input_schema(fn), arguments)


@functools.cache
def _input_schema(fn: ToolFunction) -> dict[str, Any]:
    """The JSON schema of ``fn``'s arguments (after ``ctx``), as the SDK derives it."""
    return _arguments_model(fn).model_json_schema()


def validate_arguments(fn: ToolFunction, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """``arguments`` checked and converted by the types of ``fn``'s parameters (after ``ctx``),
    defaults filled in, ready for ``fn(ctx, **result)``. Raises InvalidInput for an unknown
    argument name, pydantic's ValidationError for a bad value.

    As for an MCP request: slips are forgiven first (:func:`normalize`), and a JSON text given
    for a non-text parameter (some clients send lists that way) is parsed."""
    model = _arguments_model(fn)
    values = normalize(fn, arguments)
    for name, value in list(values.items()):
        field = model.model_fields.get(name)
        if field is not None and isinstance(value, str) and field.annotation is not str:
            try:
                parsed = json.loads(value)
            except (ValueError, RecursionError):
                continue
            if not isinstance(parsed, str | int | float):
                values[name] = parsed
    checked = model.model_validate(values)
    return {name: getattr(checked, name) for name in model.model_fields}


@functools.cache
def _arguments_model(fn: ToolFunction) -> type[BaseModel]:
    parameters = _check_signature(fn)[1:]
    fields: dict[str, Any] = {
        p.name: (p.annotation, ... if p.default is inspect.Parameter.empty else p.default) for p in parameters
    }
    return create_model(f"{tool_name(fn)}Arguments", __config__=ConfigDict(extra="forbid"), **fields)


def _check_signature(fn: ToolFunction) -> list[inspect.Parameter]:
    parameters = list(inspect.signature(fn, eval_str=True).parameters.values())
    if not inspect.iscoroutinefunction(fn) or not parameters or parameters[0].annotation != ToolContext:
        raise TypeError(f"tool {tool_name(fn)} must be an async function whose first parameter is ctx: ToolContext")
    return parameters
