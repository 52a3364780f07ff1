"""Mutation search: phrase query, eligibility check, exclusion-only trials set apart.

One mutation costs one ``/studies`` request in the usual case: the page asks for the
eligibility text with the other fields. Only a study that comes back without it (the
recorded captures were trimmed that way) is read on its own, ``eligibility_concurrency``
at a time and cached under ``trials.eligibility``. A classified page is cached under
``trials.mutation``, tagged with the NCT ids it covers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from cache import CachePolicy, TieredCache, make_key
from tools.budget import RECORD_BUDGET
from tools.clinical_trials import query
from tools.clinical_trials.client import CtgovClient
from tools.clinical_trials.compact import compact_trial, module, nct_id
from tools.clinical_trials.config import CACHE_FORMAT, NS_ELIGIBILITY, NS_MUTATION, TrialsConfig
from tools.clinical_trials.filters import Sort
from tools.clinical_trials.models import (
    Criteria,
    ExcludedTrial,
    MutationBatchResult,
    MutationMatch,
    MutationPage,
    MutationSearchResult,
)
from tools.clinical_trials.mutation import has_eligibility, locate
from tools.clinical_trials.mutation_pages import Loaded, batch_result
from tools.clinical_trials.pages import fetch_page
from tools.clinical_trials.paging import decode_token, scope_of
from tools.errors import TRANSLATED, InvalidInput, to_tool_error

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], Awaitable[None]]


def checked_mutation(text: str, field: str = "mutation") -> str:
    """The mutation with whitespace collapsed; InvalidInput naming ``field`` when unusable."""
    try:
        return query.normalize_mutation(text)
    except ValueError as exc:
        raise InvalidInput(field, str(exc)) from None


class MutationSearch:
    """Single and batch mutation searches over the cache engine."""

    def __init__(self, client: CtgovClient, cache: TieredCache, config: TrialsConfig) -> None:
        self._client = client
        self._cache = cache
        self._config = config
        ttl = config.ttl
        self._page_policy = CachePolicy(
            NS_MUTATION, ttl.trials_search_fresh, ttl.trials_search_stale, tags_from=_page_tags
        )
        self._text_policy = CachePolicy(
            NS_ELIGIBILITY, ttl.trials_record_fresh, ttl.trials_record_stale, tags_from=lambda value: [value["nct_id"]]
        )

    async def search(
        self,
        mutation: str,
        criteria: Criteria,
        page_size: int,
        page_token: str | None,
        budget: int = RECORD_BUDGET,
        sort: Sort | None = None,
    ) -> MutationSearchResult:
        """One classified page, cut to ``budget`` bytes (a Cut continues after its last trial)."""
        loaded = await self._page(checked_mutation(mutation), criteria, page_size, page_token, sort)
        return loaded.present(budget)

    async def search_many(
        self, mutations: Sequence[str], criteria: Criteria, page_size: int, on_progress: Progress | None
    ) -> MutationBatchResult:
        if not mutations or len(mutations) > self._config.max_batch:
            raise InvalidInput("mutations", f"give 1 to {self._config.max_batch} mutations, got {len(mutations)}")
        cleaned = [checked_mutation(text, f"mutations[{index}]") for index, text in enumerate(mutations)]
        gate = asyncio.Semaphore(self._config.batch_concurrency)
        done = 0

        async def one(mutation: str) -> Loaded | str:
            nonlocal done
            async with gate:
                outcome = await self._attempt(mutation, criteria, page_size)
            done += 1
            failed = isinstance(outcome, str)
            await _report(on_progress, done, len(cleaned), f"{mutation}: {'failed' if failed else 'done'}")
            return outcome

        outcomes = list(await asyncio.gather(*(one(m) for m in cleaned)))
        return batch_result(cleaned, outcomes, RECORD_BUDGET)

    async def _page(
        self, mutation: str, criteria: Criteria, page_size: int, page_token: str | None, sort: Sort | None = None
    ) -> Loaded:
        base = query.criteria_params(criteria, query.mutation_term(mutation), sort)
        scope = scope_of(base)
        upstream, offset = decode_token(page_token, scope)
        params = query.page_params(base, page_size, upstream, query.mutation_fields())
        key = make_key(NS_MUTATION, {"mutation": mutation, "params": params}, CACHE_FORMAT)
        result = await self._cache.get_or_fetch(key, lambda: self._load(mutation, params, criteria), self._page_policy)
        return Loaded(mutation, MutationPage.model_validate(result.value), upstream, offset, result.meta, scope)

    async def _attempt(self, mutation: str, criteria: Criteria, page_size: int) -> Loaded | str:
        """The first page of one mutation of a batch, or why it failed (the others go on)."""
        try:
            return await self._page(mutation, criteria, page_size, None)
        except TRANSLATED as exc:
            return str(to_tool_error(exc))
        except Exception as exc:  # one broken search must not lose the others
            log.exception("mutation search for %r failed", mutation)
            return f"internal error: {type(exc).__name__}"

    async def _load(self, mutation: str, params: dict[str, str], criteria: Criteria) -> dict[str, Any]:
        page = await fetch_page(self._client, params, self._config.max_empty_pages, mutation_search=True)
        studies = page["studies"]
        texts = await self.eligibility_texts([nct_id(s) for s in studies if not has_eligibility(s) and nct_id(s)])
        items: list[MutationMatch | ExcludedTrial] = []
        for study in studies:
            study = with_eligibility(study, texts.get(nct_id(study) or ""))
            where = locate(study, mutation)
            trial = compact_trial(study, self._config.search_sites, criteria.near)
            if where.exclusion_only:
                items.append(ExcludedTrial(nct_id=trial.nct_id, title=trial.title, excerpt=where.exclusion_excerpt))
            else:
                items.append(MutationMatch(trial=trial, found_in=list(where.places), excerpt=where.excerpt))
        return MutationPage(
            items=items,
            total_count=page.get("totalCount"),
            next_page_token=page.get("nextPageToken"),
        ).model_dump(mode="json")

    async def eligibility_texts(self, ids: Sequence[Any]) -> dict[str, dict[str, Any]]:
        """Eligibility modules of ``ids``, read through the cache a few at a time."""
        gate = asyncio.Semaphore(self._config.eligibility_concurrency)

        async def one(nct: str) -> tuple[str, dict[str, Any]]:
            async with gate:
                key = make_key(NS_ELIGIBILITY, {"nct": nct}, CACHE_FORMAT)
                result = await self._cache.get_or_fetch(key, lambda: self._load_text(nct), self._text_policy)
            return nct, result.value["eligibility"]

        outcomes = await asyncio.gather(*(one(n) for n in ids), return_exceptions=True)
        texts: dict[str, dict[str, Any]] = {}
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
            nct, text = outcome
            texts[nct] = text
        return texts

    async def _load_text(self, nct: str) -> dict[str, Any]:
        study = await self._client.get_study(nct, query.ELIGIBILITY_FIELDS)
        return {"nct_id": nct, "eligibility": module(study, "eligibilityModule")}


def with_eligibility(study: dict[str, Any], eligibility: dict[str, Any] | None) -> dict[str, Any]:
    """``study`` with its eligibility module replaced by ``eligibility`` (when given)."""
    if not eligibility:
        return study
    protocol = {**(study.get("protocolSection") or {}), "eligibilityModule": eligibility}
    return {**study, "protocolSection": protocol}


def _page_tags(value: dict[str, Any]) -> list[str]:
    return [item["trial"]["nct_id"] if "trial" in item else item["nct_id"] for item in value.get("items", [])]


async def _report(on_progress: Progress | None, done: int, total: int, message: str) -> None:
    if on_progress is None:
        return
    try:
        await on_progress(done, total, message)
    except Exception:  # a lost progress notification must not fail the batch
        log.warning("progress report failed", exc_info=True)
