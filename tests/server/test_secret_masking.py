"""A Redis password never reaches the operator's screen, whatever the URL looks like.

Every awkward URL goes through every path that prints settings or errors: ``config`` (the
effective settings), the one-line error for an invalid value, and, for URLs the settings accept,
the commands that open the Redis tier at DEBUG level (``cache check``, ``call service_status``):
their output and their log lines (the tier fails to connect: nothing listens on the port).
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.cli import main
from server.logs import configure_logging
from server.redact import mask_url
from tests.support.console_script import CONSOLE_SCRIPT, server_env
from tests.support.ports import free_port

SECRET = "SECRETX"
DEAD = free_port()  # nothing listens there: every Redis call fails, and is logged

# (id, variable, value, accepted by the settings?)
CASES = [
    ("hash", "TRIALSTOCK_REDIS_URL", f"redis://:p#ss-{SECRET}@127.0.0.1:{DEAD}/0", False),
    ("question-mark", "TRIALSTOCK_REDIS_URL", f"redis://:p?ss-{SECRET}@127.0.0.1:{DEAD}/0", False),
    ("slash", "TRIALSTOCK_REDIS_URL", f"redis://:p/ss-{SECRET}@127.0.0.1:{DEAD}/0", False),
    ("at-sign", "TRIALSTOCK_REDIS_URL", f"redis://:p@ss-{SECRET}@127.0.0.1:{DEAD}/0", True),
    ("percent-encoded", "TRIALSTOCK_REDIS_URL", f"redis://:p%23ss-{SECRET}@127.0.0.1:{DEAD}/0", True),
    ("username-only", "TRIALSTOCK_REDIS_URL", f"redis://{SECRET}@127.0.0.1:{DEAD}/0", True),
    ("username-and-password", "TRIALSTOCK_REDIS_URL", f"redis://admin:{SECRET}@127.0.0.1:{DEAD}/0", True),
    ("query-password", "TRIALSTOCK_REDIS_URL", f"redis://127.0.0.1:{DEAD}/0?password={SECRET}", True),
    ("unix", "TRIALSTOCK_REDIS_URL", f"unix://:{SECRET}@/nonexistent/redis-{DEAD}.sock?db=0", True),
    ("rediss", "TRIALSTOCK_REDIS_URL", f"rediss://:{SECRET}@127.0.0.1:{DEAD}/0", True),
    ("ipv6", "TRIALSTOCK_REDIS_URL", f"redis://:{SECRET}@[::1]:{DEAD}/0", True),
    ("malformed-port", "TRIALSTOCK_REDIS_URL", f"redis://:{SECRET}@127.0.0.1:notaport/0", False),
    ("wrong-scheme", "TRIALSTOCK_REDIS_URL", f"http://:{SECRET}@127.0.0.1:{DEAD}/0", False),
    ("section-name", "TRIALSTOCK_REDIS__URL", f"redis://:p#{SECRET}@127.0.0.1:{DEAD}/0", False),
    ("url-for-the-section", "TRIALSTOCK_REDIS", f"redis://:{SECRET}@127.0.0.1:{DEAD}/0", False),
    ("misspelt-field", "TRIALSTOCK_REDIS__URI", f"redis://:p#{SECRET}@127.0.0.1:{DEAD}/0", False),
]


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name, value in server_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TRIALSTOCK_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("TRIALSTOCK_HTTP__MAX_ATTEMPTS", "1")
    # aiosqlite's worker thread can log its last DEBUG line after the captured stream is closed.
    aiosqlite = logging.getLogger("aiosqlite")
    level = aiosqlite.level
    aiosqlite.setLevel(logging.INFO)
    yield
    aiosqlite.setLevel(level)
    configure_logging("WARNING")  # main() logged at DEBUG into this test's captured stderr


@pytest.mark.parametrize(("variable", "value", "accepted"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_the_secret_is_never_printed(
    variable: str, value: str, accepted: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(variable, value)
    code = main(["config"])
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    if not accepted:
        assert code == 2 and out == ""
        assert len(err.strip().splitlines()) == 1 and variable in err, err
        return
    assert code == 0, err
    assert "***" in out
    for argv in (["cache", "check"], ["call", "service_status"], ["cache", "stats"]):
        main(argv)
        out, err = capsys.readouterr()
        assert SECRET not in out + err, argv
        assert "Traceback" not in err


def test_the_reported_example_through_the_console_script(tmp_path: Path) -> None:
    env = server_env(tmp_path, TRIALSTOCK_REDIS_URL=f"redis://:p#ss-{SECRET}@127.0.0.1:6379/0")
    result = subprocess.run([CONSOLE_SCRIPT, "config"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert SECRET not in result.stdout + result.stderr
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "TRIALSTOCK_REDIS_URL='redis://:***@127.0.0.1:6379/0'" in line, line
    assert "percent-encode" in line


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:pw@h:1/0", "redis://:***@h:1/0"),
        ("redis://user:pw@h:1/0", "redis://user:***@h:1/0"),
        ("redis://pw@h:1/0", "redis://***@h:1/0"),
        ("redis://:p#ss@h:1/0", "redis://:***@h:1/0"),
        ("redis://:p@s/s?x@h:1/0", "redis://:***@h:1/0"),
        ("redis://u:p@s/s#x@h:1/0", "redis://u:***@h:1/0"),
        ("redis://h:1/0", "redis://h:1/0"),
        ("redis://h:1/0?password=pw&db=2", "redis://h:1/0?password=***&db=2"),
        ("unix://:pw@/run/redis.sock", "unix://:***@/run/redis.sock"),
        ("rediss://u:pw@[::1]:6380/0", "rediss://u:***@[::1]:6380/0"),
        ("redis:pw@h", "redis:***@h"),
    ],
)
def test_mask_url(url: str, shown: str) -> None:
    assert mask_url(url) == shown
