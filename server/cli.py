"""``trialstock-mcp`` command line: serve, tools, call, config, version, cache, worker.

Exit codes: 0 success, 1 the operation failed (e.g. an upstream error), 2 bad usage, bad
arguments or bad settings (one line on stderr saying what was wrong).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

import orjson
from pydantic import ValidationError

from cache.warming import StrategyFileError
from server import __version__
from server.cli_errors import UsageError
from server.logs import configure_logging
from server.settings import Settings, masked
from server.settings_errors import describe_settings_error


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trialstock-mcp", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the MCP server (stdio by default)")
    serve.add_argument("--transport", choices=["stdio", "http", "sse"], help="default: settings (stdio)")
    serve.add_argument("--host", help="bind address for http/sse (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port for http/sse (default 8000)")
    sub.add_parser("tools", help="list the tools with their one-line descriptions")
    call = sub.add_parser("call", help="call a tool in-process and print its result")
    call.add_argument("tool")
    call.add_argument("args", nargs="*", metavar="key=value",
                      help="values are typed by the tool's schema: symbol=2330, page_size=5, symbols=2330,AAPL, JSON "
                      "for objects")
    call.add_argument("--json", dest="json_args", help="arguments as one JSON object")
    call.add_argument("--raw", action="store_true", help="print the structured result as JSON")
    sub.add_parser("worker", help="run the background schedules without serving MCP (see docs/operations.md)")
    sub.add_parser("config", help="print the effective settings (secrets masked)")
    sub.add_parser("version", help="print the version")
    from server.cli_cache import add_cache_parser

    add_cache_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"trialstock-mcp: {describe_settings_error(exc)}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        return _dispatch(args, settings)
    except UsageError as exc:
        print(f"trialstock-mcp: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        print(f"trialstock-mcp: {describe_settings_error(exc)}", file=sys.stderr)
        return 2
    except StrategyFileError as exc:
        print(f"trialstock-mcp: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    command = args.command or "serve"
    if command == "version":
        print(__version__)
        return 0
    if command == "config":
        print(orjson.dumps(masked(settings), option=orjson.OPT_INDENT_2).decode())
        return 0
    if command == "serve":
        from server.serve import serve

        transport = getattr(args, "transport", None)
        return serve(settings, transport=transport, host=getattr(args, "host", None), port=getattr(args, "port", None))
    if command == "tools":
        from server.cli_call import list_tools

        return asyncio.run(list_tools(settings))
    if command == "call":
        from server.cli_call import call_tool, parse_arguments

        arguments, texts = parse_arguments(args.args, args.json_args)
        return asyncio.run(call_tool(settings, args.tool, arguments, texts, raw=args.raw))
    if command == "worker":
        from server.worker import run_worker

        return asyncio.run(run_worker(settings))
    if command == "cache":
        from server.cli_cache import run_cache_command

        return asyncio.run(run_cache_command(settings, args))
    raise UsageError(f"unknown command {command!r}")


if __name__ == "__main__":
    sys.exit(main())
