"""The SQLite cache file: its schema, how a connection is opened, and how a bad file is set aside.

The file layout (schema version 2):

- ``meta(name, value)``: ``schema_version`` and ``application`` rows identify one of our files;
- ``entries``: one row per key (``data`` bytes, ``expires_at`` epoch seconds or NULL for never,
  ``size`` bytes counted against the size bound, ``last_access`` for LRU eviction and
  invalidation by low use, ``created_at`` for invalidation by age; both indexed, so these
  queries never read the values). A plain
  rowid table: WITHOUT ROWID measured faster only for rows of ~200 bytes and 3-7x slower for
  4 KB-100 KB values, which is what the cache holds;
- ``tags(tag, key)``: primary key (tag, key) is the index on tag; a second index on key;
- ``stats``: one row with the entry count and byte total, kept exact by triggers so the size
  bound is checked without a COUNT(*) scan (also across processes sharing the file);
- triggers drop a key's tag links when the key is deleted or its data replaced.

:func:`open_writer` runs ``PRAGMA quick_check`` and moves a corrupt, non-SQLite or foreign file
aside to ``<name>.corrupt-<timestamp>`` (with a logging warning) before building a fresh one,
and says so (:class:`SetAside`). A path that cannot hold the file (a directory, under a regular
file, in a folder that cannot be created or written) is a :class:`BackendError` naming the path
and the reason.

Migration: a schema 1 file is brought to schema 2 in the same write transaction that ensures
the schema (idempotent; concurrent openers serialise on ``BEGIN IMMEDIATE``), keeping its data:
``created_at`` is added and set to each row's ``last_access`` (the latest time the entry can
have been created here, so age-based invalidation errs towards keeping it). Older code opening
a migrated file sets it aside as a foreign schema: a downgrade starts with an empty cache.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import aiosqlite

from cache.backends.base import BackendError
from cache.backends.sqlite_errors import is_busy, is_corrupt, one_line

log = logging.getLogger(__name__)

SCHEMA_VERSION = "2"
MIGRATABLE = ("1",)
"""Older schema versions :func:`open_writer` migrates (and a restore reads) in place."""
LIVE = "(expires_at IS NULL OR expires_at > ?)"  # a row readers may see; bind the clock's now
APPLICATION = "trialstock-cache"
CACHE_KIB = 16_384
"""Page cache per connection (KiB; SQLite's default is 2 MB). It holds the B-trees' interior pages
of a 1,000,000-entry file (~4 MB): a point read then only visits leaf pages."""
MMAP_BYTES = 1 << 31
"""Pages are read through a memory map of up to this many bytes (SQLite clamps it to its
compile-time maximum, 2 GB by default) instead of a ``pread`` and a copy per page that is not in
the page cache: at 1,000,000 entries most leaves are not, and the copies made a point read 2x
slower than at 1,000 entries (docs/benchmarks.md, Scale). Address space, not memory: the pages
are the OS's file cache, shared by every connection and process."""

_DDL = f"""
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    expires_at REAL,
    size INTEGER NOT NULL,
    last_access REAL NOT NULL,
    created_at REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS entries_expiry ON entries(expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS entries_lru ON entries(last_access);
CREATE INDEX IF NOT EXISTS entries_created ON entries(created_at);
CREATE TABLE IF NOT EXISTS tags (
    tag TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (tag, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tags_by_key ON tags(key);
CREATE TABLE IF NOT EXISTS stats (
    id INTEGER PRIMARY KEY CHECK (id = 1), entries INTEGER NOT NULL, bytes INTEGER NOT NULL
);
INSERT OR IGNORE INTO stats (id, entries, bytes) VALUES (1, 0, 0);
CREATE TRIGGER IF NOT EXISTS entries_after_insert AFTER INSERT ON entries BEGIN
    UPDATE stats SET entries = entries + 1, bytes = bytes + NEW.size WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS entries_after_delete AFTER DELETE ON entries BEGIN
    UPDATE stats SET entries = entries - 1, bytes = bytes - OLD.size WHERE id = 1;
    DELETE FROM tags WHERE key = OLD.key;
END;
CREATE TRIGGER IF NOT EXISTS entries_after_replace AFTER UPDATE OF data ON entries BEGIN
    UPDATE stats SET bytes = bytes - OLD.size + NEW.size WHERE id = 1;
    DELETE FROM tags WHERE key = OLD.key;
END;
INSERT OR IGNORE INTO meta (name, value) VALUES
    ('schema_version', '{SCHEMA_VERSION}'), ('application', '{APPLICATION}');
"""


def file_uri(path: Path, *, read_only: bool = False) -> str:
    """A ``file:`` URI for ``path`` (percent-encoded, so odd file names stay literal)."""
    uri = path.resolve().as_uri()
    return f"{uri}?mode=ro" if read_only else uri


async def connect(path: Path, busy_timeout_ms: int, *, reader: bool) -> aiosqlite.Connection:
    """One autocommit connection (we issue BEGIN ourselves) with the per-connection pragmas."""
    pending = aiosqlite.connect(file_uri(path), uri=True, isolation_level=None)
    try:
        conn = await pending
    except BaseException:
        # aiosqlite queues the stop of its worker thread without awaiting it: wait for the thread
        # while the loop still runs, or it reports "Event loop is closed" (a traceback) on stderr.
        thread = getattr(pending, "_thread", None)
        if thread is not None and thread.is_alive():
            await asyncio.to_thread(thread.join, 5.0)
        raise
    try:
        await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        await conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        if reader:
            await conn.execute("PRAGMA query_only = ON")
    except BaseException:
        await conn.close()
        raise
    return conn


class SetAside(NamedTuple):
    """A bad file :func:`open_writer` moved out of the way: what was wrong, and where it went."""

    problem: str
    moved_to: Path


async def open_writer(
    path: Path, busy_timeout_ms: int, clock: Callable[[], float]
) -> tuple[aiosqlite.Connection, SetAside | None]:
    """The writer connection on a healthy cache file, and the bad file set aside first (or None).

    Raises :class:`BackendError` naming the path and the reason when no file can be opened there
    (a directory, under a regular file, a folder that cannot be created or written, a read-only
    file).
    """
    _prepare_folder(path)
    set_aside = None
    for attempt in (1, 2):
        try:
            conn, problem = await _open_checked(path, busy_timeout_ms)
        except BackendError as exc:
            raise BackendError(f"{exc}{_hint(path)}") from exc.__cause__
        if conn is not None:
            return conn, set_aside
        if attempt == 1:
            set_aside = SetAside(problem, move_aside(path, problem, clock))
    raise BackendError(f"cannot build a fresh SQLite cache at {path}: {problem}")


def _prepare_folder(path: Path) -> None:
    """Create the file's folder if missing; BackendError (path, reason) when it cannot hold a file."""
    if path.is_dir():
        raise BackendError(f"cannot open SQLite cache {path}: it is a directory, not a file")
    for ancestor in path.parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                raise BackendError(f"cannot open SQLite cache {path}: {ancestor} is not a directory")
            break
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        code = errno.errorcode.get(exc.errno or 0, str(exc.errno))
        raise BackendError(f"cannot open SQLite cache {path}: cannot create {path.parent}: {reason} ({code})") from exc


def _hint(path: Path) -> str:
    """What the file system says about ``path`` when SQLite only says it cannot open or write it."""
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return f" ({path} is not readable and writable by this user)"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return f" ({path.parent} is not writable by this user)"
    return ""


async def _open_checked(path: Path, busy_timeout_ms: int) -> tuple[aiosqlite.Connection | None, str]:
    """A prepared writer connection, or None and why the file is unusable (corrupt, foreign)."""
    conn: aiosqlite.Connection | None = None
    try:
        conn = await connect(path, busy_timeout_ms, reader=False)
        problem = await _prepare(conn)
    except sqlite3.DatabaseError as exc:
        if conn is not None:
            await conn.close()
        if not is_corrupt(exc):
            raise BackendError(f"cannot open SQLite cache {path}: {exc}") from exc
        return None, f"unreadable ({exc})"
    except BaseException:
        if conn is not None:
            await conn.close()
        raise
    if problem is None:
        return conn, ""
    await conn.close()
    return None, problem


async def _prepare(conn: aiosqlite.Connection) -> str | None:
    """WAL on, integrity checked, schema ensured. Returns why the file is unusable, or None."""
    await _enable_wal(conn)
    rows = await conn.execute_fetchall("PRAGMA quick_check")
    verdict = one_line("; ".join(str(row[0]) for row in rows))
    if verdict != "ok":
        return f"failed quick_check ({verdict[:200]})"
    problem = await _schema_problem(conn)
    if problem is not None:
        return problem
    await conn.execute("BEGIN IMMEDIATE")
    try:
        await _migrate(conn)
        await _run_ddl(conn)
        await conn.execute("COMMIT")
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    return None


async def _enable_wal(conn: aiosqlite.Connection, attempts: int = 8) -> None:
    # Two processes opening a fresh file at once: switching it to WAL can answer "database is
    # locked" at once, without waiting for busy_timeout. A short retry lets the first one finish.
    for attempt in range(1, attempts + 1):
        try:
            await conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or attempt == attempts:
                raise
            await asyncio.sleep(0.01 * attempt)


async def _migrate(conn: aiosqlite.Connection) -> None:
    """Bring a schema 1 file to schema 2 (inside the caller's transaction); no-op otherwise."""
    columns = {row[1] for row in await conn.execute_fetchall("PRAGMA table_info(entries)")}
    if columns and "created_at" not in columns:
        await conn.execute("ALTER TABLE entries ADD COLUMN created_at REAL NOT NULL DEFAULT 0")
        await conn.execute("UPDATE entries SET created_at = last_access")
        log.info("SQLite cache: migrated the entries table to schema %s", SCHEMA_VERSION)
    tables = {row[0] for row in await conn.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "meta" in tables:
        await conn.execute(
            "UPDATE meta SET value = ? WHERE name = 'schema_version' AND value != ?", (SCHEMA_VERSION, SCHEMA_VERSION)
        )


async def _run_ddl(conn: aiosqlite.Connection) -> None:
    # executescript would COMMIT the open transaction first; run the statements one by one.
    for statement in _split_ddl(_DDL):
        await conn.execute(statement)


def _split_ddl(script: str) -> list[str]:
    statements, current = [], ""
    for line in script.strip().splitlines():
        current += line + "\n"
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements


async def _schema_problem(conn: aiosqlite.Connection) -> str | None:
    """None for an empty file or one of ours at our schema version; else what is wrong."""
    tables = {row[0] for row in await conn.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return None
    if "meta" not in tables:
        return "not a trialstock cache file (no meta table)"
    meta = {str(name): str(value) for name, value in await conn.execute_fetchall("SELECT name, value FROM meta")}
    if meta.get("application") != APPLICATION:
        return "not a trialstock cache file"
    if meta.get("schema_version") not in (SCHEMA_VERSION, *MIGRATABLE):
        return f"schema version {meta.get('schema_version')!r}, expected {SCHEMA_VERSION}"
    return None


def move_aside(path: Path, problem: str, clock: Callable[[], float]) -> Path:
    """Rename ``path`` (and its -wal/-shm files) to ``<name>.corrupt-<timestamp>``."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(clock()))
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    serial = 1
    while aside.exists():
        serial += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{serial}")
    if path.exists():
        os.replace(path, aside)
    for suffix in ("-wal", "-shm", "-journal"):
        sibling = Path(f"{path}{suffix}")
        if sibling.exists():
            os.replace(sibling, Path(f"{aside}{suffix}"))
    log.warning("SQLite cache %s is unusable: %s; moved it to %s and started a fresh file", path, problem, aside)
    return aside
