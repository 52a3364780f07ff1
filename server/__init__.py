"""The MCP application: settings, lifespan wiring, tool registration, transports and CLI."""

import sys
from importlib.metadata import PackageNotFoundError, version

# httpx's ``__init__`` imports its command-line client (``httpx._main``) when it can; that pulls
# in click and pygments' lexer table (25-40 ms of start-up wherever pygments is installed, e.g.
# next to pytest) for a command this server never runs. A None entry makes that import fail at
# once, and httpx falls back to its stub ``httpx.main``; nothing else of httpx changes.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

try:
    __version__ = version("trialstock-mcp")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
