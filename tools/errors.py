"""The tool-error boundary: typed failures become MCP tool errors an agent can act on.

Tool functions raise ``tools.http.errors.UpstreamError`` subclasses (from the HTTP layer or
domain clients), ``InvalidInput`` (domain validation the input schema cannot express) or a
pydantic ``ValidationError`` (a domain model rejected a value). ``@translate_errors`` turns
exactly those into a :class:`ToolFailure` (the call returns ``is_error=True`` with the message,
never a traceback, and ``{error: {kind, message, ...}}`` as structured content); anything else
propagates and the server reports it as a crash (kind ``internal``).

``to_tool_error`` is the only place that words these messages and picks their kind.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Literal, ParamSpec, TypeVar, get_args

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import ValidationError

from tools.http.errors import (
    BadPayload,
    Blocked,
    DeadlineExceeded,
    NotFound,
    RateLimited,
    Rejected,
    Throttled,
    TimedOut,
    Unavailable,
    UpstreamError,
)

P = ParamSpec("P")
R = TypeVar("R")

_USER_AGENT_HINT = "set TRIALSTOCK_USER_AGENT to a browser-like User-Agent, or try again later"


ErrorKind = Literal[
    "invalid_argument", "not_found", "upstream_unavailable", "rate_limited", "timeout", "too_large", "internal"
]
"""What went wrong, for an agent deciding what to do next (docs/tools.md lists them)."""

ERROR_KINDS: tuple[str, ...] = get_args(ErrorKind)


class InvalidInput(ValueError):
    """A tool argument is well-typed but unusable (e.g. an NCT id that is not 'NCT' + 8 digits)."""

    def __init__(self, field: str, message: str, hint: str | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.hint = hint


class ToolFailure(ToolError):
    """A tool error with its kind and what helps the agent act on it (a field to fix, when to
    retry, a hint); ``str()`` is the message."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        field: str | None = None,
        retry_after_s: float | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.field = field
        self.retry_after_s = retry_after_s
        self.hint = hint

    def structured(self) -> dict[str, Any]:
        """``{"error": {kind, message, field?, retry_after_s?, hint?}}``: absent keys are left out."""
        error: dict[str, Any] = {"kind": self.kind, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        if self.retry_after_s is not None:
            error["retry_after_s"] = max(round(self.retry_after_s), 1)
        if self.hint is not None:
            error["hint"] = self.hint
        return {"error": error}


TRANSLATED: tuple[type[Exception], ...] = (UpstreamError, InvalidInput, ValidationError)
INVALID_PREFIX = "Invalid input"
"""Every message about the caller's arguments starts so (their kind is ``invalid_argument``)."""


def to_tool_error(exc: Exception) -> ToolFailure:
    """Word ``exc`` (one of ``TRANSLATED``) as a ToolFailure telling the agent what to do next."""
    if isinstance(exc, InvalidInput):
        return ToolFailure(
            "invalid_argument",
            f"{INVALID_PREFIX} {exc.field!r}: {exc.message}. Fix the argument and call again.",
            field=exc.field,
            hint=exc.hint,
        )
    if isinstance(exc, ValidationError):
        return ToolFailure(
            "invalid_argument",
            f"{INVALID_PREFIX}: {_validation_text(exc)}. Fix the arguments and call again.",
            field=_first_field(exc),
        )
    if isinstance(exc, UpstreamError):
        kind, retry = _upstream_kind(exc)
        hint = _USER_AGENT_HINT if isinstance(exc, Blocked) else None
        return ToolFailure(kind, _upstream_text(exc), retry_after_s=retry, hint=hint)
    return ToolFailure("internal", f"{type(exc).__name__}: {exc}")


def translate_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Decorate an async tool so its typed failures become ToolErrors.

    The wrapper keeps the signature, annotations and docstring (``functools.wraps``), so
    MCPServer still derives the same input schema, output schema and ``Context`` injection.
    Put it under ``@server.tool()``.
    """
    if not inspect.iscoroutinefunction(fn):
        raise TypeError("translate_errors wraps async functions only")

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except TRANSLATED as exc:
            raise to_tool_error(exc) from exc

    return wrapper


def _upstream_kind(exc: UpstreamError) -> tuple[ErrorKind, float | None]:
    """The kind of an upstream failure and, when known, the seconds after which a retry may work."""
    if isinstance(exc, Rejected):
        return "invalid_argument", None
    if isinstance(exc, NotFound):
        return "not_found", None
    if isinstance(exc, RateLimited):  # Throttled too: our own limiter's queue is full
        return "rate_limited", exc.retry_after
    if isinstance(exc, DeadlineExceeded):
        return "timeout", exc.retry_in
    if isinstance(exc, TimedOut):
        return "timeout", None
    if isinstance(exc, Unavailable):
        return "upstream_unavailable", exc.retry_in
    return "upstream_unavailable", None  # Blocked, BadPayload and the like


def _upstream_text(exc: UpstreamError) -> str:
    name = exc.upstream
    if isinstance(exc, Rejected):
        return (
            f"{name} rejected the request (HTTP {exc.status}): {_quote(exc.body)}. "
            "Change the arguments the message points at and call again."
        )
    if isinstance(exc, NotFound):
        return f"{name}: {exc.message}"
    if isinstance(exc, Blocked):
        text = exc.message if exc.message.startswith("blocked by") else f"blocked by {name} (HTTP 403): {exc.message}"
        return f"{name}: {text}" if "TRIALSTOCK_USER_AGENT" in text else f"{name}: {text}; {_USER_AGENT_HINT}"
    if isinstance(exc, Unavailable):
        return f"{name} is unavailable ({exc.message}); {_retry_hint(exc.retry_in)}"
    if isinstance(exc, Throttled):
        return exc.message  # "rate-limited upstream <name>: N calls queued, retry in S s"
    if isinstance(exc, DeadlineExceeded):
        return f"{name}: {exc.message}; {_retry_hint(exc.retry_in)}"
    if isinstance(exc, RateLimited):
        return f"{name} is rate limiting our requests; {_retry_hint(exc.retry_after)}"
    if isinstance(exc, TimedOut):
        return f"{name} timed out ({exc.message}); {_retry_hint(None)} or ask for less data"
    if isinstance(exc, BadPayload):
        return f"upstream fault: {name} sent a response that cannot be read ({exc.message}); {_retry_hint(None)}"
    return f"{name}: {exc.message}"


def _retry_hint(seconds: float | None) -> str:
    if seconds is None:
        return "retry later"
    return f"retry in {max(round(seconds), 1)} s"


def _quote(body: str) -> str:
    text = " ".join(body.split())
    if not text:
        return "(no message)"
    return '"' + (text if len(text) <= 500 else text[:500] + "...") + '"'


def _first_field(exc: ValidationError) -> str | None:
    for error in exc.errors(include_url=False, include_input=False):
        if error["loc"]:
            return str(error["loc"][0])
    return None


def _validation_text(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"]) or "value"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)
