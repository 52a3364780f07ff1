"""The mutation batch tool against a slow upstream: ``python -m benchmarks.ctgov_batch``.

20 mutations, the replay upstream answering every request after 200 ms, a bound of 5 and a
rate limiter that does not bind (1000 requests/s). Each mutation costs one ``/studies``
request (the synthetic pages carry their eligibility text, as live pages do when asked for
it), so the batch needs 4 rounds: the target is 1.2 x 4 x 200 ms = 960 ms. The same 20
searches run one after another are printed next to it. Every run starts from an empty cache.
"""

from __future__ import annotations

import asyncio
import time

from benchmarks._table import Summary
from cache.backends.memory import MemoryBackend
from cache.engine.tiered import TieredCache
from tests.support.replay import ReplayServer
from tests.support.replay_routes import Reply, Route
from tests.support.trials import synthetic_mutation_page
from tools.clinical_trials.client import CtgovClient
from tools.clinical_trials.config import TrialsConfig
from tools.clinical_trials.models import Criteria
from tools.clinical_trials.service import TrialsService
from tools.http.config import HttpPolicy
from tools.http.factory import build_upstream

LATENCY = 0.2
BOUND = 5
MUTATIONS = [
    f"{gene} {change}"
    for gene, change in (
        ("EGFR", "L858R"),
        ("EGFR", "T790M"),
        ("EGFR", "C797S"),
        ("EGFR", "G719X"),
        ("KRAS", "G12C"),
        ("KRAS", "G12D"),
        ("KRAS", "G12V"),
        ("KRAS", "G13D"),
        ("BRAF", "V600E"),
        ("BRAF", "V600K"),
        ("PIK3CA", "H1047R"),
        ("PIK3CA", "E545K"),
        ("IDH1", "R132H"),
        ("IDH2", "R140Q"),
        ("ERBB2", "S310F"),
        ("MET", "Y1003F"),
        ("TP53", "R175H"),
        ("NRAS", "Q61K"),
        ("FGFR3", "S249C"),
        ("KIT", "D816V"),
    )
]
TARGET = 1.2 * (len(MUTATIONS) / BOUND) * LATENCY
RUNS = 5


async def run_once(replay: ReplayServer, concurrency: int, sequential: bool) -> float:
    http = build_upstream("ctgov", replay.base_url("ctgov"), policy=HttpPolicy(), rate=(1000, 1.0), user_agent="bench")
    cache = TieredCache(MemoryBackend(max_entries=10_000, max_bytes=50_000_000))
    service = TrialsService(CtgovClient(http), cache, TrialsConfig(batch_concurrency=concurrency))
    try:
        started = time.perf_counter()
        if sequential:
            for mutation in MUTATIONS:
                await service.search_mutation(mutation, Criteria(), 5)
        else:
            result = await service.search_mutations(MUTATIONS, Criteria(), 5)
            assert result.succeeded == len(MUTATIONS), [item.error for item in result.results if item.error]
        return time.perf_counter() - started
    finally:
        await service.aclose()
        await cache.aclose()
        await http.aclose()


async def main() -> None:
    route = Route(
        "/api/v2/studies",
        lambda request: Reply.json(synthetic_mutation_page(request.query["query.term"])),
        when=lambda query: "AREA[EligibilityCriteria]" in query.get("query.term", ""),
    )
    with ReplayServer(routes=[route], latency=LATENCY) as replay:
        await run_once(replay, BOUND, sequential=False)  # warm-up: imports, connections
        batched = [await run_once(replay, BOUND, sequential=False) for _ in range(RUNS)]
        sequential = [await run_once(replay, 1, sequential=True) for _ in range(max(2, RUNS // 2))]
    b, s = Summary.of(batched), Summary.of(sequential)
    verdict = "TARGET MET" if b.median <= TARGET else "MISSED"
    print(
        f"\nsearch_trials_for_mutations: {len(MUTATIONS)} mutations, upstream latency {LATENCY * 1000:.0f} ms, "
        f"bound {BOUND}, rate limiter not binding  (milliseconds per batch)"
    )
    print(f"{'':28}{'median':>9} {'p90':>9} {'runs':>6}")
    print(
        f"{'batch (bound 5)':28}{b.median * 1000:9.1f} {b.p90 * 1000:9.1f} {b.count:>6}   "
        f"target <= {TARGET * 1000:.0f} ms  {verdict}"
    )
    print(
        f"{'sequential (one at a time)':28}{s.median * 1000:9.1f} {s.p90 * 1000:9.1f} {s.count:>6}   "
        f"speed-up {s.median / b.median:.1f}x\n"
    )


if __name__ == "__main__":
    asyncio.run(main())
