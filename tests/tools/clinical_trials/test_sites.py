"""get_trial with ``sites``: filters, distance order, contacts, paging within the budget, the cache.

Recorded studies: ACTT (60 sites, 41 in the United States), NCT02576665 (3 sites with
coordinates, one in Houston), NCT06171568 (a site with contacts). Synthesised: a study with
600 sites in the recorded location shape (``tests.support.replay_routes.cohorts``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client

from cache.engine.tiered import TieredCache
from tests.support.clock import ManualClock
from tests.support.fixtures import fixtures_dir
from tests.support.recorded_upstream import RecordedUpstream, ctgov_upstream
from tests.support.replay_routes import cohorts
from tests.support.trials import build_client, build_service, mcp_server
from tools.budget import RECORD_BUDGET, json_size
from tools.clinical_trials.service import TrialsService
from tools.clinical_trials.site_models import SiteQuery
from tools.clinical_trials.sites import distance
from tools.errors import InvalidInput

ACTT = "NCT04280705"
HOUSTON = {"latitude": 29.7604, "longitude": -95.3698}


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


async def walk(service: TrialsService, nct_id: str, query: dict[str, Any]) -> list[dict[str, Any]]:
    """Every site the query selects, following the cuts; each answer within the budget."""
    seen: list[dict[str, Any]] = []
    args: dict[str, Any] = dict(query)
    while True:
        detail = await service.get_trial(nct_id, sites=SiteQuery.model_validate(args))
        assert json_size(detail) <= RECORD_BUDGET and detail.trial is None and detail.sites is not None
        assert detail.sites.offset == len(seen)  # no gap, no overlap
        seen += [site.model_dump(mode="json") for site in detail.sites.sites]
        if not detail.cuts:
            assert detail.truncated is None and len(seen) == detail.sites.matching
            return seen
        (cut,) = detail.cuts
        assert detail.truncated is True and cut.list == "sites.sites" and cut.returned == len(detail.sites.sites)
        assert cut.dropped == detail.sites.matching - len(seen)
        args = dict(cut.next["sites"])  # type: ignore[arg-type]


async def test_filter_by_country_and_state_in_any_case(service: TrialsService) -> None:
    us = await walk(service, ACTT, {"country": "united states"})
    texas = await walk(service, ACTT, {"country": "United States", "state": "  TEXAS "})
    assert len(us) == 41 and {site["country"] for site in us} == {"United States"}
    assert texas and {site["state"] for site in texas} == {"Texas"}
    city = await walk(service, ACTT, {"city": texas[0]["city"]})
    assert city and {site["city"] for site in city} == {texas[0]["city"]}


async def test_near_sorts_by_distance_and_a_radius_keeps_only_the_close_ones(service: TrialsService) -> None:
    detail = await service.get_trial("NCT02576665", sites=SiteQuery.model_validate({"near": HOUSTON}))
    assert detail.sites is not None
    names = [(site.facility, site.distance) for site in detail.sites.sites]
    assert names[0][0] == "MD Anderson Cancer Center" and names[0][1] == pytest.approx(0.4, abs=0.1)
    distances = [d for _, d in names]
    assert distances == sorted(distances) and len(names) == 3
    expected = round(distance(HOUSTON["latitude"], HOUSTON["longitude"], 39.73915, -104.9847), 1)
    assert ("Sarah Cannon Research Institute", expected) in names
    close = await service.get_trial("NCT02576665", sites=SiteQuery.model_validate({"near": {**HOUSTON, "radius": 50}}))
    assert close.sites is not None and [s.city for s in close.sites.sites] == ["Houston"]
    assert close.sites.matching == 1 and close.sites.total == 3
    km = await service.get_trial("NCT02576665", sites=SiteQuery.model_validate({"near": {**HOUSTON, "unit": "km"}}))
    assert km.sites is not None and km.sites.sites[-1].distance == pytest.approx(names[-1][1] * 1.609, rel=0.01)


async def test_each_site_has_its_contacts(service: TrialsService) -> None:
    detail = await service.get_trial("NCT06171568", sites=SiteQuery())
    assert detail.sites is not None
    (site,) = detail.sites.sites
    assert site.city == "Paris" and site.contacts is not None and site.contacts[0].email == "camille.heslot@aphp.fr"
    assert site.contacts[0].name == "Camille Heslot, MD" and len(site.contacts) == 2


async def test_six_hundred_sites_page_within_budget_with_one_upstream_read(
    service: TrialsService, upstream: RecordedUpstream
) -> None:
    every = await walk(service, cohorts.MANY_SITES, {})
    assert len(every) == cohorts.MANY_SITES_COUNT
    assert len({site["facility"] for site in every}) == cohorts.MANY_SITES_COUNT
    statuses = [site.get("status") for site in every]
    assert statuses[: statuses.count("RECRUITING")] == ["RECRUITING"] * statuses.count("RECRUITING")
    assert upstream.count(f"/api/v2/studies/{cohorts.MANY_SITES}") == 1
    near = await walk(service, cohorts.MANY_SITES, {"near": HOUSTON, "country": "United States"})
    assert len(near) == 410 and [s["distance"] for s in near] == sorted(s["distance"] for s in near)
    assert upstream.count(f"/api/v2/studies/{cohorts.MANY_SITES}") == 1


async def test_the_site_list_is_cached_and_dropped_with_the_trial(
    service: TrialsService, upstream: RecordedUpstream
) -> None:
    first = await service.get_trial(ACTT, sites=SiteQuery())
    again = await service.get_trial(ACTT, sites=SiteQuery(country="Germany"))
    assert first.cache.hit is False and again.cache.hit is True
    await service.invalidate_trial(ACTT)
    after = await service.get_trial(ACTT, sites=SiteQuery())
    assert after.cache.hit is False and upstream.count(f"/api/v2/studies/{ACTT}") == 2


async def test_an_offset_past_the_end_is_an_empty_page(service: TrialsService) -> None:
    detail = await service.get_trial(ACTT, sites=SiteQuery(offset=500))
    assert detail.sites is not None and detail.sites.sites == [] and detail.sites.matching == 60
    assert detail.truncated is None


async def test_sites_replace_the_record_and_refuse_a_path(service: TrialsService) -> None:
    # A record cut's next ({"sites": ...}) merged into a call with sections: the sites view wins.
    detail = await service.get_trial(ACTT, sections=["status"], sites=SiteQuery(offset=10))
    assert detail.sites is not None and detail.sites.offset == 10 and detail.sections is None and detail.trial is None
    with pytest.raises(InvalidInput, match="sites"):
        await service.get_trial(ACTT, path="protocolSection", sites=SiteQuery())
    with pytest.raises(InvalidInput, match="sites"):
        await service.get_trial(ACTT, offset=3, sites=SiteQuery())


@pytest.mark.parametrize(
    ("sites", "named"),
    [
        ({"county": "Harris"}, "county"),
        ({"near": {"latitude": 95, "longitude": 0}}, "latitude"),
        ({"near": {"latitude": 29.7}}, "longitude"),
        ({"offset": -1}, "offset"),
        ({"city": ""}, "city"),
        ({"near": {**HOUSTON, "radius": 0}}, "radius"),
        ("Houston", "sites"),
    ],
)
async def test_bad_sites_arguments_are_refused_by_name(service: TrialsService, sites: Any, named: str) -> None:
    async with Client(mcp_server(service)) as client:
        result = await client.call_tool("get_trial", {"nct_id": ACTT, "sites": sites})
    assert result.is_error
    assert named in " ".join(getattr(block, "text", "") for block in result.content)


async def test_the_record_points_to_get_trial_results_and_to_sites(service: TrialsService) -> None:
    async with Client(mcp_server(service)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        answer = await client.call_tool("get_trial", {"nct_id": ACTT, "sites": {"country": "Mexico"}})
    assert "get_trial_results" in (tools["get_trial"].description or "")
    assert "sites" in tools["get_trial"].input_schema["properties"]
    assert not answer.is_error and answer.structured_content is not None
    assert answer.structured_content["sites"]["matching"] == 2
