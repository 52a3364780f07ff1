"""In-process LRU tier bounded by entry count and by bytes, with TTL and a tag index.

Two ways in:

- the :class:`~cache.backends.base.Backend` protocol (bytes in, bytes out), like every tier;
- a fast path for the engine: :meth:`MemoryBackend.put_entry` stores the decoded
  :class:`~cache.entry.Entry` next to its bytes, and :meth:`MemoryBackend.get_entry` returns it
  with one dict lookup, an expiry check and an LRU touch (no decoding, no allocation).

Size of an item = ``len(data) + len(key)``, computed once when it is stored. An item larger
than ``max_bytes`` is not stored. Expired items are dropped when touched and are never returned;
eviction takes least recently used items first and counts them in :attr:`evictions`.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from fnmatch import translate

from cache.entry import Entry, Record


class _Item:
    __slots__ = ("data", "entry", "expires_at", "tags", "size")

    def __init__(self, data: bytes, entry: Entry | None, expires_at: float, tags: tuple[str, ...], size: int) -> None:
        self.data = data
        self.entry = entry
        self.expires_at = expires_at
        self.tags = tags
        self.size = size


class MemoryBackend:
    """LRU + TTL store. ``clock`` returns epoch seconds (the engine's clock)."""

    name = "memory"

    def __init__(self, max_entries: int = 10_000, max_bytes: int = 64 * 1024 * 1024,
                 clock: Callable[[], float] = time.time) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("max_entries and max_bytes must be positive")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._items: OrderedDict[str, _Item] = OrderedDict()
        self._tags: dict[str, set[str]] = {}
        self._bytes = 0
        self.evictions = 0
        self.oversize = 0

    # -- engine fast path ------------------------------------------------------------------

    def get_entry(self, key: str, now: float) -> Entry | None:
        """The decoded entry under ``key`` if present and not expired at ``now``, else None.

        Items stored as bytes only (through :meth:`set_many`) return None here.
        """
        item = self._items.get(key)
        if item is None:
            return None
        if now >= item.expires_at:
            self._remove(key)
            return None
        self._items.move_to_end(key)
        return item.entry

    def put_entry(self, key: str, entry: Entry, data: bytes) -> bool:
        """Store ``entry`` with its encoded ``data`` (expiry = ``entry.stale_until``).

        Returns False when the item alone is larger than ``max_bytes`` (nothing is stored and
        any previous item under ``key`` is removed).
        """
        return self._put(key, _Item(data, entry, entry.stale_until, entry.tags, len(data) + len(key)))

    # -- Backend protocol ----------------------------------------------------------------------

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        now = self._clock()
        found: dict[str, bytes] = {}
        items = self._items
        for key in keys:
            item = items.get(key)
            if item is None:
                continue
            if now >= item.expires_at:
                self._remove(key)
                continue
            items.move_to_end(key)
            found[key] = item.data
        return found

    async def set_many(self, records: Sequence[Record]) -> None:
        for record in records:
            size = len(record.data) + len(record.key)
            self._put(record.key, _Item(record.data, None, record.expires_at, tuple(record.tags), size))

    async def delete_many(self, keys: Sequence[str]) -> int:
        return self.delete_now(keys)

    async def match(self, pattern: str) -> list[str]:
        return self.match_now(pattern)

    async def tagged(self, tags: Sequence[str]) -> list[str]:
        return self.tagged_now(tags)

    async def clear(self) -> None:
        self.clear_now()

    async def ping(self) -> bool:
        return True

    async def aclose(self) -> None:
        """Nothing to release; the contents stay until garbage-collected."""

    # -- synchronous forms (the engine uses these; no awaiting needed in-process) -------------

    def delete_now(self, keys: Iterable[str]) -> int:
        removed = 0
        for key in keys:
            if key in self._items:
                self._remove(key)
                removed += 1
        return removed

    def match_now(self, pattern: str) -> list[str]:
        matches = re.compile(translate(pattern)).match
        now = self._clock()
        return [key for key, item in self._items.items() if now < item.expires_at and matches(key)]

    def tagged_now(self, tags: Iterable[str]) -> list[str]:
        now = self._clock()
        keys: set[str] = set()
        for tag in tags:
            keys.update(self._tags.get(tag, ()))
        return [key for key in keys if now < self._items[key].expires_at]

    def clear_now(self) -> int:
        count = len(self._items)
        self._items.clear()
        self._tags.clear()
        self._bytes = 0
        return count

    def purge_expired(self) -> int:
        """Drop every expired item now (O(n)); returns how many."""
        now = self._clock()
        expired = [key for key, item in self._items.items() if now >= item.expires_at]
        for key in expired:
            self._remove(key)
        return len(expired)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    @property
    def bytes_used(self) -> int:
        return self._bytes

    # -- internals ---------------------------------------------------------------------------

    def _put(self, key: str, item: _Item) -> bool:
        if key in self._items:
            self._remove(key)
        if item.size > self.max_bytes:
            self.oversize += 1
            return False
        self._items[key] = item
        self._bytes += item.size
        for tag in item.tags:
            self._tags.setdefault(tag, set()).add(key)
        self._evict()
        return True

    def _evict(self) -> None:
        items = self._items
        while len(items) > self.max_entries or self._bytes > self.max_bytes:
            key = next(iter(items))
            self._remove(key)
            self.evictions += 1

    def _remove(self, key: str) -> None:
        item = self._items.pop(key)
        self._bytes -= item.size
        for tag in item.tags:
            keys = self._tags.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tags[tag]
