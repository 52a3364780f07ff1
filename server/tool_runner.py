"""Run the server's own tools from inside the process (warming), and record tool usage.

Warming must store values under exactly the keys real requests use, so it calls the real tool
functions through ``MCPServer.call_tool`` with a context that carries the process's AppState,
rather than re-implementing each tool. The outcome is read from the ``cache`` metadata every
tool result carries: all hits and none stale -> already fresh; otherwise warmed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import TextContent

from cache import override_policy
from cache.warming import TtlOverride, WarmOutcome, apply_ttl


class _InProcessContext:
    """What a tool function uses of its Context: the lifespan state and progress reports."""

    def __init__(self, state: Any) -> None:
        self.request_context = SimpleNamespace(lifespan_context=state)

    async def report_progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        return None


class ToolRunner:
    """``await runner(tool, arguments, ttl=None) -> WarmOutcome`` against this process's tools
    and state."""

    def __init__(self, mcp: MCPServer, state: Callable[[], Any]) -> None:
        self._mcp = mcp
        self._state = state

    async def __call__(self, tool: str, arguments: dict[str, Any], ttl: TtlOverride | None = None) -> WarmOutcome:
        """Run ``tool``; with ``ttl``, the values it loads are stored under those fresh/stale
        TTLs instead of the tool's own (a value already fresh in memory is left as it is)."""
        context = _InProcessContext(self._state())
        try:
            if ttl is None:
                result = await self._mcp.call_tool(tool, arguments, context)  # type: ignore[arg-type]
            else:
                with override_policy(lambda policy: apply_ttl(policy, ttl)):
                    result = await self._mcp.call_tool(tool, arguments, context)  # type: ignore[arg-type]
        except ToolError as exc:
            return WarmOutcome.failed(str(exc))
        if getattr(result, "is_error", False):
            text = " ".join(c.text for c in result.content if isinstance(c, TextContent))
            return WarmOutcome.failed(text or "the tool reported an error")
        data = getattr(result, "structured_content", None)
        errors = data.get("errors") if isinstance(data, dict) else None
        if errors:  # a batch whose items partly failed (e.g. unknown symbols)
            return WarmOutcome.failed("; ".join(_error_text(e) for e in errors))
        metas = list(_cache_metas(data))
        if metas and all(m.get("hit") and not m.get("stale") for m in metas):
            return WarmOutcome.already_fresh()
        return WarmOutcome.warmed()


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return ": ".join(str(error[k]) for k in ("symbol", "mutation", "error", "message") if error.get(k))
    return str(error)


def _cache_metas(data: Any) -> Iterator[dict[str, Any]]:
    """Every ``cache`` metadata object in a structured tool result (batch results hold several)."""
    if isinstance(data, dict):
        meta = data.get("cache")
        if isinstance(meta, dict) and "hit" in meta:
            yield meta
        for key, value in data.items():
            if key != "cache":
                yield from _cache_metas(value)
    elif isinstance(data, list):
        for item in data:
            yield from _cache_metas(item)


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

