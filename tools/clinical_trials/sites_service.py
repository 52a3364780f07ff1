"""``TrialSites``: the full site list of one trial through the cache engine.

The loader reads the study's id, status and contacts/locations module upstream
(:data:`SITES_FIELDS`) and caches every site as a plain row under ``trials.sites`` (record
TTLs), keyed by the id asked for and tagged with the trial's id and the alias asked for:
invalidating the trial drops it. Each call filters, orders and pages from the cached rows
(:mod:`tools.clinical_trials.site_list`), so paging through 500 sites costs one request.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cache import CacheMeta, CachePolicy, TieredCache, make_key
from tools.budget import Cut
from tools.clinical_trials.client import CtgovClient
from tools.clinical_trials.compact import module
from tools.clinical_trials.config import CACHE_FORMAT, NS_SITES, TrialsConfig
from tools.clinical_trials.site_list import site_rows, sites_page
from tools.clinical_trials.site_models import SiteList, SiteQuery, SitesPage

#: What the site list reads upstream (piece names of the v2 data structure).
SITES_FIELDS = ("NCTId", "OverallStatus", "ContactsLocationsModule")


class TrialSites:
    """Site lists of trials; :class:`TrialsService` holds one (``service.sites``)."""

    def __init__(self, client: CtgovClient, cache: TieredCache, config: TrialsConfig) -> None:
        ttl = config.ttl
        self._client = client
        self._cache = cache
        self._policy = CachePolicy(NS_SITES, ttl.trials_record_fresh, ttl.trials_record_stale, tags_from=_tags)

    async def page(self, nct_id: str, query: SiteQuery, budget: int) -> tuple[SitesPage, list[Cut], CacheMeta]:
        """The sites of ``nct_id`` (an alias is followed) that ``query`` selects, one page."""

        async def load() -> dict[str, Any]:
            study = await self._client.get_study(nct_id, SITES_FIELDS)
            nct = module(study, "identificationModule").get("nctId") or nct_id
            listed = SiteList(
                nct_id=nct,
                requested_id=nct_id if nct != nct_id else None,
                status=module(study, "statusModule").get("overallStatus"),
                sites=site_rows(study),
            )
            return listed.model_dump(mode="json")

        key = make_key(NS_SITES, {"nct": nct_id}, CACHE_FORMAT)
        result = await self._cache.get_or_fetch(key, load, self._policy)
        listed = SiteList.model_validate(result.value)
        page, cuts = sites_page(listed.nct_id, listed.sites, query, budget)
        return page, cuts, result.meta


def _tags(value: dict[str, Any]) -> Iterable[str]:
    return [v for v in (value.get("nct_id"), value.get("requested_id")) if v]
