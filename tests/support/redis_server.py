"""A throwaway redis-server for tests and benchmarks, never the shared one on 6379.

:class:`RedisServer` spawns ``redis-server`` on a free loopback port with persistence off and
its working files in a temporary folder, waits (bounded) until it answers PING, and can be
stopped and started again on the same port. Fixtures:

- ``redis_server`` (session): one server for the run. Skips the test when the binary is missing,
  unless ``TRIALSTOCK_REQUIRE_REDIS=1``, which turns that into a failure.
- ``redis_url`` (function): the session server's URL, FLUSHALLed before the test (it is ours).
- ``spawn_redis`` (function): a factory for extra servers a test may stop, restart or start
  with a password; all of them are closed after the test. Same skip/fail rule.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType

import pytest

from tests.support.ports import free_port

REQUIRE_ENV = "TRIALSTOCK_REQUIRE_REDIS"


class RedisServerError(RuntimeError):
    """The server could not be started or did not answer in time."""


class RedisServer:
    """One redis-server subprocess. ``password`` adds ``--requirepass``; ``extra_args`` more flags."""

    def __init__(
        self,
        *,
        binary: str | None = None,
        port: int | None = None,
        password: str | None = None,
        extra_args: Sequence[str] = (),
        start_timeout: float = 10.0,
    ) -> None:
        found = binary or shutil.which("redis-server")
        if found is None:
            raise RedisServerError("redis-server binary not found on PATH")
        self.binary = found
        self.port = port or free_port()
        self.password = password
        self.extra_args = tuple(extra_args)
        self.start_timeout = start_timeout
        self._dir = Path(tempfile.mkdtemp(prefix="trialstock-redis-"))
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> RedisServer:
        """Spawn the server (on the same port as before) and wait until it answers PING."""
        if self.running:
            return self
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self._dir),
        ]
        if self.password:
            args += ["--requirepass", self.password]
        args += list(self.extra_args)
        log = open(self._dir / "redis.log", "ab")  # noqa: SIM115 - handed to the child
        try:
            self._proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        finally:
            log.close()
        self._wait_ready()
        return self

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open and nothing answers."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Undo :meth:`pause` (SIGCONT)."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """Kill the server and wait for it to exit. Safe to call when not running."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait(timeout=10)
        self._proc = None

    def command(self, *args: str) -> bytes:
        """Send one command over a raw socket (authenticating first when needed); the raw reply."""
        commands = [["AUTH", self.password]] if self.password else []
        commands.append(list(args))
        reply = b""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2.0) as sock:
            for command in commands:
                sock.sendall(_encode(command))
                reply = _read_reply(sock)
        return reply

    def flushall(self) -> None:
        reply = self.command("FLUSHALL")
        if not reply.startswith(b"+OK"):
            raise RedisServerError(f"FLUSHALL failed: {reply!r}")

    def close(self) -> None:
        """Stop the server and remove its folder."""
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RedisServerError(f"redis-server exited with {self._proc.returncode}: {self._log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(_encode(["PING"]))
                    reply = _read_reply(sock)
                if reply.startswith((b"+PONG", b"-NOAUTH")):
                    return
            except OSError:
                pass
            time.sleep(0.02)  # bounded poll while the child binds its port
        self.stop()
        raise RedisServerError(f"redis-server on port {self.port} did not answer PING in {self.start_timeout}s")

    def _log_tail(self) -> str:
        path = self._dir / "redis.log"
        return path.read_text(errors="replace")[-1000:] if path.exists() else ""


def _encode(args: Sequence[str]) -> bytes:
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        out.append(f"${len(data)}\r\n".encode() + data + b"\r\n")
    return b"".join(out)


def _read_reply(sock: socket.socket) -> bytes:
    """Read one simple reply line (+OK, -ERR, :1); enough for PING, AUTH and FLUSHALL."""
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def require_redis_binary() -> str:
    """Path of redis-server. Skips the calling test when it is missing, or fails it when
    ``TRIALSTOCK_REQUIRE_REDIS=1`` (CI that must run the Redis tests)."""
    found = shutil.which("redis-server")
    if found is None:
        message = "redis-server binary not found on PATH"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{message} and {REQUIRE_ENV}=1 requires it", pytrace=False)
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A throwaway redis-server for the whole session (skip or fail when the binary is missing)."""
    with RedisServer(binary=require_redis_binary()) as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """URL of the session's throwaway server, emptied before the test."""
    redis_server.start()  # no-op unless a test stopped it
    redis_server.flushall()
    return redis_server.url


@pytest.fixture
def spawn_redis() -> Iterator[Callable[..., RedisServer]]:
    """``spawn_redis(password=..., extra_args=...)`` starts a private server for this test."""
    servers: list[RedisServer] = []

    def spawn(**kwargs: object) -> RedisServer:
        server = RedisServer(binary=require_redis_binary(), **kwargs)  # type: ignore[arg-type]
        servers.append(server)
        return server.start()

    yield spawn
    for server in servers:
        server.close()
