"""Settings as an operator writes them, through the real console script: lists and objects that
are not JSON, comma-separated lists, any letter case for the log level, misspelt names, ``.env``."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.support.console_script import CONSOLE_SCRIPT, server_env


def config(tmp_path: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``trialstock-mcp config`` run in ``tmp_path`` (where a ``.env`` may wait)."""
    return subprocess.run(
        [CONSOLE_SCRIPT, "config"],
        env=server_env(tmp_path, **(env or {})),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )


def effective(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = orjson.loads(result.stdout)
    return data


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("value", "hosts"),
    [
        ("mcp.internal", ["mcp.internal"]),
        ("a.example,b.example", ["a.example", "b.example"]),
        (" a.example , b.example ,", ["a.example", "b.example"]),
        ('["a.example", "b.example"]', ["a.example", "b.example"]),
    ],
)
def test_a_list_setting_takes_one_name_commas_or_json(tmp_path: Path, value: str, hosts: list[str]) -> None:
    result = config(tmp_path, {"TRIALSTOCK_TRANSPORT__ALLOWED_HOSTS": value})
    assert effective(result)["transport"]["allowed_hosts"] == hosts
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("TRIALSTOCK_HTTP", "not json", "must be a JSON object"),
        ("TRIALSTOCK_TRANSPORT", "{oops", "must be a JSON object"),
        ("TRIALSTOCK_TRANSPORT__ALLOWED_HOSTS", "[not json", "JSON list or comma-separated"),
        ("TRIALSTOCK_HTTP", "[1, 2]", "valid dictionary"),
    ],
)
def test_a_value_that_is_not_json_is_one_line_and_exit_2(
    tmp_path: Path, variable: str, value: str, fragment: str
) -> None:
    result = config(tmp_path, {variable: value})
    assert result.returncode == 2
    line = one_line(result)
    assert line.startswith(f"trialstock-mcp: invalid setting {variable}"), line
    assert fragment in line
    assert result.stdout == ""


@pytest.mark.parametrize("level", ["debug", "Info", " warning "])
def test_the_log_level_takes_any_letter_case(tmp_path: Path, level: str) -> None:
    assert effective(config(tmp_path, {"TRIALSTOCK_LOG_LEVEL": level}))["log_level"] == level.strip().upper()


def test_a_misspelt_variable_is_named_once_with_the_closest_real_one(tmp_path: Path) -> None:
    result = config(tmp_path, {"TRIALSTOCK_HTTP_TIMEOUT": "3"})
    assert effective(result)["http"]["timeout"] == 15.0  # ignored, as before, but no longer silently
    line = one_line(result)
    assert " WARNING " in line
    assert "TRIALSTOCK_HTTP_TIMEOUT" in line and "did you mean TRIALSTOCK_HTTP__TIMEOUT?" in line


def test_a_misspelt_field_of_a_section_is_refused_with_the_closest_real_one(tmp_path: Path) -> None:
    result = config(tmp_path, {"TRIALSTOCK_CACHE__TIER_TIMOUT": "1"})
    assert result.returncode == 2
    assert "did you mean TRIALSTOCK_CACHE__TIER_TIMEOUT?" in one_line(result)


def test_dotenv_file_is_read_and_checked_like_the_environment(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "TRIALSTOCK_TRANSPORT__ALLOWED_HOSTS=a.example,b.example\n"
        "TRIALSTOCK_LOG_LEVEL=error\n"
        "TRIALSTOCK_HTTP__TIMEOUT=7\n"
        "TRIALSTOCK_UPSTREAMS__TWSE_RATE=9/9\n"
        "TRIALSTOCK_WORKR__TICK=2\n"
    )
    result = config(tmp_path, {"TRIALSTOCK_HTTP__TIMEOUT": "8"})
    data = effective(result)
    assert data["transport"]["allowed_hosts"] == ["a.example", "b.example"]
    assert data["log_level"] == "ERROR"
    assert data["http"]["timeout"] == 8.0  # the environment wins over .env
    assert data["upstreams"]["twse_rate"] == "9/9"
    # The warning is logged at WARNING: the .env's ERROR level hides it, as it hides every warning.
    assert result.stderr == ""
    (tmp_path / ".env").write_text("TRIALSTOCK_WORKR__TICK=2\n")
    assert "did you mean TRIALSTOCK_WORKER__TICK?" in one_line(config(tmp_path))
    (tmp_path / ".env").write_text("TRIALSTOCK_HTTP=nope\n")
    result = config(tmp_path)
    assert result.returncode == 2
    assert "TRIALSTOCK_HTTP" in one_line(result) and "JSON object" in result.stderr
