"""The memory tier's age and low-use queries: creation times from entries, last use from
watermarks in the LRU order (sentinels that never count as entries)."""

from __future__ import annotations

from cache.backends.memory import MemoryBackend
from cache.entry import Entry, Record
from tests.support.clock import ManualClock


def put(memory: MemoryBackend, key: str, created: float) -> None:
    memory.put_entry(key, Entry(key, created, created + 60, created + 3600), key.encode())


def test_created_before_uses_the_entries_creation_time(memory: MemoryBackend, clock: ManualClock) -> None:
    now = clock()
    put(memory, "a:1", now - 500)
    put(memory, "a:2", now - 100)
    put(memory, "b:1", now - 900)
    assert sorted(memory.created_before_now(now - 200)) == ["a:1", "b:1"]
    assert memory.created_before_now(now - 200, "a:*") == ["a:1"]


async def test_bytes_only_items_have_no_age(memory: MemoryBackend, clock: ManualClock) -> None:
    await memory.set_many([Record("k", b"x", clock() + 60, created_at=1.0)])
    assert await memory.created_before(clock()) == []


def test_no_watermark_means_nothing_is_known_unused(memory: MemoryBackend, clock: ManualClock) -> None:
    put(memory, "a", clock())
    clock.advance(10_000)
    assert memory.unused_since_now(clock()) == []


def test_items_touched_after_a_watermark_are_not_unused(memory: MemoryBackend, clock: ManualClock) -> None:
    for key in ("a", "b", "c", "d"):
        put(memory, key, clock())
    assert memory.watermark(clock())
    mark_time = clock()
    clock.advance(30)
    assert memory.get_entry("b", clock()) is not None  # a hit moves it behind the watermark
    put(memory, "c", clock())  # so does a write
    put(memory, "e", clock())  # and a new item comes after it
    assert memory.unused_since_now(mark_time) == ["a", "d"]
    assert memory.unused_since_now(mark_time - 1) == []  # no watermark that early
    assert memory.unused_since_now(clock(), "[ab]") == ["a"]


def test_the_newest_watermark_before_the_cutoff_is_used(clock: ManualClock) -> None:
    memory = MemoryBackend(clock=clock, watermark_every=10)
    put(memory, "old", clock())
    memory.watermark(clock())
    first = clock()
    clock.advance(5)
    assert not memory.watermark(clock())  # too soon after the last one
    clock.advance(5)
    put(memory, "newer", clock())
    memory.watermark(clock())
    assert memory.unused_since_now(first + 9) == ["old"]
    assert memory.unused_since_now(clock()) == ["old", "newer"]


def test_watermarks_are_not_entries(clock: ManualClock) -> None:
    memory = MemoryBackend(max_entries=3, clock=clock, watermark_every=1)
    for index in range(3):
        put(memory, f"k{index}", clock())
        memory.watermark(clock())
        clock.advance(1)
    assert len(memory) == 3 and memory.evictions == 0
    assert sorted(memory.match_now("*")) == ["k0", "k1", "k2"]
    clock.advance(10_000)  # everything expired
    assert memory.purge_expired() == 3
    assert len(memory) == 0 and memory.bytes_used == 0


def test_eviction_drops_watermarks_without_counting_them(clock: ManualClock) -> None:
    memory = MemoryBackend(max_entries=2, clock=clock, watermark_every=1)
    put(memory, "a", clock())
    memory.watermark(clock())
    clock.advance(1)
    for key in ("b", "c", "d"):
        put(memory, key, clock())
    assert len(memory) == 2 and memory.evictions == 2
    assert memory.unused_since_now(clock()) == []  # the watermark went with everything before it
    memory.watermark(clock())
    assert memory.clear_now() == 2
    assert len(memory) == 0 and memory.unused_since_now(clock()) == []


def test_watermarks_thin_out_but_the_oldest_stays(clock: ManualClock) -> None:
    memory = MemoryBackend(clock=clock, watermark_every=1)
    put(memory, "ancient", clock())
    start = clock()
    for _ in range(200):
        memory.watermark(clock())
        clock.advance(1)
    put(memory, "recent", clock())
    assert memory.unused_since_now(start) == ["ancient"]  # the first watermark survived thinning
    assert memory.unused_since_now(clock()) == ["ancient"]
    assert len(memory) == 2
