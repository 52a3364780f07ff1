import pytest

from cache.backends.base import Backend, escape_glob
from cache.backends.memory import MemoryBackend
from cache.entry import Entry, Record
from tests.support.clock import ManualClock


def _rec(key: str, data: bytes = b"v", expires_at: float = 2e9, tags: tuple[str, ...] = ()) -> Record:
    return Record(key, data, expires_at, tags)


def test_implements_the_backend_protocol(memory: MemoryBackend) -> None:
    assert isinstance(memory, Backend)
    assert memory.name == "memory"


async def test_set_get_delete(memory: MemoryBackend) -> None:
    await memory.set_many([_rec("a", b"1"), _rec("b", b"2")])
    assert await memory.get_many(["a", "b", "c"]) == {"a": b"1", "b": b"2"}
    assert await memory.delete_many(["a", "c"]) == 1
    assert await memory.get_many(["a", "b"]) == {"b": b"2"}


async def test_lru_evicts_the_least_recently_used(clock: ManualClock) -> None:
    memory = MemoryBackend(max_entries=3, max_bytes=10_000, clock=clock)
    await memory.set_many([_rec("a"), _rec("b"), _rec("c")])
    await memory.get_many(["a"])  # a is now the most recent
    await memory.set_many([_rec("d")])
    assert sorted(await memory.get_many(["a", "b", "c", "d"])) == ["a", "c", "d"]
    assert memory.evictions == 1
    assert len(memory) == 3


async def test_bytes_bound_counts_key_and_data(clock: ManualClock) -> None:
    memory = MemoryBackend(max_entries=100, max_bytes=30, clock=clock)
    await memory.set_many([_rec("k1", b"x" * 8), _rec("k2", b"x" * 8), _rec("k3", b"x" * 8)])
    assert memory.bytes_used == 30
    await memory.set_many([_rec("k4", b"x")])  # 33 bytes > 30: k1 goes
    assert "k1" not in memory and "k4" in memory
    assert memory.bytes_used == 23
    await memory.set_many([_rec("big", b"x" * 100)])  # larger than the whole budget: not stored
    assert "big" not in memory and memory.oversize == 1
    assert memory.bytes_used == 23


async def test_overwrite_replaces_size_and_tags(memory: MemoryBackend) -> None:
    await memory.set_many([_rec("k", b"x" * 10, tags=("old",))])
    await memory.set_many([_rec("k", b"x" * 3, tags=("new",))])
    assert memory.bytes_used == 4
    assert await memory.tagged(["old"]) == []
    assert await memory.tagged(["new"]) == ["k"]


async def test_ttl_hides_and_drops_expired_items(memory: MemoryBackend, clock: ManualClock) -> None:
    await memory.set_many([_rec("short", expires_at=clock() + 10), _rec("long", expires_at=clock() + 100)])
    clock.advance(10)
    assert await memory.get_many(["short", "long"]) == {"long": b"v"}
    assert "short" not in memory
    assert await memory.match("*") == ["long"]
    clock.advance(100)
    assert memory.purge_expired() == 1
    assert len(memory) == 0 and memory.bytes_used == 0


async def test_tag_index_stays_consistent_on_delete_and_evict(clock: ManualClock) -> None:
    memory = MemoryBackend(max_entries=2, max_bytes=10_000, clock=clock)
    await memory.set_many([_rec("a", tags=("t", "u")), _rec("b", tags=("t",))])
    assert sorted(await memory.tagged(["t"])) == ["a", "b"]
    await memory.delete_many(["a"])
    assert await memory.tagged(["u"]) == []
    await memory.set_many([_rec("c"), _rec("d")])  # evicts b
    assert await memory.tagged(["t"]) == []
    assert memory._tags == {}  # no dangling tag sets


async def test_match_uses_globs_and_escaped_literals_stay_literal(memory: MemoryBackend) -> None:
    keys = ["ns:v1:a*b", "ns:v1:axb", "ns:v1:a?b", "ns:v1:[x]", "ns:v1:x", "ns:v1:%_\\", "other:v1:a"]
    await memory.set_many([_rec(k) for k in keys])
    assert sorted(await memory.match("ns:*")) == sorted(k for k in keys if k.startswith("ns:"))
    assert await memory.match(escape_glob("ns:v1:a*b")) == ["ns:v1:a*b"]
    assert await memory.match(escape_glob("ns:v1:a?b")) == ["ns:v1:a?b"]
    assert await memory.match(escape_glob("ns:v1:[x]")) == ["ns:v1:[x]"]
    assert await memory.match(escape_glob("ns:v1:%_\\")) == ["ns:v1:%_\\"]
    assert await memory.match("ns:v1:a?b") == ["ns:v1:a*b", "ns:v1:axb", "ns:v1:a?b"]


async def test_fast_path_returns_the_decoded_entry(memory: MemoryBackend, clock: ManualClock) -> None:
    entry = Entry({"v": 1}, clock(), clock() + 5, clock() + 50, ("t",))
    assert memory.put_entry("k", entry, b"bytes")
    assert memory.get_entry("k", clock()) is entry
    assert await memory.get_many(["k"]) == {"k": b"bytes"}  # the protocol still sees bytes
    assert await memory.tagged(["t"]) == ["k"]
    assert memory.get_entry("k", clock() + 50) is None  # at stale_until it is gone
    assert "k" not in memory


async def test_fast_path_does_not_see_bytes_only_items(memory: MemoryBackend, clock: ManualClock) -> None:
    await memory.set_many([_rec("k")])
    assert memory.get_entry("k", clock()) is None


async def test_clear_ping_aclose(memory: MemoryBackend) -> None:
    await memory.set_many([_rec("a", tags=("t",))])
    await memory.clear()
    assert len(memory) == 0 and await memory.tagged(["t"]) == []
    assert await memory.ping() is True
    await memory.aclose()
    await memory.aclose()


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError):
        MemoryBackend(max_entries=0, max_bytes=1)
