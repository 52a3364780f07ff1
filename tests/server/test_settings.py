"""Settings: flat names, sections, validation with one clear line and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from server.settings import Settings, masked
from server.settings_errors import describe_settings_error
from server.settings_upstreams import parse_rate

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def test_flat_names_fold_into_sections(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRIALSTOCK_REDIS_URL", "redis://:s3cret@127.0.0.1:6390/2")
    monkeypatch.setenv("TRIALSTOCK_SQLITE_PATH", str(tmp_path / "c.db"))
    monkeypatch.setenv("TRIALSTOCK_TWSE_BASE_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("TRIALSTOCK_AUTH_TOKEN", "tok")
    monkeypatch.setenv("TRIALSTOCK_HTTP__TIMEOUT", "3.5")
    settings = Settings(_env_file=None)
    assert settings.redis.url is not None
    assert settings.redis.url.get_secret_value() == "redis://:s3cret@127.0.0.1:6390/2"
    assert settings.sqlite.path == tmp_path / "c.db"
    assert settings.upstreams.twse_base_url == "http://127.0.0.1:9"
    assert settings.http.timeout == 3.5
    shown = masked(settings)
    assert shown["redis"]["url"] == "redis://:***@127.0.0.1:6390/2"
    assert shown["auth"]["token"] == "***"
    assert "s3cret" not in repr(shown) and "tok'" not in repr(shown)


def test_defaults_are_the_documented_upstreams() -> None:
    settings = Settings(_env_file=None)
    assert settings.redis.url is None
    assert settings.upstreams.ctgov_base_url == "https://clinicaltrials.gov/api/v2"
    assert settings.upstreams.yahoo_base_url == "https://query1.finance.yahoo.com"
    assert settings.upstreams.rate("twse") == (3, 5.0)
    assert settings.transport.host == "127.0.0.1" and settings.transport.port == 8000
    assert settings.log_level == "WARNING"


@pytest.mark.parametrize("text", ["3", "x/5", "0/5", "3/0", "3/-1"])
def test_bad_rates_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rate(text)


@pytest.mark.parametrize(
    ("env", "variable", "fragment"),
    [
        ({"TRIALSTOCK_HTTP__TIMEOUT": "-1"}, "TRIALSTOCK_HTTP__TIMEOUT='-1'", "greater than 0"),
        ({"TRIALSTOCK_REDIS_URL": "http://nope"}, "TRIALSTOCK_REDIS_URL='http://nope'", "redis://"),
        ({"TRIALSTOCK_REDIS_URL": "redis://:pw@host:notaport/0"}, "TRIALSTOCK_REDIS_URL", "malformed port"),
        ({"TRIALSTOCK_TWSE_BASE_URL": "ftp://x"}, "TRIALSTOCK_TWSE_BASE_URL='ftp://x'", "http://"),
        ({"TRIALSTOCK_TRANSPORT__PORT": "70000"}, "TRIALSTOCK_TRANSPORT__PORT='70000'", "less than or equal"),
        ({"TRIALSTOCK_LOG_LEVEL": "LOUD"}, "TRIALSTOCK_LOG_LEVEL='LOUD'", "DEBUG"),
    ],
)
def test_bad_settings_exit_2_with_one_line(env: dict[str, str], variable: str, fragment: str) -> None:
    result = run_cli("config", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0] and fragment in lines[0]
    assert result.stdout == ""


def test_password_never_printed_in_errors() -> None:
    result = run_cli("config", env={"TRIALSTOCK_REDIS_URL": "redis://:hunter2@host:bad/0"})
    assert result.returncode == 2
    assert "hunter2" not in result.stderr


def test_describe_names_nested_variable() -> None:
    with pytest.raises(ValidationError) as info:
        Settings(_env_file=None, cache={"trials_search_fresh": 10, "trials_search_stale": 5})
    assert "TRIALSTOCK_CACHE" in describe_settings_error(info.value)
