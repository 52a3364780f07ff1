"""The five trial tools called as plain functions with Services (no MCP), over the recorded upstream."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from tests.support.clock import ManualClock
from tests.support.recorded_upstream import RecordedUpstream
from tests.support.services import services_for
from tools.clinical_trials.models import MutationBatchResult, TrialCount, TrialSearchResult
from tools.clinical_trials.record_models import TrialDetail
from tools.clinical_trials.service import TrialsService
from tools.clinical_trials.tools import (
    count_trials,
    get_trial,
    search_trials,
    search_trials_by_mutation,
    search_trials_for_mutations,
)
from tools.errors import InvalidInput
from tools.freshness import CacheInfo
from tools.registry import validate_arguments
from tools.services import Services

NSCLC = "non-small cell lung cancer"


@pytest.fixture
async def services(service: TrialsService, clock: ManualClock) -> AsyncIterator[Services]:
    async with services_for(trials=service, clock=clock) as built:
        yield built


async def test_search_count_and_record(services: Services, clock: ManualClock) -> None:
    found = await search_trials(services, condition="melanoma", statuses=["RECRUITING"], page_size=3)
    assert isinstance(found, TrialSearchResult)
    assert found.total_count == 480 and len(found.trials) == 3 and found.next_page_token
    assert found.cache == CacheInfo(hit=False, age_seconds=0.0, stale=False, fresh_for_seconds=3600.0)
    counted = await count_trials(services, intervention='"Keytruda"')
    assert isinstance(counted, TrialCount) and counted.total_count == 2924
    record = await get_trial(services, "NCT04280705")
    assert isinstance(record, TrialDetail) and record.trial.nct_id == "NCT04280705"
    clock.advance(2.5)
    again = await get_trial(services, "NCT04280705")
    assert again.cache == CacheInfo(hit=True, tier="memory", age_seconds=2.5, stale=False, fresh_for_seconds=21597.5)


async def test_arguments_validated_as_a_request_would_be(services: Services) -> None:
    """validate_arguments applies the input types (here: NCT id and status spelling, a JSON text
    for a list) and the defaults, as the SDK does for a request."""
    arguments = validate_arguments(get_trial, {"nct_id": "nct04280705"})
    assert arguments == {"nct_id": "NCT04280705", "sections": None, "path": None, "offset": None, "sites": None}
    record = await get_trial(services, **arguments)
    assert record.trial.nct_id == "NCT04280705"
    arguments = validate_arguments(
        search_trials, {"condition": "melanoma", "statuses": '["recruiting"]', "page_size": 3}
    )
    assert arguments["statuses"] == ["RECRUITING"] and arguments["page_token"] is None
    with pytest.raises(InvalidInput, match="unknown argument; did you mean 'statuses'"):
        validate_arguments(search_trials, {"condition": "melanoma", "status": "RECRUITING"})
    found = await search_trials(services, **arguments)
    assert found.total_count == 480 and len(found.trials) == 3


async def test_mutation_tools(services: Services) -> None:
    single = await search_trials_by_mutation(services, "EGFR L858R", condition=NSCLC, page_size=20)
    assert [m.trial.nct_id for m in single.matches] == ["NCT06604689"]
    assert single.excluded_count == 1 and single.excluded[0].nct_id == "NCT06382129"
    batch = await search_trials_for_mutations(services, ["EGFR L858R", "ALK F1174L"], condition=NSCLC, page_size=20)
    assert isinstance(batch, MutationBatchResult) and (batch.succeeded, batch.failed) == (1, 1)
    first = batch.results[0].result
    assert first is not None and first.cache.hit  # the single search above was cached


async def test_typed_failures_become_tool_errors(services: Services, upstream: RecordedUpstream) -> None:
    with pytest.raises(ToolError, match="criteria"):
        await search_trials(services)
    with pytest.raises(ToolError, match="NCT09999999"):
        await get_trial(services, "NCT09999999")
    assert not any(r.url.path == "/api/v2/studies" for r in upstream.requests)  # no search was sent
