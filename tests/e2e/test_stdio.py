"""End to end over stdio with the console script: the SDK client, and stdout purity."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from pathlib import Path

from mcp import Client, StdioServerParameters

from tests.support.console_script import CONSOLE_SCRIPT, server_env


async def test_sdk_client_lists_tools_and_calls_service_status(tmp_path: Path) -> None:
    params = StdioServerParameters(command=CONSOLE_SCRIPT, args=["serve"], env=server_env(tmp_path))
    async with Client(params, read_timeout_seconds=30) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert {"service_status", "cache_stats", "search_trials", "get_trial", "get_stock_quote"} <= names
        result = await client.call_tool("service_status", {})
    assert not result.is_error
    status = result.structured_content
    assert status is not None
    assert [tier["name"] for tier in status["cache_tiers"]] == ["memory", "sqlite"]
    assert all(tier["answers"] for tier in status["cache_tiers"])
    assert {u["name"] for u in status["upstreams"]} == {"ctgov", "twse", "tpex", "mis", "yahoo"}
    assert all(u["circuit"] == "closed" for u in status["upstreams"])


def test_stdout_carries_only_protocol_messages(tmp_path: Path) -> None:
    """Drive the server by hand and check every stdout line is a JSON-RPC message."""
    requests = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw-test", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "service_status", "arguments": {}}},
        {
            "jsonrpc": "2.0",
            "id": 4,
            "method": "tools/call",
            "params": {"name": "get_trial", "arguments": {"nct_id": "bad"}},
        },
    ]
    env = server_env(tmp_path, TRIALSTOCK_LOG_LEVEL="DEBUG")  # the noisiest logging must still stay off stdout
    proc = subprocess.Popen(
        [CONSOLE_SCRIPT, "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True)  # type: ignore[union-attr]
    reader.start()
    assert proc.stdin is not None
    for request in requests:
        proc.stdin.write(json.dumps(request) + "\n")
    proc.stdin.flush()
    received: list[str] = []
    answered: set[int] = set()
    while answered != {1, 2, 3, 4}:  # responses may come in any order: wait for all of them
        received.append(lines.get(timeout=30))
        message = json.loads(received[-1]) if received[-1].strip() else {}
        if isinstance(message.get("id"), int):
            answered.add(message["id"])
    proc.stdin.close()
    stderr = proc.stderr.read()  # type: ignore[union-attr]
    proc.wait(timeout=30)
    reader.join(timeout=10)
    while not lines.empty():
        received.append(lines.get_nowait())
    proc.stdout.close()  # type: ignore[union-attr]
    proc.stderr.close()  # type: ignore[union-attr]
    messages = [json.loads(line) for line in received if line.strip()]  # raises on anything that is not JSON
    assert all(m.get("jsonrpc") == "2.0" for m in messages)
    by_id = {m["id"]: m for m in messages if "id" in m}
    assert set(by_id) == {1, 2, 3, 4}
    assert by_id[3]["result"]["structuredContent"]["version"]
    assert by_id[4]["result"]["isError"] is True
    assert "nct_id" in by_id[4]["result"]["content"][0]["text"]
    assert "DEBUG" in stderr  # the logging went somewhere: stderr
