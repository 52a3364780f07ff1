"""The console script over stdio, spoken to in raw JSON-RPC: pipelined calls, SIGKILL, restart.

The SDK client waits for each answer in turn and owns the child process; a fault test needs to
put hundreds of calls in flight at once, know exactly which answers arrived before the server
died, and kill the process itself. :class:`StdioServer` starts ``trialstock-mcp serve`` with the
given environment, initializes the session, and reads every answer on a background thread::

    with StdioServer(env) as server:
        ids = [server.send("get_trial", {"nct_id": "NCT04280705"}) for _ in range(3)]
        answers = server.wait(ids, timeout=30)      # {id: Answer}
        server.kill()                               # SIGKILL, no goodbye

:class:`Answer` keeps the JSON-RPC ``result`` (or ``error``) and when it arrived.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.console_script import CONSOLE_SCRIPT

PROTOCOL_VERSION = "2025-06-18"


@dataclass(frozen=True)
class Answer:
    id: int
    sent_at: float
    received_at: float
    result: dict[str, Any] | None
    error: dict[str, Any] | None

    @property
    def latency(self) -> float:
        return self.received_at - self.sent_at

    @property
    def ok(self) -> bool:
        """A tool result that is not an error."""
        return self.result is not None and not self.result.get("isError", False)

    @property
    def structured(self) -> dict[str, Any]:
        return (self.result or {}).get("structuredContent") or {}

    def text(self) -> str:
        if self.error is not None:
            return str(self.error.get("message", self.error))
        content = (self.result or {}).get("content") or [{}]
        return str(content[0].get("text", ""))


class StdioServer:
    """``trialstock-mcp serve`` (stdio) with ``env``; its stderr goes to ``log`` when given."""

    def __init__(self, env: dict[str, str], *, log: Path | None = None, start_timeout: float = 30.0) -> None:
        self._env = env
        self._log = log
        self._start_timeout = start_timeout
        self._next_id = 1
        self._sent: dict[int, float] = {}
        self._answers: dict[int, Answer] = {}
        self._lock = threading.Condition()
        self._write_lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> StdioServer:
        stderr = open(self._log, "ab") if self._log is not None else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                [CONSOLE_SCRIPT, "serve"], env=self._env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr
            )
        finally:
            if self._log is not None:
                stderr.close()  # type: ignore[union-attr]
        self._reader = threading.Thread(target=self._read, name="stdio-answers", daemon=True)
        self._reader.start()
        try:
            first = self.request(
                "initialize",
                {
                    "protocolVersion": PROTOCOL_VERSION,
                    "capabilities": {},
                    "clientInfo": {"name": "fault-test", "version": "0"},
                },
            )
            self.wait([first], timeout=self._start_timeout)
            self._write({"jsonrpc": "2.0", "method": "notifications/initialized"})
        except BaseException:
            self.kill()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.kill()

    def send(self, tool: str, arguments: dict[str, Any]) -> int:
        """Put a ``tools/call`` in flight; its id (the answer is collected in the background)."""
        return self.request("tools/call", {"name": tool, "arguments": arguments})

    def request(self, method: str, params: dict[str, Any]) -> int:
        with self._lock:
            request_id, self._next_id = self._next_id, self._next_id + 1
            self._sent[request_id] = time.monotonic()
        self._write({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        return request_id

    def answers(self) -> dict[int, Answer]:
        """Every answer received so far (a copy)."""
        with self._lock:
            return dict(self._answers)

    def wait(self, ids: list[int], timeout: float, *, at_least: int | None = None) -> dict[int, Answer]:
        """Wait (bounded) until all ``ids`` (or ``at_least`` of them) are answered; what arrived."""
        wanted = len(ids) if at_least is None else at_least
        deadline = time.monotonic() + timeout
        with self._lock:
            while sum(1 for i in ids if i in self._answers) < wanted:
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc is not None and self.proc.poll() is not None and not self._reader_alive()):
                    break
                self._lock.wait(min(left, 0.5))
            return {i: self._answers[i] for i in ids if i in self._answers}

    def kill(self) -> None:
        """SIGKILL the server (no shutdown of any kind) and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        self._reap()

    def close(self, timeout: float = 15.0) -> int | None:
        """The client goes away: close stdin and wait for the server to exit; its exit code."""
        if self.proc is None:
            return None
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = None
        self._reap()
        return code

    def _reap(self) -> None:
        if self.proc is None:
            return
        self.proc.wait(timeout=15)
        if self._reader is not None:
            self._reader.join(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None and not stream.closed:
                try:
                    stream.close()
                except BrokenPipeError:  # the child died with data unread
                    pass

    def _write(self, message: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        with self._write_lock:
            self.proc.stdin.write(json.dumps(message).encode() + b"\n")
            self.proc.stdin.flush()

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            request_id = message.get("id")
            if not isinstance(request_id, int) or ("result" not in message and "error" not in message):
                continue  # a notification or a request from the server
            now = time.monotonic()
            with self._lock:
                sent = self._sent.get(request_id, now)
                self._answers[request_id] = Answer(request_id, sent, now, message.get("result"), message.get("error"))
                self._lock.notify_all()
        with self._lock:
            self._lock.notify_all()

    def _reader_alive(self) -> bool:
        return self._reader is not None and self._reader.is_alive()
