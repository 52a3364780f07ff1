"""Showing classified mutation pages within a byte budget, alone or as a batch.

A page's trials stay in upstream order (matches and exclusion-only ones interleaved), so a
window over them continues exactly after the last one shown, whichever list it was in. A
batch shares its budget between its mutations: each gets what it needs when all fit, else
small results whole and an equal share of the rest for the larger ones (maybe no trial at
all: its cuts say how to get them with search_trials_by_mutation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cache import CacheMeta
from tools.budget import Cut, json_size
from tools.clinical_trials.models import (
    ExcludedTrial,
    MutationBatchItem,
    MutationBatchResult,
    MutationMatch,
    MutationPage,
    MutationSearchResult,
)
from tools.clinical_trials.paging import CUT_ROOM, encode_token, page_cut, window
from tools.clinical_trials.synonyms import expand
from tools.freshness import CacheInfo

_UNBOUNDED = 1 << 40
_SLACK = 200


@dataclass(frozen=True, slots=True)
class Loaded:
    """One mutation's classified upstream page, and where the caller asked to start in it."""

    mutation: str
    page: MutationPage
    upstream: str | None
    offset: int
    meta: CacheMeta
    scope: str | None = None

    def present(self, budget: int, *, batch: bool = False) -> MutationSearchResult:
        """The page from ``offset`` within ``budget`` bytes. In a batch the result may hold no
        trial, and its cuts name the mutation (their ``next`` is for search_trials_by_mutation)."""
        page, first = self.page, self.upstream is None and self.offset == 0
        answer = MutationSearchResult(
            mutation=self.mutation,
            searched=expand(self.mutation),
            matches=[],
            excluded_count=0,
            total_count=page.total_count if first else None,
            next_page_token=encode_token(self.upstream, 10**6, self.scope),  # as long as any token
            cache=CacheInfo.from_meta(self.meta),
        )
        room = budget - json_size(answer)
        shown = window(
            page.items,
            self.upstream,
            self.offset,
            page.next_page_token,
            room,
            reserve=2 * CUT_ROOM,
            at_least_one=not batch,
            scope=self.scope,
        )
        kept = page.items[self.offset : self.offset + shown.count]
        left = page.items[self.offset + shown.count :]
        answer.matches = [item for item in kept if isinstance(item, MutationMatch)]
        answer.excluded = [item for item in kept if isinstance(item, ExcludedTrial)]
        answer.excluded_count = len(answer.excluded)
        answer.next_page_token = shown.next_token
        if shown.dropped:
            same = {"mutation": self.mutation} if batch else {}
            cuts: list[Cut] = []
            for name, kind, returned in (
                ("matches", MutationMatch, len(answer.matches)),
                ("excluded", ExcludedTrial, answer.excluded_count),
            ):
                dropped = sum(1 for item in left if isinstance(item, kind))
                if dropped:
                    cuts.append(page_cut(name, returned, dropped, shown.next_token, **same))
            answer.truncated, answer.cuts = True, cuts
        return answer


def batch_result(mutations: Sequence[str], outcomes: Sequence[Loaded | str], budget: int) -> MutationBatchResult:
    """One entry per mutation (its result, or its error), the whole within ``budget`` bytes."""
    failed = sum(1 for outcome in outcomes if isinstance(outcome, str))
    fixed = json_size(MutationBatchResult(results=[], succeeded=len(outcomes) - failed, failed=failed))
    for mutation, outcome in zip(mutations, outcomes, strict=True):
        error = outcome if isinstance(outcome, str) else None
        fixed += json_size(MutationBatchItem(mutation=mutation, error=error)) + len(',"result":')
    # A result is sized with room for a next_page_token (present() keeps that room while fitting).
    needs = [0 if isinstance(o, str) else json_size(o.present(_UNBOUNDED, batch=True)) + _SLACK for o in outcomes]
    shares = share(needs, budget - fixed)
    items = [
        MutationBatchItem(mutation=mutation, error=outcome)
        if isinstance(outcome, str)
        else MutationBatchItem(mutation=mutation, result=outcome.present(allowed, batch=True))
        for mutation, outcome, allowed in zip(mutations, outcomes, shares, strict=True)
    ]
    return MutationBatchResult(results=items, succeeded=len(items) - failed, failed=failed)


def share(needs: Sequence[int], total: int) -> list[int]:
    """Split ``total`` between ``needs``: all of each when they fit, else the smaller ones
    whole and an equal share of what is left for each larger one."""
    shares = [0] * len(needs)
    left = max(total, 0)
    order = sorted(range(len(needs)), key=needs.__getitem__)
    for position, index in enumerate(order):
        shares[index] = min(needs[index], left // (len(order) - position))
        left -= shares[index]
    return shares
