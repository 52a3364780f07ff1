"""The ``trialstock-mcp`` command line: serve, tools, call, config, version, cache, worker.

Exit codes: 0 success, 1 the operation failed (e.g. an upstream error), 2 bad usage, bad
arguments, bad settings or a refused ``serve`` (one line on stderr saying what was wrong), 130
interrupted, 141 the output pipe was closed (``| head``). The grammar is in :mod:`server.cli_args`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from server import __version__, start_up_gc
from server.cli_args import build_parser
from server.cli_errors import UsageError

if TYPE_CHECKING:
    from server.settings import Settings

EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool stopped by a closed pipe


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if (args.command or "serve") == "serve":
        start_up_gc.pause()  # resumed once the server is built (serve), or on the way out
    try:
        if args.command == "version":  # answered before settings and the heavy imports
            print(__version__)
            code = 0
        else:
            code = _run(args)
        sys.stdout.flush()  # a closed pipe shows here, where it is handled, not at interpreter exit
        return code
    except BrokenPipeError:  # e.g. `trialstock-mcp tools | head -1`: stop quietly, like a Unix tool
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    finally:
        start_up_gc.resume()


def _run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from cache.warming import StrategyFileError
    from server.logs import configure_logging
    from server.settings import Settings, env_file
    from server.settings_errors import describe_settings_error
    from server.settings_names import warn_unknown_settings

    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"trialstock-mcp: {describe_settings_error(exc)}", file=sys.stderr)
        return 2
    except SettingsError as exc:  # e.g. an unreadable .env file
        cause = f": {exc.__cause__}" if exc.__cause__ else ""
        print(f"trialstock-mcp: cannot read the settings ({exc}){cause}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    warn_unknown_settings(os.environ, env_file())
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


def _discard_stdout() -> None:
    """Point stdout at the null device so the interpreter's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    command = args.command or "serve"
    if command == "config":
        import orjson

        from server.settings import masked

        print(orjson.dumps(masked(settings), option=orjson.OPT_INDENT_2).decode())
        return 0
    if command == "serve":
        from server.serve import serve

        return serve(
            settings,
            transport=getattr(args, "transport", None),
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            allow_unauthenticated=getattr(args, "allow_unauthenticated", False),
        )
    if command == "tools":
        from server.cli_call import describe_tool, list_tools

        return asyncio.run(describe_tool(settings, args.name) if args.name else list_tools(settings))
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
