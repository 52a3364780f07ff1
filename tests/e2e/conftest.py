"""End-to-end fixtures: a replay upstream running as its own process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def replay_process() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a replay server process (``/__replay__/stats`` counts requests)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.replay", "--port", "0", "--print-port"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().strip())
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()
