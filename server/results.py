"""How a tool's answer goes on the wire: one compact text, structured content, errors with a kind.

A result is its model dumped once to JSON-ready data (``structuredContent``) and that data as
compact JSON in the one text block (for clients that read only text), never a second, indented
copy. An answer above :data:`tools.budget.HARD_CAP` bytes is refused with kind ``too_large``
rather than sent: the tools cut their lists to their budgets (with ``truncated``/``cuts``), so
this is the backstop that keeps every answer bounded. A failure is its message as text plus
``{"error": {kind, message, field?, retry_after_s?, hint?}}`` as structured content.
"""

from __future__ import annotations

import logging

import orjson
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, ValidationError

from tools.budget import HARD_CAP
from tools.errors import ToolFailure, to_tool_error

log = logging.getLogger(__name__)


def answer(tool: str, result: BaseModel) -> CallToolResult:
    """The successful result of ``tool``: structured content and its compact JSON text."""
    structured = result.model_dump(mode="json", by_alias=True)
    text = orjson.dumps(structured)
    if len(text) > HARD_CAP:
        log.warning("tool %s answered %d bytes, above the %d-byte cap: refused", tool, len(text), HARD_CAP)
        return failure(
            ToolFailure(
                "too_large",
                f"the answer of {tool} is {len(text):,} bytes, above the {HARD_CAP:,}-byte limit of one answer",
                hint="ask for less: fewer items, a shorter period or narrower sections",
            )
        )
    return CallToolResult(content=[TextContent(type="text", text=text.decode())], structured_content=structured)


def failure(exc: ToolFailure) -> CallToolResult:
    """An isError result: the message as text, the error's fields as structured content."""
    return CallToolResult(
        content=[TextContent(type="text", text=exc.message)], structured_content=exc.structured(), is_error=True
    )


def failure_of(tool: str, exc: ToolError) -> ToolFailure:
    """The ToolFailure behind an error the SDK raised around ``tool``'s call (it wraps the tool's
    own error as "Error executing tool <name>: ..."; that prefix goes). A crash is logged here
    with its traceback and reported as kind ``internal`` without its text."""
    cause = exc.__cause__
    if isinstance(exc, ToolFailure):
        return exc
    if isinstance(cause, ToolFailure):
        return cause
    if isinstance(cause, ValidationError):
        return to_tool_error(cause)
    if isinstance(exc, UnexpectedToolError):
        log.error("tool %s crashed", tool, exc_info=cause or exc)
        return ToolFailure("internal", f"{tool} failed unexpectedly; the server logged why", hint="retry later")
    return ToolFailure("invalid_argument", str(exc))
