"""Clinical filters and sort: the exact upstream parameters, checked against the OpenAPI file;
cache keys and page tokens that carry them; strict refusals before any request."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support.clock import ManualClock
from tests.support.fixtures import fixtures_dir, load_json
from tests.support.recorded_upstream import RecordedUpstream
from tests.support.services import services_for
from tools.clinical_trials import filters
from tools.clinical_trials.service import TrialsService
from tools.clinical_trials.tools import count_trials, search_trials, search_trials_by_mutation
from tools.errors import InvalidInput, ToolFailure
from tools.registry import validate_arguments
from tools.services import Services

STUDIES = "/api/v2/studies"
SPEC = (fixtures_dir() / "ctgov" / "ctg-oas-v2.yaml").read_text()
EMPTY = {"studies": [], "totalCount": 0}
AGE_58 = (
    "(AREA[MinimumAge]RANGE[MIN, 58 years] OR AREA[MinimumAge]MISSING) AND "
    "(AREA[MaximumAge]RANGE[58 years, MAX] OR AREA[MaximumAge]MISSING)"
)


@pytest.fixture
async def services(service: TrialsService, clock: ManualClock) -> AsyncIterator[Services]:
    async with services_for(trials=service, clock=clock) as built:
        yield built


async def sent_by(services: Services, upstream: RecordedUpstream, tool: Any, **arguments: Any) -> dict[str, str]:
    """The query parameters of the one /studies request a call of ``tool`` makes (fields aside)."""
    upstream.script(httpx.Response(200, json=EMPTY))
    await tool(services, **validate_arguments(tool, arguments))
    assert upstream.count(STUDIES) == 1
    return {k: v for k, v in upstream.params(0).items() if k != "fields"}


PAGE = {"countTotal": "true", "pageSize": "10"}
CASES: list[tuple[dict[str, Any], dict[str, str]]] = [
    ({"age": 58}, {"filter.advanced": AGE_58}),
    ({"sex": "Female"}, {"filter.advanced": '(AREA[Sex]FEMALE OR AREA[Sex]"ALL")'}),
    ({"sex": "male"}, {"filter.advanced": '(AREA[Sex]MALE OR AREA[Sex]"ALL")'}),
    ({"healthy_volunteers": True}, {"filter.advanced": "AREA[HealthyVolunteers]true"}),
    ({"healthy_volunteers": False}, {"filter.advanced": "AREA[HealthyVolunteers]false"}),
    ({"study_type": "interventional"}, {"filter.advanced": "AREA[StudyType]INTERVENTIONAL"}),
    ({"study_type": "Expanded access"}, {"filter.advanced": "AREA[StudyType]EXPANDED_ACCESS"}),
    (
        {"start_from": "2020-01-01", "start_to": "2022-12-31"},
        {"filter.advanced": "AREA[StartDate]RANGE[2020-01-01,2022-12-31]"},
    ),
    ({"start_to": "2019-06-30"}, {"filter.advanced": "AREA[StartDate]RANGE[MIN,2019-06-30]"}),
    # The spec's own example of a date range (query.term there; the same Essie in filter.advanced).
    ({"updated_from": "2023-01-15"}, {"filter.advanced": "AREA[LastUpdatePostDate]RANGE[2023-01-15,MAX]"}),
    ({"has_results": True}, {"aggFilters": "results:with"}),
    ({"has_results": False}, {"aggFilters": "results:without"}),
    (
        {"sponsor_class": ["industry", "NIH", "INDUSTRY"]},
        {"filter.advanced": "AREA[LeadSponsorClass](INDUSTRY OR NIH)"},
    ),
    ({"sponsor_class": "other_gov"}, {"filter.advanced": "AREA[LeadSponsorClass]OTHER_GOV"}),
    ({"sort": "relevance"}, {"sort": "@relevance"}),
    ({"sort": "last update"}, {"sort": "LastUpdatePostDate:desc"}),
    ({"sort": "start_date"}, {"sort": "StartDate:desc"}),
    ({"sort": "Enrollment"}, {"sort": "EnrollmentCount:desc"}),
]


@pytest.mark.parametrize(("arguments", "expected"), CASES, ids=[str(a) for a, _ in CASES])
async def test_each_filter_becomes_exactly_its_upstream_parameter(
    services: Services, upstream: RecordedUpstream, arguments: dict[str, Any], expected: dict[str, str]
) -> None:
    sent = await sent_by(services, upstream, search_trials, condition="melanoma", **arguments)
    assert sent == {"query.cond": "melanoma", **expected, **PAGE}


async def test_filters_combine_with_phases_and_each_other_by_and(
    services: Services, upstream: RecordedUpstream
) -> None:
    sent = await sent_by(
        services,
        upstream,
        search_trials,
        condition="nsclc",
        phases=["PHASE2", "PHASE3"],
        age=58,
        sex="female",
        study_type="INTERVENTIONAL",
        start_from="2020-01-01",
        has_results=False,
        sponsor_class=["INDUSTRY"],
        sort="start_date",
        page_size=5,
    )
    assert sent == {
        "query.cond": "nsclc",
        "filter.advanced": " AND ".join(
            [
                "AREA[Phase](PHASE2 OR PHASE3)",
                AGE_58,
                '(AREA[Sex]FEMALE OR AREA[Sex]"ALL")',
                "AREA[StudyType]INTERVENTIONAL",
                "AREA[StartDate]RANGE[2020-01-01,MAX]",
                "AREA[LeadSponsorClass]INDUSTRY",
            ]
        ),
        "aggFilters": "results:without",
        "sort": "StartDate:desc",
        "countTotal": "true",
        "pageSize": "5",
    }


async def test_count_and_mutation_search_send_the_same_filters(services: Services, upstream: RecordedUpstream) -> None:
    counted = await sent_by(services, upstream, count_trials, age=58, has_results=True)
    assert counted == {"filter.advanced": AGE_58, "aggFilters": "results:with", "countTotal": "true", "pageSize": "1"}
    upstream.requests.clear()
    mutation = await sent_by(
        services, upstream, search_trials_by_mutation, mutation="EGFR L858R", sex="female", sort="last_update"
    )
    assert mutation["filter.advanced"] == '(AREA[Sex]FEMALE OR AREA[Sex]"ALL")'
    assert mutation["sort"] == "LastUpdatePostDate:desc" and 'AREA[Keyword]("EGFR L858R"' in mutation["query.term"]


async def test_a_filter_alone_is_a_search(services: Services, upstream: RecordedUpstream) -> None:
    assert await sent_by(services, upstream, search_trials, has_results=True) == {"aggFilters": "results:with", **PAGE}


def spec_enum(name: str) -> list[str]:
    block = re.search(rf"\n    {name}:\n      type: \"string\"\n      enum:\n((?:      - \"[A-Z_0-9]+\"\n)+)", SPEC)
    assert block, name
    return re.findall(r'"([A-Z_0-9]+)"', block.group(1))


def test_the_mapping_uses_only_what_the_openapi_file_defines() -> None:
    studies = SPEC.split("  /studies:\n", 1)[1].split("\n  /studies/", 1)[0]
    parameters = set(re.findall(r'- name: "([^"]+)"', studies))
    assert {"filter.advanced", "aggFilters", "sort"} <= parameters
    assert sorted(filters.STUDY_TYPES) == sorted(spec_enum("StudyType"))
    assert list(filters.SPONSOR_CLASSES) == spec_enum("AgencyClass")
    assert [s.upper() for s in filters.SEXES] == [s for s in spec_enum("Sex") if s != "ALL"]
    sort_pattern = re.search(r'pattern: "(\^\(\(\[a-zA-Z\][^"]+)"', studies)
    assert sort_pattern
    for value in filters.SORT_PARAMS.values():
        assert re.match(sort_pattern.group(1).replace("\\\\", "\\"), value), value
    # The spec's age example is kept inside our clause, term for term (MISSING alternatives added).
    example = "AREA[MinimumAge]RANGE[MIN, 16 years] AND AREA[MaximumAge]RANGE[16\\\n              \\ years, MAX]"
    assert example in SPEC
    clause = filters.advanced_clauses(filters.build_filters(age=16))[0]
    assert "AREA[MinimumAge]RANGE[MIN, 16 years]" in clause and "AREA[MaximumAge]RANGE[16 years, MAX]" in clause
    assert "results:with" in SPEC and "sex:f" in SPEC  # aggFilters pairs as the spec shows them
    # The recorded rejection of a bad sort direction names the argument.
    assert "Item 1 in parameter `sort` has incorrect format" in {
        e["body"] for e in load_json("ctgov/error_bodies.json")
    }


async def test_cache_keys_include_the_filters(services: Services, upstream: RecordedUpstream) -> None:
    for arguments in ({"age": 58}, {"age": 59}, {"age": 58}, {"age": 58, "sort": "relevance"}, {"age": 58}):
        upstream.script(httpx.Response(200, json=EMPTY))
        await search_trials(services, **validate_arguments(search_trials, {"condition": "x", **arguments}))
    assert upstream.count(STUDIES) == 3  # age 58, age 59, age 58 sorted; the repeats were cache hits
    upstream.requests.clear()
    for arguments in ({"has_results": True}, {"has_results": False}, {"has_results": True}):
        upstream.script(httpx.Response(200, json=EMPTY))
        await count_trials(services, **validate_arguments(count_trials, {"condition": "x", **arguments}))
    assert upstream.count(STUDIES) == 2


async def test_a_page_token_carries_its_search(services: Services, upstream: RecordedUpstream) -> None:
    first_page = load_json("ctgov/biomcp_search_phelan_limit5_20260811.json")
    upstream.script(httpx.Response(200, json=first_page))
    asked = {"condition": "Phelan-McDermid Syndrome", "age": 10, "page_size": 5}
    first = await search_trials(services, **validate_arguments(search_trials, asked))
    token = first.next_page_token
    assert token is not None
    for other in ({"age": 11}, {"sex": "male"}, {"sort": "enrollment"}, {"condition": "autism"}, {"age": None}):
        with pytest.raises(ToolFailure) as caught:
            await search_trials(services, **validate_arguments(search_trials, {**asked, **other, "page_token": token}))
        assert caught.value.field == "page_token" and "other arguments" in caught.value.message
    assert upstream.count(STUDIES) == 1
    upstream.script(httpx.Response(200, json=load_json("ctgov/biomcp_search_phelan_next_20260811.json")))
    second = await search_trials(
        services, **validate_arguments(search_trials, {**asked, "page_size": 7, "page_token": token})
    )
    assert second.trials and upstream.params(1)["pageToken"] == first_page["nextPageToken"]
    assert upstream.params(1)["filter.advanced"] == upstream.params(0)["filter.advanced"]


HOSTILE: list[tuple[dict[str, Any], str, str]] = [
    ({"start_from": "2024-02-30"}, "start_from", "YYYY-MM-DD"),
    ({"start_to": "2024/01/01"}, "start_to", "YYYY-MM-DD"),
    ({"updated_from": "yesterday"}, "updated_from", "YYYY-MM-DD"),
    ({"updated_to": 20240101}, "updated_to", "YYYY-MM-DD"),
    ({"start_from": "2024-05-01", "start_to": "2020-01-01"}, "start_from", "after start_to"),
    ({"updated_from": "2026-01-02", "updated_to": "2026-01-01"}, "updated_from", "after updated_to"),
    ({"age": -1}, "age", "greater than or equal to 0"),
    ({"age": 121}, "age", "less than or equal to 120"),
    ({"age": True}, "age", "whole number"),
    ({"age": 58.5}, "age", "integer"),
    ({"sex": "woman"}, "sex", "Valid: female, male"),
    ({"sex": "all"}, "sex", "unknown sex"),
    ({"study_type": "interventionl"}, "study_type", "did you mean 'INTERVENTIONAL'"),
    ({"sponsor_class": ["INDUSTRY", "pharma"]}, "sponsor_class", "unknown sponsor class 'pharma'"),
    ({"sponsor_class": ["NIH"] * 10}, "sponsor_class", "at most 9"),
    ({"sort": "newest"}, "sort", "Valid: relevance, last_update, start_date, enrollment"),
    ({"sort": "EnrollmentCount:desc"}, "sort", "unknown sort"),
    ({"has_results": "maybe"}, "has_results", "bool"),
    ({"healthy_volunteers": 2}, "healthy_volunteers", "bool"),
]


@pytest.mark.parametrize(("arguments", "field", "words"), HOSTILE, ids=[str(a) for a, _, _ in HOSTILE])
async def test_hostile_filter_values_are_refused_naming_the_argument(
    services: Services, upstream: RecordedUpstream, arguments: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises((InvalidInput, ValueError, ToolFailure)) as caught:
        await search_trials(services, **validate_arguments(search_trials, {"condition": "x", **arguments}))
    assert field in str(caught.value) and words in str(caught.value)
    assert upstream.count(STUDIES) == 0
