"""Two real OS processes sharing a throwaway Redis (single server, cluster, sentinel): an
invalidation in one removes the entry from the other's memory tier."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.events import CHANNEL, open_node
from tests.support.redis_topologies import Topology

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[3]
CHILD = Path(__file__).with_name("_events_child.py")


async def _line(proc: subprocess.Popen[str], timeout: float = 30.0) -> str:
    assert proc.stdout is not None
    return (await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), timeout)).strip()


async def test_an_invalidation_in_this_process_clears_the_other_processs_memory(redis_topology: Topology) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), redis_topology.config_json(), CHANNEL, "trials:v1:NCT1"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    node = await open_node(redis_topology, instance_id="parent")
    try:
        assert await _line(child) == "ready"  # the child holds the key in its memory tier
        await node.cache.invalidate_keys("trials:v1:NCT1")
        report = json.loads(await _line(child))
        assert report == {"gone": True, "received": 1, "samples": 1}
        assert node.bus.published == 1
    finally:
        await node.aclose()
        try:
            _, stderr = await asyncio.to_thread(child.communicate, timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert child.returncode == 0, stderr[-2000:]
