"""Mutation searches: the recorded EGFR L858R capture, eligibility reads, the batch tool."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from cache.engine.tiered import TieredCache
from tests.support.clock import ManualClock
from tests.support.fixtures import load_json
from tests.support.recorded_upstream import RecordedUpstream, ctgov_upstream
from tests.support.replay_routes import Reply, Route
from tests.support.trials import BASE_URL, build_client, build_service, synthetic_mutation_page
from tools.budget import RECORD_BUDGET, json_size
from tools.clinical_trials.config import TrialsConfig
from tools.clinical_trials.models import Criteria
from tools.clinical_trials.paging import decode_token
from tools.clinical_trials.service import TrialsService
from tools.errors import InvalidInput
from tools.http.config import HttpPolicy
from tools.http.factory import build_upstream

STUDIES = "/api/v2/studies"
NSCLC = Criteria(condition="non-small cell lung cancer")
RECEIPTS = {
    e["path"].split("/")[-1]: e["receipt"]["request"]
    for e in load_json("ctgov/biomcp_capture_receipts_ctgov.json")["entries"]
}


async def test_egfr_l858r_capture_yields_matches_without_the_exclusion_only_trial(
    service: TrialsService, upstream: RecordedUpstream
) -> None:
    result = await service.search_mutation("EGFR  L858R", NSCLC, page_size=50)
    assert result.mutation == "EGFR L858R" and result.total_count == 2
    assert [m.trial.nct_id for m in result.matches] == ["NCT06604689"]
    assert result.matches[0].found_in == ["inclusion"]
    assert result.matches[0].excerpt == "EGFR sensitive mutations: EGFR L858R, EGFR exon 19 deletion;"
    assert result.excluded_count == 1 and result.excluded[0].nct_id == "NCT06382129"
    assert result.excluded[0].excerpt is not None and "EGFR L858R mutation" in result.excluded[0].excerpt
    # The trimmed capture has no eligibility text: each study was read with the recorded field list.
    for nct in ("NCT06382129", "NCT06604689"):
        recorded = dict(parse_qsl(urlsplit(RECEIPTS[f"get_{nct.lower()}_20260811.json"]).query))
        assert upstream.params(0, f"{STUDIES}/{nct}") == recorded
    again = await service.search_mutation("EGFR L858R", NSCLC, page_size=50)
    assert again.cache.hit is True and again.matches == result.matches
    assert sum(1 for p in upstream.paths() if p.startswith(STUDIES)) == 3


async def test_a_page_carrying_eligibility_needs_no_extra_reads(
    service: TrialsService, upstream: RecordedUpstream
) -> None:
    page = load_json("ctgov/biomcp_search_nsclc_egfr_l858r_20260811.json")
    for study in page["studies"]:
        nct = study["protocolSection"]["identificationModule"]["nctId"]
        full = load_json(f"ctgov/biomcp_get_{nct.lower()}_20260811.json")
        study["protocolSection"]["eligibilityModule"] = full["protocolSection"]["eligibilityModule"]
    upstream.script(httpx.Response(200, json=page))
    result = await service.search_mutation("EGFR L858R", NSCLC)
    assert [m.trial.nct_id for m in result.matches] == ["NCT06604689"] and result.excluded_count == 1
    assert upstream.paths().count(STUDIES) == 1 and not any(p.startswith(STUDIES + "/") for p in upstream.paths())
    sent = upstream.params(0)
    assert {"EligibilityCriteria", "OfficialTitle", "Keyword"} <= set(sent["fields"].split(","))


async def test_a_parse_error_points_at_the_mutation_or_terms(
    service: TrialsService, upstream: RecordedUpstream
) -> None:
    upstream.script(httpx.Response(400, text="Error parsing query in Other terms: missing ')' at '<EOF>'"))
    with pytest.raises(InvalidInput) as caught:
        await service.search_mutation("BRAF V600E", Criteria(terms="(melanoma"))
    assert caught.value.field == "mutation or terms" and "missing ')'" in caught.value.message


async def test_unusable_mutation_text_is_rejected_before_any_request(
    service: TrialsService, upstream: RecordedUpstream
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await service.search_mutation('EGFR "L858R"', NSCLC)
    assert caught.value.field == "mutation"
    with pytest.raises(InvalidInput) as batch:
        await service.search_mutations(["EGFR L858R", "KRAS G12C", "BRAF [V600E]"], NSCLC)
    assert batch.value.field == "mutations[2]"
    with pytest.raises(InvalidInput, match="1 to 20"):
        await service.search_mutations([f"KRAS G12{c}" for c in "ABCDEFGHIJKLMNOPQRSTU"], NSCLC)
    assert upstream.count(STUDIES) == 0


async def test_the_batch_runs_a_bounded_number_at_once_and_reports_progress(
    cache: TieredCache, clock: ManualClock
) -> None:
    upstream = ctgov_upstream()
    release, full = asyncio.Event(), asyncio.Event()
    inflight = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal inflight, peak
        if request.url.path != STUDIES:
            return upstream(request)
        inflight += 1
        peak = max(peak, inflight)
        if inflight == 5:
            full.set()
        await release.wait()
        inflight -= 1
        return httpx.Response(200, json=synthetic_mutation_page(request.url.params["query.term"]))

    http = build_upstream(
        "ctgov",
        BASE_URL,
        policy=HttpPolicy(max_attempts=1),
        rate=None,
        user_agent="t",
        transport=httpx.MockTransport(handler),
        clock=clock,
    )
    service = build_service(http, cache, clock, TrialsConfig(batch_concurrency=5))
    progress: list[tuple[int, int, str]] = []

    async def on_progress(done: int, total: int, message: str) -> None:
        progress.append((done, total, message))

    mutations = [f"KRAS G12{c}" for c in "ABCDEFGHIJKLMNOPQRST"]
    try:
        task = asyncio.create_task(service.search_mutations(mutations, Criteria(), 5, on_progress))
        await asyncio.wait_for(full.wait(), 5)
        assert peak == 5 and progress == []
        release.set()
        result = await asyncio.wait_for(task, 5)
    finally:
        await service.aclose()
        await http.aclose()
    assert peak == 5
    assert [item.mutation for item in result.results] == mutations and result.succeeded == 20
    assert [p[0] for p in progress] == list(range(1, 21)) and {p[1] for p in progress} == {20}
    # 20 one-trial pages do not all fit RECORD_BUDGET: each result shows what fits, its cut says the rest.
    assert json_size(result) <= RECORD_BUDGET
    shown = [item.result for item in result.results if item.result is not None and item.result.matches]
    assert shown and shown[0].matches[0].found_in == ["inclusion", "title"]
    for item in result.results:
        assert item.result is not None
        if not item.result.matches:
            assert item.result.truncated and item.result.cuts
            following = item.result.cuts[0].next
            assert following["mutation"] == item.mutation and decode_token(following["page_token"]) == (None, 0)


async def test_one_failing_mutation_never_loses_the_others(cache: TieredCache, clock: ManualClock) -> None:
    broken = Route(
        STUDIES, Reply.text("upstream exploded", status=503), when=lambda q: "KRAS G12C" in q.get("query.term", "")
    )
    synthetic = Route(
        STUDIES,
        lambda request: Reply.json(synthetic_mutation_page(request.query["query.term"])),
        when=lambda q: "EGFR L858R" not in q.get("query.term", "x"),
    )
    upstream = ctgov_upstream([broken, synthetic])
    http = build_client(upstream, clock)
    service = build_service(http, cache, clock)
    try:
        result = await service.search_mutations(["EGFR L858R", "KRAS G12C", "BRAF V600E"], NSCLC, page_size=50)
    finally:
        await service.aclose()
        await http.aclose()
    egfr, kras, braf = result.results
    assert (result.succeeded, result.failed) == (2, 1)
    assert egfr.result is not None and egfr.result.excluded_count == 1
    assert kras.result is None and kras.error is not None and "unavailable" in kras.error and "503" in kras.error
    assert braf.result is not None and braf.result.matches and braf.error is None
