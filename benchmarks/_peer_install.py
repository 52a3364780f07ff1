"""Install the peer MCP server of ``benchmarks.peer`` into a throwaway virtual environment.

:func:`installed_peer` creates a virtual environment in a temporary folder, installs the
pinned package into it with ``uv`` (or, without ``uv``, ``python -m venv`` and its ``pip``),
yields the path of the peer's binary and removes the folder afterwards. When anything fails
(no network, no wheel for this platform, no installer) it raises :class:`PeerUnavailable`
with the reason, so the benchmark can say why the peer rows are skipped.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks._harness import scratch

INSTALL_TIMEOUT = 600.0  # seconds for venv creation plus the install (a ~40 MB wheel)


class PeerUnavailable(RuntimeError):
    """The peer could not be installed or does not run here; the message says why."""


def _run(command: list[str], timeout: float) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PeerUnavailable(f"{command[0]} {command[1]}: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise PeerUnavailable(f"`{' '.join(command[:4])} ...` exited {done.returncode}: {' | '.join(tail)}")


def install(spec: str, binary: str, folder: Path) -> Path:
    """Install ``spec`` into a new environment under ``folder``; the path of ``binary`` in it."""
    env = folder / "venv"
    python = env / "bin" / "python"
    uv = shutil.which("uv")
    if uv is not None:
        _run([uv, "venv", "--quiet", "--python", sys.executable, str(env)], INSTALL_TIMEOUT)
        _run([uv, "pip", "install", "--quiet", "--python", str(python), spec], INSTALL_TIMEOUT)
    else:
        _run([sys.executable, "-m", "venv", str(env)], INSTALL_TIMEOUT)
        _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", spec], INSTALL_TIMEOUT)
    path = env / "bin" / binary
    if not path.exists():
        raise PeerUnavailable(f"{spec} installed no `{binary}` executable")
    version = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30, check=False)
    if version.returncode != 0:
        raise PeerUnavailable(f"`{binary} --version` exited {version.returncode}: {version.stderr.strip()[-300:]}")
    return path


@contextmanager
def installed_peer(spec: str, binary: str) -> Iterator[Path]:
    """The peer's binary in a throwaway environment, removed when the block ends."""
    with scratch("trialstock-peer-env-") as folder:
        yield install(spec, binary, folder)
