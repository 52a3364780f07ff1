"""Clinical filters, sort and variant synonyms through the whole product (build_server + the replay)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

from mcp import Client

from server.app import build_server
from tests.support.replay import ReplayServer
from tests.support.trials_e2e import settings_for, text_of

AGE_58 = (
    "(AREA[MinimumAge]RANGE[MIN, 58 years] OR AREA[MinimumAge]MISSING) AND "
    "(AREA[MaximumAge]RANGE[58 years, MAX] OR AREA[MaximumAge]MISSING)"
)


async def test_a_filtered_sorted_mutation_search_in_another_notation(replay: ReplayServer, tmp_path: Path) -> None:
    arguments = {
        "mutation": "EGFR p.Leu858Arg",
        "condition": "non-small cell lung cancer",
        "age": 58,
        "sex": "female",
        "study_type": "observational",
        "updated_from": "2024-01-01",
        "sort": "last_update",
    }
    async with Client(build_server(settings_for(replay, tmp_path))) as client:
        found = await client.call_tool("search_trials_by_mutation", arguments)
        again = await client.call_tool("search_trials_by_mutation", arguments)
    assert not found.is_error, found.content
    data = found.structured_content
    assert data["searched"][0] == "EGFR L858R"
    assert [m["trial"]["nct_id"] for m in data["matches"]] == ["NCT06604689"]
    assert [t["nct_id"] for t in data["excluded"]] == ["NCT06382129"]
    assert again.structured_content["cache"]["hit"] is True
    searches = [dict(parse_qsl(entry.query)) for entry in replay.log("/api/v2/studies")]
    assert len(searches) == 1
    assert searches[0]["filter.advanced"] == " AND ".join(
        [
            AGE_58,
            '(AREA[Sex]FEMALE OR AREA[Sex]"ALL")',
            "AREA[StudyType]OBSERVATIONAL",
            "AREA[LastUpdatePostDate]RANGE[2024-01-01,MAX]",
        ]
    )
    assert searches[0]["sort"] == "LastUpdatePostDate:desc"
    assert searches[0]["query.term"].startswith('(AREA[EligibilityCriteria]("EGFR L858R" OR "EGFR Leu858Arg"')


async def test_a_token_with_other_filters_and_bad_filters_are_refused(replay: ReplayServer, tmp_path: Path) -> None:
    async with Client(build_server(settings_for(replay, tmp_path))) as client:
        first = await client.call_tool(
            "search_trials", {"condition": "melanoma", "statuses": ["RECRUITING"], "page_size": 3}
        )
        token = first.structured_content["next_page_token"]
        other = await client.call_tool(
            "search_trials", {"condition": "melanoma", "statuses": ["RECRUITING"], "age": 40, "page_token": token}
        )
        dates = await client.call_tool("count_trials", {"start_from": "2024-06-01", "start_to": "2024-01-01"})
        sort = await client.call_tool("search_trials", {"condition": "melanoma", "sort": "newest"})
    assert other.is_error and "'page_token'" in text_of(other) and "other arguments" in text_of(other)
    assert dates.is_error and "'start_from'" in text_of(dates) and "after start_to" in text_of(dates)
    assert sort.is_error and "sort" in text_of(sort) and "last_update" in text_of(sort)
    assert len(replay.log("/api/v2/studies")) == 1
