"""find_trials_for_patient over the recorded EGFR search and a synthesised multi-page cohort:
reasons, trials listed apart, the cursor walked to the end (no duplicate, no gap), the cache
(tags, a restart) and strict arguments."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client

from cache.backends.memory import MemoryBackend
from cache.engine.tiered import TieredCache
from tests.support.clock import ManualClock
from tests.support.engine import CacheFactory
from tests.support.fixtures import fixtures_dir
from tests.support.recorded_upstream import RecordedUpstream, ctgov_upstream
from tests.support.replay_routes import cohorts
from tests.support.trials import build_client, build_service, mcp_server
from tools.budget import RECORD_BUDGET, json_size
from tools.clinical_trials.client import CtgovClient
from tools.clinical_trials.config import TrialsConfig
from tools.clinical_trials.models import Near
from tools.clinical_trials.paging import encode_token
from tools.clinical_trials.patient_models import Patient, PatientResult
from tools.clinical_trials.patient_params import build_patient
from tools.clinical_trials.patient_search import PatientSearch
from tools.clinical_trials.service import TrialsService
from tools.errors import InvalidInput

HOUSTON = Near(latitude=29.7604, longitude=-95.3698, radius=50)
WOMAN_58 = {"mutations": ["EGFR L858R"], "age": 58, "sex": "female", "near": HOUSTON, "statuses": None}


@pytest.fixture
def upstream() -> RecordedUpstream:
    return ctgov_upstream(cohorts.routes(fixtures_dir()))


@pytest.fixture
async def service(upstream: RecordedUpstream, cache: TieredCache, clock: ManualClock) -> AsyncIterator[TrialsService]:
    http = build_client(upstream, clock)
    trials = build_service(http, cache, clock)
    yield trials
    await trials.aclose()
    await http.aclose()


def patient(condition: str, **overrides: Any) -> tuple[Any, Patient]:
    return build_patient(condition=condition, **{**WOMAN_58, **overrides})


async def walk(service: TrialsService, condition: str, page_size: int) -> list[PatientResult]:
    criteria, who = patient(condition)
    answers: list[PatientResult] = []
    token: str | None = None
    while True:
        answer = await service.find_for_patient(criteria, who, page_size, token)
        assert json_size(answer) <= RECORD_BUDGET
        answers.append(answer)
        token = answer.next_page_token
        if token is None:
            return answers


async def test_the_woman_of_58_with_egfr_l858r_near_houston(service: TrialsService, upstream: RecordedUpstream) -> None:
    criteria, who = patient("non-small cell lung cancer")
    answer = await service.find_for_patient(criteria, who)
    assert [m.nct_id for m in answer.matches] == ["NCT06604689"]
    assert [e.nct_id for e in answer.excluded] == ["NCT06382129"]
    assert answer.excluded[0].excerpt is not None and "EGFR L858R" in answer.excluded[0].excerpt
    reasons = {r.check: (r.fit, r.detail) for r in answer.matches[0].reasons}
    assert reasons["age"] == ("yes", "age 58 within 18 Years to no maximum")
    assert reasons["sex"] == ("yes", "female eligible (trial takes ALL)")
    assert reasons["mutation"][0] == "yes" and "EGFR L858R, EGFR exon 19 deletion" in reasons["mutation"][1]
    assert reasons["site"][0] == "unknown"  # the recorded study lists no sites
    assert answer.total_count == 2 and answer.next_page_token is None
    sent = upstream.params(0)
    assert sent["query.cond"] == "non-small cell lung cancer"
    assert 'AREA[EligibilityCriteria]("EGFR L858R" OR "EGFR Leu858Arg" OR "EGFR p.L858R"' in sent["query.term"]
    assert sent["filter.overallStatus"] == "RECRUITING,NOT_YET_RECRUITING,ENROLLING_BY_INVITATION,AVAILABLE"
    assert sent["filter.geo"] == "distance(29.7604,-95.3698,50mi)" and sent["pageSize"] == "50"
    assert sent["filter.advanced"] == (
        "(AREA[MinimumAge]RANGE[MIN, 58 years] OR AREA[MinimumAge]MISSING) AND "
        '(AREA[MaximumAge]RANGE[58 years, MAX] OR AREA[MaximumAge]MISSING) AND (AREA[Sex]FEMALE OR AREA[Sex]"ALL")'
    )


@pytest.mark.parametrize("notation", ["EGFR p.Leu858Arg", "EGFR Leu858Arg", "egfr p.L858R", "ERBB1 L858R"])
async def test_every_notation_of_the_mutation_finds_the_same_trials(service: TrialsService, notation: str) -> None:
    criteria, who = patient("non-small cell lung cancer", mutations=[notation])
    answer = await service.find_for_patient(criteria, who)
    assert [m.nct_id for m in answer.matches] == ["NCT06604689"]
    assert [e.nct_id for e in answer.excluded] == ["NCT06382129"]
    assert {r.check: r.fit for r in answer.matches[0].reasons}["mutation"] == "yes"


async def test_several_mutations_are_one_or_group_upstream(service: TrialsService, upstream: RecordedUpstream) -> None:
    criteria, who = patient("non-small cell lung cancer", mutations=["EGFR L858R", "EGFR T790M"])
    answer = await service.find_for_patient(criteria, who)
    term = upstream.params(0)["query.term"]
    assert term.startswith("((AREA[EligibilityCriteria](") and '"EGFR T790M"' in term and " OR (AREA[" in term
    assert [m.nct_id for m in answer.matches] == ["NCT06604689"]
    # NCT06382129 excludes both: still listed apart
    assert [e.nct_id for e in answer.excluded] == ["NCT06382129"]


async def test_the_page_is_tagged_with_every_trial_it_shows(service: TrialsService, upstream: RecordedUpstream) -> None:
    criteria, who = patient("non-small cell lung cancer")
    await service.find_for_patient(criteria, who)
    assert (await service.find_for_patient(criteria, who)).cache.hit is True
    await service.invalidate_trial("NCT06382129")  # shown only under excluded
    again = await service.find_for_patient(criteria, who)
    assert again.cache.hit is False and upstream.count("/api/v2/studies") == 2


@pytest.mark.parametrize("page_size", [1, 7, 10, 50])
async def test_the_cursor_walks_a_multi_page_match_to_the_end(
    service: TrialsService, upstream: RecordedUpstream, page_size: int
) -> None:
    answers = await walk(service, cohorts.COHORT_CONDITION, page_size)
    shown = [m.nct_id for a in answers for m in a.matches] + [e.nct_id for a in answers for e in a.excluded]
    assert len(shown) == len(set(shown)) == cohorts.COHORT_SIZE
    assert set(shown) == {cohorts.cohort_id(i) for i in range(cohorts.COHORT_SIZE)}
    excluded = {e.nct_id for a in answers for e in a.excluded}
    assert excluded == {cohorts.cohort_id(i) for i in range(cohorts.COHORT_SIZE) if i % 7 == 6}
    assert answers[0].total_count == cohorts.COHORT_SIZE and all(a.total_count is None for a in answers[1:])
    assert upstream.count("/api/v2/studies") == 2  # 73 trials, upstream pages of 50


async def test_matches_are_ranked_by_fit_within_an_upstream_page(service: TrialsService) -> None:
    answers = await walk(service, cohorts.COHORT_CONDITION, 50)
    first = answers[0].matches
    keys = [(-m.score, m.distance if m.distance is not None else 1e9) for m in first]
    assert keys == sorted(keys)
    best = first[0]
    fits = {r.check: r.fit for r in best.reasons}
    assert fits == {"age": "yes", "sex": "yes", "site": "yes", "mutation": "yes"} and best.score == 8
    worst = first[-1]
    assert "no" in {r.fit for r in worst.reasons}


async def test_the_cursor_survives_a_restart(make_cache: CacheFactory, clock: ManualClock) -> None:
    upstream = ctgov_upstream(cohorts.routes(fixtures_dir()))
    lower = MemoryBackend(clock=clock)  # stands for the SQLite file both processes share
    criteria, who = patient(cohorts.COHORT_CONDITION)
    http = build_client(upstream, clock)
    first_process = build_service(http, make_cache(sqlite=lower), clock)
    first = await first_process.find_for_patient(criteria, who, 10)
    await first_process.aclose()
    await http.aclose()
    http = build_client(upstream, clock)
    second_process = build_service(http, make_cache(sqlite=lower), clock)
    rest = await second_process.find_for_patient(criteria, who, 10, first.next_page_token)
    await second_process.aclose()
    await http.aclose()
    assert rest.cache.tier == "sqlite" and upstream.count("/api/v2/studies") == 1
    assert not {m.nct_id for m in first.matches} & {m.nct_id for m in rest.matches}


async def test_a_tight_budget_cuts_and_the_cut_continues(upstream: RecordedUpstream, cache: TieredCache) -> None:
    http = build_client(upstream, ManualClock(1_800_000_000.0))
    search = PatientSearch(CtgovClient(http), cache, TrialsConfig(), texts=_no_texts)
    criteria, who = patient(cohorts.COHORT_CONDITION)
    seen: list[str] = []
    token: str | None = None
    cut_seen = False
    while True:
        answer = await search.search(criteria, who, 50, token, budget=3000)
        assert json_size(answer) <= 3000
        seen += [m.nct_id for m in answer.matches] + [e.nct_id for e in answer.excluded]
        if answer.cuts:
            cut_seen = True
            assert answer.truncated is True
            assert {c.next["page_token"] for c in answer.cuts} == {answer.next_page_token}
        token = answer.next_page_token
        if token is None:
            break
    await http.aclose()
    assert cut_seen and len(seen) == len(set(seen)) == cohorts.COHORT_SIZE


async def _no_texts(ids: Any) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    raise AssertionError(f"the cohort pages carry their eligibility texts; asked for {ids}")


async def test_a_cursor_past_its_page_is_refused(service: TrialsService) -> None:
    criteria, who = patient("non-small cell lung cancer")
    with pytest.raises(InvalidInput, match="page_token"):
        await service.find_for_patient(criteria, who, 10, encode_token(None, 3))


@pytest.mark.parametrize(
    "other",
    [
        {"condition": "non-small cell lung cancer"},
        {"age": 59},
        {"age": None},
        {"sex": "male"},
        {"mutations": ["EGFR T790M"]},
        {"near": Near(latitude=29.7604, longitude=-95.3698, radius=100)},
        {"statuses": ["RECRUITING"]},
    ],
)
async def test_a_cursor_of_another_patient_search_is_refused(
    service: TrialsService, upstream: RecordedUpstream, other: dict[str, Any]
) -> None:
    criteria, who = patient(cohorts.COHORT_CONDITION)
    first = await service.find_for_patient(criteria, who, 10)
    assert first.next_page_token is not None
    condition = other.pop("condition", cohorts.COHORT_CONDITION)
    other_criteria, other_who = patient(condition, **other)
    with pytest.raises(InvalidInput) as caught:
        await service.find_for_patient(other_criteria, other_who, 10, first.next_page_token)
    assert caught.value.field == "page_token"
    assert "other arguments (condition, mutations, age, sex, near or statuses)" in caught.value.message
    assert upstream.count("/api/v2/studies") == 1  # refused before any request
    # the same search goes on with it, at another page size too
    rest = await service.find_for_patient(criteria, who, 25, first.next_page_token)
    assert rest.matches and not {m.nct_id for m in first.matches} & {m.nct_id for m in rest.matches}


def test_the_patient_is_built_strictly() -> None:
    criteria, who = build_patient(
        condition="  nsclc ", mutations=["EGFR  L858R", "EGFR L858R"], age=None, sex=None, near=None, statuses=None
    )
    assert criteria.condition == "nsclc" and who.mutations == ("EGFR L858R",)
    assert criteria.statuses == ("RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION", "AVAILABLE")
    with pytest.raises(InvalidInput, match="condition"):
        build_patient(condition="   ", mutations=None, age=None, sex=None, near=None, statuses=None)
    with pytest.raises(InvalidInput, match=r"mutations\[1\]"):
        build_patient(
            condition="x", mutations=["EGFR L858R", "EGFR (L858R)"], age=None, sex=None, near=None, statuses=None
        )


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({}, "condition"),
        ({"condition": ""}, "condition"),
        ({"condition": "nsclc", "age": -1}, "age"),
        ({"condition": "nsclc", "age": 200}, "age"),
        ({"condition": "nsclc", "age": "fifty"}, "age"),
        ({"condition": "nsclc", "sex": "other"}, "sex"),
        ({"condition": "nsclc", "mutations": ["A1B"] * 6}, "mutations"),
        ({"condition": "nsclc", "mutations": ["EGFR\nL858R;DROP"]}, "mutations"),
        ({"condition": "nsclc", "statuses": ["recruting"]}, "statuses"),
        ({"condition": "nsclc", "near": {"latitude": 29.7}}, "longitude"),
        ({"condition": "nsclc", "page_size": 51}, "page_size"),
        ({"condition": "nsclc", "page_token": "not-a-token"}, "page_token"),
    ],
)
async def test_bad_arguments_are_refused_by_name(service: TrialsService, arguments: dict[str, Any], named: str) -> None:
    async with Client(mcp_server(service)) as client:
        result = await client.call_tool("find_trials_for_patient", arguments)
    assert result.is_error
    assert named in " ".join(getattr(block, "text", "") for block in result.content)


async def test_slips_are_forgiven(service: TrialsService) -> None:
    async with Client(mcp_server(service)) as client:
        result = await client.call_tool(
            "find_trials_for_patient",
            {
                "condition": "non-small cell lung cancer",
                "mutations": "EGFR L858R",
                "sex": " Female ",
                "statuses": "open",
            },
        )
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert [m["nct_id"] for m in result.structured_content["matches"]] == ["NCT06604689"]
