"""The command line's grammar: every sub-command, flag and help text, and nothing else.

Kept free of heavy imports (no MCP SDK, no cache engine) so that ``--help``, ``--version`` and
``version`` answer at once.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from server import __version__

DESCRIPTION = "trialstock-mcp: an MCP server for clinical-trial and stock lookups behind a tiered cache."
EPILOG = (
    "With no command it serves MCP over stdio. Exit codes: 0 success, 1 the operation failed, 2 bad usage, "
    "a bad setting or a refused start (non-loopback --host without a token, port in use), 130 interrupted, "
    "141 output pipe closed."
)


def port_number(text: str) -> int:
    """An ``--port`` value: a TCP port from 1 to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port from 1 to 65535")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trialstock-mcp", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"trialstock-mcp {__version__}")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the MCP server (stdio by default)")
    serve.add_argument("--transport", choices=["stdio", "http", "sse"], help="default: settings (stdio)")
    serve.add_argument("--host", help="bind address for http/sse (default 127.0.0.1)")
    serve.add_argument("--port", type=port_number, help="port for http/sse (default 8000)")
    serve.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        help="serve http/sse on a non-loopback --host without TRIALSTOCK_AUTH_TOKEN (refused otherwise)",
    )
    tools = sub.add_parser("tools", help="list the tools, or show one tool's arguments")
    tools.add_argument("name", nargs="?", help="a tool name: show its arguments")
    call = sub.add_parser("call", help="call a tool in-process and print its result")
    call.add_argument("tool")
    call.add_argument(
        "args",
        nargs="*",
        metavar="key=value",
        help="values are typed by the tool's schema: symbol=2330, page_size=5, symbols=2330,AAPL, JSON for objects",
    )
    call.add_argument("--json", dest="json_args", help="arguments as one JSON object")
    call.add_argument("--raw", action="store_true", help="print the structured result as JSON")
    sub.add_parser("worker", help="run the background schedules without serving MCP (see docs/operations.md)")
    sub.add_parser("config", help="print the effective settings (secrets masked)")
    sub.add_parser("version", help="print the version")
    _add_cache_parser(sub)
    return parser


def _add_cache_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cache = sub.add_parser("cache", help="inspect and maintain the cache")
    actions = cache.add_subparsers(dest="action", required=True)
    actions.add_parser("stats", help="entries per tier and the statistics every running process published")
    inv = actions.add_parser("invalidate", help="drop entries from every tier")
    what = inv.add_mutually_exclusive_group(required=True)
    what.add_argument("--key", action="append", help="an exact key (repeatable)")
    what.add_argument("--tag", action="append", help="every entry carrying the tag, e.g. NCT04280705")
    what.add_argument("--pattern", help="a glob over keys, e.g. 'trials.search:*'")
    what.add_argument("--namespace", help="every entry of a namespace, e.g. trials.search")
    what.add_argument("--all", action="store_true", help="everything")
    what.add_argument("--older-than", type=float, metavar="SECONDS", help="entries created more than SECONDS ago")
    what.add_argument(
        "--unused-for",
        type=float,
        metavar="SECONDS",
        help="entries not read for SECONDS (memory and SQLite; Redis keeps no read times)",
    )
    inv.add_argument("--in-namespace", metavar="NS", help="with --older-than/--unused-for: only this namespace")
    backup = actions.add_parser("backup", help="online backup of the SQLite tier to a new file")
    backup.add_argument("path", type=Path)
    restore = actions.add_parser("restore", help="load a backup file into the SQLite tier")
    restore.add_argument("path", type=Path)
    actions.add_parser("check", help="full integrity check of the SQLite tier and a ping of every tier")
    actions.add_parser("vacuum", help="drop expired rows and compact the SQLite file")
    warm = actions.add_parser("warm", help="run warming strategies now, with progress and a summary")
    warm.add_argument("--strategy", action="append", metavar="NAME", help="only this strategy (repeatable)")
    cut = actions.add_parser("cutoff", help="show or set the refresh-ahead cost cutoff (seconds) for every process")
    cut.add_argument("seconds", nargs="?", help="new cutoff in seconds; 'inf' turns refresh-ahead off")
