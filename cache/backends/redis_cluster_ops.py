"""What the Redis tier does differently on a Redis Cluster: grouping batches per slot, and
asking the cluster whether it is healthy.

A multi-key command (MGET, UNLINK) must name keys of one slot only; rather than forcing every
key into one slot (which would put the whole cache on one node), batches are split per slot
here and sent in one cluster pipeline, which redis-py sends to each node at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from redis.asyncio import RedisCluster
from redis.crc import key_slot

T = TypeVar("T")


def by_slot(items: Sequence[T], name: Callable[[T], str]) -> list[list[T]]:
    """``items`` grouped by the hash slot of ``name(item)``, in first-seen order."""
    groups: dict[int, list[T]] = {}
    for item in items:
        groups.setdefault(key_slot(name(item).encode()), []).append(item)
    return list(groups.values())


async def cluster_healthy(client: RedisCluster) -> bool:
    """True when every primary the client knows answers ``CLUSTER INFO`` with
    ``cluster_state:ok``; False (never an exception) when one does not, or does not answer."""
    try:
        replies = await client.cluster_info(target_nodes=RedisCluster.PRIMARIES)
    except Exception:  # noqa: BLE001 - a health check reports, it does not raise
        return False
    infos = replies.values() if isinstance(replies, dict) and "cluster_state" not in replies else [replies]
    return bool(infos) and all(_state(info) == "ok" for info in infos)


def _state(info: object) -> str:
    if not isinstance(info, dict):
        return ""
    state = info.get("cluster_state", info.get(b"cluster_state", ""))
    return state.decode() if isinstance(state, bytes) else str(state)
