"""The console script serving HTTP (or SSE) on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.console_script import CONSOLE_SCRIPT, server_env
from tests.support.ports import free_port


@contextmanager
def serving(tmp_path: Path, transport: str = "http", args: Sequence[str] = (), **env_extra: str) -> Iterator[str]:
    """``trialstock-mcp serve --transport <transport>`` with ``server_env`` plus ``env_extra``;
    yields its base URL once ``/healthz`` answers (bounded: 30 s), terminates it on exit."""
    port = free_port()
    proc = subprocess.Popen(
        [CONSOLE_SCRIPT, "serve", "--transport", transport, "--port", str(port), *args],
        env=server_env(tmp_path, **env_extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                stderr = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"server did not start: {stderr}")
            time.sleep(0.05)  # bounded poll while the child binds its port
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()
