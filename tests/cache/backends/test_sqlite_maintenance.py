"""Backup, restore, vacuum and the health report."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cache.backends.sqlite import SqliteBackend
from cache.backends.sqlite_backup import BackupRefused
from cache.entry import Record
from tests.support.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def backend(tmp_path: Path, clock: ManualClock) -> AsyncIterator[SqliteBackend]:
    opened = await SqliteBackend.open(tmp_path / "live.sqlite3", clock=clock)
    yield opened
    await opened.aclose()


def _records(clock: ManualClock, count: int) -> list[Record]:
    return [Record(f"k{i}", f"value-{i}".encode() * 10, clock() + 3600, (f"t{i % 3}",)) for i in range(count)]


async def test_backup_clear_restore_brings_every_entry_back(
    backend: SqliteBackend, clock: ManualClock, tmp_path: Path
) -> None:
    records = _records(clock, 250)
    await backend.set_many(records)
    (tmp_path / "backups").mkdir()  # a backup never creates folders
    dest = tmp_path / "backups" / "cache-backup.sqlite3"

    await backend.backup(dest)
    await backend.clear()
    assert await backend.count() == 0

    assert await backend.restore(dest) == 250
    assert await backend.get_many([r.key for r in records]) == {r.key: r.data for r in records}
    assert sorted(await backend.tagged(["t1"])) == sorted(r.key for r in records if "t1" in r.tags)
    assert (await backend.check())["entries"] == 250


async def test_restore_replaces_same_keys_and_keeps_others(
    backend: SqliteBackend, clock: ManualClock, tmp_path: Path
) -> None:
    await backend.set_many([Record("shared", b"old", clock() + 3600, ("a",))])
    await backend.backup(tmp_path / "b.sqlite3")
    await backend.set_many(
        [Record("shared", b"newer", clock() + 3600, ("b",)), Record("only-live", b"x", clock() + 3600)]
    )

    assert await backend.restore(tmp_path / "b.sqlite3") == 1

    assert await backend.get_many(["shared", "only-live"]) == {"shared": b"old", "only-live": b"x"}
    assert await backend.tagged(["a"]) == ["shared"]
    assert await backend.tagged(["b"]) == []


async def test_restore_skips_entries_expired_since_the_backup(
    backend: SqliteBackend, clock: ManualClock, tmp_path: Path
) -> None:
    await backend.set_many([Record("short", b"s", clock() + 10), Record("long", b"l", clock() + 3600)])
    await backend.backup(tmp_path / "b.sqlite3")
    await backend.clear()
    clock.advance(60)
    assert await backend.restore(tmp_path / "b.sqlite3") == 1
    assert (await backend.check())["entries"] == 1


@pytest.mark.parametrize("kind", ["text", "foreign-sqlite", "missing"])
async def test_restore_refuses_a_non_cache_file_and_keeps_live_data(
    backend: SqliteBackend, clock: ManualClock, tmp_path: Path, kind: str
) -> None:
    records = _records(clock, 20)
    await backend.set_many(records)
    src = tmp_path / "src.sqlite3"
    if kind == "text":
        src.write_text("not a database at all\n" * 100)
    elif kind == "foreign-sqlite":
        conn = sqlite3.connect(src)
        conn.execute("CREATE TABLE entries (key TEXT, data BLOB)")
        conn.execute("INSERT INTO entries VALUES ('k0', x'00')")
        conn.commit()
        conn.close()

    with pytest.raises(BackupRefused, match="not a SQLite database|not a trialstock cache file|no such file"):
        await backend.restore(src)

    assert await backend.get_many([r.key for r in records]) == {r.key: r.data for r in records}
    assert (await backend.check())["entries"] == 20


async def test_vacuum_returns_free_pages(backend: SqliteBackend, clock: ManualClock) -> None:
    await backend.set_many([Record(f"k{i}", b"x" * 4000, clock() + 3600) for i in range(300)])
    await backend.flush()  # stored, then deleted: pages to free
    await backend.delete_many([f"k{i}" for i in range(290)])
    before = await backend.check()
    assert before["free_bytes"] > 500_000

    await backend.vacuum()

    after = await backend.check()
    assert after["free_bytes"] == 0
    assert after["file_bytes"] < before["file_bytes"]
    assert after["wal_bytes"] == 0
    assert len(await backend.get_many([f"k{i}" for i in range(300)])) == 10


async def test_check_reports_counts_and_location(backend: SqliteBackend, clock: ManualClock) -> None:
    await backend.set_many([Record("a", b"12345", clock() + 5, ("t",)), Record("b", b"1", clock() + 3600)])
    clock.advance(10)
    report = await backend.check()
    assert report["ok"] is True and report["integrity_check"] == "ok" and report["size_bookkeeping"] == "ok"
    assert report["path"] == str(backend.path)
    assert (report["entries"], report["expired"], report["tag_links"]) == (2, 1, 1)
    assert report["data_bytes"] == len("a") + 5 + len("b") + 1
    assert await backend.count() == 1
