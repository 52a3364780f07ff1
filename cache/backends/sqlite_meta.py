"""The ``meta`` table's free rows: small settings every process using the cache file shares.

``meta`` also holds the schema's own rows (``schema_version``, ``application``); those are
refused here (ValueError). Other rows are named ``<scope>.<name>`` by their users
(:mod:`cache.coordination.shared_store`: run-time tunables, published statistics; :mod:`cache.coordination.memory_sync`:
the invalidation generation). ``clear`` and ``restore`` leave every meta row alone.
:class:`SqliteMeta` does this for :class:`cache.backends.sqlite.SqliteBackend`, which offers it
as the :class:`~cache.backends.capabilities.MetaStore` capability.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiosqlite

from cache.backends.sqlite_file import SqliteFile
from cache.backends.sqlite_sql import chunks, marks

_SCHEMA_ROWS = ("schema_version", "application")


class SqliteMeta:
    """Read, write, increment and delete the free ``meta`` rows of ``file``."""

    def __init__(self, file: SqliteFile) -> None:
        self._file = file

    async def meta_get_prefixed(self, prefix: str) -> dict[str, str]:
        """The ``meta`` rows whose name starts with ``prefix`` (general settings shared by every
        process using the file, e.g. run-time tunables), as ``{name: value}``."""
        rows = await self._file.read(
            "meta_get", "SELECT name, value FROM meta WHERE substr(name, 1, ?) = ?", (len(prefix), prefix)
        )
        return {str(name): str(value) for name, value in rows}

    async def meta_set(self, name: str, value: str) -> None:
        """Store ``value`` under ``name`` in ``meta``; ValueError for the schema's own rows."""
        if name in _SCHEMA_ROWS:
            raise ValueError(f"meta row {name!r} belongs to the cache schema")

        async def work(conn: aiosqlite.Connection) -> None:
            await conn.execute(
                "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

        await self._file.write("meta_set", work)

    async def meta_increment(self, name: str) -> int:
        """Add one to the integer ``meta`` row ``name`` (created as 1; a non-integer value counts
        as 0) in one write transaction, so concurrent processes never lose a step; returns the
        new value. ValueError for the schema's own rows."""
        if name in _SCHEMA_ROWS:
            raise ValueError(f"meta row {name!r} belongs to the cache schema")

        async def work(conn: aiosqlite.Connection) -> int:
            await conn.execute(
                "INSERT INTO meta (name, value) VALUES (?, '1') ON CONFLICT(name) DO UPDATE SET "
                "value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
                (name,),
            )
            ((value,),) = list(await conn.execute_fetchall("SELECT value FROM meta WHERE name = ?", (name,)))
            return int(value)

        return await self._file.write("meta_increment", work)

    async def meta_delete(self, names: Sequence[str]) -> int:
        """Delete the ``meta`` rows named ``names``; returns how many existed. ValueError for
        the schema's own rows (nothing is deleted then)."""
        unique = list(dict.fromkeys(names))
        reserved = [name for name in unique if name in _SCHEMA_ROWS]
        if reserved:
            raise ValueError(f"meta rows {reserved!r} belong to the cache schema")
        if not unique:
            return 0

        async def work(conn: aiosqlite.Connection) -> int:
            deleted = 0
            for chunk in chunks(unique):
                cursor = await conn.execute(f"DELETE FROM meta WHERE name IN ({marks(len(chunk))})", chunk)
                deleted += max(cursor.rowcount, 0)
            return deleted

        return await self._file.write("meta_delete", work)
