"""Logging goes to stderr only: in stdio mode stdout carries nothing but the MCP protocol."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _StderrHandler(logging.StreamHandler[TextIO]):
    """The handler :func:`configure_logging` installs, told apart from others' so it can be replaced."""


def configure_logging(level: str) -> None:
    """Send every log record to stderr at ``level``; idempotent (replaces our own handler)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _StderrHandler):
            root.removeHandler(handler)
    handler = _StderrHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    # The SDK and HTTP libraries are chatty at INFO; follow our level but never below WARNING
    # unless DEBUG was asked for explicitly.
    quiet = level if level == "DEBUG" else max(logging.getLevelName(level), logging.WARNING)
    for name in ("mcp", "httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(name).setLevel(quiet)
