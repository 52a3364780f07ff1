"""``TrialsService``: searches, counts and trial records through the cache engine.

Every answer goes through :meth:`cache.engine.tiered.TieredCache.get_or_fetch` and carries its
cache metadata. Cached values are compact JSON (model dumps), never raw upstream pages:

- ``trials.search``: one resolved search page, keyed by the exact upstream parameters
  (the page token included), tagged with the NCT ids it shows;
- ``trials.count``: a total, keyed by the criteria parameters;
- ``trials.record``: a compact record, keyed by the NCT id asked for, tagged with its ids;
- ``trials.sections``: full upstream sections asked for by name;
- ``trials.mutation`` / ``trials.eligibility``: see :mod:`tools.clinical_trials.mutation_search`;
- ``trials.results``: results digests, see :mod:`tools.clinical_trials.results_service`;
- ``trials.sites``: a trial's full site list, see :mod:`tools.clinical_trials.sites_service`;
- ``trials.patient``: ranked patient-matching pages, see :mod:`tools.clinical_trials.patient_search`.

Invalidating one trial (:meth:`invalidate_trial`) drops its record and every page showing
it. A data refresh upstream drops all of the above (:mod:`tools.clinical_trials.version`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from cache import CacheMeta, CachePolicy, TieredCache, make_key
from tools.budget import EXPLICIT_BUDGET, RECORD_BUDGET, Cut, json_size
from tools.clinical_trials import query
from tools.clinical_trials.client import UPSTREAM, CtgovClient
from tools.clinical_trials.compact import compact_record, compact_trial, raw_sections
from tools.clinical_trials.config import (
    CACHE_FORMAT,
    NAMESPACES,
    NS_COUNT,
    NS_RECORD,
    NS_SEARCH,
    NS_SECTIONS,
    TrialsConfig,
)
from tools.clinical_trials.filters import Sort
from tools.clinical_trials.models import (
    Criteria,
    MutationBatchResult,
    MutationSearchResult,
    TrialCount,
    TrialPage,
    TrialSearchResult,
)
from tools.clinical_trials.mutation_search import MutationSearch, Progress
from tools.clinical_trials.pages import fetch_page
from tools.clinical_trials.paging import decode_token, encode_token, page_cut, scope_of, window
from tools.clinical_trials.patient_models import Patient, PatientResult
from tools.clinical_trials.patient_search import PatientSearch
from tools.clinical_trials.record_fit import fit_record
from tools.clinical_trials.record_models import RecordPayload, SectionsPayload, TrialDetail, TrialRecord
from tools.clinical_trials.results_models import ResultsPart, TrialResults
from tools.clinical_trials.results_service import ResultsDigests
from tools.clinical_trials.sections import fit_part, fit_sections, section_of
from tools.clinical_trials.site_models import SiteQuery
from tools.clinical_trials.sites_service import TrialSites
from tools.clinical_trials.version import DataVersionWatch
from tools.decoded import decoded
from tools.errors import InvalidInput
from tools.freshness import CacheInfo
from tools.http.errors import BadPayload

#: The default record read: the protocol and whether results exist (results can be ~1 MB).
RECORD_FIELDS = ("ProtocolSection", "HasResults")


class TrialsService:
    """The clinical-trial domain behind the tools. Build one per process (the lifespan does)."""

    def __init__(
        self,
        client: CtgovClient,
        cache: TieredCache,
        config: TrialsConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config if config is not None else TrialsConfig()
        ttl = self.config.ttl
        search = (ttl.trials_search_fresh, ttl.trials_search_stale)  # (fresh, stale) seconds
        record = (ttl.trials_record_fresh, ttl.trials_record_stale)
        self._client = client
        self._cache = cache
        self._search_policy = CachePolicy(NS_SEARCH, *search, tags_from=_page_tags)
        self._count_policy = CachePolicy(NS_COUNT, *search)
        self._record_policy = CachePolicy(NS_RECORD, *record, tags_from=_record_tags)
        self._sections_policy = CachePolicy(NS_SECTIONS, *record, tags_from=_record_tags)
        self.version = DataVersionWatch(client, cache, NAMESPACES, ttl.trials_version_check_interval, clock)
        self._mutations = MutationSearch(client, cache, self.config)
        self.results = ResultsDigests(client, cache, self.config)
        self.sites = TrialSites(client, cache, self.config)
        self._patients = PatientSearch(client, cache, self.config, self._mutations.eligibility_texts)

    async def search(
        self,
        criteria: Criteria,
        page_size: int = 10,
        page_token: str | None = None,
        budget: int = RECORD_BUDGET,
        sort: Sort | None = None,
    ) -> TrialSearchResult:
        """One page of compact trials matching ``criteria`` in ``sort`` order (see
        ``search_trials``), cut to ``budget`` bytes with a Cut continuing after the last trial
        shown. A page token of a search with other criteria or sort is refused."""
        self.version.poke()
        base = query.criteria_params(criteria, sort=sort)
        scope = scope_of(base)
        upstream, offset = decode_token(page_token, scope)
        params = query.page_params(base, page_size, upstream, query.search_fields())

        async def load() -> dict[str, Any]:
            page = await fetch_page(self._client, params, self.config.max_empty_pages)
            trials = [compact_trial(s, self.config.search_sites, criteria.near) for s in page["studies"]]
            return TrialPage(
                trials=trials, total_count=page.get("totalCount"), next_page_token=page.get("nextPageToken")
            ).model_dump(mode="json")

        key = make_key(NS_SEARCH, {"params": params}, CACHE_FORMAT)
        result = await self._cache.get_or_fetch(key, load, self._search_policy)
        page = decoded(TrialPage, result.value)
        answer = TrialSearchResult(
            trials=[],
            total_count=page.total_count if upstream is None and offset == 0 else None,
            next_page_token=encode_token(upstream, 10**6, scope),  # as long as any token: room for the real one
            cache=CacheInfo.from_meta(result.meta),
        )
        shown = window(page.trials, upstream, offset, page.next_page_token, budget - json_size(answer), scope=scope)
        answer.trials = page.trials[offset : offset + shown.count]
        answer.next_page_token = shown.next_token
        if shown.dropped:
            answer.truncated = True
            answer.cuts = [page_cut("trials", shown.count, shown.dropped, shown.next_token)]
        return answer

    async def count(self, criteria: Criteria) -> TrialCount:
        """How many trials match ``criteria``."""
        self.version.poke()
        base = query.criteria_params(criteria)

        async def load() -> int:
            total = (await self._client.search(query.count_params(base))).get("totalCount")
            if not isinstance(total, int):
                raise BadPayload(UPSTREAM, "a /studies answer without totalCount although countTotal=true")
            return total

        key = make_key(NS_COUNT, {"params": base}, CACHE_FORMAT)
        result = await self._cache.get_or_fetch(key, load, self._count_policy)
        return TrialCount(total_count=result.value, cache=CacheInfo.from_meta(result.meta))

    async def get_trial(
        self,
        nct_id: str,
        sections: Sequence[str] = (),
        path: str | None = None,
        offset: int | None = None,
        sites: SiteQuery | None = None,
    ) -> TrialDetail:
        """The compact record of ``nct_id`` (an alias is followed) plus any full ``sections``, or
        with ``path`` only the upstream part there (a list from ``offset`` on), or with ``sites``
        only a page of its sites (``sections`` are then ignored, as with ``path``). Within RECORD_BUDGET, or EXPLICIT_BUDGET when sections or a
        path were asked for."""
        self.version.poke()
        if sites is not None:  # like path, it replaces the record (sections are not read)
            if path is not None or offset is not None:
                raise InvalidInput("sites", "give it without path and offset (it pages by its own offset)")
            return await self._sites(nct_id, sites)
        if path is not None:
            return await self._part(nct_id, path, offset)
        if offset is not None:
            raise InvalidInput("offset", "give it with path (the list it counts in)")
        names = sorted(set(sections))
        full = await self._sections(nct_id, names) if names else None
        result = await self._cache.get_or_fetch(
            self._record_key(nct_id), lambda: self._load_record(nct_id), self._record_policy
        )
        payload = decoded(RecordPayload, result.value)
        metas = [result.meta] if full is None else [result.meta, full[1]]
        detail = TrialDetail(trial=decoded(TrialRecord, payload.record), cache=CacheInfo.combine(metas))
        if full is None:
            return _with_cuts(detail, payload.cuts)
        return _within(detail, payload.cuts, lambda room: fit_sections(full[0], room), "sections")

    async def _part(self, nct_id: str, path: str, offset: int | None) -> TrialDetail:
        sections, meta = await self._sections(nct_id, [section_of(path)])
        detail = TrialDetail(path=path, cache=CacheInfo.from_meta(meta))
        return _within(detail, [], lambda room: fit_part(sections, path, offset, room), "part")

    async def _sites(self, nct_id: str, query: SiteQuery) -> TrialDetail:
        empty = TrialDetail(cache=CacheInfo(hit=False, age_seconds=0, stale=False, fresh_for_seconds=0))
        page, cuts, meta = await self.sites.page(nct_id, query, RECORD_BUDGET - json_size(empty) - 64)
        return _with_cuts(TrialDetail(sites=page, cache=CacheInfo.from_meta(meta)), cuts)

    async def get_results(
        self, nct_id: str, part: ResultsPart | None = None, offset: int | None = None
    ) -> TrialResults:
        """The results digest of ``nct_id`` (see ``get_trial_results``)."""
        self.version.poke()
        return await self.results.get(nct_id, part, offset)

    async def search_mutation(
        self,
        mutation: str,
        criteria: Criteria,
        page_size: int = 10,
        page_token: str | None = None,
        sort: Sort | None = None,
    ) -> MutationSearchResult:
        """Trials naming ``mutation``, with exclusion-only ones set apart (see the tool)."""
        self.version.poke()
        return await self._mutations.search(mutation, criteria, page_size, page_token, sort=sort)

    async def search_mutations(
        self, mutations: Sequence[str], criteria: Criteria, page_size: int = 5, on_progress: Progress | None = None
    ) -> MutationBatchResult:
        """Several mutation searches, ``config.batch_concurrency`` at a time; one failure
        never loses the others. ``on_progress(done, total, message)`` after each one."""
        self.version.poke()
        return await self._mutations.search_many(mutations, criteria, page_size, on_progress)

    async def find_for_patient(
        self, criteria: Criteria, patient: Patient, page_size: int = 10, page_token: str | None = None
    ) -> PatientResult:
        """Trials for ``patient`` among those matching ``criteria``, ranked, with a cursor (see
        ``find_trials_for_patient``)."""
        self.version.poke()
        return await self._patients.search(criteria, patient, page_size, page_token, RECORD_BUDGET)

    async def invalidate_trial(self, *nct_ids: str) -> None:
        """Drop the records of these trials and every cached page that shows them."""
        await self._cache.invalidate_tags(*nct_ids)

    async def aclose(self) -> None:
        """Stop background work (the data-version check). The client and cache are closed by their owner."""
        await self.version.aclose()

    async def _load_record(self, nct_id: str) -> dict[str, Any]:
        study = await self._client.get_study(nct_id, RECORD_FIELDS)
        return self._record_value(study, nct_id)

    def _record_value(self, study: dict[str, Any], nct_id: str) -> dict[str, Any]:
        config = self.config
        record, totals = compact_record(study, config.max_sites, config.max_criteria_chars, requested_id=nct_id)
        return fit_record(record, totals, RECORD_BUDGET).model_dump(mode="json")

    async def _sections(self, nct_id: str, names: list[str]) -> tuple[dict[str, Any], CacheMeta]:
        """Full sections, cached per (id, names). The full read also fills the record cache."""

        async def load() -> dict[str, Any]:
            study = await self._client.get_study(nct_id)
            # A by-product of this single-flighted read, not a read of its own: stored as it is.
            await self._cache.set(self._record_key(nct_id), self._record_value(study, nct_id), self._record_policy)
            nct = ((study.get("protocolSection") or {}).get("identificationModule") or {}).get("nctId") or nct_id
            payload = SectionsPayload(nct_id=nct, requested_id=nct_id, sections=raw_sections(study, names))
            return payload.model_dump(mode="json")

        key = make_key(NS_SECTIONS, {"nct": nct_id, "sections": names}, CACHE_FORMAT)
        result = await self._cache.get_or_fetch(key, load, self._sections_policy)
        return SectionsPayload.model_validate(result.value).sections, result.meta

    @staticmethod
    def _record_key(nct_id: str) -> str:
        return make_key(NS_RECORD, {"nct": nct_id}, CACHE_FORMAT)


def _within(
    detail: TrialDetail, cuts: list[Cut], fit: Callable[[int], tuple[Any, list[Cut]]], field: str
) -> TrialDetail:
    """``detail`` with ``field`` set to what ``fit(room)`` makes of it, the room shrunk until
    the whole answer (its cuts included) fits EXPLICIT_BUDGET."""
    room = EXPLICIT_BUDGET - json_size(detail) - json_size(cuts)
    while True:
        value, more = fit(room)
        setattr(detail, field, value)
        answer = _with_cuts(detail, cuts + more)
        excess = json_size(answer) - EXPLICIT_BUDGET
        if excess <= 0 or room <= 0:
            return answer
        room -= excess


def _with_cuts(detail: TrialDetail, cuts: list[Cut]) -> TrialDetail:
    if cuts:
        detail.truncated, detail.cuts = True, cuts
    return detail


def _page_tags(value: dict[str, Any]) -> Iterable[str]:
    return [t["nct_id"] for t in value.get("trials", []) if t.get("nct_id")]


def _record_tags(value: dict[str, Any]) -> Iterable[str]:
    """The ids of a cached record (``{"record": {...}, "cuts": [...]}``) or sections payload."""
    ids = value.get("record", value)
    return [v for v in (ids.get("nct_id"), ids.get("requested_id")) if v]
