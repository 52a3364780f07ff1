"""The benchmarks ``python -m benchmarks`` runs, in order, with what the report says about each.

Every entry names its script (``benchmarks/<module>.py``), the arguments of a full and of a
``--quick`` run, the issue item it answers, and the notes the report prints: ``about`` always,
``if_missed`` only when the run printed a ``MISSED`` line (why, and what would close it).
Scripts owned by other parts of the project are run as they are; a missing one is reported
as missing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Benchmark:
    module: str
    title: str
    item: str
    about: str
    full_args: tuple[str, ...] = ()
    quick_args: tuple[str, ...] = ("--quick",)
    if_missed: str = ""


FLOOR_MISSED = """\
Why: the SDK's Python client re-validates every structured result against the tool's output
schema with `jsonschema` (pure Python) before `call_tool` returns. A `get_trial` record is
~9 KB of nested models (`$ref`s, nullable `anyOf`s), a search page ~3 KB; the trivial tool
returns two fields. The rows "no client-side schema check" send the same request through
`session.send_request`: most of the gap disappears, and `profile_warm` puts the check at
roughly 60-85% of a warm call. What is left is payload size on the server side: the SDK
serializes the returned model twice (structured content plus an indented JSON text copy),
the tools' `Compact._drop_none` model serializer runs on every nested model, and the tool
re-validates the cached dict into pydantic models on every hit. The cache lookup itself is
1-4% of a warm call (see the profile).

What would close it: (1) a client that compiles the output schema once (the TypeScript SDK
uses ajv) or lets a caller opt out; in the Python SDK a compiled validator would remove most
of the gap; (2) flatter output schemas for the big tools: no nullable `anyOf` for fields that
are dropped when None anyway, fewer `$ref` levels, a smaller default record; (3) in `tools/`,
keep the validated model (or the dumped JSON) of a hit instead of re-validating the cached
dict per call. A 9 KB record will still cost more than a constant, so the target compares
unlike payloads; the `send_request` rows are the fairer server-side figure."""

STARTUP_MISSED = """\
Why: both servers pay for starting Python and importing the SDK (nearly all of the trivial
server's time). The real one also imports `tools/` (its self time is mostly pydantic building
the domain models' classes), redis-py (imported at module level by the cache's pub/sub code
even when no Redis is configured), `cache/` and `server/`; registers 12 tools instead of one
(the SDK builds a pydantic model and a JSON schema for each tool's input and output); and
builds its state before it answers (SQLite open with an integrity check, five pooled HTTP
clients, background services). The section's second table sizes each piece in this run; the
imports are the largest. The shared SSL context (see "Changes") took ~0.12 s off the state
build. What would close it: import redis-py only when a Redis URL is set, import each domain's
models and tools lazily, and have the SDK defer tool schema generation to the first
`tools/list` (an SDK change)."""

SCALE_MISSED = """\
Why (memory tier): beyond the payload (the decoded value and its encoded bytes, both kept), each
entry holds its key string (~100 B for a 49-character key), the tier's item object (~64 B),
the `Entry` envelope (~88 B), its three float times (~72 B), the LRU dict slot and links
(~65-90 B) and a slot in the "recently stored" index the statistics use (~20 B). Dropping the
stored size int took 40 B off (see "Changes"). What would close the rest: a plain `dict`
(pop and re-insert on a hit) instead of `OrderedDict` (~-45 B), one object per entry instead
of item + envelope (~-60 B, needs the envelope to carry its bytes), shorter key digests. The
larger lever is outside this target: not keeping the encoded bytes next to the decoded value
in memory (about a third of each entry's memory) and re-encoding on promotion."""

LOAD_MISSED = """\
The errors listed above the verdict are the first few the clients saw. Any error here is a
bug to chase: the workload is warm and the upstream is local."""

STAMPEDE_MISSED = """\
More than one upstream request for one key means single-flight did not coalesce the burst
(e.g. the flight ended before all callers had joined because the loader failed, or the
SQLite tier timed out and a second flight started)."""

OTHERS_MISSED = "See the script's docstring: the target and its rationale belong to that part of the project."

CACHE_TIERS_MISSED = """\
The rows "TieredCache hit, memory bypassed" are the path a restarted server takes (memory
empty, a lower tier answers). Why: on a memory miss `get_or_fetch` starts a single-flight
task and awaits it through `asyncio.shield`, then the lookup runs under the tier guard's
`asyncio.timeout`, decodes the entry (orjson, ~2 KB) and promotes it to memory; the raw
baseline is one SELECT / GET that decodes nothing. That is some tens of microseconds on top of
a 70-110 us thread hop or round trip. Noise matters here too: the script alternates in five
coarse rounds, and the same raw baseline's median moves between rows of one run (compare the
two aiosqlite baselines), so ratios near 1.3x are within noise; finer alternation (as
`scale` does) would steady them. What would close it: look in the lower tiers inline, in the
caller, and start a single-flight task only when the loader must run (two concurrent misses
may then both read SQLite, which is harmless); and compare against a baseline that decodes
what it reads."""

BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("floor", "Tool-call floor", "1",
              "Warm cached `get_trial` / `search_trials` against a trivial constant tool, sequential SDK "
              "client calls, in memory and over stdio. Targets: >= 75% of the trivial tool's calls/s in "
              "memory, >= 90% over stdio.", if_missed=FLOOR_MISSED),
    Benchmark("cold_warm", "Cold versus warm versus restarted", "2",
              "First call (one upstream fetch at 100 ms), warm call (memory tier), first call after a "
              "restart (SQLite tier), over stdio, against one raw upstream GET. No target."),
    Benchmark("cache_tiers", "Cache tiers", "3",
              "Tier hits through the engine against the raw libraries (cachetools, aiosqlite, redis-py) "
              "on the same data, throwaway redis-server.", quick_args=(), if_missed=CACHE_TIERS_MISSED),
    Benchmark("scale", "Scale: SQLite at 1,000 vs 1,000,000 entries, memory per entry", "3",
              "SQLite hit latency with 1,000 and 1,000,000 entries (target within 1.5x) and the memory "
              "tier's bytes per entry beyond the payload (target < 400 B).", if_missed=SCALE_MISSED),
    Benchmark("stampede", "Stampede", "4",
              "1,000 concurrent identical cold calls: upstream requests (target 1) and the slowest "
              "caller against one upstream fetch.", if_missed=STAMPEDE_MISSED),
    Benchmark("ctgov_batch", "Batch", "5",
              "20 mutation searches at bound 5 against sequential, next to ceil(20/5) x latency.",
              quick_args=(), if_missed=OTHERS_MISSED),
    Benchmark("refresh_ahead", "Refresh-ahead", "6",
              "Hot, expensive keys with refresh-ahead off and on.", quick_args=("--duration", "5"),
              if_missed=OTHERS_MISSED),
    Benchmark("invalidation", "Invalidation propagation", "6",
              "Cross-process invalidation latency over Redis pub/sub against a bare PUBLISH.",
              quick_args=(), if_missed=OTHERS_MISSED),
    Benchmark("startup", "Start-up", "7",
              "Process start to the first `tools/list` answer over stdio against the trivial server "
              "(target within 1.3x).", if_missed=STARTUP_MISSED),
    Benchmark("load", "Under load", "8",
              "8 concurrent clients over streamable HTTP for 30 s on a warm mixed workload: throughput, "
              "p50/p99, errors (target zero).", if_missed=LOAD_MISSED),
    Benchmark("profile_warm", "Profile of the slowest warm path", "acceptance",
              "The slowest warm tool call of the mixed workload, peeled layer by layer and profiled."),
)


def by_name(names: list[str]) -> list[Benchmark]:
    """The benchmarks named (module names), in catalogue order; ValueError for an unknown name."""
    known = {b.module: b for b in BENCHMARKS}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [b for b in BENCHMARKS if b.module in names]


CHANGES = """\
Found by profiling (`benchmarks.profile_warm`, cProfile of start-up and of the lifespan, and
`tracemalloc` in `benchmarks.scale`); behaviour and tests unchanged. Before/after figures are
A/B runs of the old and the new module in one process on this machine (medians).

| Change | Before | After |
|---|---|---|
| `server/lifespan.py`: the five upstream HTTP clients share ONE SSL context (`pooled_transports`); httpx built one per client, each loading the whole CA bundle (~25 ms) | state build 170 ms | 46 ms |
| `cache/backends/memory.py`: an item's size (`len(data) + len(key)`) is recomputed instead of stored (an int object plus a slot per entry) | 6,485 B per stored ~2 KB entry (493 B beyond payload) | 6,445 B (-40 B); `get_entry` unchanged within noise |

The slowest warm path (`profile_warm` below) was profiled too, and nothing in `server/` or
`cache/` was worth taking off it: the cache engine (lookup, key, statistics) is 1-4% of a warm
call and the `server/` middleware about 1%. The time goes to the SDK client's output-schema
check (jsonschema, client side), the SDK's conversion of the returned model, and the tools'
re-validation of cached dicts; the Tool-call floor section lists what would remove those
(changes in `tools/` and in the SDK, outside this task's files)."""
