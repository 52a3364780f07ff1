"""``ResultsDigests``: the results digest of one trial through the cache engine.

The loader reads only the study's id, title, ``hasResults`` and ``resultsSection`` upstream
(:data:`RESULTS_FIELDS`), parses the digest (:mod:`tools.clinical_trials.results_digest`) and
caches it whole under ``trials.results`` (record TTLs), keyed by the id asked for and tagged
with the trial's id and the alias asked for: invalidating the trial drops it. Every call then
cuts its answer from the cached digest (:mod:`tools.clinical_trials.results_fit`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cache import CachePolicy, TieredCache, make_key
from tools.clinical_trials.client import CtgovClient
from tools.clinical_trials.config import CACHE_FORMAT, NS_RESULTS, TrialsConfig
from tools.clinical_trials.results_digest import digest
from tools.clinical_trials.results_fit import answer, check_arguments
from tools.clinical_trials.results_models import ResultsDigest, ResultsPart, TrialResults
from tools.decoded import decoded
from tools.freshness import CacheInfo

#: What the digest reads upstream (piece names of the v2 data structure).
RESULTS_FIELDS = ("NCTId", "BriefTitle", "HasResults", "ResultsSection")


class ResultsDigests:
    """Results digests of trials; :class:`TrialsService` holds one (``service.results``)."""

    def __init__(self, client: CtgovClient, cache: TieredCache, config: TrialsConfig) -> None:
        ttl = config.ttl
        self._client = client
        self._cache = cache
        self._policy = CachePolicy(NS_RESULTS, ttl.trials_record_fresh, ttl.trials_record_stale, tags_from=_digest_tags)

    async def get(self, nct_id: str, part: ResultsPart | None = None, offset: int | None = None) -> TrialResults:
        """The digest of ``nct_id`` (an alias is followed): the overview, or ``part`` from ``offset``."""
        check_arguments(part, offset)  # before any upstream request

        async def load() -> dict[str, Any]:
            study = await self._client.get_study(nct_id, RESULTS_FIELDS)
            return digest(study, nct_id).model_dump(mode="json")

        key = make_key(NS_RESULTS, {"nct": nct_id}, CACHE_FORMAT)
        result = await self._cache.get_or_fetch(key, load, self._policy)
        return answer(decoded(ResultsDigest, result.value), CacheInfo.from_meta(result.meta), part, offset)


def _digest_tags(value: dict[str, Any]) -> Iterable[str]:
    return [v for v in (value.get("nct_id"), value.get("requested_id")) if v]
