"""The scheduler lease on a throwaway redis-server: exclusion, renewal, release, takeover."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from cache.backends.redis_client import RedisClient
from cache.coordination.lease import Lease, LeaseError, LeaseKeeper, LocalLease
from tests.support.clock import ManualClock
from tests.support.redis_topologies import Topology

NAME = "trialstock:lease:scheduler"


@pytest.fixture
async def client(redis_topology: Topology) -> AsyncIterator[RedisClient]:
    """Each lease test on a single server, a cluster and sentinel."""
    redis = redis_topology.client()
    yield redis
    await redis.aclose()


@pytest.mark.redis
async def test_only_one_holder_at_a_time(client: RedisClient) -> None:
    a, b = Lease(client, NAME, ttl=30, holder_id="a"), Lease(client, NAME, ttl=30, holder_id="b")
    assert await a.try_acquire() is True
    assert await b.try_acquire() is False
    assert b.retry_after is not None and 0 < b.retry_after <= 30  # when a's lease would lapse
    assert await a.try_acquire() is True  # already ours: extended, still held
    assert (await a.holder(), a.is_held(), b.is_held()) == ("a", True, False)


@pytest.mark.redis
async def test_renew_and_release_only_by_the_holder(client: RedisClient) -> None:
    a, b = Lease(client, NAME, ttl=30, holder_id="a"), Lease(client, NAME, ttl=30, holder_id="b")
    assert await a.try_acquire()
    await client.pexpire(NAME, 5000)
    assert await a.renew() is True
    assert 5000 < await client.pttl(NAME) <= 30_000  # renewal restored the full ttl
    assert await b.renew() is False and await b.release() is False
    assert await a.holder() == "a"
    assert await a.release() is True
    assert (await a.holder(), a.is_held()) == (None, False)
    assert await b.try_acquire() is True
    assert await a.renew() is False and not a.is_held()


@pytest.mark.redis
async def test_the_lease_counts_as_held_locally_only_until_its_ttl(client: RedisClient) -> None:
    clock = ManualClock(100.0)
    lease = Lease(client, NAME, ttl=10, holder_id="a", clock=clock)
    assert await lease.try_acquire()
    clock.advance(9.9)
    assert lease.is_held()
    clock.advance(0.1)
    assert not lease.is_held()  # never trusted past the ttl, even before Redis expires the key
    assert await lease.renew() and lease.is_held()


async def test_an_unreachable_redis_raises_lease_error() -> None:
    client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    lease = Lease(client, NAME, ttl=1, holder_id="a")
    with pytest.raises(LeaseError, match="acquire failed"):
        await lease.try_acquire()
    with pytest.raises(LeaseError):
        await lease.holder()
    await client.aclose()


@pytest.fixture
async def keepers(client: RedisClient) -> AsyncIterator[tuple[LeaseKeeper, LeaseKeeper]]:
    # Each attempt is bounded by renew_every: 0.25 s leaves a busy CI machine room for a stall
    # (at 0.1 s one stalled renewal cost the leadership and flipped it twice, under sentinel).
    a = LeaseKeeper(Lease(client, NAME, ttl=1.0, holder_id="a"), renew_every=0.25)
    b = LeaseKeeper(Lease(client, NAME, ttl=1.0, holder_id="b"), renew_every=0.25)
    yield a, b
    await a.aclose()
    await b.aclose()


@pytest.mark.redis
async def test_two_keepers_one_leader_and_renewal_keeps_it(
    keepers: tuple[LeaseKeeper, LeaseKeeper], client: RedisClient
) -> None:
    a, b = keepers
    await a.start()
    await a.wait_for(True)
    await b.start()
    await b.wait_until(lambda: b.attempts >= 2)
    # a renews every 0.25 s: after b's attempts span more than the 1 s ttl, a still leads
    await b.wait_until(lambda: b.attempts >= 8)
    assert (a.is_leader, b.is_leader, a.changes, b.changes) == (True, False, 1, 0)
    assert await client.get(NAME) == b"a"


@pytest.mark.redis
async def test_the_follower_takes_over_when_the_leader_stops_renewing(
    keepers: tuple[LeaseKeeper, LeaseKeeper],
    client: RedisClient,
) -> None:
    a, b = keepers
    leadership: list[tuple[str, bool]] = []
    a.subscribe_changes(lambda leader: leadership.append(("a", leader)))
    b.subscribe_changes(lambda leader: leadership.append(("b", leader)))
    await a.start()
    await a.wait_for(True)
    await b.start()
    await b.wait_until(lambda: b.attempts >= 1)
    await a.aclose(release=False)  # the leader 'dies': no renewal, no release
    assert not a.is_leader
    await b.wait_for(True, timeout=10)
    assert await client.get(NAME) == b"b"
    assert leadership == [("a", True), ("a", False), ("b", True)]


@pytest.mark.redis
async def test_a_leader_whose_lease_was_taken_stops_leading_at_once(
    keepers: tuple[LeaseKeeper, LeaseKeeper],
    client: RedisClient,
) -> None:
    a, _ = keepers
    await a.start()
    await a.wait_for(True)
    await client.set(NAME, "intruder", px=60_000)  # e.g. a's lease lapsed and someone took it
    await a.wait_for(False)
    assert await client.get(NAME) == b"intruder" and a.changes == 2


@pytest.mark.redis
async def test_release_on_close_lets_the_other_lead_without_waiting_for_the_ttl(client: RedisClient) -> None:
    a = LeaseKeeper(Lease(client, NAME, ttl=60, holder_id="a"), renew_every=0.1)
    b = LeaseKeeper(Lease(client, NAME, ttl=60, holder_id="b"), renew_every=0.1)
    await a.start()
    await a.wait_for(True)
    await b.start()
    await b.wait_until(lambda: b.attempts >= 1)
    await a.aclose()  # releases: b need not wait out the 60 s ttl
    assert await client.get(NAME) in (None, b"b")
    await b.wait_for(True, timeout=10)
    await b.aclose()
    assert await client.get(NAME) is None


async def test_without_redis_the_local_lease_always_leads() -> None:
    keeper = LeaseKeeper(LocalLease())
    seen: list[bool] = []
    keeper.subscribe_changes(seen.append)
    await keeper.start()
    await keeper.wait_for(True)
    assert keeper.is_leader and seen == [True]
    await keeper.aclose()
    assert not keeper.is_leader and seen == [True, False]


def test_renew_every_must_be_shorter_than_the_ttl() -> None:
    with pytest.raises(ValueError):
        LeaseKeeper(LocalLease(ttl=1.0), renew_every=1.0)


@pytest.mark.redis
async def test_a_foreign_key_without_expiry_is_never_mistaken_for_ours(client: RedisClient) -> None:
    await client.set(NAME, "someone-without-ttl")
    lease = Lease(client, NAME, ttl=1, holder_id="a")
    assert await lease.try_acquire() is False and lease.retry_after is None
    assert await lease.holder() == "someone-without-ttl"
