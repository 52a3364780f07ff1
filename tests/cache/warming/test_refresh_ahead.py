"""Refresh-ahead acceptance, in virtual time: a 500 ms loader, a 2 s fresh TTL, a caller every 50 ms.

The scenario runs on an event loop whose clock jumps to the next timer whenever nothing is ready
to run, so the real scheduler task, ``asyncio.sleep`` in the loader and the caller's pacing all
behave as in production, deterministically and in a few milliseconds. A call that waited for
anything (the loader above all) is one during which virtual time moved.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable
from dataclasses import dataclass

from cache.coordination.shared_store import MemoryStore
from cache.coordination.tunables import COST_CUTOFF, Tunables
from cache.policy import CachePolicy
from cache.warming.refresh_ahead import RefreshAhead
from tests.support.engine import build_engine

EPOCH = 1_700_000_000.0
KEY = "bench:v1:hot"
POLICY = CachePolicy("bench", fresh_ttl=2.0, stale_ttl=2.0)  # no stale window: expiry means waiting


class _JumpingSelector(selectors.DefaultSelector):
    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:  # no timer at all: only another thread could wake the loop
            ready = super().select(10.0)
            if not ready:
                raise RuntimeError("virtual-time loop stalled: nothing scheduled and nothing ready")
            return ready
        self._loop.virtual_now += timeout
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose ``time()`` jumps to the next timer when nothing is ready to run."""

    def __init__(self) -> None:
        self.virtual_now = 0.0
        super().__init__(selector=_JumpingSelector(self))

    def time(self) -> float:
        return self.virtual_now


def run_virtual(scenario: Callable[[], object]) -> None:
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        runner.run(scenario())  # type: ignore[arg-type]


@dataclass
class Call:
    at: float  # seconds since the scenario began
    waited: float  # virtual seconds the call took
    hit: bool
    stale: bool


class SlowLoader:
    """Takes ``seconds`` (virtual) per call and returns the call number."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0

    async def __call__(self) -> int:
        self.calls += 1
        await asyncio.sleep(self.seconds)
        return self.calls


class Scenario:
    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.loop = loop
        self.clock = lambda: EPOCH + loop.time()
        self.cache = build_engine(clock=self.clock)  # built inside the virtual-time loop, not by a fixture
        self.store = MemoryStore()  # shared, like a Redis hash or the SQLite file
        tunables = Tunables(self.store, clock=self.clock, defaults={COST_CUTOFF: 0.25})
        self.refresh = RefreshAhead(self.cache, tunables, clock=self.clock, window=60.0)
        self.operator = Tunables(self.store, clock=self.clock)  # "the CLI in another process"
        self.loader = SlowLoader(0.5)
        self.began = loop.time()

    async def ask_every(self, interval: float, until: float) -> list[Call]:
        """Call get_or_fetch every ``interval`` s until ``until`` s after the start."""
        calls = []
        slot = self.loop.time()
        while slot - self.began < until:
            await asyncio.sleep(max(0.0, slot - self.loop.time()))
            started = self.loop.time()
            result = await self.cache.get_or_fetch(KEY, self.loader, POLICY)
            waited = self.loop.time() - started
            calls.append(Call(started - self.began, waited, result.meta.hit, result.meta.stale))
            slot += interval
        return calls

    async def aclose(self) -> None:
        await self.refresh.aclose()
        await self.cache.aclose()


def test_after_the_first_call_no_call_waits_for_the_loader() -> None:
    async def scenario() -> None:
        s = Scenario()
        await s.refresh.start()
        calls = await s.ask_every(0.05, until=30.0)
        await s.aclose()
        assert len(calls) == 600
        waited = [c for c in calls if c.waited > 0]
        assert [(c.at, c.waited) for c in waited] == [(0.0, 0.5)]  # only the very first call
        assert [c.at for c in calls if not c.hit] == [0.0]
        assert not any(c.stale for c in calls)
        assert s.refresh.counts["refreshed"] >= 15  # every ~1.6 s for 30 s
        assert s.refresh.counts["failed"] == 0
        assert s.loader.calls == 1 + s.refresh.counts["refreshed"]
        assert s.cache.stats.namespace_counters()["bench"].refreshed_ahead == s.refresh.counts["refreshed"]

    run_virtual(scenario)


def test_changing_the_cutoff_at_run_time_stops_and_restarts_refresh_ahead() -> None:
    async def scenario() -> None:
        s = Scenario()
        await s.refresh.start()
        before = await s.ask_every(0.05, until=10.0)
        refreshed_before = s.refresh.counts["refreshed"]
        await s.operator.set_cost_cutoff(1.0)  # above the key's 0.5 s cost
        raised = await s.ask_every(0.05, until=20.0)
        refreshed_raised = s.refresh.counts["refreshed"]
        await s.operator.set_cost_cutoff(0.25)  # below it again
        lowered = await s.ask_every(0.05, until=30.0)
        await s.aclose()

        assert [c.at for c in before if c.waited > 0] == [0.0]
        assert refreshed_before >= 4
        # Raised: at most a refresh already under way finishes; then the key expires and callers wait.
        assert refreshed_raised - refreshed_before <= 1
        assert sum(1 for c in raised if not c.hit) >= 3
        assert s.refresh.snapshot()["skipped_cheap"] >= 1
        # Lowered: picked up within the tunables' 1 s cache plus a pass; then nobody waits again.
        assert s.refresh.counts["refreshed"] - refreshed_raised >= 3
        late = [c for c in lowered if c.at >= 24.0]
        assert late and all(c.hit and c.waited == 0 for c in late)

    run_virtual(scenario)


def test_without_refresh_ahead_callers_wait_at_every_expiry() -> None:
    """The control: the same traffic with the scheduler never started."""

    async def scenario() -> None:
        s = Scenario()
        calls = await s.ask_every(0.05, until=10.0)
        await s.aclose()
        waits = [c for c in calls if c.waited > 0]
        assert len(waits) >= 4  # one per expiry: every ~2.5 s
        assert all(c.waited == 0.5 and not c.hit for c in waits)

    run_virtual(scenario)
