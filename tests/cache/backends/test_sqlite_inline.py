"""Small SQLite reads run in the caller's thread, and go to the reader's thread when the file is
locked, when they are many keys, or for a while after several slow reads in a row."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from cache.backends.base import BackendError
from cache.backends.sqlite import SqliteBackend
from cache.backends.sqlite_inline import COOL_OFF, MAX_KEYS, SLOW, SLOW_RUN, Cursor, InlineReads
from cache.entry import Record
from tests.support.clock import ManualClock

KEYS = [f"trial:NCT{i:08d}" for i in range(MAX_KEYS + 8)]


@pytest.fixture
async def backend(tmp_path: Path) -> AsyncIterator[SqliteBackend]:
    backend = await SqliteBackend.open(tmp_path / "cache.sqlite3")
    await backend.set_many([Record(key, key.encode(), time.time() + 3600) for key in KEYS])
    await backend.flush()
    yield backend
    await backend.aclose()


class Locked:
    """A connection whose every statement meets another process's lock."""

    def __init__(self) -> None:
        self.closed = False

    def execute(self, sql: str, parameters: Sequence[object], /) -> Cursor:
        raise sqlite3.OperationalError("database is locked")

    def close(self) -> None:
        self.closed = True


class Slow:
    """A real in-memory table whose reads take ``cost`` seconds of ``clock``."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.cost = 0.0
        self._conn = sqlite3.connect(":memory:")
        self._conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)")
        self._conn.execute("INSERT INTO t VALUES ('a', 'A')")

    def execute(self, sql: str, parameters: Sequence[object], /) -> Cursor:
        self.clock.advance(self.cost)
        return self._conn.execute(sql, parameters)

    def close(self) -> None:
        self._conn.close()


async def test_a_small_read_is_answered_in_the_callers_thread(backend: SqliteBackend) -> None:
    few = KEYS[: MAX_KEYS - 1]  # and one absent key: MAX_KEYS in all
    assert await backend.get_many([*few, "absent"]) == {key: key.encode() for key in few}
    assert backend.inline_reads.reads == 1


async def test_a_read_of_more_keys_goes_to_the_readers_thread(backend: SqliteBackend) -> None:
    assert await backend.get_many(KEYS) == {key: key.encode() for key in KEYS}
    assert backend.inline_reads.reads == 0


async def test_a_locked_file_sends_the_read_to_the_readers_thread(
    backend: SqliteBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backend._file, "inline", InlineReads(Locked()))
    assert await backend.get_many(KEYS[:2]) == {key: key.encode() for key in KEYS[:2]}
    assert backend.inline_reads.busy == 1
    assert backend.inline_reads.reads == 0


def test_errors_other_than_a_lock_are_raised() -> None:
    conn = sqlite3.connect(":memory:")
    reads = InlineReads(conn)
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        reads.fetch("SELECT v FROM missing WHERE k = ?", ("a",))
    assert reads.counters.busy == 0


async def test_a_closed_backend_refuses_small_reads(backend: SqliteBackend) -> None:
    await backend.aclose()
    with pytest.raises(BackendError, match="closed"):
        await backend.get_many(KEYS[:1])


def test_slow_reads_in_a_row_send_reads_to_the_thread_for_the_cool_off() -> None:
    clock = ManualClock(100.0)
    conn = Slow(clock)
    reads = InlineReads(conn, timer=clock)
    sql = "SELECT v FROM t WHERE k = ?"

    conn.cost = SLOW * 2
    for _ in range(SLOW_RUN - 1):
        assert reads.fetch(sql, ("a",)) == [("A",)]
    conn.cost = 0.0
    assert reads.fetch(sql, ("a",)) == [("A",)]  # a fast read breaks the run
    conn.cost = SLOW * 2
    for _ in range(SLOW_RUN):
        assert reads.fetch(sql, ("a",)) == [("A",)]
    assert reads.counters.cool_offs == 1
    assert reads.counters.slow == 2 * SLOW_RUN - 1

    conn.cost = 0.0
    assert reads.fetch(sql, ("a",)) is None  # cooling off: the caller reads on the thread
    clock.advance(COOL_OFF)
    assert reads.fetch(sql, ("a",)) == [("A",)]
    assert reads.counters.reads == 2 * SLOW_RUN + 1


def test_one_slow_read_alone_keeps_reads_inline() -> None:
    clock = ManualClock(100.0)
    conn = Slow(clock)
    reads = InlineReads(conn, timer=clock)
    for cost in [SLOW * 3, 0.0] * 5:
        conn.cost = cost
        assert reads.fetch("SELECT v FROM t WHERE k = ?", ("a",)) == [("A",)]
    assert reads.counters.cool_offs == 0


def test_the_connection_never_waits_for_a_lock(tmp_path: Path) -> None:
    path = tmp_path / "plain.sqlite3"
    sqlite3.connect(path).close()
    reads = InlineReads.open(path)
    try:
        conn = reads._conn
        assert isinstance(conn, sqlite3.Connection)
        assert conn.execute("PRAGMA busy_timeout").fetchone() == (0,)
        assert conn.execute("PRAGMA query_only").fetchone() == (1,)
    finally:
        reads.close()
    reads.close()  # idempotent
