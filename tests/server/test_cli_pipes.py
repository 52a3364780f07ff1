"""A closed output pipe (``trialstock-mcp tools | head -1``) ends a command quietly, like a Unix tool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.console_script import CONSOLE_SCRIPT, server_env


@pytest.mark.parametrize(
    "args",
    [("tools",), ("call", "service_status"), ("cache", "stats"), ("config",), ("version",)],
    ids=lambda args: " ".join(args),
)
def test_a_closed_stdout_ends_the_command_without_a_traceback(tmp_path: Path, args: tuple[str, ...]) -> None:
    with subprocess.Popen(
        [CONSOLE_SCRIPT, *args], env=server_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before the first line is written
        stderr = proc.stderr.read().decode()
        code = proc.wait(timeout=60)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert code in (0, 141)


def test_a_client_that_closes_stdout_ends_the_stdio_server_quietly(tmp_path: Path) -> None:
    initialize = (
        '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",'
        '"capabilities":{},"clientInfo":{"name":"gone","version":"1"}}}\n'
    )
    with subprocess.Popen(
        [CONSOLE_SCRIPT, "serve"],
        env=server_env(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the client stops reading before the server's first answer
        proc.stdin.write(initialize.encode())
        proc.stdin.flush()  # stdin stays open: only the broken stdout may end the server
        stderr = proc.stderr.read().decode()
        code = proc.wait(timeout=60)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert code == 0


def test_a_client_that_closes_both_pipes_with_requests_unanswered_ends_the_stdio_server_quietly(
    tmp_path: Path,
) -> None:
    """stdin ends with requests unanswered (the server would answer them first) and stdout is gone:
    the broken pipe still ends it at once, quietly."""
    requests = [
        '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",'
        '"capabilities":{},"clientInfo":{"name":"gone","version":"1"}}}',
        '{"jsonrpc":"2.0","method":"notifications/initialized"}',
        '{"jsonrpc":"2.0","id":2,"method":"tools/list"}',
        '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"service_status","arguments":{}}}',
    ]
    env = server_env(tmp_path, TRIALSTOCK_TRANSPORT__STDIO_DRAIN_TIMEOUT="120")
    with subprocess.Popen(
        [CONSOLE_SCRIPT, "serve"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        proc.stdin.write("".join(line + "\n" for line in requests).encode())
        proc.stdin.close()
        stderr = proc.stderr.read().decode()
        code = proc.wait(timeout=60)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert code == 0


def test_tools_name_shows_the_arguments_of_one_tool(tmp_path: Path) -> None:
    result = subprocess.run(
        [CONSOLE_SCRIPT, "tools", "get_price_history"],
        env=server_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    header, _, *rows = result.stdout.splitlines()[2:]
    assert header.split()[:5] == ["argument", "type", "required", "default", "description"]
    symbol = next(row for row in rows if row.startswith("symbol "))
    assert symbol.split()[1:3] == ["string", "yes"]


@pytest.mark.parametrize(
    ("args", "suggestion"),
    [
        (("tools", "get_trail"), "did you mean 'get_trial'?"),
        (("call", "get_trail", "nct_id=NCT04280705"), "did you mean 'get_trial'?"),
        (("call", "get_trial", "nct_idd=NCT04280705"), "did you mean 'nct_id'?"),
    ],
)
def test_unknown_names_get_a_suggestion(tmp_path: Path, args: tuple[str, ...], suggestion: str) -> None:
    result = subprocess.run(
        [CONSOLE_SCRIPT, *args], env=server_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert suggestion in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_version_flag_and_command_answer_without_building_anything(tmp_path: Path) -> None:
    env = server_env(tmp_path, TRIALSTOCK_LOG_LEVEL="not-a-level")  # settings are not even read
    flag = subprocess.run([CONSOLE_SCRIPT, "--version"], env=env, capture_output=True, text=True, timeout=30)
    command = subprocess.run([CONSOLE_SCRIPT, "version"], env=env, capture_output=True, text=True, timeout=30)
    assert flag.returncode == 0 and flag.stdout.startswith("trialstock-mcp ")
    assert command.returncode == 0 and command.stdout.strip() == flag.stdout.split()[1]


def test_help_has_no_raw_markup(tmp_path: Path) -> None:
    result = subprocess.run(
        [CONSOLE_SCRIPT, "--help"], env=server_env(tmp_path), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0 and "``" not in result.stdout


@pytest.mark.parametrize("port", ["0", "65536", "http"])
def test_a_bad_port_names_the_flag(tmp_path: Path, port: str) -> None:
    result = subprocess.run(
        [CONSOLE_SCRIPT, "serve", "--transport", "http", "--port", port],
        env=server_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--port" in result.stderr and "TRIALSTOCK_" not in result.stderr
