"""Run the server's own tools from inside the process (warming); the tool-call middleware.

Warming must store values under exactly the keys real requests use, so it calls the real tool
functions with the process's :class:`~tools.services.Services` in place of a request's Context,
after checking the arguments with the same pydantic types the SDK checks a request with. The
outcome is read from the :class:`~tools.freshness.CacheInfo` objects of the typed result: all
hits and none stale -> already fresh; otherwise warmed.

Every ``tools/call`` passes :class:`ArgumentLimit` (oversized arguments refused before anything
else) and :class:`UsageMiddleware` (validated calls counted for "trending" warming).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python

from cache import override_policy
from cache.warming import TtlOverride, WarmOutcome, apply_ttl
from server.results import failure
from tools.errors import InvalidInput, ToolFailure, to_tool_error
from tools.freshness import cache_infos
from tools.registry import PartialResult, Tool, tool_name, validate_arguments
from tools.services import Services

log = logging.getLogger(__name__)

ArgumentCheck = Callable[[str, Mapping[str, Any]], dict[str, Any]]
"""``check(tool, arguments)``: the arguments as the tool receives them; raises for an unknown tool
(InvalidInput) or a bad argument (InvalidInput, ValidationError)."""


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
        except (ValidationError, InvalidInput) as exc:
            return WarmOutcome.failed(str(to_tool_error(exc)))
        try:
            if ttl is None:
                result = await fn(self._services, **kwargs)
            else:
                with override_policy(lambda policy: apply_ttl(policy, ttl)):
                    result = await fn(self._services, **kwargs)
        except ToolError as exc:
            return WarmOutcome.failed(f"{tool}: {exc}")
        except Exception:  # a crash: logged here, never a failed warming run
            log.exception("warming call %s crashed", tool)
            return WarmOutcome.failed(f"{tool} failed unexpectedly; the server logged why")
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


class ArgumentLimit:
    """Refuses a ``tools/call`` whose arguments take more than ``max_bytes`` as JSON.

    Middleware sees every request on every transport (stdio, streamable HTTP, SSE, in-memory)
    before the SDK validates anything, so an oversized call costs no validation, no upstream
    request and no usage record: it gets an isError result naming its size and the limit."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "tools/call" and ctx.params is not None:
            arguments = ctx.params.get("arguments")
            if arguments is not None:
                size = _json_size(arguments)
                if size is None or size > self._max_bytes:
                    return self._refusal(ctx.params.get("name"), size)
        return await call_next(ctx)

    def _refusal(self, name: object, size: int | None) -> CallToolResult:
        what = f"{size:,} bytes" if size is not None else "nested too deeply to measure"
        text = (
            f"Arguments of tool {name!r} are too large: {what}, above the limit of {self._max_bytes:,} bytes "
            "per call (setting TRIALSTOCK_TRANSPORT__MAX_ARGUMENT_BYTES). Send shorter arguments."
        )
        return failure(ToolFailure("too_large", text, field="arguments"))


def _json_size(value: object) -> int | None:
    """Bytes of ``value`` as compact JSON; None when it cannot be encoded (nested too deeply)."""
    try:
        return len(orjson.dumps(value))
    except (orjson.JSONEncodeError, TypeError):
        return None


class UsageMiddleware:
    """Counts each ``tools/call`` of a real tool whose arguments validate, by its canonical
    arguments (``check(name, arguments)``: forgiven, validated, defaults filled in; the server's
    own check, with the SDK's models), in the state's usage log
    for "trending". Unknown tools, invalid arguments and what the client sent as it is are
    never recorded; the log's own caps bound the rest (:class:`~cache.warming.UsageLog`).

    Validating the arguments a second time (the SDK validated them for the call) costs 10-20 us
    a call; the canonical form of arguments already seen is remembered instead, by the exact
    JSON the client sent (at most :data:`MEMO_SIZE` calls of at most :data:`MEMO_KEY_BYTES`)."""

    def __init__(self, check: ArgumentCheck) -> None:
        self._check = check
        self._canonical: OrderedDict[tuple[str, bytes], dict[str, Any] | None] = OrderedDict()

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if ctx.method == "tools/call" and ctx.params is not None:
            self._record(ctx.lifespan_context, ctx.params)
        return result

    def _record(self, state: object, params: Mapping[str, Any]) -> None:
        usage = getattr(getattr(state, "background", None), "usage", None)
        name, arguments = params.get("name"), params.get("arguments") or {}
        if usage is None or not isinstance(name, str) or not isinstance(arguments, Mapping):
            return
        canonical = self._canonical_of(name, arguments)
        if canonical is not None:
            usage.record(name, canonical)

    def _canonical_of(self, name: str, arguments: Mapping[str, Any]) -> dict[str, Any] | None:
        """The validated arguments as JSON-able data; None for an unknown tool or arguments the
        SDK refused too."""
        try:
            sent = orjson.dumps(arguments, option=orjson.OPT_SORT_KEYS)
        except (orjson.JSONEncodeError, TypeError):
            sent = b""
        key = (name, sent)
        if sent and key in self._canonical:
            self._canonical.move_to_end(key)
            return self._canonical[key]
        try:
            canonical: dict[str, Any] | None = to_jsonable_python(self._check(name, arguments))
        except (ValidationError, InvalidInput, TypeError, ValueError):
            canonical = None
        if sent and len(sent) <= MEMO_KEY_BYTES:
            self._canonical[key] = canonical
            if len(self._canonical) > MEMO_SIZE:
                self._canonical.popitem(last=False)
        return canonical


MEMO_SIZE = 1024
MEMO_KEY_BYTES = 2048
