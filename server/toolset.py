"""Every tool this server publishes, in ``tools/list`` order: operations, clinical trials, stocks.

The same list is registered on the MCP server and given to the warming runner, so warming can
run exactly what agents can call.
"""

from __future__ import annotations

from server import status
from tools.clinical_trials import tools as trials
from tools.registry import Tool
from tools.stocks import tools as stocks

TOOLS: tuple[Tool, ...] = (*status.TOOLS, *trials.TOOLS, *stocks.TOOLS)
