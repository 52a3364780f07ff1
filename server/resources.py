"""Resource templates: a trial record (``trial://{nct_id}``) and a month of daily bars
(``stock://{symbol}/history/{month}``, month as ``yyyy-mm``), as compact JSON.

Each read runs the real tool function with the process's Services, so it uses the same
argument checks, deadline and cache keys as the tool: reading ``trial://NCT04280705`` then
calling ``get_trial`` makes one upstream request. A failure is a resource error (JSON-RPC
error naming what was wrong): ``ResourceNotFoundError`` (invalid params) for a malformed
argument, a month in the future or an id/symbol the upstream does not know; ``ResourceError``
(internal error) for an upstream failure, with the tool's own message.
"""

# No ``from __future__ import annotations`` here: the SDK reads these functions' annotations when
# it registers them, and real objects spare it evaluating strings (typing.get_type_hints, per
# function) at start-up.

import calendar
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from pydantic import BaseModel, ValidationError

from tools.clinical_trials.tools import get_trial
from tools.errors import InvalidInput, to_tool_error
from tools.http.errors import NotFound
from tools.registry import ToolFunction, validate_arguments
from tools.services import Services
from tools.stocks.tools import get_price_history

MIME = "application/json"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

M = TypeVar("M", bound=BaseModel)


def add_resources(mcp: MCPServer[Any], services: Callable[[], Services]) -> None:
    """Publish the resource templates on ``mcp``; ``services`` gives this process's Services
    (the server's lifespan state, built when the first client connects)."""

    @mcp.resource("trial://{nct_id}", name="trial", title="Clinical trial record", mime_type=MIME)
    async def trial_record(nct_id: str) -> str:
        """One clinical trial's compact record by NCT id, as get_trial returns it."""
        arguments = _checked(get_trial, {"nct_id": nct_id})
        return _json(await _read(get_trial(services(), **arguments)))

    @mcp.resource("stock://{symbol}/history/{month}", name="stock_month", title="A month of daily bars", mime_type=MIME)
    async def stock_month(symbol: str, month: str) -> str:
        """Daily bars of one stock for one calendar month (yyyy-mm), as get_price_history returns them."""
        current = services()
        first, last = month_range(month, datetime.fromtimestamp(current.clock(), UTC).date())
        arguments = _checked(get_price_history, {"symbol": symbol, "start_date": first, "end_date": last})
        return _json(await _read(get_price_history(current, **arguments)))


def month_range(month: str, today: date) -> tuple[date, date]:
    """First and last day of ``month`` (``yyyy-mm``); ResourceNotFoundError when malformed or
    after ``today``'s month."""
    match = _MONTH.match(month.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        raise ResourceNotFoundError(f"month {month!r} is not a calendar month written yyyy-mm, e.g. 2026-08")
    year, number = int(match.group(1)), int(match.group(2))
    first = date(year, number, 1)
    if first > today:
        raise ResourceNotFoundError(f"month {month} is in the future (today is {today.isoformat()} UTC)")
    return first, date(year, number, calendar.monthrange(year, number)[1])


def _checked(fn: ToolFunction, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """``arguments`` checked by the tool's own types, a bad one as ResourceNotFoundError."""
    try:
        return validate_arguments(fn, arguments)
    except ValidationError as exc:
        raise ResourceNotFoundError(str(to_tool_error(exc))) from exc


async def _read(call: Awaitable[M]) -> M:
    """The tool's answer; its ToolError as a resource error with the same message."""
    try:
        return await call
    except ToolError as exc:
        unknown = isinstance(exc.__cause__, NotFound | InvalidInput | ValidationError)
        raise (ResourceNotFoundError if unknown else ResourceError)(str(exc)) from exc


def _json(result: BaseModel) -> str:
    return result.model_dump_json()
