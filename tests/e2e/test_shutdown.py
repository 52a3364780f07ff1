"""Every process ends: one signal stops a server, a closed stdin stops a stdio server once the
requests it has read are answered (within the drain timeout), and short CLI commands never hang
on Redis, even when Redis itself hangs."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.console_script import CONSOLE_SCRIPT, server_env, upstream_env
from tests.support.ports import free_port
from tests.support.redis_server import RedisServer
from tests.support.replay import ReplayServer

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "shutdown-test", "version": "0"},
    },
}
TRIAL_PATH = "/api/v2/studies/NCT04280705"
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def _send(proc: subprocess.Popen[bytes], message: dict[str, object]) -> None:
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(message).encode() + b"\n")
    proc.stdin.flush()


@contextmanager
def _stdio_server(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    with subprocess.Popen(
        [CONSOLE_SCRIPT, "serve"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        try:
            _send(proc, INITIALIZE)
            assert proc.stdout is not None
            assert b'"id":1' in proc.stdout.readline()  # up and answering
            _send(proc, INITIALIZED)
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()


def _stopped_within(proc: subprocess.Popen[bytes], seconds: float) -> tuple[int, float, str]:
    started = time.monotonic()
    try:
        code = proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"still running {seconds} s later")
    elapsed = time.monotonic() - started
    assert proc.stderr is not None
    return code, elapsed, proc.stderr.read().decode()


@pytest.mark.parametrize(("signum", "expected"), [(signal.SIGINT, 130), (signal.SIGTERM, 0)])
def test_one_signal_stops_a_stdio_server(tmp_path: Path, signum: int, expected: int) -> None:
    with _stdio_server(server_env(tmp_path)) as proc:
        proc.send_signal(signum)
        code, elapsed, stderr = _stopped_within(proc, 5)
    assert code == expected
    assert elapsed < 2
    assert "Traceback" not in stderr


def _call(request_id: int, tool: str, arguments: dict[str, object]) -> dict[str, object]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }


def _piped(env: dict[str, str], messages: list[dict[str, object]], wait: float) -> tuple[int, dict[int, dict], str]:
    """``printf '<messages>' | trialstock-mcp serve``: every message written, then stdin closed at
    once; the exit code, the answers by id (every stdout line must be a JSON-RPC message) and stderr.
    Fails if the server is still running ``wait`` seconds later."""
    stdin = b"".join(json.dumps(message).encode() + b"\n" for message in messages)
    try:
        done = subprocess.run([CONSOLE_SCRIPT, "serve"], input=stdin, env=env, capture_output=True, timeout=wait)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {wait} s after stdin closed")
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert all(line.get("jsonrpc") == "2.0" for line in lines), lines
    answers = {line["id"]: line for line in lines if "result" in line or "error" in line}
    assert len(answers) == len(lines), lines  # one answer per request, nothing else
    return done.returncode, answers, done.stderr.decode()


STUDIES = ["NCT04280705", "NCT02576665", "NCT06382129", "NCT00763412", "NCT03630471"]


def test_a_closed_stdin_answers_every_request_already_read(tmp_path: Path) -> None:
    """The client writes its requests and closes stdin at once: each upstream answer takes a second,
    so every get_trial is still in flight when the server reads the end of stdin."""
    calls = [_call(2 + i, "get_trial", {"nct_id": nct}) for i, nct in enumerate(STUDIES)]
    calls += [_call(10, "service_status", {}), {"jsonrpc": "2.0", "id": 11, "method": "tools/list"}]
    with ReplayServer(latency=1.0) as slow:
        env = server_env(tmp_path, **upstream_env(slow.url))
        code, answers, stderr = _piped(env, [INITIALIZE, INITIALIZED, *calls], wait=60)
        assert [slow.count(f"/api/v2/studies/{nct}") for nct in STUDIES] == [1] * len(STUDIES)
    assert code == 0
    assert "Traceback" not in stderr
    assert sorted(answers) == [1, *range(2, 2 + len(STUDIES)), 10, 11]
    assert all("result" in answer for answer in answers.values()), answers
    for i, nct in enumerate(STUDIES):
        result = answers[2 + i]["result"]
        assert not result.get("isError"), result
        assert result["structuredContent"]["trial"]["nct_id"] == nct
    assert not answers[10]["result"].get("isError")
    assert answers[11]["result"]["tools"]


def test_a_closed_stdin_does_not_wait_past_the_drain_timeout(tmp_path: Path) -> None:
    """A call whose upstream holds it for a minute (and whose own deadline is a minute) does not keep
    the server: the drain timeout (0.5 s here) ends it, the call is answered "Connection closed",
    the quick requests read with it are answered, and nothing is retried after the client left."""
    calls = [
        _call(2, "get_trial", {"nct_id": "NCT04280705"}),
        _call(3, "service_status", {}),
        {"jsonrpc": "2.0", "id": 4, "method": "tools/list"},
    ]
    with ReplayServer(latency=60) as hung:  # accepts and never answers in time
        env = server_env(
            tmp_path,
            **upstream_env(hung.url),
            TRIALSTOCK_TRANSPORT__STDIO_DRAIN_TIMEOUT="0.5",
            TRIALSTOCK_HTTP__CALL_DEADLINE="120",
            TRIALSTOCK_HTTP__TIMEOUT="120",
        )
        code, answers, stderr = _piped(env, [INITIALIZE, INITIALIZED, *calls], wait=40)  # < the upstream's 60 s
        time.sleep(0.5)
        assert hung.count(TRIAL_PATH) == 1  # no retry went out after the client left
    assert code == 0
    assert "Traceback" not in stderr
    assert sorted(answers) == [1, 2, 3, 4]
    assert answers[2].get("error", {}).get("code") == -32000, answers[2]  # CONNECTION_CLOSED
    assert not answers[3]["result"].get("isError")
    assert answers[4]["result"]["tools"]


def test_a_request_the_client_cancelled_does_not_hold_the_drain(tmp_path: Path) -> None:
    """The server never answers a cancelled request, so the end of stdin must not wait for it: with a
    drain timeout of two minutes the server still ends well before its upstream would answer."""
    cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2, "reason": "gone"}}
    with ReplayServer(latency=60) as hung:
        env = server_env(tmp_path, **upstream_env(hung.url), TRIALSTOCK_TRANSPORT__STDIO_DRAIN_TIMEOUT="120")
        code, answers, stderr = _piped(
            env, [INITIALIZE, INITIALIZED, _call(2, "get_trial", {"nct_id": "NCT04280705"}), cancel], wait=40
        )
    assert code == 0
    assert "Traceback" not in stderr
    assert sorted(answers) == [1]  # the cancelled call is not answered (the spec forbids it)


def test_a_worker_stops_on_sigterm_while_redis_hangs(tmp_path: Path) -> None:
    with RedisServer() as redis:
        env = server_env(
            tmp_path,
            TRIALSTOCK_REDIS_URL=redis.url,
            TRIALSTOCK_WORKER__WARM_AT_STARTUP="false",
            TRIALSTOCK_LOG_LEVEL="INFO",
        )
        with subprocess.Popen(
            [CONSOLE_SCRIPT, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        ) as proc:
            assert proc.stderr is not None
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and b"started" not in proc.stderr.readline():
                pass
            redis.pause()
            try:
                proc.send_signal(signal.SIGTERM)
                code, elapsed, stderr = _stopped_within(proc, 12)
            finally:
                redis.resume()
        assert code == 0
        assert elapsed < 8
        assert "Traceback" not in stderr


def test_an_http_server_stops_on_sigterm_while_redis_hangs(tmp_path: Path) -> None:
    port = free_port()
    with RedisServer() as redis:
        env = server_env(tmp_path, TRIALSTOCK_REDIS_URL=redis.url, TRIALSTOCK_WORKER__WARM_AT_STARTUP="false")
        with subprocess.Popen(
            [CONSOLE_SCRIPT, "serve", "--transport", "http", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        ) as proc:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            redis.pause()
            try:
                proc.send_signal(signal.SIGTERM)
                code, elapsed, stderr = _stopped_within(proc, 15)
            finally:
                redis.resume()
        assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has shut down
        assert elapsed < 10
        assert "Traceback" not in stderr


SHORT_COMMANDS = [
    ("cache", "cutoff"),
    ("cache", "cutoff", "0.5"),
    ("cache", "warm", "--strategy", "trending"),
    ("cache", "stats"),
    ("cache", "invalidate", "--key", "nothing-here"),
]


@pytest.mark.slow
def test_short_cli_commands_never_hang_with_redis(tmp_path: Path) -> None:
    """20 runs of each command against a real redis-server; none may take over 10 s (they used to
    hang forever on the event bus's shutdown)."""
    with RedisServer() as redis:
        env = server_env(tmp_path, TRIALSTOCK_REDIS_URL=redis.url)

        def run(args: tuple[str, ...]) -> tuple[tuple[str, ...], float, int | None]:
            started = time.monotonic()
            try:
                code: int | None = subprocess.run(
                    [CONSOLE_SCRIPT, *args], env=env, capture_output=True, timeout=10
                ).returncode
            except subprocess.TimeoutExpired:
                code = None
            return args, time.monotonic() - started, code

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(run, [cmd for cmd in SHORT_COMMANDS for _ in range(20)]))
    hung = [(args, round(took, 1)) for args, took, code in results if code is None]
    failed = [(args, code) for args, _, code in results if code not in (0, None)]
    assert hung == []
    assert failed == []
