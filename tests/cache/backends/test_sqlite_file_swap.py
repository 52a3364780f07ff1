"""The cache file deleted or replaced under a running backend: detected, reported once, reopened.

Without this the backend kept writing to the deleted inode (every write after the deletion was
lost) and ``ping`` said healthy.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cache.backends.sqlite import SqliteBackend
from cache.entry import Record
from tests.support.clock import ManualClock
from tests.support.sqlite_files import stored

LOGGER = "cache.backends.sqlite_file"


@pytest.fixture
async def backend(tmp_path: Path, clock: ManualClock) -> AsyncIterator[SqliteBackend]:
    backend = await SqliteBackend.open(tmp_path / "cache.sqlite3", clock=clock)
    yield backend
    await backend.aclose()


def _record(clock: ManualClock, key: str) -> Record:
    return Record(key, key.encode(), clock() + 3600, ("t",))


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


async def _write_a_few(backend: SqliteBackend, clock: ManualClock, keys: list[str]) -> None:
    for key in keys:
        clock.advance(1.5)  # past the check interval: every write looks at the path
        await backend.set_many([_record(clock, key)])
        await backend.flush()  # one committed batch per write


@pytest.mark.parametrize("with_journal_files", [False, True])
async def test_a_deleted_file_is_reopened_at_the_path(
    backend: SqliteBackend, clock: ManualClock, caplog: pytest.LogCaptureFixture, with_journal_files: bool
) -> None:
    path = backend.path
    await backend.set_many([_record(clock, "before")])
    await backend.flush()
    os.remove(path)
    if with_journal_files:  # rm cache.sqlite3*
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    assert await backend.ping() is False  # degraded until reopened

    with caplog.at_level(logging.INFO, logger=LOGGER):
        await _write_a_few(backend, clock, ["after", "later", "latest"])

    assert stored(path) == {"after": b"after", "later": b"later", "latest": b"latest"}
    assert await backend.get_many(["after", "before"]) == {"after": b"after"}
    assert await backend.tagged(["t"]) != []
    assert await backend.ping() is True
    (warning,) = _warnings(caplog)
    assert str(path) in warning and "deleted" in warning
    assert backend.counters.reopened == 1


async def test_a_replaced_file_is_followed_and_its_entries_kept(
    backend: SqliteBackend, clock: ManualClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = backend.path
    await backend.set_many([_record(clock, "before")])
    await backend.flush()
    other = await SqliteBackend.open(tmp_path / "other.sqlite3", clock=clock)
    await other.set_many([_record(clock, "theirs")])
    await other.flush()
    await other.aclose()
    os.replace(tmp_path / "other.sqlite3", path)
    assert await backend.ping() is False

    with caplog.at_level(logging.INFO, logger=LOGGER):
        await _write_a_few(backend, clock, ["after", "later"])

    assert stored(path) == {"theirs": b"theirs", "after": b"after", "later": b"later"}
    (warning,) = _warnings(caplog)
    assert str(path) in warning and "replaced" in warning
    assert await backend.ping() is True


async def test_a_file_replaced_by_junk_is_set_aside_and_rebuilt(
    backend: SqliteBackend, clock: ManualClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = backend.path
    await backend.set_many([_record(clock, "before")])
    await backend.flush()
    junk = tmp_path / "junk"
    junk.write_bytes(b"not a database at all" * 100)
    os.replace(junk, path)

    with caplog.at_level(logging.INFO, logger="cache.backends"):
        await _write_a_few(backend, clock, ["after"])

    assert stored(path) == {"after": b"after"}
    aside = [p for p in tmp_path.iterdir() if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm"))]
    assert [p.read_bytes() for p in aside] == [b"not a database at all" * 100]


async def test_the_path_is_looked_at_no_more_than_once_a_second(backend: SqliteBackend, clock: ManualClock) -> None:
    path = backend.path
    await backend.set_many([_record(clock, "before")])
    await backend.flush()
    os.remove(path)
    await backend.set_many([_record(clock, "soon")])  # same second: not looked at yet
    await backend.flush()
    assert not path.exists()
    clock.advance(1.0)
    await backend.set_many([_record(clock, "after")])
    await backend.flush()
    assert stored(path) == {"after": b"after"}
