"""Logging goes to stderr only: in stdio mode stdout carries nothing but the MCP protocol."""

from __future__ import annotations

import logging
import sys

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    """Send every log record to stderr at ``level``; idempotent (replaces our own handler)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_trialstock", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler._trialstock = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # The SDK and HTTP libraries are chatty at INFO; follow our level but never below WARNING
    # unless DEBUG was asked for explicitly.
    quiet = level if level == "DEBUG" else max(logging.getLevelName(level), logging.WARNING)
    for name in ("mcp", "httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(name).setLevel(quiet)
