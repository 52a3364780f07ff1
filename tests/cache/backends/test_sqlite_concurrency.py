"""Two processes writing one file at the same time: no "database is locked", nothing lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cache.backends.sqlite import SqliteBackend

WRITER = Path(__file__).with_name("_sqlite_writer.py")
ROOT = Path(__file__).resolve().parents[3]
COUNT = 10_000


@pytest.mark.slow
async def test_two_processes_write_10000_entries_each(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen(
            [sys.executable, str(WRITER), str(path), name, str(COUNT)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("alpha", "beta")
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
        for child in children:  # both are open: start them together
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=120) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()

    for child, (out, err) in zip(children, outputs):
        assert child.returncode == 0, err
        assert "locked" not in err and "busy" not in err.lower(), err
        assert out.startswith(f"done {COUNT}"), out

    backend = await SqliteBackend.open(path)
    try:
        for name in ("alpha", "beta"):
            keys = [f"{name}:{i}" for i in range(COUNT)]
            assert await backend.get_many(keys) == {k: k.replace(":", "-").encode() for k in keys}
        assert (await backend.check())["entries"] == 2 * COUNT
        assert len(await backend.tagged(["alpha"])) == COUNT
    finally:
        await backend.aclose()
