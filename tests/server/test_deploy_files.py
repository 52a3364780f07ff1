"""The files in deploy/ are what the docs say: haproxy accepts the configuration, the units run
commands the console script accepts, and the environment file names only real settings."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.server.test_docs import setting_names
from tests.support.console_script import CONSOLE_SCRIPT

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = ("trialstock-mcp@.service", "trialstock-worker.service")


@pytest.mark.parametrize("replicas", [1, 3])
def test_haproxy_accepts_the_configuration(replicas: int) -> None:
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        if os.environ.get("TRIALSTOCK_REQUIRE_HAPROXY") == "1":
            pytest.fail("haproxy not found and TRIALSTOCK_REQUIRE_HAPROXY=1 requires it")
        pytest.skip("haproxy not installed")
    env = {"PATH": os.environ["PATH"], "LB_BIND": "127.0.0.1:8080"}
    env.update({f"LB_REPLICA{i}": f"127.0.0.1:{8100 + i}" for i in range(1, replicas + 1)})
    done = subprocess.run([haproxy, "-c", "-f", str(DEPLOY / "haproxy.cfg")], env=env, capture_output=True, timeout=30)
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()


@pytest.mark.parametrize("unit", UNITS)
def test_each_unit_runs_a_command_the_console_script_accepts(unit: str) -> None:
    text = (DEPLOY / unit).read_text()
    (exec_start,) = re.findall(r"^ExecStart=(.+)$", text, flags=re.M)
    program, *args = shlex.split(exec_start.replace("%i", "8101"))
    assert program.endswith("/bin/trialstock-mcp")
    done = subprocess.run([CONSOLE_SCRIPT, *args, "--help"], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    assert "EnvironmentFile=/etc/trialstock-mcp/trialstock.env" in text


def test_the_environment_file_names_only_real_settings() -> None:
    names = re.findall(r"^#?\s*(TRIALSTOCK_[A-Z_]+)=", (DEPLOY / "trialstock.env").read_text(), flags=re.M)
    assert names
    assert set(names) <= setting_names(), sorted(set(names) - setting_names())
