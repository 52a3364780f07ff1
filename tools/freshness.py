"""``CacheInfo``: how fresh a tool's answer is, the same model in every domain.

Built from the engine's :class:`cache.CacheMeta` in one place, so every tool rounds and leaves
out the same way: ``age_seconds`` and ``fresh_for_seconds`` to the millisecond, ``tier`` absent
(never ``null``) when the answer was fetched now. Every data result carries one, under ``cache``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pydantic import BaseModel, Field

from cache import CacheMeta
from tools.compact import Compact

AGE_DIGITS = 3
"""``age_seconds`` is rounded to the millisecond."""


class CacheInfo(Compact):
    """How fresh the answer is: served from the cache (hit, which tier, age) or fetched now."""

    hit: bool = Field(description="True when the answer came from the cache, not the upstream.")
    tier: str | None = Field(
        None,
        description="memory, redis or sqlite when hit (mixed when the answer combines entries from "
        "several tiers); absent when fetched now.",
    )
    age_seconds: float = Field(description="Seconds since the data was fetched from the upstream (0 when fetched now).")
    stale: bool = Field(
        description="True when older than its freshness window (served while it is "
        "refreshed, or because the upstream failed)."
    )
    fresh_for_seconds: float = Field(
        0.0, description="Seconds the answer stays fresh from now (0 when stale); calling again sooner returns it."
    )

    @classmethod
    def from_meta(cls, meta: CacheMeta) -> CacheInfo:
        return cls(
            hit=meta.hit,
            tier=meta.tier,
            age_seconds=round(meta.age, AGE_DIGITS),
            stale=meta.stale,
            fresh_for_seconds=round(meta.fresh_for, AGE_DIGITS),
        )

    @classmethod
    def combine(cls, metas: Iterable[CacheMeta]) -> CacheInfo:
        """One summary for an answer built from several cache entries (e.g. months): a hit when
        all were hits, the oldest age, stale when any was, fresh for as long as the first to go stale."""
        metas = list(metas)
        if not metas:
            return cls(hit=False, tier=None, age_seconds=0.0, stale=False)
        tiers = {meta.tier for meta in metas}
        return cls(
            hit=all(meta.hit for meta in metas),
            tier=next(iter(tiers)) if len(tiers) == 1 else "mixed",
            age_seconds=round(max(meta.age for meta in metas), AGE_DIGITS),
            stale=any(meta.stale for meta in metas),
            fresh_for_seconds=round(min(meta.fresh_for for meta in metas), AGE_DIGITS),
        )


def cache_infos(result: object) -> Iterator[CacheInfo]:
    """Every ``CacheInfo`` in a tool result, depth first (a batch result holds one per item)."""
    if isinstance(result, CacheInfo):
        yield result
    elif isinstance(result, BaseModel):
        for name in type(result).model_fields:
            yield from cache_infos(getattr(result, name))
    elif isinstance(result, list | tuple):
        for item in result:
            yield from cache_infos(item)
