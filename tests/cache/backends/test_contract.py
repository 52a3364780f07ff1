"""The contract every backend honours (memory, SQLite, Redis), run against real instances.

Expiry is driven by a ManualClock for memory and SQLite; Redis expires keys on its own clock,
so the lapse test waits (bounded) for Redis to drop the key.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cache.backends.base import Backend, escape_glob
from cache.backends.glob import glob_match
from cache.backends.memory import MemoryBackend
from cache.backends.redis import RedisBackend
from cache.backends.sqlite import SqliteBackend
from cache.entry import Record
from tests.support.clock import ManualClock
from tests.support.globs import generated_keys, generated_patterns
from tests.support.redis_topologies import TOPOLOGIES, topology_fixture

SPECIAL_KEYS = ["ns:a*b", "ns:a?b", "ns:a[b]", "ns:a]b", "ns:a%b", "ns:a_b", "ns:a\\b", "ns:[*?]%_\\"]


@dataclass
class Harness:
    kind: str
    backend: Backend
    clock: ManualClock

    def record(self, key: str, data: bytes = b"v", ttl: float = 60.0, tags: tuple[str, ...] = ()) -> Record:
        return Record(key, data, self.clock() + ttl, tags)

    async def lapse(self, seconds: float, keys: list[str]) -> None:
        """Let ``seconds`` pass for the backend: move the clock, or wait for Redis to expire."""
        if self.kind != "redis":
            self.clock.advance(seconds)
            return
        assert isinstance(self.backend, RedisBackend)
        async with asyncio.timeout(5):
            while await self.backend.client.exists(*[self.backend.key(k) for k in keys]):
                await asyncio.sleep(0.02)


@pytest.fixture(
    params=["memory", "sqlite", *(pytest.param(f"redis-{name}", marks=pytest.mark.redis) for name in TOPOLOGIES)]
)
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    clock = ManualClock()
    backend: Backend
    if request.param == "memory":
        backend = MemoryBackend(max_entries=10_000, max_bytes=64 * 1024 * 1024, clock=clock)
    elif request.param == "sqlite":
        backend = await SqliteBackend.open(tmp_path / "cache.sqlite3", clock=clock)
    else:  # redis-single, redis-cluster, redis-sentinel
        topology = topology_fixture(request, request.param.removeprefix("redis-"))
        backend = topology.backend(prefix="contract:", clock=clock)
    yield Harness(request.param.split("-")[0], backend, clock)
    await backend.aclose()


async def test_satisfies_protocol(harness: Harness) -> None:
    assert isinstance(harness.backend, Backend)
    assert harness.backend.name == harness.kind


async def test_set_get_delete_many(harness: Harness) -> None:
    b = harness.backend
    await b.set_many([harness.record("a", b"1"), harness.record("b", b"2"), harness.record("c", b"3")])
    assert await b.get_many(["a", "b", "missing", "c"]) == {"a": b"1", "b": b"2", "c": b"3"}
    assert await b.delete_many(["a", "missing"]) == 1
    assert await b.get_many(["a", "b", "c"]) == {"b": b"2", "c": b"3"}
    assert await b.delete_many(["b", "c", "b"]) == 2
    assert await b.get_many(["b", "c"]) == {}


async def test_empty_inputs_are_no_ops(harness: Harness) -> None:
    b = harness.backend
    await b.set_many([])
    assert await b.get_many([]) == {}
    assert await b.delete_many([]) == 0
    assert await b.tagged([]) == []


async def test_bytes_and_keys_round_trip_exactly(harness: Harness) -> None:
    b = harness.backend
    blob = bytes(range(256)) * 40
    records = [harness.record("bin", blob), harness.record("empty", b""), harness.record("臺積電:2330 ✓", b"\x00\x01")]
    await b.set_many(records)
    assert await b.get_many(["bin", "empty", "臺積電:2330 ✓"]) == {
        "bin": blob,
        "empty": b"",
        "臺積電:2330 ✓": b"\x00\x01",
    }


async def test_large_batch(harness: Harness) -> None:
    b = harness.backend
    keys = [f"bulk:{i}" for i in range(1200)]
    await b.set_many([harness.record(k, k.encode(), tags=("bulk",)) for k in keys])
    found = await b.get_many(keys)
    assert found == {k: k.encode() for k in keys}
    assert sorted(await b.tagged(["bulk"])) == sorted(keys)
    assert await b.delete_many(keys) == 1200


async def test_overwrite_replaces_value_and_tags(harness: Harness) -> None:
    b = harness.backend
    await b.set_many([harness.record("k", b"old", tags=("t1", "t2")), harness.record("other", tags=("t1",))])
    await b.set_many([harness.record("k", b"new", tags=("t3",))])
    assert await b.get_many(["k"]) == {"k": b"new"}
    assert await b.tagged(["t1"]) == ["other"]
    assert await b.tagged(["t2"]) == []
    assert await b.tagged(["t3"]) == ["k"]
    await b.set_many([harness.record("k", b"plain")])
    assert await b.tagged(["t3"]) == []


async def test_last_record_wins_within_a_batch(harness: Harness) -> None:
    b = harness.backend
    await b.set_many([harness.record("k", b"first", tags=("a",)), harness.record("k", b"second", tags=("b",))])
    assert await b.get_many(["k"]) == {"k": b"second"}
    assert await b.tagged(["b"]) == ["k"]


async def test_past_expiry_is_never_returned(harness: Harness) -> None:
    b = harness.backend
    await b.set_many([harness.record("gone", ttl=-1.0, tags=("t",)), harness.record("live", tags=("t",))])
    assert await b.get_many(["gone", "live"]) == {"live": b"v"}
    assert await b.match("*") == ["live"]
    assert await b.tagged(["t"]) == ["live"]
    # Replacing a live value with an already-expired record removes it.
    await b.set_many([harness.record("live", b"late", ttl=-1.0)])
    assert await b.get_many(["live"]) == {}


async def test_expired_after_ttl_lapses(harness: Harness) -> None:
    b = harness.backend
    await b.set_many([harness.record("short", ttl=0.3, tags=("t",)), harness.record("long", ttl=3600)])
    assert await b.get_many(["short", "long"]) == {"short": b"v", "long": b"v"}
    await harness.lapse(0.5, keys=["short"])
    assert await b.get_many(["short", "long"]) == {"long": b"v"}
    assert await b.match("*") == ["long"]
    assert await b.tagged(["t"]) == []


@pytest.mark.parametrize("key", SPECIAL_KEYS)
async def test_match_escaped_literal_matches_only_itself(harness: Harness, key: str) -> None:
    b = harness.backend
    decoys = ["ns:aXb", "ns:ab", "ns:a*bc", "ns:a\\\\b", "ns:a[b]x"]
    await b.set_many([harness.record(k) for k in [*SPECIAL_KEYS, *decoys]])
    assert await b.match(escape_glob(key)) == [key]


async def test_match_wildcards(harness: Harness) -> None:
    b = harness.backend
    keys = ["trials:search:1", "trials:search:22", "trials:get:NCT1", "stocks:2330", "trials*:x"]
    await b.set_many([harness.record(k) for k in keys])
    assert sorted(await b.match("trials:search:*")) == ["trials:search:1", "trials:search:22"]
    assert await b.match("trials:search:?") == ["trials:search:1"]
    assert sorted(await b.match("trials:[gs]*")) == ["trials:get:NCT1", "trials:search:1", "trials:search:22"]
    assert await b.match(escape_glob("trials*:") + "*") == ["trials*:x"]
    assert sorted(await b.match("*")) == sorted(keys)
    assert await b.match("nothing:*") == []
    assert await b.match("TRIALS:*") == []  # case-sensitive


async def test_tagged_returns_keys_with_any_tag(harness: Harness) -> None:
    b = harness.backend
    await b.set_many(
        [
            harness.record("a", tags=("nct:1", "search")),
            harness.record("b", tags=("nct:2",)),
            harness.record("c", tags=("nct:1",)),
            harness.record("d"),
        ]
    )
    assert sorted(await b.tagged(["nct:1"])) == ["a", "c"]
    assert sorted(await b.tagged(["nct:1", "nct:2", "nct:1"])) == ["a", "b", "c"]
    assert await b.tagged(["unknown"]) == []
    await b.delete_many(["a"])
    assert await b.tagged(["nct:1"]) == ["c"]
    assert await b.tagged(["search"]) == []


async def test_clear_removes_everything(harness: Harness) -> None:
    b = harness.backend
    await b.set_many([harness.record(f"k{i}", tags=("t",)) for i in range(20)])
    assert await b.clear() == 20  # entries, not the tag bookkeeping beside them
    assert await b.get_many([f"k{i}" for i in range(20)]) == {}
    assert await b.match("*") == []
    assert await b.tagged(["t"]) == []
    await b.set_many([harness.record("after")])
    assert await b.get_many(["after"]) == {"after": b"v"}
    assert await b.clear() == 1
    assert await b.clear() == 0


async def test_ping_and_idempotent_close(harness: Harness) -> None:
    assert await harness.backend.ping() is True
    await harness.backend.aclose()
    await harness.backend.aclose()


# -- one glob dialect (cache.backends.glob): every tier removes exactly the same keys ----------

GLOB_KEYS = [
    "trials:search:1",
    "trials:search:22",
    "trials:get:NCT1",
    "stocks:2330",
    "tail",
    "t",
    "!t",
    "^t",
    "-x",
    "]x",
    "a*b",
    "a?b",
    "a[b",
    "a]b",
    "a\\b",
    "aXb",
    "ab",
    "a-b",
    "臺積電:2330",
    "臺灣:0050",
    "é:1",
    "ü:2",
    "z:√",
    "ns:ä",
    "ns:a",
    "ns:ab",
    "x\ny",
    "",
]
GLOB_PATTERNS = [
    "*",
    "?",
    "??",
    "t*",
    "[!t]*",
    "[^t]*",
    "[!t]",
    "[^!t]*",
    "[!^t]*",
    "[abc]*",
    "[a-z]",
    "[a-z]*",
    "[!a-z]*",
    "[^a-z0-9]*",
    "trials:[gs]*",
    "trials:search:?",
    "trials:search:??",
    "a?b",
    "a[*?[]b",
    "a\\*b",
    "a\\?b",
    "a\\[b",
    "a\\]b",
    "a\\\\b",
    "a\\Xb",
    "a[]]b",
    "a[!]]b",
    "a[-]b",
    "a[a-]b",
    "[-]*",
    "[]x]*",
    "[\\]]x",
    "[\\-]x",
    "a[b",
    "a[b*",
    "[",
    "*[",
    "a[",
    "[!",
    "[é-ü]:?",
    "[!a-z]:*",
    "?:?",
    "???:*",
    "*電*",
    "臺*:*",
    "ns:?",
    "ns:[!a]",
    "ns:[^a]",
    "ns:[ä]",
    "*:[!0-9]",
    "x?y",
    "x*",
    "z:?",
    "[^]*",
    "a\\",
]


@pytest.mark.parametrize("pattern", GLOB_PATTERNS)
async def test_a_glob_removes_the_same_keys_in_every_tier(harness: Harness, pattern: str) -> None:
    b = harness.backend
    await b.set_many([harness.record(k) for k in GLOB_KEYS])
    expected = sorted(k for k in GLOB_KEYS if glob_match(pattern, k))
    assert sorted(await b.match(pattern)) == expected
    assert await b.delete_many(await b.match(pattern)) == len(expected)
    assert sorted(await b.match("*")) == sorted(set(GLOB_KEYS) - set(expected))


async def test_both_negations_mean_not_in_every_tier(harness: Harness) -> None:
    b = harness.backend
    await b.set_many([harness.record(k) for k in ("t1", "t2", "u1", "!t", "^t", "[t")])
    assert sorted(await b.match("[!t]*")) == ["!t", "[t", "^t", "u1"]
    assert sorted(await b.match("[^t]*")) == ["!t", "[t", "^t", "u1"]
    assert sorted(await b.match("\\[t")) == ["[t"]


async def test_generated_globs_remove_the_same_keys_in_every_tier(harness: Harness) -> None:
    b = harness.backend
    keys = generated_keys(120)
    await b.set_many([harness.record(k) for k in keys])
    checked = 0
    for pattern in generated_patterns(300):
        try:
            expected = sorted(k for k in keys if glob_match(pattern, k))
        except ValueError:  # a reversed range: refused by the dialect
            with pytest.raises(ValueError):
                await b.match(pattern)
            continue
        assert sorted(await b.match(pattern)) == expected, pattern
        checked += 1
    assert checked > 200
