"""Opening a bad file: corrupt, not SQLite at all, or someone else's database."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from cache.backends.base import BackendError
from cache.backends.sqlite import SqliteBackend
from cache.entry import Record
from tests.support.clock import ManualClock

STAMP = "20231114T221320Z"  # ManualClock's default start, formatted


async def _fill(path: Path, clock: ManualClock, count: int) -> None:
    backend = await SqliteBackend.open(path, clock=clock)
    await backend.set_many([Record(f"k{i}", b"x" * 2000, clock() + 3600, ("t",)) for i in range(count)])
    await backend.aclose()


async def _assert_fresh_and_working(path: Path, clock: ManualClock) -> None:
    backend = await SqliteBackend.open(path, clock=clock)
    try:
        assert await backend.count() == 0
        await backend.set_many([Record("new", b"1", clock() + 60)])
        assert await backend.get_many(["new"]) == {"new": b"1"}
        assert (await backend.check())["ok"] is True
    finally:
        await backend.aclose()


async def test_corrupt_file_is_moved_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock()
    path = tmp_path / "cache.sqlite3"
    await _fill(path, clock, 300)
    raw = bytearray(path.read_bytes())
    assert len(raw) > 40_000
    raw[4096:40_000] = b"\xa5" * (40_000 - 4096)  # trash every page after the header page
    path.write_bytes(bytes(raw))

    with caplog.at_level(logging.WARNING, logger="cache.backends.sqlite_schema"):
        await _assert_fresh_and_working(path, clock)

    aside = tmp_path / f"cache.sqlite3.corrupt-{STAMP}"
    assert aside.read_bytes() == bytes(raw)
    assert any(str(aside) in rec.getMessage() for rec in caplog.records if rec.levelno == logging.WARNING)


async def test_non_sqlite_file_is_moved_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock()
    path = tmp_path / "cache.sqlite3"
    path.write_text("these are my notes, not a database\n" * 200)

    with caplog.at_level(logging.WARNING, logger="cache.backends.sqlite_schema"):
        await _assert_fresh_and_working(path, clock)

    assert (tmp_path / f"cache.sqlite3.corrupt-{STAMP}").read_text().startswith("these are my notes")
    assert "cache.sqlite3" in caplog.text


async def test_foreign_sqlite_database_is_moved_aside(tmp_path: Path) -> None:
    clock = ManualClock()
    path = tmp_path / "cache.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.close()

    await _assert_fresh_and_working(path, clock)

    with sqlite3.connect(tmp_path / f"cache.sqlite3.corrupt-{STAMP}") as kept:
        assert kept.execute("SELECT name FROM sqlite_master").fetchall() == [("invoices",)]
    kept.close()


async def test_second_move_aside_in_the_same_second_gets_its_own_name(tmp_path: Path) -> None:
    clock = ManualClock()
    path = tmp_path / "cache.sqlite3"
    for text in ("first", "second"):
        path.write_text(text * 100)
        await _assert_fresh_and_working(path, clock)
    assert (tmp_path / f"cache.sqlite3.corrupt-{STAMP}").read_text().startswith("first")
    assert (tmp_path / f"cache.sqlite3.corrupt-{STAMP}-2").read_text().startswith("second")


async def test_reopen_keeps_entries_and_schema_is_idempotent(tmp_path: Path) -> None:
    clock = ManualClock()
    path = tmp_path / "cache.sqlite3"
    await _fill(path, clock, 10)
    backend = await SqliteBackend.open(path, clock=clock)
    try:
        assert await backend.count() == 10
        assert sorted(await backend.tagged(["t"])) == sorted(f"k{i}" for i in range(10))
    finally:
        await backend.aclose()
    assert not list(tmp_path.glob("*.corrupt-*"))


async def test_unusable_location_raises_backend_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises((BackendError, OSError)):
        await SqliteBackend.open(blocker / "cache.sqlite3")


async def test_closed_backend_raises_backend_error(tmp_path: Path) -> None:
    backend = await SqliteBackend.open(tmp_path / "c.sqlite3")
    await backend.aclose()
    assert await backend.ping() is False
    with pytest.raises(BackendError, match="closed"):
        await backend.get_many(["k"])
    with pytest.raises(BackendError, match="closed"):
        await backend.set_many([Record("k", b"v", 1e12)])
