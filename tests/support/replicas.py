"""Server replicas behind haproxy, started the way ``docs/deployment.md`` tells operators to.

- :class:`Replica`: ``trialstock-mcp serve --transport http`` (the installed console script) on a
  free loopback port, with its own SQLite file; can be stopped or killed (SIGKILL) mid-test;
  :meth:`Replica.metrics` reads its ``/metrics`` (unlabelled samples) directly, bypassing haproxy.
- :class:`Haproxy`: ``haproxy`` on ``deploy/haproxy.cfg`` itself, the addresses given through the
  environment variables the file names (``LB_BIND``, ``LB_REPLICA1..3``).
- :func:`fleet`: N replicas sharing one Redis and one upstream, plus haproxy in front; all torn
  down on exit.

Everything listens on 127.0.0.1 only. :func:`require_haproxy` skips a test when haproxy is not
installed, or fails it when ``TRIALSTOCK_REQUIRE_HAPROXY=1`` (CI installs it).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.console_script import CONSOLE_SCRIPT, server_env, upstream_env
from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]
HAPROXY_CFG = REPO / "deploy" / "haproxy.cfg"
MAX_REPLICAS = 3  # server lines in deploy/haproxy.cfg
REQUIRE_ENV = "TRIALSTOCK_REQUIRE_HAPROXY"
START_TIMEOUT = 60.0  # seconds; replicas start side by side on a busy 2-core machine


def require_haproxy() -> str:
    found = shutil.which("haproxy")
    if found is None:
        message = "haproxy not found on PATH (apt-get install -y haproxy)"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{message} and {REQUIRE_ENV}=1 requires it", pytrace=False)
        pytest.skip(message)
    return found


def _wait_http(url: str, proc: subprocess.Popen[bytes], deadline: float, log: Path) -> None:
    """Bounded poll until ``url`` answers 200 (the child is binding its port)."""
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.05)


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text -> ``{"name{labels}": value}`` (comments skipped)."""
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


class Replica:
    """One server process. ``env`` is added to :func:`server_env` (replica folder as HOME)."""

    def __init__(self, name: str, folder: Path, env: Mapping[str, str]) -> None:
        self.name, self.folder, self.port = name, folder, free_port()
        folder.mkdir(parents=True, exist_ok=True)
        self.sqlite_path = folder / "cache.sqlite3"
        self._env = server_env(folder, **{**env, "TRIALSTOCK_SQLITE_PATH": str(self.sqlite_path)})
        self.log = folder / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [CONSOLE_SCRIPT, "serve", "--transport", "http", "--port", str(self.port)],
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def wait_ready(self, deadline: float) -> None:
        assert self.proc is not None
        _wait_http(f"{self.base}/healthz", self.proc, deadline, self.log)

    def metrics(self) -> dict[str, float]:
        return parse_metrics(httpx.get(f"{self.base}/metrics", timeout=5).text)

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, the calls in flight on it are cut."""
        if self.alive:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


class Haproxy:
    """haproxy in the foreground (``-db``) on ``config`` with the replicas' addresses."""

    def __init__(self, replicas: Sequence[Replica], folder: Path, config: Path = HAPROXY_CFG) -> None:
        if not 1 <= len(replicas) <= MAX_REPLICAS:
            raise ValueError(f"{config.name} routes 1 to {MAX_REPLICAS} replicas, not {len(replicas)}")
        self.port, self.config, self.log = free_port(), config, folder / "haproxy.log"
        self.env = {"PATH": os.environ["PATH"], "LB_BIND": f"127.0.0.1:{self.port}"}
        self.env.update({f"LB_REPLICA{i}": r.address for i, r in enumerate(replicas, start=1)})
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mcp_url(self) -> str:
        return f"{self.base}/mcp"

    def start(self, deadline: float) -> None:
        binary = shutil.which("haproxy") or "haproxy"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [binary, "-db", "-f", str(self.config)],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_http(f"{self.base}/healthz", self.proc, deadline, self.log)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@dataclass
class Fleet:
    replicas: list[Replica]
    lb: Haproxy

    def by_name(self) -> dict[str, Replica]:
        return {r.name: r for r in self.replicas}

    def live(self) -> list[Replica]:
        return [r for r in self.replicas if r.alive]

    def wait_all_up_in_lb(self, timeout: float = 30.0) -> None:
        """Bounded wait until haproxy's health checks have marked every live replica up: each
        answers at least one of a few round-robin requests."""
        deadline = time.monotonic() + timeout
        want = {r.name for r in self.live()}
        seen: set[str] = set()
        while seen != want:
            if time.monotonic() > deadline:
                raise RuntimeError(f"haproxy routes only to {sorted(seen)} of {sorted(want)}")
            served = httpx.get(f"{self.lb.base}/healthz", timeout=5).headers.get("x-served-by")
            if served:
                seen.add(served)
            if seen != want:
                time.sleep(0.05)


@contextmanager
def fleet(folder: Path, count: int, *, redis_url: str, upstream: str, **env: str) -> Iterator[Fleet]:
    """``count`` replicas (replica1..N, each with a folder and SQLite file of its own) sharing
    ``redis_url`` and the replay ``upstream``, behind haproxy; all stopped on exit."""
    require_haproxy()
    shared = {
        **upstream_env(upstream),
        "TRIALSTOCK_UPSTREAMS__CTGOV_RATE": "100000/1",
        "TRIALSTOCK_REDIS_URL": redis_url,
        "TRIALSTOCK_WORKER__WARM_AT_STARTUP": "false",
        "TRIALSTOCK_LOG_LEVEL": "WARNING",
        **env,
    }
    replicas = [Replica(f"replica{i}", folder / f"replica{i}", shared) for i in range(1, count + 1)]
    with ExitStack() as stack:
        deadline = time.monotonic() + START_TIMEOUT
        for replica in replicas:
            stack.callback(replica.stop)
            replica.start()
        for replica in replicas:
            replica.wait_ready(deadline)
        lb = Haproxy(replicas, folder)
        stack.callback(lb.stop)
        lb.start(deadline)
        result = Fleet(replicas, lb)
        result.wait_all_up_in_lb()
        yield result
