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
def serving(
    tmp_path: Path,
    transport: str = "http",
    args: Sequence[str] = (),
    *,
    log: Path | None = None,
    **env_extra: str,
) -> Iterator[str]:
    """``trialstock-mcp serve --transport <transport>`` with ``server_env`` plus ``env_extra``;
    yields its base URL once ``/healthz`` answers (bounded: 30 s), terminates it on exit.
    ``log``: a file that receives the server's stderr (else it is read only on a failed start)."""
    port = free_port()
    log_file = open(log, "wb") if log is not None else None  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [CONSOLE_SCRIPT, "serve", "--transport", transport, "--port", str(port), *args],
        env=server_env(tmp_path, **env_extra),
        stdout=subprocess.DEVNULL,
        stderr=log_file or subprocess.PIPE,
    )
    if log_file is not None:
        log_file.close()
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
                output = proc.stderr.read().decode() if proc.stderr else log.read_text() if log else ""
                raise RuntimeError(f"server did not start: {output}")
            time.sleep(0.05)  # bounded poll while the child binds its port
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()
