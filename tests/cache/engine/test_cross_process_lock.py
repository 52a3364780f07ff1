"""Cross-process single-flight through a locker, with two engines standing in for two processes
that share a lower tier (a MemoryBackend standing in for Redis) and a lock table."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from cache.backends.memory import MemoryBackend
from cache.engine.tiered import TieredCache
from cache.policy import CachePolicy
from tests.support.clock import ManualClock
from tests.support.engine import build_engine
from tests.support.faults import FaultyBackend, LoaderSpy


class TableLocker:
    """SET NX / compare-and-delete semantics over a shared dict (``fail`` makes it raise)."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = table
        self.fail = False
        self.released: list[str] = []
        self.extended: list[str] = []

    async def acquire(self, key: str, ttl: float) -> str | None:
        if self.fail:
            raise ConnectionError("redis down")
        if key in self.table:
            return None
        token = self.table[key] = uuid.uuid4().hex
        return token

    async def release(self, key: str, token: str) -> bool:
        self.released.append(key)
        if self.table.get(key) == token:
            del self.table[key]
            return True
        return False

    async def extend(self, key: str, token: str, ttl: float) -> bool:
        self.extended.append(key)
        return self.table.get(key) == token


def _engine(
    shared: MemoryBackend, locker: TableLocker, clock: ManualClock, lock_wait: float = 5.0, lock_ttl: float = 30.0
) -> TieredCache:
    memory = MemoryBackend(max_entries=100, max_bytes=1_000_000, clock=clock)
    return build_engine(
        memory, redis=shared, clock=clock, locker=locker, lock_wait=lock_wait, lock_ttl=lock_ttl, lock_poll=0.001
    )


async def test_two_processes_five_hundred_callers_each_load_once(clock: ManualClock, policy: CachePolicy) -> None:
    shared = MemoryBackend(max_entries=100, max_bytes=1_000_000, clock=clock)
    table: dict[str, str] = {}
    a, b = _engine(shared, TableLocker(table), clock), _engine(shared, TableLocker(table), clock)
    gate = asyncio.Event()
    loader = LoaderSpy({"v": 1}, gate=gate)  # one loader counter for both "processes"
    tasks = [asyncio.create_task(engine.get_or_fetch("ns:k", loader, policy)) for engine in (a, b) for _ in range(500)]
    await loader.started.wait()
    gate.set()
    async with asyncio.timeout(10):
        results = await asyncio.gather(*tasks)
    assert loader.calls == 1
    assert all(r.value == {"v": 1} for r in results)
    assert {r.meta.tier for r in results} == {None, "redis"}  # the loser read the winner's value
    assert table == {}  # the lock was released
    for engine in (a, b):
        await engine.aclose()


async def test_waiter_loads_itself_when_the_holder_never_writes(clock: ManualClock, policy: CachePolicy) -> None:
    shared = MemoryBackend(max_entries=100, max_bytes=1_000_000, clock=clock)
    table = {"lock:ns:k": "held-by-a-dead-process"}
    engine = _engine(shared, TableLocker(table), clock, lock_wait=0.02)
    loader = LoaderSpy("mine")
    async with asyncio.timeout(5):
        result = await engine.get_or_fetch("ns:k", loader, policy)
    assert (result.value, loader.calls) == ("mine", 1)
    await engine.aclose()


async def test_a_waiter_takes_over_as_soon_as_a_dead_holders_lock_lapses(
    clock: ManualClock, policy: CachePolicy
) -> None:
    shared = MemoryBackend(max_entries=100, max_bytes=1_000_000, clock=clock)
    table = {"lock:ns:k": "held-by-a-dead-process"}
    locker = TableLocker(table)
    # A wait far longer than the test's timeout: only the takeover can finish the call in time.
    engine = _engine(shared, locker, clock, lock_wait=3600, lock_ttl=0.09)
    loader = LoaderSpy("mine")
    call = asyncio.create_task(engine.get_or_fetch("ns:k", loader, policy))
    await asyncio.sleep(0.05)
    assert not call.done() and loader.calls == 0  # still waiting on the held lock
    del table["lock:ns:k"]  # the dead holder's lock lapses
    async with asyncio.timeout(5):
        result = await call
    assert (result.value, loader.calls) == ("mine", 1)
    assert table == {} and locker.released == ["lock:ns:k"]  # it loaded under the lock, then let go
    await engine.aclose()


async def test_a_waiter_loads_at_once_when_no_lower_tier_answers(clock: ManualClock, policy: CachePolicy) -> None:
    shared = FaultyBackend(MemoryBackend(max_entries=100, max_bytes=1_000_000, clock=clock), "redis")
    table = {"lock:ns:k": "held-by-another-process"}
    engine = _engine(shared, TableLocker(table), clock, lock_wait=3600)  # type: ignore[arg-type]
    shared.mode = "fail"  # the lock store answers, the tier the holder would write to does not
    loader = LoaderSpy("mine")
    async with asyncio.timeout(5):  # far below lock_wait: only "nowhere to read it" ends the wait
        result = await engine.get_or_fetch("ns:k", loader, policy)
    assert (result.value, loader.calls) == ("mine", 1)
    await engine.aclose()


async def test_the_holder_extends_its_lock_while_its_load_runs(clock: ManualClock, policy: CachePolicy) -> None:
    shared = MemoryBackend(max_entries=100, max_bytes=1_000_000, clock=clock)
    table: dict[str, str] = {}
    locker = TableLocker(table)
    engine = _engine(shared, locker, clock, lock_ttl=0.03)
    gate = asyncio.Event()
    loader = LoaderSpy("slow", gate=gate)
    call = asyncio.create_task(engine.get_or_fetch("ns:k", loader, policy))
    await loader.started.wait()
    async with asyncio.timeout(5):
        while len(locker.extended) < 3:  # several lifetimes pass under one load
            await asyncio.sleep(0.01)
    assert "lock:ns:k" in table  # still held: the extensions kept it
    gate.set()
    async with asyncio.timeout(5):
        assert (await call).value == "slow"
    extended = len(locker.extended)
    await asyncio.sleep(0.05)
    assert len(locker.extended) == extended and table == {}  # released, and no longer extended
    await engine.aclose()


async def test_a_failing_locker_degrades_to_loading_without_the_lock(clock: ManualClock, policy: CachePolicy) -> None:
    shared = MemoryBackend(max_entries=100, max_bytes=1_000_000, clock=clock)
    locker = TableLocker({})
    locker.fail = True
    engine = _engine(shared, locker, clock)
    result = await engine.get_or_fetch("ns:k", LoaderSpy("v"), policy)
    assert result.value == "v"
    assert engine.stats.snapshot()["tiers"]["redis"]["errors"] == 1
    await engine.aclose()


async def test_lock_is_released_when_the_loader_fails(clock: ManualClock, policy: CachePolicy) -> None:
    shared = MemoryBackend(max_entries=100, max_bytes=1_000_000, clock=clock)
    table: dict[str, str] = {}
    locker = TableLocker(table)
    engine = _engine(shared, locker, clock)
    with pytest.raises(RuntimeError, match="boom"):
        await engine.get_or_fetch("ns:k", LoaderSpy(error=RuntimeError("boom")), policy)
    assert table == {} and locker.released == ["lock:ns:k"]
    await engine.aclose()
