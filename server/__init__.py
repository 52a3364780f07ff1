"""The MCP application: settings, lifespan wiring, tool registration, transports and CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("trialstock-mcp")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
