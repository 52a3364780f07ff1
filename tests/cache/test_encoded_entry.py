"""One object per memory item: the engine stores entries that carry their own bytes.

:class:`cache.serialization.EncodedEntry` is an Entry plus the bytes it was encoded to or decoded
from; the memory tier keeps it as the item itself, and still answers the byte protocol with
those bytes. Evictions (only they) are reported to ``subscribe_evictions`` hooks.
"""

from __future__ import annotations

from cache.backends.memory import MemoryBackend
from cache.entry import Entry, Record
from cache.policy import CachePolicy
from cache.serialization import EncodedEntry, Serializer
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory


def test_an_encoded_entry_carries_its_bytes_and_equals_the_plain_entry() -> None:
    plain = Entry({"a": [1, 2]}, 10.0, 20.0, 30.0, ("t",), 0.5)
    encoded, data = Serializer().pack(plain)
    assert isinstance(encoded, EncodedEntry) and encoded.data is data
    assert encoded == plain and plain == encoded
    back = Serializer().load_encoded(bytearray(data))
    assert type(back.data) is bytes and back.data == data and back == plain
    assert Serializer().load_encoded(data).data is data  # bytes are not copied
    assert type(Serializer().loads(data)) is Entry


async def test_the_engine_stores_the_encoded_entry_itself(
    clock: ManualClock, policy: CachePolicy, make_cache: CacheFactory
) -> None:
    lower = MemoryBackend(clock=clock)
    cache = make_cache(sqlite=lower)
    await cache.set("ns:a", {"v": 1}, policy)
    stored = cache.peek("ns:a")
    assert isinstance(stored, EncodedEntry)
    assert await cache.memory.get_many(["ns:a"]) == {"ns:a": stored.data} == await lower.get_many(["ns:a"])
    cache.memory.clear_now()
    assert (await cache.get_or_fetch("ns:a", _never, policy)).meta.tier == "sqlite"
    promoted = cache.peek("ns:a")
    assert isinstance(promoted, EncodedEntry) and promoted.value == {"v": 1}
    assert cache.memory.bytes_used == len(promoted.data) + len("ns:a")
    await cache.aclose()


async def _never() -> object:
    raise AssertionError("must not load")


async def test_only_evictions_are_reported(clock: ManualClock) -> None:
    memory = MemoryBackend(max_entries=2, clock=clock)
    evicted: list[tuple[str, float]] = []
    memory.subscribe_evictions(lambda key, stale_until: evicted.append((key, stale_until)))
    await memory.set_many([Record(k, b"x", clock() + 100) for k in ("a", "b")])
    await memory.delete_many(["a"])
    await memory.set_many([Record("b", b"y", clock() + 200)])  # replaced, not evicted
    await memory.set_many([Record(k, b"z", clock() + 300) for k in ("c", "d")])
    assert evicted == [("b", clock() + 200)]
    memory.clear_now()
    assert len(evicted) == 1
