"""``find_trials_for_patient``: one upstream search, each trial assessed, ranked, paged by cursor.

The search is the condition, the patient's mutations as one OR group of phrase queries (each
mutation's notations, :func:`tools.clinical_trials.query.mutation_term`), the statuses, the
``near`` radius and the age and sex filters, sent upstream as ``/studies`` parameters so the registry filters and
pages. Each upstream page (:data:`UPSTREAM_PAGE` trials) is assessed
(:mod:`tools.clinical_trials.patient_fit`), ranked and cached whole under ``trials.patient``
(search TTLs), keyed by its parameters and the patient, tagged with every NCT id it holds.

The cursor (``page_token``) is the paging token of :mod:`tools.clinical_trials.paging`: the
upstream token of a page and an offset into its ranked list. A page read to its end continues
with the upstream's next token at offset 0, so following the cursor shows every trial the
search finds once; it holds no state of its own, and the pages it points into are in the
cache's lower tiers, so it survives a restart (a lost page is fetched and ranked again, the
same way). The token carries the scope of its search (:func:`paging.scope_of` of the upstream
parameters and the patient: condition, mutations, age, sex, near, statuses), so a token given
with other arguments is refused naming ``page_token``; ``page_size`` may change between pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson

from cache import CachePolicy, TieredCache, make_key
from tools.budget import Cut, fit, json_size
from tools.clinical_trials import query
from tools.clinical_trials.client import CtgovClient
from tools.clinical_trials.compact import nct_id
from tools.clinical_trials.config import CACHE_FORMAT, NS_PATIENT, TrialsConfig
from tools.clinical_trials.models import Criteria, ExcludedTrial
from tools.clinical_trials.mutation import has_eligibility
from tools.clinical_trials.mutation_search import with_eligibility
from tools.clinical_trials.pages import fetch_page
from tools.clinical_trials.paging import CUT_ROOM, decode_token, encode_token, page_cut, scope_of
from tools.clinical_trials.patient_fit import assess, rank
from tools.clinical_trials.patient_models import Patient, PatientMatch, PatientPage, PatientResult
from tools.errors import InvalidInput
from tools.freshness import CacheInfo

#: Trials read and ranked per upstream request (ranking holds within such a page).
UPSTREAM_PAGE = 50
#: Pieces read per trial: the search fields, the eligibility pieces and the sites.
PATIENT_FIELDS = (*query.mutation_fields(), "Sex")

#: The arguments a page token is scoped to (named when a token is given with others).
PATIENT_ARGUMENTS = "condition, mutations, age, sex, near or statuses"

Texts = Callable[[Sequence[Any]], Awaitable[dict[str, dict[str, Any]]]]


def mutations_term(mutations: Sequence[str]) -> str | None:
    """The OR group of the mutations' phrase queries (None without mutations)."""
    terms = [query.mutation_term(m) for m in mutations]
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"


class PatientSearch:
    """Patient matching over the cache engine. ``texts`` reads eligibility modules of studies a
    page returned without them (the mutation search's cached reader)."""

    def __init__(self, client: CtgovClient, cache: TieredCache, config: TrialsConfig, texts: Texts) -> None:
        ttl = config.ttl
        self._client = client
        self._cache = cache
        self._config = config
        self._texts = texts
        self._policy = CachePolicy(NS_PATIENT, ttl.trials_search_fresh, ttl.trials_search_stale, tags_from=_tags)

    async def search(
        self, criteria: Criteria, patient: Patient, page_size: int, page_token: str | None, budget: int
    ) -> PatientResult:
        """Up to ``page_size`` trials of the ranked page ``page_token`` points into, within
        ``budget`` bytes (a cut, when the budget took some, continues with the same token)."""
        base = query.criteria_params(criteria, mutations_term(patient.mutations))
        # a token only means something for the search and the patient it ranked: another's is refused
        scope = scope_of({**base, "patient": orjson.dumps(patient.model_dump(mode="json")).decode()})
        upstream, offset = decode_token(page_token, scope, arguments=PATIENT_ARGUMENTS)
        params = query.page_params(base, UPSTREAM_PAGE, upstream, PATIENT_FIELDS)
        key = make_key(NS_PATIENT, {"params": params, "patient": patient.model_dump(mode="json")}, CACHE_FORMAT)
        result = await self._cache.get_or_fetch(key, lambda: self._load(params, patient), self._policy)
        page = PatientPage.model_validate(result.value)
        if offset > len(page.items):
            raise InvalidInput("page_token", f"points past its page ({len(page.items)} trials); start again without it")
        answer = PatientResult(
            matches=[],
            total_count=page.total_count if upstream is None and offset == 0 else None,
            next_page_token=encode_token(upstream, 10**6, scope),  # as long as any token: room for the real one
            cache=CacheInfo.from_meta(result.meta),
        )
        rest = page.items[offset : offset + page_size]
        room = budget - json_size(answer)
        count = len(rest) if json_size(rest) <= room else fit(rest, room - 2 * CUT_ROOM)
        shown, end = rest[:count], offset + count
        answer.matches = [item for item in shown if isinstance(item, PatientMatch)]
        answer.excluded = [item for item in shown if isinstance(item, ExcludedTrial)]
        if end < len(page.items):
            answer.next_page_token = encode_token(upstream, end, scope)
        else:
            answer.next_page_token = encode_token(page.next_page_token, 0, scope) if page.next_page_token else None
        if count < len(rest):
            answer.truncated, answer.cuts = True, _cuts(rest[count:], answer, answer.next_page_token)
        return answer

    async def _load(self, params: dict[str, str], patient: Patient) -> dict[str, Any]:
        mutation_search = bool(patient.mutations)
        page = await fetch_page(self._client, params, self._config.max_empty_pages, mutation_search=mutation_search)
        studies = page["studies"]
        if patient.mutations:
            texts = await self._texts([nct_id(s) for s in studies if not has_eligibility(s) and nct_id(s)])
            studies = [with_eligibility(s, texts.get(nct_id(s) or "")) for s in studies]
        items = rank([assess(study, patient) for study in studies])
        return PatientPage(
            items=items, total_count=page.get("totalCount"), next_page_token=page.get("nextPageToken")
        ).model_dump(mode="json")


def _cuts(left: Sequence[PatientMatch | ExcludedTrial], answer: PatientResult, token: str | None) -> list[Cut]:
    """A cut per list that lost trials to the budget (both continue with the same token)."""
    cuts = []
    for name, kind, returned in (
        ("matches", PatientMatch, len(answer.matches)),
        ("excluded", ExcludedTrial, len(answer.excluded)),
    ):
        dropped = sum(1 for item in left if isinstance(item, kind))
        if dropped:
            cuts.append(page_cut(name, returned, dropped, token))
    return cuts


def _tags(value: dict[str, Any]) -> list[str]:
    return [item["nct_id"] for item in value.get("items", []) if item.get("nct_id")]
