"""In-process LRU tier bounded by entry count and by bytes, with TTL and a tag index.

Two ways in:

- the :class:`~cache.backends.base.Backend` protocol (bytes in, bytes out), like every tier;
- a fast path for the engine: :meth:`MemoryBackend.put_entry` stores the decoded
  :class:`~cache.entry.Entry` next to its bytes, and :meth:`MemoryBackend.get_entry` returns it
  with one dict lookup, an expiry check and an LRU touch (no decoding, no allocation). An
  :class:`~cache.serialization.EncodedEntry` carrying those very bytes (what the engine stores)
  is the item itself: a holder object per item cost 64 bytes (~15% of the tier's own cost).

Size of an item = ``len(data) + len(key)`` (recomputed when needed, not stored). An item larger
than ``max_bytes`` is not stored. Expired items are dropped when touched and are never returned;
eviction takes least recently used items first and counts them in :attr:`evictions`.

Invalidation by age and by low use (:meth:`MemoryBackend.created_before_now`,
:meth:`MemoryBackend.unused_since_now`). Age comes from the decoded entry's ``created_at``
(items stored as bytes only carry none and are never matched by age); last use from watermarks
in the LRU order (:mod:`cache.backends.memory_watermarks`).

:meth:`MemoryBackend.subscribe_evictions` callbacks are called with ``(key, stale_until)`` for
each item the bounds evict (not on expiry, delete, replacement or clear): how the engine counts
lost entries.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from cache.backends.glob import glob_regex
from cache.backends.memory_watermarks import Watermarks
from cache.config import DEFAULT_ENGINE
from cache.entry import Entry, Record
from cache.hooks import Hooks, Unsubscribe
from cache.serialization import EncodedEntry

EvictionHook = Callable[[str, float], None]
"""Called with ``(key, stale_until)`` of an evicted item."""


class _Item:
    """Bytes stored through the protocol (``entry`` None) or a plain Entry with its bytes; the
    attributes of an EncodedEntry item. No size field (40 bytes): len(data) + len(key)."""

    __slots__ = ("data", "entry", "stale_until", "tags")

    def __init__(self, data: bytes, entry: Entry | None, stale_until: float, tags: tuple[str, ...]) -> None:
        self.data = data
        self.entry = entry
        self.stale_until = stale_until
        self.tags = tags


_Stored = _Item | EncodedEntry


def _entry_of(item: _Stored) -> Entry | None:
    return item if isinstance(item, EncodedEntry) else item.entry


_MARK_ITEM = _Item(b"", None, -math.inf, ())  # every watermark's item: "expired", so never matched


class MemoryBackend:
    """LRU + TTL store. ``clock`` returns epoch seconds (the engine's clock)."""

    name = "memory"

    def __init__(
        self,
        max_entries: int = DEFAULT_ENGINE.memory_max_entries,
        max_bytes: int = DEFAULT_ENGINE.memory_max_bytes,
        clock: Callable[[], float] = time.time,
        watermark_every: float = 60.0,
    ) -> None:
        if max_entries < 1 or max_bytes < 1 or not watermark_every > 0:
            raise ValueError("max_entries, max_bytes and watermark_every must be positive")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.watermark_every = watermark_every
        self._clock = clock
        self._items: OrderedDict[Any, _Stored] = OrderedDict()  # str keys, plus Watermark sentinels
        self._marks: Watermarks[_Stored] = Watermarks(self._items, _MARK_ITEM)
        self._tags: dict[str, set[str]] = {}
        self._bytes = 0
        self.evictions = 0
        self.oversize = 0
        self._evicted: Hooks[EvictionHook] = Hooks()

    def subscribe_evictions(self, hook: EvictionHook) -> Unsubscribe:
        """Call ``hook(key, stale_until)`` for every item the bounds evict, until the returned
        function is called. Must be cheap and must not raise (it runs inside a write)."""
        return self._evicted.subscribe(hook)

    # -- engine fast path ------------------------------------------------------------------

    def get_entry(self, key: str, now: float) -> Entry | None:
        """The decoded entry under ``key`` if present and not expired at ``now``, else None.

        Items stored as bytes only (through :meth:`set_many`) return None here.
        """
        item = self._items.get(key)
        if item is None:
            return None
        if now >= item.stale_until:
            self._remove(key)
            return None
        self._items.move_to_end(key)
        return item if isinstance(item, EncodedEntry) else item.entry

    def put_entry(self, key: str, entry: Entry, data: bytes) -> bool:
        """Store ``entry`` with its encoded ``data`` (expiry = ``entry.stale_until``).

        Returns False when the item alone is larger than ``max_bytes`` (nothing is stored and
        any previous item under ``key`` is removed).
        """
        if isinstance(entry, EncodedEntry) and entry.data is data:  # the entry is the item
            return self._put(key, entry)
        return self._put(key, _Item(data, entry, entry.stale_until, entry.tags))

    # -- Backend protocol ----------------------------------------------------------------------

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        now = self._clock()
        found: dict[str, bytes] = {}
        items = self._items
        for key in keys:
            item = items.get(key)
            if item is None:
                continue
            if now >= item.stale_until:
                self._remove(key)
                continue
            items.move_to_end(key)
            found[key] = item.data
        return found

    async def set_many(self, records: Sequence[Record]) -> None:
        for record in records:
            self._put(record.key, _Item(record.data, None, record.expires_at, tuple(record.tags)))

    async def delete_many(self, keys: Sequence[str]) -> int:
        return self.delete_now(keys)

    async def match(self, pattern: str) -> list[str]:
        return self.match_now(pattern)

    async def tagged(self, tags: Sequence[str]) -> list[str]:
        return self.tagged_now(tags)

    async def created_before(self, cutoff: float, pattern: str = "*") -> list[str]:
        return self.created_before_now(cutoff, pattern)

    async def unused_since(self, cutoff: float, pattern: str = "*") -> list[str]:
        return self.unused_since_now(cutoff, pattern)

    async def clear(self) -> int:
        return self.clear_now()

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
        matches = glob_regex(pattern).fullmatch
        now = self._clock()
        return [key for key, item in self._items.items() if now < item.stale_until and matches(key)]

    def tagged_now(self, tags: Iterable[str]) -> list[str]:
        now = self._clock()
        keys: set[str] = set()
        for tag in tags:
            keys.update(self._tags.get(tag, ()))
        return [key for key in keys if now < self._items[key].stale_until]

    def created_before_now(self, cutoff: float, pattern: str = "*") -> list[str]:
        """Keys matching ``pattern`` whose entry was created before ``cutoff`` (O(n))."""
        matches = glob_regex(pattern).fullmatch
        return [
            key
            for key, item in self._items.items()
            if (entry := _entry_of(item)) is not None and entry.created_at < cutoff and matches(key)
        ]

    def unused_since_now(self, cutoff: float, pattern: str = "*") -> list[str]:
        """Keys matching ``pattern`` neither read nor written since the newest watermark placed
        at or before ``cutoff`` (none when there is no such watermark); see the module doc."""
        mark = self._marks.newest_by(cutoff)
        if mark is None:
            return []
        matches = glob_regex(pattern).fullmatch
        keys: list[str] = []
        for key in self._items:
            if key is mark:
                break
            if isinstance(key, str) and matches(key):
                keys.append(key)
        return keys

    def watermark(self, now: float) -> bool:
        """Place a watermark at ``now`` unless the last one is under ``watermark_every`` seconds
        old; True when placed (see :mod:`cache.backends.memory_watermarks`)."""
        return self._marks.place(now, self.watermark_every)

    def clear_now(self) -> int:
        count = len(self)
        self._marks.forget()
        self._items.clear()
        self._tags.clear()
        self._bytes = 0
        return count

    def purge_expired(self) -> int:
        """Drop every expired item now (O(n)); returns how many."""
        now = self._clock()
        expired = [key for key, item in self._items.items() if now >= item.stale_until and item is not _MARK_ITEM]
        for key in expired:
            self._remove(key)
        return len(expired)

    def __len__(self) -> int:
        return len(self._items) - len(self._marks)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    @property
    def bytes_used(self) -> int:
        return self._bytes

    # -- internals ---------------------------------------------------------------------------

    def _put(self, key: str, item: _Stored) -> bool:
        if key in self._items:
            self._remove(key)
        size = len(item.data) + len(key)
        if size > self.max_bytes:
            self.oversize += 1
            return False
        items = self._items
        items[key] = item
        self._bytes += size
        for tag in item.tags:
            self._tags.setdefault(tag, set()).add(key)
        if len(items) - len(self._marks) > self.max_entries or self._bytes > self.max_bytes:
            self._evict()
        return True

    def _evict(self) -> None:
        items, marks = self._items, self._marks
        while len(items) - len(marks) > self.max_entries or self._bytes > self.max_bytes:
            key = next(iter(items))
            if marks.drop_if_oldest(key):  # the oldest watermark reached the LRU end
                continue
            stale_until = self._remove(key).stale_until
            self.evictions += 1
            for hook in self._evicted.current:
                hook(key, stale_until)

    def _remove(self, key: str) -> _Stored:
        item = self._items.pop(key)
        self._bytes -= len(item.data) + len(key)
        for tag in item.tags:
            keys = self._tags.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tags[tag]
        return item
