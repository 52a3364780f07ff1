"""Backup files of the SQLite tier: where one may be written, and whether one may be restored.

Contracts:

- :func:`backup_to` writes an online backup to a new file in an existing folder. It never
  creates a folder, never replaces an existing file, and never removes a file it did not
  create: it writes a temporary file of its own (``.<name>.<random>.partial``, made by
  ``mkstemp``, so it cannot collide with anyone's file) and links it into place. A target that
  cannot be used raises :class:`BackupRefused` before anything is written.
- :func:`restore_problem` says why a file may not be restored from, checking everything before
  anything is replaced: a SQLite file (not empty, the SQLite header), ``PRAGMA integrity_check``
  ok, our tables with their columns, our application and a schema version we read, and rows a
  cache could have written (text keys, blob values, integer sizes that are not negative, finite
  times). :func:`copy_attached` then recomputes each row's size instead of trusting the file.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import tempfile
from pathlib import Path

import aiosqlite

from cache.backends.base import BackendError
from cache.backends.sqlite_errors import one_line
from cache.backends.sqlite_schema import APPLICATION, MIGRATABLE, SCHEMA_VERSION, file_uri

RESTORE_ALIAS = "restore_src"
_HEADER = b"SQLite format 3\x00"
_ENTRY_COLUMNS = {"key", "data", "expires_at", "size", "last_access"}
_FINITE = "(typeof({col}) IN ('integer', 'real') AND abs({col}) <= 1.7976931348623157e308)"
_ROW_CHECKS = (
    ("typeof(key) != 'text'", "keys that are not text"),
    ("typeof(data) != 'blob'", "values that are not bytes"),
    ("typeof(size) != 'integer'", "a size that is not an integer"),
    ("typeof(size) = 'integer' AND size < 0", "a negative size"),
    (f"expires_at IS NOT NULL AND NOT {_FINITE.format(col='expires_at')}", "an expires_at that is not a finite time"),
    (f"NOT {_FINITE.format(col='last_access')}", "a last_access that is not a finite time"),
)
_CREATED_CHECK = (f"NOT {_FINITE.format(col='created_at')}", "a created_at that is not a finite time")


class BackupRefused(BackendError):
    """The backup target or the file to restore from is unusable; nothing was written or changed."""


def backup_target_problem(dest: Path) -> str | None:
    """Why ``dest`` cannot receive a backup (too long a name, no such folder, exists), or None."""
    parent = dest.parent
    name_max = _limit(parent, "PC_NAME_MAX", 255)
    size = len(os.fsencode(dest.name))
    if size > name_max:
        return f"the file name is {size} bytes long; at most {name_max} are allowed"
    if len(os.fsencode(str(dest.absolute()))) >= _limit(parent, "PC_PATH_MAX", 4096):
        return "the path is too long"
    if os.path.lexists(dest):
        return f"{dest} exists; choose a new file for the backup"
    if not parent.exists():
        return f"the folder {parent} does not exist (a backup never creates folders)"
    if not parent.is_dir():
        return f"{parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"the folder {parent} is not writable by this user"
    return None


def _limit(folder: Path, name: str, default: int) -> int:
    try:
        return os.pathconf(folder if folder.is_dir() else "/", name)
    except (OSError, ValueError):
        return default


async def backup_to(source: aiosqlite.Connection, dest: Path) -> None:
    """Online backup of the whole file behind ``source`` to the new file ``dest`` (see the module
    doc). BackupRefused for an unusable target; OSError or sqlite3.Error when writing fails (the
    temporary file is removed; ``dest`` is not created)."""
    problem = backup_target_problem(dest)
    if problem is not None:
        raise BackupRefused(problem)
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name[:64]}.", suffix=".partial")
    os.close(fd)
    partial = Path(name)
    try:
        # Used on the source connection's thread, hence check_same_thread=False.
        target = sqlite3.connect(partial, check_same_thread=False)
        try:
            await source.backup(target)
        finally:
            target.close()
        _link_into_place(partial, dest)
    finally:
        for leftover in (partial, *(Path(f"{partial}{s}") for s in ("-journal", "-wal", "-shm"))):
            leftover.unlink(missing_ok=True)  # names derived from our own mkstemp name: ours


def _link_into_place(partial: Path, dest: Path) -> None:
    """Give ``partial`` the name ``dest`` unless that name was taken meanwhile (BackupRefused)."""
    try:
        os.link(partial, dest)  # unlike rename, never replaces a file that appeared meanwhile
    except FileExistsError:
        raise BackupRefused(f"{dest} exists; choose a new file for the backup") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        if os.path.lexists(dest):  # a file system without hard links: check, then rename
            raise BackupRefused(f"{dest} exists; choose a new file for the backup") from None
        os.rename(partial, dest)


def restore_problem(path: Path) -> str | None:
    """Why ``path`` must not be restored from (see the module doc), or None.

    Blocking (plain sqlite3, read-only, reads every page): run it in a thread.
    """
    if not path.is_file():
        return "no such file"
    with path.open("rb") as head:
        first = head.read(len(_HEADER))
    if not first:
        return "it is an empty file"
    if first != _HEADER:
        return "not a SQLite database"
    try:
        conn = sqlite3.connect(file_uri(path, read_only=True), uri=True)
    except sqlite3.Error as exc:
        return f"cannot open it ({exc})"
    try:
        return _database_problem(conn)
    except sqlite3.Error as exc:
        return f"unreadable ({one_line(str(exc))})"
    finally:
        conn.close()


def _database_problem(conn: sqlite3.Connection) -> str | None:
    verdict = one_line("; ".join(str(r[0]) for r in conn.execute("PRAGMA integrity_check(20)")))
    if verdict != "ok":
        return f"failed integrity_check ({verdict[:300]})"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"meta", "entries", "tags"} <= tables:
        return "not a trialstock cache file (its tables are missing)"
    meta = {str(name): str(value) for name, value in conn.execute("SELECT name, value FROM meta")}
    if meta.get("application") != APPLICATION:
        return "not a trialstock cache file (another application's meta rows)"
    version = meta.get("schema_version")
    if version not in (SCHEMA_VERSION, *MIGRATABLE):
        return f"schema version {version!r}; this release restores {', '.join((SCHEMA_VERSION, *MIGRATABLE))}"
    columns = {r[1] for r in conn.execute("PRAGMA table_info(entries)")}
    needed = _ENTRY_COLUMNS | ({"created_at"} if version == SCHEMA_VERSION else set())
    if not needed <= columns:
        return f"the entries table lacks {', '.join(sorted(needed - columns))}"
    if not {"tag", "key"} <= {r[1] for r in conn.execute("PRAGMA table_info(tags)")}:
        return "the tags table lacks its columns"
    if "stats" in tables and conn.execute("SELECT 1 FROM stats WHERE entries < 0 OR bytes < 0").fetchall():
        return "its stats row holds a negative entry count or byte total"
    checks = (*_ROW_CHECKS, _CREATED_CHECK) if "created_at" in columns else _ROW_CHECKS
    for condition, what in checks:
        ((count, example),) = conn.execute(f"SELECT count(*), min(CAST(key AS TEXT)) FROM entries WHERE {condition}")
        if count:
            return f"{count} entries have {what} (e.g. {str(example)[:80]!r})"
    return None


async def copy_attached(conn: aiosqlite.Connection, now: float) -> int:
    """Upsert the live rows of the attached restore source (and their tags); returns how many.
    Sizes are recomputed as the backend computes them (key characters + value bytes), not read
    from the file. A schema 1 source has no ``created_at``: its rows count as created at their
    last access."""
    live = "expires_at IS NULL OR expires_at > ?"
    columns = {row[1] for row in await conn.execute_fetchall(f"PRAGMA {RESTORE_ALIAS}.table_info(entries)")}
    created = "created_at" if "created_at" in columns else "last_access"
    cursor = await conn.execute(
        "INSERT INTO entries (key, data, expires_at, size, last_access, created_at) "
        f"SELECT key, data, expires_at, length(key) + length(data), last_access, {created} "
        f"FROM {RESTORE_ALIAS}.entries WHERE {live} "
        "ON CONFLICT(key) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, "
        "size = excluded.size, last_access = excluded.last_access, created_at = excluded.created_at",
        (now,),
    )
    copied = max(cursor.rowcount, 0)
    await conn.execute(
        "INSERT OR IGNORE INTO tags (tag, key) SELECT t.tag, t.key "
        f"FROM {RESTORE_ALIAS}.tags AS t JOIN {RESTORE_ALIAS}.entries AS e ON e.key = t.key "
        "WHERE e.expires_at IS NULL OR e.expires_at > ?",
        (now,),
    )
    return copied
