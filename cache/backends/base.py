"""The small interface every storage tier implements.

Backends store opaque bytes (:class:`cache.entry.Record`); serialization, TTL semantics,
statistics and error handling live once in the engine. A backend raises
:class:`BackendError` (or lets its library's error escape) and the engine counts and skips it.

Patterns are globs in the one dialect of :mod:`cache.backends.glob` (``*`` any run, ``?`` one
character, ``[...]`` a class, ``[!...]``/``[^...]`` negated, ``\\`` escapes); each backend
translates it, so a pattern removes the same keys from every tier. Use :func:`escape_glob` on
any literal part so a key containing ``*?[`` cannot widen a match.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from cache.backends.glob import escape_glob
from cache.entry import Record

__all__ = ["Backend", "BackendError", "escape_glob"]


class BackendError(Exception):
    """A tier failed (down, timed out, corrupt). The engine skips the tier for this call."""


@runtime_checkable
class Backend(Protocol):
    name: str

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        """Values of the keys that exist and have not expired; absent keys are left out."""

    async def set_many(self, records: Sequence[Record]) -> None:
        """Store (replace) every record, with its expiry and tags, as one batch."""

    async def delete_many(self, keys: Sequence[str]) -> int:
        """Delete the keys (and their tag links); returns how many existed."""

    async def match(self, pattern: str) -> list[str]:
        """Keys matching the glob ``pattern`` (:mod:`cache.backends.glob`; ValueError for a
        malformed one), never with a blocking full scan command such as KEYS."""

    async def tagged(self, tags: Sequence[str]) -> list[str]:
        """Keys carrying any of the tags."""

    async def clear(self) -> int:
        """Remove every entry this backend owns (only its own prefix on a shared Redis); returns
        how many entries it removed (not counting the bookkeeping beside them, such as tag links)."""

    async def ping(self) -> bool:
        """True when the tier answers."""

    async def aclose(self) -> None:
        """Release connections and threads. Idempotent."""
