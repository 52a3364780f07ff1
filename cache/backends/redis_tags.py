"""Reading the Redis tier's tag index: which keys a tag links, and which tags a key carries now.

The index is two kinds of sets (see :mod:`cache.backends.redis`): ``tag:<tag>`` lists keys and
``keytags:<key>`` the tags a key carries; a link is current only while both agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from cache.backends.redis_client import RedisClient


class TagNames(Protocol):
    """How the backend names its Redis keys."""

    def key(self, key: str) -> str: ...

    def tag_key(self, tag: str) -> str: ...

    def keytags_key(self, key: str) -> str: ...


async def tag_candidates(client: RedisClient, names: TagNames, tags: Sequence[str]) -> dict[str, set[str]]:
    """Every key some ``tags`` link to, with the tags that link it (one pipeline)."""
    pipe = client.pipeline(transaction=False)
    for tag in tags:
        pipe.smembers(names.tag_key(tag))
    candidates: dict[str, set[str]] = {}
    for tag, members in zip(tags, await pipe.execute()):
        for member in members or ():
            candidates.setdefault(text(member), set()).add(tag)
    return candidates


async def current_tags(client: RedisClient, names: TagNames, keys: Sequence[str]) -> dict[str, set[str]]:
    """The tags each key carries now (empty when the key is gone; one pipeline)."""
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.exists(names.key(key))
        pipe.smembers(names.keytags_key(key))
    replies = await pipe.execute()
    return {
        key: {text(tag) for tag in (replies[2 * i + 1] or ())} if replies[2 * i] else set()
        for i, key in enumerate(keys)
    }


def text(raw: bytes | str) -> str:
    """A Redis reply as text (RESP3 may hand back either)."""
    return raw.decode() if isinstance(raw, bytes) else raw
