"""Search pages cut to RECORD_BUDGET: the cut continues after the last trial shown, and walking
the tokens shows every trial of every upstream page exactly once."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest

from cache.backends.memory import MemoryBackend
from cache.engine.tiered import TieredCache
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory
from tests.support.fixtures import load_json
from tests.support.recorded_upstream import RecordedUpstream, ctgov_upstream
from tests.support.replay_routes import Reply, Route
from tests.support.trials import build_client, build_service
from tools.budget import RECORD_BUDGET, json_size
from tools.clinical_trials.models import Criteria
from tools.clinical_trials.paging import decode_token, encode_token
from tools.clinical_trials.service import TrialsService
from tools.errors import InvalidInput

BIG = Criteria(condition="big pages")
MUTATION = "EGFR L858R"
PAGES = 2
PER_PAGE = 100


def study(number: int, sites: list[dict[str, Any]], criteria: str) -> dict[str, Any]:
    return {
        "protocolSection": {
            "identificationModule": {"nctId": f"NCT{number:08d}", "briefTitle": f"Trial {number} " + "t" * 150},
            "statusModule": {"overallStatus": "RECRUITING"},
            "conditionsModule": {"conditions": [f"Condition {number}-{i}" for i in range(5)]},
            "contactsLocationsModule": {"locations": sites},
            "eligibilityModule": {"eligibilityCriteria": criteria},
        }
    }


def big_page(query: dict[str, str]) -> Reply:
    """Two upstream pages of 100 trials, each with 60 sites; every third trial names the
    mutation only under exclusion criteria."""
    sites = load_json("ctgov/biomcp_studies_page_nct04280705_with_results.json")["studies"][0]["protocolSection"][
        "contactsLocationsModule"
    ]["locations"]
    index = 1 if query.get("pageToken") == "UP2" else 0
    studies = []
    for n in range(index * PER_PAGE, (index + 1) * PER_PAGE):
        where = "Exclusion Criteria:\n* EGFR L858R" if n % 3 == 0 else "Inclusion Criteria:\n* EGFR L858R positive"
        studies.append(study(n + 1, copy.deepcopy(sites), where))
    page: dict[str, Any] = {"studies": studies}
    if index == 0:
        page |= {"totalCount": PAGES * PER_PAGE, "nextPageToken": "UP2"}
    return Reply.json(page)


@pytest.fixture
async def big(cache: TieredCache, clock: ManualClock) -> AsyncIterator[tuple[TrialsService, RecordedUpstream]]:
    route = Route(
        "/api/v2/studies",
        lambda request: big_page(request.query),
        when=lambda q: q.get("query.cond") == "big pages",
    )
    upstream = ctgov_upstream([route])
    http = build_client(upstream, clock)
    service = build_service(http, cache, clock)
    yield service, upstream
    await service.aclose()
    await http.aclose()


async def test_a_page_of_100_is_cut_and_the_cut_continues_after_the_last_trial(
    big: tuple[TrialsService, RecordedUpstream],
) -> None:
    service, upstream = big
    first = await service.search(BIG, page_size=100)
    assert json_size(first) <= RECORD_BUDGET and first.truncated is True and first.cuts
    cut = first.cuts[0]
    assert (cut.list, cut.returned + cut.dropped) == ("trials", 100) and cut.returned == len(first.trials)
    assert cut.next == {"page_token": first.next_page_token} and first.total_count == 200
    second = await service.search(BIG, page_size=100, page_token=first.next_page_token)
    assert second.trials[0].nct_id == f"NCT{cut.returned + 1:08d}" and second.total_count is None
    assert upstream.count("/api/v2/studies") == 1  # the rest of a cut page comes from the cache


async def test_walking_the_tokens_shows_every_trial_once(big: tuple[TrialsService, RecordedUpstream]) -> None:
    service, _ = big
    seen: list[str] = []
    token: str | None = None
    for _ in range(100):
        page = await service.search(BIG, page_size=100, page_token=token)
        assert json_size(page) <= RECORD_BUDGET
        seen += [trial.nct_id for trial in page.trials]
        token = page.next_page_token
        if token is None:
            break
    assert seen == [f"NCT{n:08d}" for n in range(1, PAGES * PER_PAGE + 1)]


async def test_walking_mutation_pages_shows_every_trial_once_in_one_list_or_the_other(
    big: tuple[TrialsService, RecordedUpstream],
) -> None:
    service, _ = big
    matches: list[str] = []
    excluded: list[str] = []
    token: str | None = None
    while True:
        page = await service.search_mutation(MUTATION, BIG, page_size=100, page_token=token)
        assert json_size(page) <= RECORD_BUDGET
        matches += [m.trial.nct_id for m in page.matches]
        excluded += [e.nct_id for e in page.excluded]
        for cut in page.cuts or []:
            assert cut.next == {"page_token": page.next_page_token}
        token = page.next_page_token
        if token is None:
            break
    numbers = range(1, PAGES * PER_PAGE + 1)
    assert matches == [f"NCT{n:08d}" for n in numbers if (n - 1) % 3]
    assert excluded == [f"NCT{n:08d}" for n in numbers if (n - 1) % 3 == 0]


async def test_a_batch_of_big_pages_fits_and_each_cut_continues_in_the_single_tool(
    big: tuple[TrialsService, RecordedUpstream],
) -> None:
    service, _ = big
    batch = await service.search_mutations([MUTATION, "EGFR T790M", "KRAS G12C"], BIG, page_size=20)
    assert json_size(batch) <= RECORD_BUDGET
    for item in batch.results:
        assert item.result is not None and item.result.cuts
        cut = item.result.cuts[0]
        assert cut.next["mutation"] == item.mutation
        rest = await service.search_mutation(item.mutation, BIG, 20, str(cut.next["page_token"]))
        shown = len(item.result.matches) + item.result.excluded_count
        first_rest = rest.matches[0].trial.nct_id if rest.matches else rest.excluded[0].nct_id
        assert decode_token(str(cut.next["page_token"])) == (None, shown)
        assert first_rest == f"NCT{shown + 1:08d}"


@pytest.mark.parametrize(
    "token", ["ZVt07cGHkvI2wRk2CJf6", "t1.!!!", "t1.bm90IGpzb24", encode_token("x", 0)[:-2] + "Zm"]
)
async def test_a_malformed_page_token_is_refused_clearly(
    big: tuple[TrialsService, RecordedUpstream], token: str
) -> None:
    service, upstream = big
    with pytest.raises(InvalidInput) as caught:
        await service.search(BIG, page_token=token)
    assert caught.value.field == "page_token" and "pass next_page_token" in caught.value.message
    with pytest.raises(InvalidInput, match="page_token"):
        await service.search_mutation(MUTATION, BIG, 10, token)
    assert upstream.count("/api/v2/studies") == 0


async def test_a_token_past_its_page_is_refused(big: tuple[TrialsService, RecordedUpstream]) -> None:
    service, _ = big
    with pytest.raises(InvalidInput, match="points past its page"):
        await service.search(BIG, page_size=100, page_token=encode_token(None, 101))


async def test_a_cut_page_token_still_continues_after_a_restart(make_cache: CacheFactory, clock: ManualClock) -> None:
    """The cursor holds the upstream token and an offset only: a new process (empty memory tier,
    the same lower tier) continues it after the last trial shown, from the cache."""
    route = Route(
        "/api/v2/studies", lambda request: big_page(request.query), when=lambda q: q.get("query.cond") == "big pages"
    )
    upstream = ctgov_upstream([route])
    lower = MemoryBackend(clock=clock)  # stands for the SQLite file both processes share
    http = build_client(upstream, clock)
    first_process = build_service(http, make_cache(sqlite=lower), clock)
    first = await first_process.search(BIG, page_size=100)
    await first_process.aclose()
    await http.aclose()
    assert first.truncated is True and first.next_page_token
    http = build_client(upstream, clock)
    second_process = build_service(http, make_cache(sqlite=lower), clock)
    rest = await second_process.search(BIG, page_size=100, page_token=first.next_page_token)
    await second_process.aclose()
    await http.aclose()
    assert rest.trials[0].nct_id == f"NCT{len(first.trials) + 1:08d}"
    assert rest.cache.tier == "sqlite" and upstream.count("/api/v2/studies") == 1
