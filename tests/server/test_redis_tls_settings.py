"""Redis TLS from the operator's side: the TRIALSTOCK_REDIS__TLS_* variables through the console
script (``cache check`` pings every tier), a wrong CA reported as a tier that does not answer,
and bad TLS settings refused on one line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.console_script import CONSOLE_SCRIPT, server_env
from tests.support.tls import TlsRedis, make_tls_files, tls_redis  # noqa: F401 - registers the fixture


def cache_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CONSOLE_SCRIPT, "cache", "check"],
        env=server_env(tmp_path, TRIALSTOCK_CACHE__TIER_TIMEOUT="2", **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def tls_env(redis: TlsRedis, ca: Path | None = None) -> dict[str, str]:
    return {
        "TRIALSTOCK_REDIS_URL": redis.url,
        "TRIALSTOCK_REDIS__TLS_CA_FILE": str(ca or redis.files.ca),
        "TRIALSTOCK_REDIS__TLS_CERT_FILE": str(redis.files.client_cert),
        "TRIALSTOCK_REDIS__TLS_KEY_FILE": str(redis.files.client_key),
    }


@pytest.mark.redis
def test_cache_check_reaches_redis_over_tls_with_the_settings(tls_redis: TlsRedis, tmp_path: Path) -> None:  # noqa: F811
    result = cache_check(tmp_path, **tls_env(tls_redis))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "redis: True" in result.stdout


@pytest.mark.redis
def test_a_wrong_ca_is_reported_as_a_tier_that_does_not_answer(tls_redis: TlsRedis, tmp_path: Path) -> None:  # noqa: F811
    other = make_tls_files(tmp_path / "other", name="other")
    result = cache_check(tmp_path, **tls_env(tls_redis, ca=other.ca))
    assert result.returncode == 1
    assert "redis: False" in result.stdout and "sqlite: True" in result.stdout
    assert "Traceback" not in result.stderr


def test_bad_tls_settings_are_one_line_and_exit_2(tmp_path: Path) -> None:
    files = make_tls_files(tmp_path / "tls")
    url = {"TRIALSTOCK_REDIS_URL": "rediss://127.0.0.1:6380/0"}
    cases = [
        ({**url, "TRIALSTOCK_REDIS__TLS_CA_FILE": str(tmp_path / "nope.pem")}, "TRIALSTOCK_REDIS__TLS_CA_FILE"),
        ({**url, "TRIALSTOCK_REDIS__TLS_CERT_FILE": str(files.client_cert)}, "TRIALSTOCK_REDIS__TLS_KEY_FILE"),
        (
            {"TRIALSTOCK_REDIS_URL": "redis://127.0.0.1:6379/0", "TRIALSTOCK_REDIS__TLS_CA_FILE": str(files.ca)},
            "rediss://",
        ),
    ]
    for env, fragment in cases:
        result = cache_check(tmp_path, **env)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and fragment in lines[0], lines
