"""Run the server's own tools from inside the process (warming), and record tool usage.

Warming must store values under exactly the keys real requests use, so it calls the real tool
functions with the process's :class:`~tools.services.Services` in place of a request's Context,
after checking the arguments with the same pydantic types the SDK checks a request with. The
outcome is read from the :class:`~tools.freshness.CacheInfo` objects of the typed result: all
hits and none stale -> already fresh; otherwise warmed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, ValidationError

from cache import override_policy
from cache.warming import TtlOverride, WarmOutcome, apply_ttl
from tools.errors import to_tool_error
from tools.freshness import cache_infos
from tools.registry import PartialResult, Tool, tool_name, validate_arguments
from tools.services import Services

log = logging.getLogger(__name__)


class ToolRunner:
    """``await runner(tool, arguments, ttl=None) -> WarmOutcome`` against ``tools`` and ``services``.

    A call that fails says why, in the words an MCP client would read: unknown tool, invalid
    arguments ("Invalid input: ..."), or the tool's own error."""

    def __init__(self, services: Services, tools: Iterable[Tool]) -> None:
        self._services = services
        self._tools = {tool_name(fn): fn for fn, _ in tools}

    async def __call__(self, tool: str, arguments: Mapping[str, Any], ttl: TtlOverride | None = None) -> WarmOutcome:
        """Run ``tool``; with ``ttl``, the values it loads are stored under those fresh/stale
        TTLs instead of the tool's own (a value already fresh in memory is left as it is)."""
        fn = self._tools.get(tool)
        if fn is None:
            return WarmOutcome.failed(f"Unknown tool: {tool}")
        try:
            kwargs = validate_arguments(fn, arguments)
        except ValidationError as exc:
            return WarmOutcome.failed(str(to_tool_error(exc)))
        try:
            if ttl is None:
                result = await fn(self._services, **kwargs)
            else:
                with override_policy(lambda policy: apply_ttl(policy, ttl)):
                    result = await fn(self._services, **kwargs)
        except ToolError as exc:
            return WarmOutcome.failed(f"Error executing tool {tool}: {exc}")
        except Exception:  # a crash: logged here, never a failed warming run
            log.exception("warming call %s crashed", tool)
            return WarmOutcome.failed(f"Error executing tool {tool}")
        return outcome_of(result)


def outcome_of(result: BaseModel) -> WarmOutcome:
    """Failed when a batch left items unanswered (e.g. unknown symbols); already fresh when every
    part of the answer was a fresh cache hit; warmed otherwise."""
    if isinstance(result, PartialResult) and (failures := result.failures()):
        return WarmOutcome.failed("; ".join(failures))
    infos = list(cache_infos(result))
    if infos and all(info.hit and not info.stale for info in infos):
        return WarmOutcome.already_fresh()
    return WarmOutcome.warmed()


class UsageMiddleware:
    """Counts every ``tools/call`` (name + arguments) in the state's usage log, for "trending"."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "tools/call" and isinstance(ctx.params, dict):
            usage = getattr(getattr(ctx.lifespan_context, "background", None), "usage", None)
            name, arguments = ctx.params.get("name"), ctx.params.get("arguments") or {}
            if usage is not None and isinstance(name, str) and isinstance(arguments, dict):
                try:
                    usage.record(name, arguments)
                except (TypeError, ValueError):  # arguments that are not JSON-able: not worth counting
                    pass
        return await call_next(ctx)
