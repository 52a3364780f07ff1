"""Shared set-up for the benchmark scripts: servers pointed at the replay upstream, child processes.

- :func:`bench_settings`: in-process ``Settings`` for ``build_server`` (replay upstream, a
  throwaway SQLite file, WARNING logging, rate limits relaxed so the limiter is not measured);
- :func:`child_env` / :func:`stdio_params`: the same configuration for a server started as a
  process (``trialstock-mcp serve`` or the trivial baseline, ``benchmarks._trivial``);
- :class:`HttpProcess`: a server process on streamable HTTP, started and stopped cleanly;
- the tool calls the benchmarks make (:data:`TRIAL`, :data:`SEARCH`, :data:`MIXED`, :data:`QUOTE`), all of
  them answered by recorded responses of the replay upstream.

Nothing here reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from mcp import StdioServerParameters

from server.settings import Settings

REPO = Path(__file__).resolve().parents[1]
CONSOLE_SCRIPT = Path(sys.executable).with_name("trialstock-mcp")
UPSTREAMS = ("ctgov", "twse", "tpex", "mis", "yahoo")
RELAXED_RATE = "1000/1"  # far above anything a benchmark sends: the limiter never waits

ToolCall = tuple[str, dict[str, Any]]
TRIAL: ToolCall = ("get_trial", {"nct_id": "NCT04280705"})
SEARCH: ToolCall = ("search_trials", {"condition": "Phelan-McDermid Syndrome", "page_size": 5})
MIXED: tuple[ToolCall, ...] = (
    TRIAL,
    ("get_trial", {"nct_id": "NCT02576665"}),
    ("get_trial", {"nct_id": "NCT06382129"}),
    SEARCH,
    ("search_trials", {"condition": "melanoma", "statuses": ["RECRUITING"], "page_size": 3}),
    ("search_trials", {"intervention": '"Keytruda"', "page_size": 3}),
    ("count_trials", {"condition": "Phelan-McDermid Syndrome"}),
    ("get_price_history", {"symbol": "2330", "start_date": "2026-08-01", "end_date": "2026-08-31"}),
    ("get_stock_info", {"symbol": "AAPL"}),
    ("cache_stats", {}),
)
QUOTE: ToolCall = ("get_stock_quote", {"symbols": ["AAPL"]})
"""A Yahoo quote (its lifetime follows the exchange's hours: 60 s while trading, else until the open)."""


def relaxed_rates() -> dict[str, str]:
    return {f"{name}_rate": RELAXED_RATE for name in UPSTREAMS}


def bench_settings(replay_url: str, sqlite_path: Path, **overrides: Any) -> Settings:
    """Settings for an in-process benchmark server (``replay_url`` is ``ReplayServer.url``)."""
    upstreams = {**relaxed_rates(), **overrides.pop("upstreams", {})}
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        redis=overrides.pop("redis", {"url": None}),  # never a Redis from the environment (e.g. the shared one)
        redis_url=overrides.pop("redis_url", None),
        sqlite_path=str(sqlite_path),
        ctgov_base_url=f"{replay_url}/api/v2",
        twse_base_url=replay_url,
        tpex_base_url=replay_url,
        mis_base_url=replay_url,
        yahoo_base_url=replay_url,
        log_level="WARNING",
        upstreams=upstreams,
        **overrides,
    )


def child_env(replay_url: str, folder: Path, **extra: str) -> dict[str, str]:
    """Environment for a server process: only what it needs (the SDK passes little else)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(folder),
        "PYTHONPATH": str(REPO),
        "TRIALSTOCK_LOG_LEVEL": "WARNING",
        "TRIALSTOCK_SQLITE_PATH": str(folder / "cache.sqlite3"),
        "TRIALSTOCK_CTGOV_BASE_URL": f"{replay_url}/api/v2",
        **{f"TRIALSTOCK_{name.upper()}_BASE_URL": replay_url for name in UPSTREAMS if name != "ctgov"},
        **{f"TRIALSTOCK_UPSTREAMS__{name.upper()}_RATE": RELAXED_RATE for name in UPSTREAMS},
    }
    env.update(extra)
    return env


def server_command(kind: str) -> list[str]:
    """The command line of a server process: ``trialstock`` (the console script) or ``trivial``."""
    if kind == "trivial":
        return [sys.executable, "-m", "benchmarks._trivial"]
    if CONSOLE_SCRIPT.exists():
        return [str(CONSOLE_SCRIPT), "serve"]
    return [sys.executable, "-m", "server.cli", "serve"]


def stdio_params(kind: str, env: Mapping[str, str], cwd: Path) -> StdioServerParameters:
    """How the SDK client starts ``kind`` over stdio (``cwd`` keeps a stray ``.env`` out)."""
    command, *args = server_command(kind)
    return StdioServerParameters(command=command, args=args, env=dict(env), cwd=str(cwd))


@contextmanager
def scratch(prefix: str = "trialstock-bench-") -> Iterator[Path]:
    """A temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        yield Path(name)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class HttpProcess:
    """A server process serving streamable HTTP on 127.0.0.1; ``url`` is its MCP endpoint.

    ``command`` is the command line (see :func:`http_command`) with ``{port}`` where the port
    goes; a free port is picked. Entering waits (bounded) until ``/healthz`` answers 200;
    leaving stops the process with SIGTERM, then SIGKILL. Its stderr goes to a log file in
    ``cwd`` (:meth:`stderr_tail`).
    """

    def __init__(self, command: list[str], env: Mapping[str, str], cwd: Path, *, start_timeout: float = 60.0) -> None:
        self.port = free_port()
        self._command = [arg.replace("{port}", str(self.port)) for arg in command]
        self._env, self._cwd, self._timeout = dict(env), cwd, start_timeout
        self._stderr = cwd / f"server-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/mcp"

    def __enter__(self) -> HttpProcess:
        with open(self._stderr, "wb") as log:
            self.proc = subprocess.Popen(
                self._command,
                env=self._env,
                cwd=self._cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"server {self._command} did not start: {self.stderr_tail()}")
            time.sleep(0.05)  # bounded poll while the child binds its port

    def __exit__(self, *exc_info: object) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def stderr_tail(self, chars: int = 2000) -> str:
        return self._stderr.read_text(errors="replace")[-chars:] if self._stderr.exists() else ""


def http_command(kind: str) -> list[str]:
    """Command line serving ``kind`` on streamable HTTP at the port ``{port}`` (see HttpProcess)."""
    if kind == "trivial":
        return [*server_command("trivial"), "--http", "{port}"]
    return [*server_command("trialstock"), "--transport", "http", "--port", "{port}"]


def quick_flag(argv: list[str] | None = None) -> bool:
    """True when ``--quick`` is on the command line (fewer samples, same shape)."""
    return "--quick" in (sys.argv[1:] if argv is None else argv)
