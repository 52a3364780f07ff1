"""What ``serve`` refuses before it listens, and what it says when it starts.

No test here ever listens on a non-loopback address: addresses that pass the auth check are
taken from TEST-NET-1 (192.0.2.0/24, never assigned to this machine), so the next check (can we
listen there?) refuses them with its own message, which proves the first one let them through.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
from pathlib import Path

import pytest

from server.settings import Settings
from server.worker import run_worker
from tests.support.console_script import CONSOLE_SCRIPT, server_env
from tests.support.ports import free_port
from tests.support.serving import serving

NOWHERE = "192.0.2.1"  # TEST-NET-1: not an address of this machine


def serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CONSOLE_SCRIPT, "serve", "--transport", "http", "--port", str(free_port()), *args],
        env=server_env(tmp_path, TRIALSTOCK_WORKER__WARM_AT_STARTUP="false", **env),
        capture_output=True,
        text=True,
        timeout=30,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("host", [NOWHERE, "mcp.example", "0.0.0.0", "::"])
def test_a_non_loopback_address_without_a_token_is_refused(tmp_path: Path, host: str) -> None:
    result = serve(tmp_path, "--host", host)
    assert result.returncode == 2
    line = one_line(result)
    assert host in line and "TRIALSTOCK_AUTH_TOKEN" in line and "--allow-unauthenticated" in line


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--allow-unauthenticated"], {}),
        ([], {"TRIALSTOCK_AUTH__ALLOW_UNAUTHENTICATED": "true"}),
        ([], {"TRIALSTOCK_AUTH_TOKEN": "a-real-token"}),
    ],
)
def test_an_explicit_choice_or_a_token_lets_a_non_loopback_address_through(
    tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    result = serve(tmp_path, "--host", NOWHERE, *args, **env)
    assert result.returncode == 2
    line = one_line(result)
    assert f"cannot listen on {NOWHERE}:" in line  # refused by the next check, not by the auth one
    assert "TRIALSTOCK_AUTH_TOKEN" not in line


@pytest.mark.parametrize("token", ["", "   "])
def test_an_empty_token_is_a_configuration_error(tmp_path: Path, token: str) -> None:
    result = serve(tmp_path, TRIALSTOCK_AUTH_TOKEN=token)
    assert result.returncode == 2
    line = one_line(result)
    assert "TRIALSTOCK_AUTH_TOKEN" in line and "empty" in line


def test_a_port_in_use_is_one_line_naming_the_address(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [CONSOLE_SCRIPT, "serve", "--transport", "http", "--port", str(port)],
            env=server_env(tmp_path, TRIALSTOCK_LOG_LEVEL="INFO"),
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    line = one_line(result)  # nothing claimed to be serving first
    assert f"cannot listen on 127.0.0.1:{port}" in line and "in use" in line


def test_serving_is_announced_at_info(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with serving(tmp_path, log=log, TRIALSTOCK_LOG_LEVEL="INFO") as base:
        pass
    assert f" INFO server.serve: serving http on {base}" in log.read_text()
    with serving(tmp_path, log=log) as base:  # the default level, WARNING, keeps a normal start quiet
        pass
    assert "serving" not in log.read_text()


@pytest.mark.redis
async def test_worker_start_stop_and_lease_changes_are_info(
    redis_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="server.worker")
    env = server_env(tmp_path)
    settings = Settings(
        _env_file=None,
        redis={"url": redis_url},
        sqlite={"path": env["TRIALSTOCK_SQLITE_PATH"]},
        upstreams={f"{name}_base_url": env[f"TRIALSTOCK_{name.upper()}_BASE_URL"] for name in ("ctgov", "twse")},
        worker={"warm_at_startup": False, "tick": 0.05},
    )
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, stop=stop))
    async with asyncio.timeout(20):
        while not any("holds the scheduler lease" in r.getMessage() for r in caplog.records):
            await asyncio.sleep(0.05)  # bounded by the timeout above
        stop.set()
        assert await worker == 0
    records = [r for r in caplog.records if r.name == "server.worker"]
    messages = " | ".join(r.getMessage() for r in records)
    assert "started" in messages and "holds the scheduler lease" in messages and "stopped" in messages
    assert {r.levelname for r in records} == {"INFO"}, messages


async def test_served_connections_send_small_answers_at_once() -> None:
    """Accepted connections get TCP_NODELAY (asyncio sets it only for IPPROTO_TCP sockets): without
    it every small HTTP answer waited for the client's delayed ACK, ~40 ms a call."""
    import asyncio
    import socket

    from server.serve import listening_socket

    sock = listening_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.listen()
    accepted: list[socket.socket] = []

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer.get_extra_info("socket"))
        writer.close()

    server = await asyncio.start_server(on_client, sock=sock)
    async with server:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(100):
            if accepted:
                break
            await asyncio.sleep(0.01)
        writer.close()
    assert accepted and accepted[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
