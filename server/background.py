"""Background work of one process: events, lease, refresh-ahead, analytics, warming, schedules.

Built once per process by the lifespan (:func:`background`), closed in reverse order.

- With Redis: an :class:`~cache.coordination.events.EventBus` carries invalidations between processes, and a
  :class:`~cache.coordination.lease.LeaseKeeper` elects the one process that runs the shared schedules.
  Without Redis every process is its own leader.
- Roles: ``cli`` (one-shot commands) runs no schedules; ``server`` runs the per-process jobs and,
  when ``worker.in_server``, competes for the lease; ``worker`` always competes.
- Per process: refresh-ahead of the keys hit in this process, the analytics tick, expired-row
  cleanup of its SQLite tier, publication of its statistics and tool usage, and without Redis
  the memory sync (:mod:`cache.coordination.memory_sync`: another process's invalidation clears this
  process's memory tier within about two seconds).
- Shared (lease holder only): due warming strategies, keeping the deployment's hot tool calls
  hot here (so this process's refresh-ahead recomputes them ahead of expiry: this is how a
  worker that serves no requests refreshes ahead for the servers), the ClinicalTrials.gov
  data-version check and the Taipei session-close event.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from typing import Literal

from cache import SqliteBackend, TieredCache
from cache.backends import SharedRedis
from cache.coordination import (
    DomainEvent,
    EventBus,
    Lease,
    LeaseKeeper,
    LocalLease,
    MemorySync,
    Tunables,
    redis_scope_key,
    shared_store_for,
    tunables_for,
)
from cache.coordination import instance_id as default_instance_id
from cache.observe import Analytics, StatsBoard
from cache.warming import (
    RefreshAhead,
    Runner,
    SharedUsage,
    Strategy,
    UsageLog,
    Warmer,
    default_strategies_path,
    export,
    load_strategies,
)
from server.scheduler import Job, Scheduler
from server.settings import Settings
from tools.services import Services
from tools.stocks import StocksService
from tools.stocks.exchanges import TAIWAN
from tools.stocks.sessions import TradingHours

log = logging.getLogger(__name__)

Role = Literal["cli", "server", "worker"]

DATA_VERSION_EVENT = "trials.data_version"
SESSION_CLOSED_EVENT = "stocks.session_closed"
WARM_CHECK_EVERY = 30.0
HOT_CALLS = 20
MEMORY_SYNC_EVERY = 2.0
SESSION_CHECK_EVERY = 30.0
ANALYTICS_EVERY = 60.0


@dataclass(frozen=True)
class Background:
    instance_id: str
    events: EventBus | None
    keeper: LeaseKeeper
    tunables: Tunables
    refresh: RefreshAhead | None
    analytics: Analytics
    usage: UsageLog
    warmer: Warmer
    board: StatsBoard
    shared_usage: SharedUsage
    scheduler: Scheduler | None


def load_warming(settings: Settings) -> list[Strategy]:
    """The strategies named by the settings (StrategyFileError names the file and the field)."""
    return load_strategies(settings.worker.strategies_file or default_strategies_path())


@asynccontextmanager
async def background(
    settings: Settings, services: Services, *, runner: Runner, role: Role
) -> AsyncIterator[Background]:
    """Start the background parts for ``role`` over ``services`` (their cache, clock, analytics
    and domain services); ``runner`` runs a tool call (warming, hot calls)."""
    worker = settings.worker
    cache, clock = services.cache, services.clock
    instance_id = default_instance_id()
    async with AsyncExitStack() as stack:
        events = None
        redis = cache.redis
        if isinstance(redis, SharedRedis):
            events = EventBus(redis.client, settings.redis.channel, cache, instance_id=instance_id, clock=clock)
            await events.start()
            stack.push_async_callback(events.aclose)
            _handle_domain_events(events, services)
        memory_sync = None
        if events is None and cache.sqlite is not None:
            # No event bus: processes sharing the SQLite file learn of each other's invalidations
            # through a generation counter in it.
            memory_sync = MemorySync(cache)
            await memory_sync.start()
            stack.push_async_callback(memory_sync.aclose)
        keeper = _keeper(settings, cache, instance_id)
        tunables = tunables_for(cache, clock=clock)
        refresh = None
        if worker.refresh_ahead and role != "cli":  # a one-shot command has no time to refresh anything
            refresh = RefreshAhead(
                cache, tunables, clock=clock, window=worker.refresh_window, concurrency=worker.refresh_concurrency
            )
            await refresh.start()
            stack.push_async_callback(refresh.aclose)
        usage = UsageLog(
            clock=clock,
            max_calls=worker.usage_max_calls,
            max_bytes=worker.usage_max_bytes,
            max_call_bytes=worker.usage_max_call_bytes,
        )
        analytics = services.analytics
        board = StatsBoard(shared_store_for(cache, "stats"), instance_id, clock=clock)
        shared_usage = SharedUsage(usage, board)
        warmer = Warmer(runner, cache, load_warming(settings), clock=clock, usage=shared_usage, hot_keys=refresh)
        parts = Background(
            instance_id, events, keeper, tunables, refresh, analytics, usage, warmer, board, shared_usage, None
        )
        scheduler = None
        if role != "cli":
            leads = role == "worker" or worker.in_server
            if leads:
                await keeper.start()
                stack.push_async_callback(keeper.aclose)
            jobs = _jobs(settings, parts, cache, services, runner, clock)
            if memory_sync is not None:
                jobs.append(Job("memory-sync", memory_sync.check, MEMORY_SYNC_EVERY))
            scheduler = Scheduler(jobs, is_leader=lambda: leads and keeper.is_leader, tick=worker.tick)
            scheduler.start()
            stack.push_async_callback(scheduler.aclose)
            cache.stats.add_section("scheduler", scheduler.snapshot)
        yield replace(parts, scheduler=scheduler)


def _handle_domain_events(events: EventBus, services: Services) -> None:
    """What other processes' domain events mean here (their invalidations arrive on their own)."""

    async def data_version(event: DomainEvent) -> None:
        stamp = event.data.get("stamp")
        if isinstance(stamp, str):
            services.trials.version.adopt(stamp)  # no second invalidation from this process
        log.info("ClinicalTrials.gov data moved to %s (seen by another process)", stamp)

    async def session_closed(event: DomainEvent) -> None:
        log.info("Taipei session closed on %s: quotes were dropped everywhere", event.data.get("date"))

    events.on_domain(DATA_VERSION_EVENT, data_version)
    events.on_domain(SESSION_CLOSED_EVENT, session_closed)


def _keeper(settings: Settings, cache: TieredCache, instance_id: str) -> LeaseKeeper:
    redis = cache.redis
    if not isinstance(redis, SharedRedis):
        return LeaseKeeper(LocalLease("scheduler", holder_id=instance_id))
    # Outside the cache's key prefix, like the tunables: emptying the cache must not drop the lease.
    lease = Lease(
        redis.client,
        redis_scope_key(settings.redis.key_prefix, "lease.scheduler"),
        ttl=settings.worker.lease_ttl,
        holder_id=instance_id,
    )
    return LeaseKeeper(lease)


def _jobs(
    settings: Settings,
    parts: Background,
    cache: TieredCache,
    services: Services,
    runner: Runner,
    clock: Callable[[], float],
) -> list[Job]:
    worker = settings.worker
    session = SessionWatch(services.stocks, parts.events, clock, services.stocks.config.hours)

    async def publish_stats() -> None:
        await parts.board.publish(
            {**cache.stats.snapshot(), "analytics": parts.analytics.report(), "usage": export(parts.usage)}
        )

    async def warm_due() -> None:
        await parts.shared_usage.refresh()
        await parts.warmer.run_due()

    async def keep_hot_calls_hot() -> None:
        await parts.shared_usage.refresh()
        for spec, _ in parts.shared_usage.top(HOT_CALLS, worker.refresh_window):
            await runner(spec.tool, dict(spec.arguments))

    async def data_version() -> None:
        watch = services.trials.version
        if await watch.check_if_due() and parts.events is not None:
            await parts.events.publish_domain(DATA_VERSION_EVENT, {"stamp": watch.known})

    async def analytics_tick() -> None:
        parts.analytics.tick()

    jobs = [
        Job("analytics", analytics_tick, ANALYTICS_EVERY),
        Job("stats", publish_stats, worker.stats_interval),
        Job("warm-due", warm_due, WARM_CHECK_EVERY, leader_only=True, first_after=WARM_CHECK_EVERY),
        # The service also checks lazily on calls; the schedule covers quiet periods.
        Job(
            "trials-data-version",
            data_version,
            settings.cache.trials_version_check_interval,
            leader_only=True,
            first_after=settings.cache.trials_version_check_interval,
        ),
        Job("stocks-session", session.check, SESSION_CHECK_EVERY, leader_only=True),
    ]
    sqlite = cache.sqlite
    if isinstance(sqlite, SqliteBackend):
        jobs.append(
            Job(
                "sqlite-cleanup",
                sqlite.cleanup_expired,
                worker.cleanup_interval,
                first_after=worker.cleanup_interval,
            )
        )
    if parts.refresh is not None:
        # Re-running a fresh call is a memory hit here: cheap, and it is what refresh-ahead watches.
        hot_every = worker.refresh_window / 2
        jobs.append(Job("hot-calls", keep_hot_calls_hot, hot_every, leader_only=True, first_after=hot_every))
    if worker.warm_at_startup:
        jobs.append(Job("warm-startup", parts.warmer.run_startup, None, leader_only=True))
    return jobs


class SessionWatch:
    """Notices the Taipei session closing; then drops cached quotes everywhere and says so.

    Sessions are XTAI's (holidays known) once a tool call has built that calendar, the weekday
    ``hours`` before: the watch never builds it, so start-up stays free of it."""

    def __init__(
        self,
        stocks: StocksService,
        events: EventBus | None,
        clock: Callable[[], float],
        hours: TradingHours | None = None,
    ) -> None:
        self._stocks = stocks
        self._events = events
        self._clock = clock
        self._hours = hours or TradingHours()
        self._was_open: bool | None = None
        self.closings = 0

    async def check(self) -> bool:
        """True when the session closed since the previous check."""
        now = self._clock()
        calendar = self._stocks.calendars.loaded(TAIWAN)  # holidays once a call has built it; never builds
        is_open = calendar.is_open(now) if calendar is not None else self._hours.is_open(now)
        closed = self._was_open is True and not is_open
        self._was_open = is_open
        if closed:
            self.closings += 1
            await self._stocks.session_closed()
            if self._events is not None:
                await self._events.publish_domain(SESSION_CLOSED_EVENT, {"date": str(self._hours.today(now))})
        return closed
