"""``build_server(settings)``: the MCPServer with every tool registered and one shared lifespan."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool as SdkTool
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult
from mcp.types import Tool as ListedTool

from server import __version__, status
from server.background import Role, load_warming
from server.catalog import CACHE_HINTS, lean_tool, result_model
from server.header_schema import header_schema
from server.idle_build import Activity
from server.lifespan import SharedLifespan, app_state
from server.prompts import add_prompts
from server.resources import add_resources
from server.results import answer, failure, failure_of
from server.settings import Settings
from server.tool_runner import ArgumentLimit, UsageMiddleware
from server.toolset import TOOLS
from tools.arguments import closest, normalize_arguments
from tools.errors import InvalidInput, ToolFailure, to_tool_error
from tools.http.tls import TlsContext
from tools.registry import Tool, register_all, tool_name

INSTRUCTIONS = (
    "Clinical-trial lookups (ClinicalTrials.gov) and stock lookups (Taiwan TWSE/TPEx, realtime quotes, "
    "global symbols via Yahoo). Answers come from a cache when possible; each result says whether it "
    "was cached and how old it is."
)


def build_server(
    settings: Settings,
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    clock: Callable[[], float] = time.time,
) -> MCPServer:
    """Return the configured server; its state is built when the first client connects."""
    return build_app(settings, transports=transports, clock=clock).mcp


class TrialstockServer(MCPServer):
    """MCPServer speaking the agent contract (docs/tools.md): arguments normalised before
    validation (unknown names refused with the closest real one, harmless slips forgiven:
    :mod:`tools.arguments`), answers sent as one compact text plus structured content, failures
    with ``{error: {kind, ...}}`` (:mod:`server.results`); and whose tool list is the lean
    catalog (:mod:`server.catalog`), built once."""

    _catalog: list[ListedTool] | None = None

    def __init__(self, *args: Any, tools: Iterable[Tool], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tools = list(tools)
        self._functions = {tool_name(fn): fn for fn, _ in tools}
        self._header_schemas: dict[str, dict[str, Any]] = {}
        register_all(self, tools, structured_output=False)  # answers are rendered by server.results
        self.middleware.append(UsageMiddleware(self.checked_arguments))

    def _sdk_tool(self, name: str) -> SdkTool:
        if (tool := self._tool_manager.get_tool(name)) is None:
            raise InvalidInput("name", f"unknown tool {name!r}")
        return tool

    def _forgiven(self, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """``arguments`` of a call to tool ``name`` with harmless slips forgiven against the input
        schema the SDK published for it (:mod:`tools.arguments`); InvalidInput for an unknown name."""
        return normalize_arguments(name, self._sdk_tool(name).parameters, arguments)

    def checked_arguments(self, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """``arguments`` as tool ``name`` receives them: forgiven, then validated by the SDK's own
        model of its parameters (defaults filled in). Raises InvalidInput or ValidationError.

        The schema and the model are those the SDK built at registration, so a tool's first call
        builds no second copy of them (1-5 ms a tool, search_trials the most, when the registry built its own)."""
        return self._sdk_tool(name).fn_metadata.validate_arguments(self._forgiven(name, arguments))

    def _tool_input_schema(self, name: str) -> dict[str, Any] | None:
        """What the SDK checks a ``tools/call``'s ``Mcp-Param-*`` headers against, before
        middleware: the tool's input schema reduced to its header annotations
        (:mod:`server.header_schema`), worked out once per tool instead of walked per call."""
        if (known := self._header_schemas.get(name)) is not None:
            return known
        schema = super()._tool_input_schema(name)
        if schema is None:
            return None
        self._header_schemas[name] = header_schema(schema)
        return self._header_schemas[name]

    async def list_tools(self) -> list[ListedTool]:
        if self._catalog is None:
            self._catalog = [
                lean_tool(tool, result_model(self._functions[tool.name])) for tool in await super().list_tools()
            ]
        return self._catalog

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None, context: Any = None) -> Any:
        """As the SDK's, but an unknown prompt name is the caller's mistake (invalid params, with
        the closest real name), not an internal error with a logged traceback."""
        names = [prompt.name for prompt in await self.list_prompts()]
        if name not in names:
            close = closest(name, names)
            hint = f"did you mean {close!r}? " if close else ""
            raise MCPError(INVALID_PARAMS, f"unknown prompt {name!r}; {hint}prompts: {', '.join(names)}")
        return await super().get_prompt(name, arguments, context)

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> CallToolResult:
        fn = self._functions.get(name)
        if fn is None:
            close = closest(name, self._functions)
            return failure(
                ToolFailure(
                    "invalid_argument",
                    f"unknown tool {name!r}{f'; did you mean {close!r}?' if close else ''}",
                    field="name",
                    hint=f"tools: {', '.join(self._functions)}",
                )
            )
        try:
            arguments = self._forgiven(name, arguments)
        except InvalidInput as exc:
            return failure(to_tool_error(exc))
        if context is None:
            context = Context(mcp_server=self)
        try:
            # The manager hands back the tool's model unconverted: the SDK's own conversion would
            # validate it again and add an indented text copy (server.results does one dump).
            result = await self._tool_manager.call_tool(name, arguments, context, convert_result=False)
        except ToolError as exc:
            return failure(failure_of(name, exc))
        return answer(name, result)


@dataclass(frozen=True)
class App:
    """The server and its shared lifespan (the worker enters the lifespan without a transport)."""

    mcp: TrialstockServer
    lifespan: SharedLifespan


def build_app(
    settings: Settings,
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    clock: Callable[[], float] = time.time,
    role: Role = "server",
) -> App:
    """The server with every tool registered; ``role`` (server, worker or cli) says which
    background schedules its state runs. Bad warming strategies fail here."""
    load_warming(settings)  # fail at start-up, not at the first connection
    tls = TlsContext()  # the CA bundle loads on a thread while the tools are registered
    activity = Activity()
    lifespan = SharedLifespan(
        functools.partial(
            app_state, settings, transports=transports, clock=clock, tools=TOOLS, role=role, tls=tls, activity=activity
        )
    )
    mcp = TrialstockServer(
        "trialstock-mcp",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        log_level=settings.log_level,
        cache_hints=CACHE_HINTS,
        # Then the usage log (the server adds it).
        middleware=[activity, ArgumentLimit(settings.transport.max_argument_bytes)],
        tools=TOOLS,
    )
    status.add_stats_resource(mcp, lambda: lifespan.current.services)
    add_prompts(mcp)
    add_resources(mcp, lambda: lifespan.current.services)
    return App(mcp, lifespan)
