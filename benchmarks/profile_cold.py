"""Where a cold tool call spends its time: ``python -m benchmarks.profile_cold [--calls 200] [--top 25]``.

A cold call is the first call for its arguments: one upstream fetch, the parse, the compaction,
the cache write (memory and SQLite), the answer. The replay upstream answers at once (no
latency), so what is left is our work and the libraries'. All in this process:

1. Stages of a cold ``get_trial``: the service's cold path taken apart and run step by step on
   the real objects, each step timed with ``perf_counter`` in the same pass (the upstream GET
   alone through the client's ``httpx`` pool; the whole ``UpstreamClient.get_json``, so the
   difference is its breaker, retry loop, rate limiter, deadline and error mapping plus the
   JSON parse, also timed alone; the compaction; the budget fit; the cache's encoding; the
   writes to memory and SQLite; the answer model; its rendering). Then whole cold calls
   (each made cold by invalidating its key and waiting for SQLite beforehand, untimed): the
   service method and the SDK client's ``call_tool``. The stages' first pass is shown apart:
   it is the process's first cold call of a large record (after one get_trial of a small one,
   like cold_warm's primer), so it includes whatever is done once per process on that path.
2. cProfile of cold SDK ``get_trial`` calls: the functions with the most own time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time
from collections.abc import Awaitable, Callable
from typing import Any

from mcp import Client

from benchmarks._harness import SEARCH, TRIAL, bench_settings, scratch
from benchmarks._table import Summary
from cache.keys import make_key
from server.app import App, build_app
from server.results import answer
from tests.support.replay import ReplayServer
from tools.budget import RECORD_BUDGET
from tools.clinical_trials import query
from tools.clinical_trials.compact import compact_record
from tools.clinical_trials.config import CACHE_FORMAT, NS_SEARCH
from tools.clinical_trials.models import Criteria
from tools.clinical_trials.record_fit import fit_record
from tools.clinical_trials.record_models import RecordPayload, TrialDetail, TrialRecord
from tools.clinical_trials.service import RECORD_FIELDS
from tools.freshness import CacheInfo
from tools.http.mapping import decode_json

Stages = dict[str, float]
PRIMER = "NCT02576665"  # a small record, asked for first (cold_warm's primer call)


async def trial_stages(app: App) -> Stages:
    """One cold ``get_trial`` taken apart (see the module doc); seconds per stage."""
    services = app.lifespan.current.services
    trials, cache = services.trials, services.cache
    nct = TRIAL[1]["nct_id"]
    upstream = trials._client._upstream  # noqa: SLF001 - a benchmark takes the service apart
    writer = cache._writer  # noqa: SLF001
    policy = trials._record_policy  # noqa: SLF001
    path, params = f"/studies/{nct}", {"fields": ",".join(RECORD_FIELDS)}
    out: Stages = {}
    clock = time.perf_counter

    started = clock()
    response = await upstream._http.get(path, params=params)  # noqa: SLF001
    out["upstream GET alone (httpx pool)"] = clock() - started
    started = clock()
    study = decode_json(upstream.name, response)
    out["JSON parse alone (decode_json)"] = clock() - started
    started = clock()
    study = await trials._client.get_study(nct, RECORD_FIELDS)  # noqa: SLF001
    out["CtgovClient.get_study (GET + layers + parse)"] = clock() - started
    started = clock()
    record, totals = compact_record(study, trials.config.max_sites, trials.config.max_criteria_chars, nct)
    out["compact_record"] = clock() - started
    started = clock()
    payload = fit_record(record, totals, RECORD_BUDGET)
    out["fit_record"] = clock() - started
    started = clock()
    value = payload.model_dump(mode="json")
    out["payload model_dump"] = clock() - started
    started = clock()
    entry, data = writer.pack(value, policy, 0.1)
    out["cache pack (encode, compress, normalize)"] = clock() - started
    key = trials._record_key(nct)  # noqa: SLF001
    started = clock()
    await writer.write([(key, entry, data)])
    out["cache write (memory + SQLite queue)"] = clock() - started
    started = clock()
    decoded_payload = RecordPayload.model_validate(entry.value)
    detail = TrialDetail(
        trial=TrialRecord.model_validate(decoded_payload.record), cache=CacheInfo(hit=False, age_seconds=0, stale=False)
    )
    out["answer model (validate cached value)"] = clock() - started
    started = clock()
    answer("get_trial", detail)
    out["render (dump + orjson text)"] = clock() - started
    await cache.flush()
    return out


def cold(app: App, key: str, call: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[float]]:
    """Seconds of ``call`` made cold: its key dropped and SQLite idle beforehand (untimed)."""
    cache = app.lifespan.current.services.cache

    async def run() -> float:
        await cache.invalidate_keys(key)
        await cache.flush()
        started = time.perf_counter()
        await call()
        return time.perf_counter() - started

    return run


async def main(calls: int, top: int) -> None:
    with ReplayServer(latency=0) as replay, scratch() as folder:
        settings = bench_settings(replay.url, folder / "profile.sqlite3")
        app = build_app(settings)
        async with Client(app.mcp, cache=None) as client:
            trials = app.lifespan.current.services.trials
            criteria = Criteria(condition=SEARCH[1]["condition"])
            params = query.page_params(
                query.criteria_params(criteria), SEARCH[1]["page_size"], None, query.search_fields()
            )
            record_key = trials._record_key(TRIAL[1]["nct_id"])  # noqa: SLF001
            search_key = make_key(NS_SEARCH, {"params": params}, CACHE_FORMAT)
            whole = {
                "get_trial: service": cold(app, record_key, lambda: trials.get_trial(TRIAL[1]["nct_id"])),
                "get_trial: SDK call_tool": cold(app, record_key, lambda: client.call_tool(*TRIAL)),
                "search_trials: service": cold(app, search_key, lambda: trials.search(criteria, 5)),
                "search_trials: SDK call_tool": cold(app, search_key, lambda: client.call_tool(*SEARCH)),
            }
            await client.call_tool("get_trial", {"nct_id": PRIMER})  # as cold_warm's primer: another id first
            await app.lifespan.current.services.cache.flush()
            first = await trial_stages(app)  # this process's first cold get_trial of a large record
            for _ in range(5):  # warm-up: first connections, model builds, the client's schema check
                await trial_stages(app)
                for run in whole.values():
                    await run()
            stages: dict[str, list[float]] = {}
            totals: dict[str, list[float]] = {name: [] for name in whole}
            for _ in range(calls):
                for name, seconds in (await trial_stages(app)).items():
                    stages.setdefault(name, []).append(seconds)
                for name, run in whole.items():
                    totals[name].append(await run())
            profiler = cProfile.Profile()
            for _ in range(calls):
                await app.lifespan.current.services.cache.invalidate_keys(record_key)
                await app.lifespan.current.services.cache.flush()
                profiler.enable()
                await client.call_tool(*TRIAL)
                profiler.disable()
    print(
        f"\nStages of a cold get_trial, no upstream latency (microseconds): the process's first pass, the median of {calls}"
    )
    for name, samples in stages.items():
        print(f"  {first[name] * 1e6:9.1f}  {Summary.of(samples).median * 1e6:9.1f}  {name}")
    print("\nWhole cold calls (median microseconds):")
    for name, samples in totals.items():
        print(f"  {Summary.of(samples).median * 1e6:9.1f}  {name}")
    print(f"\ncProfile of {calls} cold SDK get_trial calls, top {top} by own time:")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_cold", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="cold passes to time and to profile (200)")
    parser.add_argument("--top", type=int, default=25, help="functions to list (25)")
    parser.add_argument("--quick", action="store_true", help="50 passes")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse()
    asyncio.run(main(50 if args.quick else args.calls, args.top))
