"""``trialstock-mcp cache ...``: inspect and maintain the cache tiers from a shell.

Unlike a server, which runs on without a tier it cannot open, these commands need the tiers the
settings configure: a SQLite file that cannot be opened fails the command (exit 1, one line
naming the path and the reason) instead of acting on the memory tier alone.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

from cache import BackendError, SqliteBackend, TieredCache, build_cache
from cache.backends import BackupRefused, SharedRedis
from cache.coordination import EventBus, MemorySync, shared_store_for
from cache.observe import StatsBoard
from server.cli_errors import UsageError
from server.render import render_table, render_tree
from server.settings import Settings
from server.stats_view import render_stats


async def run_cache_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.action in ("warm", "cutoff"):  # these need the whole server (tools, services)
        from server.cli_warm import cutoff, warm

        return await (warm if args.action == "warm" else cutoff)(settings, args)
    try:
        cache = await build_cache(
            settings.cache, sqlite=settings.sqlite, redis=settings.redis, clock=time.time, require_sqlite=True
        )
    except BackendError as exc:
        print(f"trialstock-mcp: cache {args.action} failed: {exc}", file=sys.stderr)
        return 1
    notifier: EventBus | MemorySync | None = None
    try:
        if args.action in ("invalidate", "restore"):
            # Running servers drop their memory copies when they hear of it: through the event
            # bus with Redis, else through the SQLite file's generation counter.
            if isinstance(cache.redis, SharedRedis):
                notifier = EventBus(cache.redis.client, settings.redis.channel, cache)
            else:
                notifier = MemorySync(cache)
            await notifier.start()
        code = await _ACTIONS[args.action](cache, args)
        if args.action == "restore" and isinstance(notifier, MemorySync):
            await notifier.bump()  # a restore goes straight to SQLite, past the hooks
        return code
    except BackendError as exc:
        print(f"trialstock-mcp: cache {args.action} failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if notifier is not None:
            await notifier.aclose()
        await cache.aclose()


async def _stats(cache: TieredCache, _args: argparse.Namespace) -> int:
    pings = await cache.ping()
    rows = []
    for name, ok in pings.items():
        if name == "memory":
            continue  # this process's memory tier is empty; the servers' tiers are in their figures
        info = await cache.tier_info(name)
        rows.append(
            (name, "yes" if ok else "NO", info.get("entries", "-"), info.get("bytes", "-"), info.get("where", ""))
        )
    print(render_table(("tier", "answers", "entries", "bytes", "where"), rows))
    board = StatsBoard(shared_store_for(cache, "stats"), "cli", clock=time.time)
    records = await board.read()
    print(f"\n{len(records)} process(es) published statistics in the last 2 minutes ({board.where})")
    if records:
        print(render_stats(records))
    return 0


_SELECTOR_FLAGS = {"key": "--key", "tag": "--tag", "pattern": "--pattern", "namespace": "--namespace"}


async def _invalidate(cache: TieredCache, args: argparse.Namespace) -> int:
    _refuse_blank_selectors(args)
    if args.in_namespace is not None and args.older_than is None and args.unused_for is None:
        raise UsageError("--in-namespace goes with --older-than or --unused-for")
    try:
        removed = await _drop(cache, args)
    except ValueError as exc:  # a malformed namespace or pattern
        raise UsageError(f"invalidate: {exc}") from None
    rows = [(tier, "FAILED" if count is None else count) for tier, count in removed.items()]
    print(render_table(("tier", "removed"), rows))
    return 0 if all(count is not None for count in removed.values()) else 1


def _refuse_blank_selectors(args: argparse.Namespace) -> None:
    """A blank selector is a usage error: it must never fall through to another kind (once an
    empty ``--pattern`` emptied every tier)."""
    flags = {**_SELECTOR_FLAGS, "in_namespace": "--in-namespace"}
    for attr, flag in flags.items():
        value = getattr(args, attr)
        for item in value if isinstance(value, list) else [value]:
            if item is not None and not item.strip():
                raise UsageError(f"invalidate: {flag} is empty; give a value (only --all empties the cache)")


async def _drop(cache: TieredCache, args: argparse.Namespace) -> dict[str, int | None]:
    """The one invalidation the flags ask for; each branch tests its own flag, so nothing falls
    through to :meth:`~cache.TieredCache.clear`, which only ``--all`` reaches."""
    if args.key is not None:
        return await cache.invalidate_keys(*args.key)
    if args.tag is not None:
        return await cache.invalidate_tags(*args.tag)
    if args.pattern is not None:
        return await cache.invalidate_pattern(args.pattern)
    if args.namespace is not None:
        return await cache.invalidate_namespace(args.namespace)
    if args.older_than is not None:
        return await cache.invalidate_older_than(_positive(args.older_than, "--older-than"), args.in_namespace)
    if args.unused_for is not None:
        return await cache.invalidate_unused(_positive(args.unused_for, "--unused-for"), args.in_namespace)
    if args.all:
        return await cache.clear()
    raise UsageError("invalidate needs one of --key, --tag, --pattern, --namespace, --all, --older-than, --unused-for")


def _positive(seconds: float, flag: str) -> float:
    if not 0 < seconds < math.inf:
        raise UsageError(f"{flag} takes a positive, finite number of seconds, got {seconds:g}")
    return seconds


def _sqlite(cache: TieredCache) -> Any:
    if cache.sqlite is None:
        raise UsageError("the SQLite tier is disabled (TRIALSTOCK_SQLITE__ENABLED=false)")
    return cache.sqlite


async def _backup(cache: TieredCache, args: argparse.Namespace) -> int:
    """A new file in an existing folder, or exit 2 (see :mod:`cache.backends.sqlite_backup`)."""
    target: Path = args.path
    try:
        await _sqlite(cache).backup(target)
    except BackupRefused as exc:  # nothing was written
        raise UsageError(f"cannot back up to {target}: {exc}") from None
    print(f"backed up to {target}")
    return 0


async def _restore(cache: TieredCache, args: argparse.Namespace) -> int:
    """Only a sound backup of ours is restored; anything else is exit 2 with the cache untouched."""
    source: Path = args.path
    if not source.is_file():
        raise UsageError(f"cannot restore from {source}: not a file")
    try:
        restored = await _sqlite(cache).restore(source)
    except BackupRefused as exc:  # checked before anything was replaced
        raise UsageError(f"cannot restore from {source}: {exc}") from None
    print(f"restored {restored} entries from {source}")
    return 0


async def _check(cache: TieredCache, _args: argparse.Namespace) -> int:
    report: dict[str, Any] = {"ping": await cache.ping()}
    sqlite = cache.sqlite
    set_aside = sqlite.set_aside if isinstance(sqlite, SqliteBackend) else None
    if sqlite is not None:
        report["sqlite"] = await _sqlite(cache).check()
        if set_aside is not None:  # opening it just now found it bad: the fresh file's health hides that
            report["sqlite"]["ok"] = False
            report["sqlite"]["found_corrupt"] = (
                f"{set_aside.problem}; moved it to {set_aside.moved_to} and started an empty cache file"
            )
    print(render_tree(report))
    healthy = all(report["ping"].values()) and report.get("sqlite", {}).get("ok", True)
    return 0 if healthy else 1


async def _vacuum(cache: TieredCache, _args: argparse.Namespace) -> int:
    sqlite = _sqlite(cache)
    dropped = await sqlite.cleanup_expired()
    await sqlite.vacuum()
    print(f"dropped {dropped} expired entries; file compacted")
    return 0


_ACTIONS = {
    "stats": _stats,
    "invalidate": _invalidate,
    "backup": _backup,
    "restore": _restore,
    "check": _check,
    "vacuum": _vacuum,
}
