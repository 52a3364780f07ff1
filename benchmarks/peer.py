"""The peer in our own benchmark: ``python -m benchmarks.peer [--quick] [--no-cache-control]``.

Side by side over stdio, with the SDK client, against one replay upstream at 0 ms latency:

- ``trialstock-mcp serve`` (memory + SQLite tiers, a fresh SQLite file per round);
- the peer, BioMCP (:data:`PEER_SPEC`, a compiled binary; ``biomcp mcp``), installed into a
  throwaway virtual environment that is removed at the end, in its default cache mode and
  with ``BIOMCP_CACHE_MODE=infinite``. Its ClinicalTrials.gov base is pointed at the replay
  with ``BIOMCP_CTGOV_BASE=<replay>/api/v2``; ``HOME`` and ``XDG_*`` point into the round's
  folder, so its disk HTTP cache (``$XDG_CACHE_HOME/biomcp/http``) starts empty each round and
  "after restart" is a new process on the same cache directory. Any other host it might try
  goes to a dead proxy on 127.0.0.1 (``HTTPS_PROXY``; ``NO_PROXY`` exempts the replay). Its
  per-host request pacing (left on, it held uncached calls ~100 ms apart here) is off for the
  replay (``BIOMCP_TEST_UNPACED_ORIGIN=<replay>/``), as our server's rate limits are relaxed;
- the floor: ``benchmarks._cacheless``, a cacheless MCPServer whose two tools each do one
  ``httpx`` GET to the replay (asking for the record's pieces our server asks for) and return
  the JSON. It is the floor of the upstream path (a cold call), not of answer size: it returns
  the whole upstream body (for the record, the ACTT study's protocol section, ~47 KB), so it
  is slower there than any server that returns a compact answer.

The peer's default mode caches only what the upstream marks cacheable: by default the replay
adds ``Cache-Control: max-age=86400`` to every ClinicalTrials.gov answer in this benchmark, so
both of the peer's modes cache. ``--no-cache-control`` leaves the header off: the default
mode then asks the upstream on every call. Every server's stderr goes to a log file in its
round folder (the peer prints one line there when its stdin closes).

Calls: a search for :data:`benchmarks._harness.SEARCH`'s condition (5 results) and the
record :data:`benchmarks._harness.TRIAL`; the peer's equivalents are its ``search`` and
``get`` tools with ``entity: trial`` (its default Markdown output). For each server, in turn
(the order rotates each round), one round times: start-up (spawn + initialize handshake +
first ``tools/list``, and the ``tools/list`` size in bytes); the cold first call; warm calls
(p50); then, in a new process on the same cache, the first call after the restart; then, in a
third process, a cached search as the process's second call against the same call repeated
after it (what a fresh process's warm-up costs each server, the floor included).

A connection's first call of a tool makes the SDK client check the tool's output schema once
(client side; ~40 ms for ``get_trial``). So for EVERY server alike, an untimed call of the
same tool with other arguments (a cached one, in the restarted process) goes first in each
process and the timed calls show the server's path; those primers of the restarted process
(its true first calls, schema check included) are a table of their own. Our answers' cache
metadata is checked (cold: miss, warm: memory, restart: sqlite); the upstream requests each
server made per phase are printed, which shows what each peer mode really cached.

Targets (same run): every cold, warm and after-restart median of ours at or below the peer's
best mode for that figure; our first call of a restarted process (served from SQLite) within
2x of a warm call; start-up within 1.3x of the trivial Python MCP server
(``benchmarks._trivial``, as in ``benchmarks.startup``). The peer is a compiled binary: its
start-up is shown, not a target.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from benchmarks import cold_warm
from benchmarks._cacheless import BASE_ENV
from benchmarks._harness import REPO, SEARCH, TRIAL, ToolCall, child_env, scratch, stdio_params
from benchmarks._peer_install import PeerUnavailable, installed_peer
from benchmarks._table import Row, Summary, Target, print_table, print_targets
from benchmarks.startup import TARGET as STARTUP_TARGET
from tests.support.replay import DEFAULT_FIXTURES, ReplayServer, Reply, Route, RouteRequest
from tests.support.replay_routes import answer, load_routes

PEER_SPEC = "biomcp-cli==0.9.3"
PEER_BINARY = "biomcp"
MAX_AGE = 86400
SEARCH_CONDITION, SEARCH_SIZE = SEARCH[1]["condition"], SEARCH[1]["page_size"]
NCT_ID = TRIAL[1]["nct_id"]
KINDS = ("search", "record")
REPEATS = 10
"""Later calls timed in the warm-up process (see :func:`warm_up`); their median is its steady state."""
PHASES = ("cold", "warm", "restart")
PHASE_LABELS = {"cold": "cold (first call)", "warm": "warm p50", "restart": "first call after restart"}
Samples = dict[str, list[float]]  # "<phase> <kind>" or "startup"/"handshake" -> seconds


@dataclass(frozen=True)
class Subject:
    """A server under test: how to start it (given its cache folder) and its calls."""

    name: str
    params: Callable[[Path], StdioServerParameters]
    calls: dict[str, ToolCall]  # kind -> timed call
    primers: dict[str, ToolCall]  # kind -> the same tool, other (recorded) arguments
    ours: bool = False


def ours(replay_url: str) -> Subject:
    return Subject(
        "trialstock-mcp",
        lambda folder: stdio_params("trialstock", child_env(replay_url, folder), folder),
        {"search": SEARCH, "record": TRIAL},
        {"search": cold_warm.PRIMERS["search_trials"], "record": cold_warm.PRIMERS["get_trial"]},
        ours=True,
    )


def floor(replay_url: str) -> Subject:
    def params(folder: Path) -> StdioServerParameters:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(folder), "PYTHONPATH": str(REPO)}
        env[BASE_ENV] = f"{replay_url}/api/v2"
        return StdioServerParameters(
            command=sys.executable, args=["-m", "benchmarks._cacheless"], env=env, cwd=str(folder)
        )

    return Subject(
        "cacheless floor",
        params,
        {"search": SEARCH, "record": TRIAL},
        {"search": cold_warm.PRIMERS["search_trials"], "record": cold_warm.PRIMERS["get_trial"]},
    )


def peer(binary: Path, replay_url: str, mode: str | None) -> Subject:
    """The peer; ``mode`` is its ``BIOMCP_CACHE_MODE`` (None: unset, its default)."""

    def params(folder: Path) -> StdioServerParameters:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(folder),
            "XDG_CACHE_HOME": str(folder / ".cache"),
            "XDG_CONFIG_HOME": str(folder / ".config"),
            "XDG_DATA_HOME": str(folder / ".local" / "share"),
            "BIOMCP_CTGOV_BASE": f"{replay_url}/api/v2",
            # Its per-host request pacing off for the replay, as our rate limits are relaxed.
            "BIOMCP_TEST_UNPACED_ORIGIN": f"{replay_url}/",
            "RUST_LOG": "error",
            # Nothing but the replay: any other host goes to a closed port on 127.0.0.1.
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "HTTP_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost",
        }
        if mode is not None:
            env["BIOMCP_CACHE_MODE"] = mode
        return StdioServerParameters(command=str(binary), args=["mcp"], env=env, cwd=str(folder))

    return Subject(
        f"peer ({mode or 'default'} mode)",
        params,
        {
            "search": ("search", {"entity": "trial", "condition": [SEARCH_CONDITION], "limit": SEARCH_SIZE}),
            "record": ("get", {"entity": "trial", "id": NCT_ID}),
        },
        {
            "search": ("search", {"entity": "trial", "condition": ["melanoma"], "status": "recruiting", "limit": 3}),
            "record": ("get", {"entity": "trial", "id": "NCT02576665"}),
        },
    )


def trivial(replay_url: str) -> Subject:
    """Start-up baseline only (one constant tool)."""
    return Subject(
        "trivial server", lambda folder: stdio_params("trivial", child_env(replay_url, folder), folder), {}, {}
    )


async def timed(subject: Subject, client: Client, call: ToolCall, tier: str | None) -> float:
    """Seconds for one call; our answers must come from ``tier`` (None: an upstream fetch)."""
    if subject.ours:
        return await cold_warm.timed(client, call, tier)
    started = time.perf_counter()
    result = await client.call_tool(*call)
    elapsed = time.perf_counter() - started
    if result.is_error:
        raise RuntimeError(f"{subject.name}: {call[0]} failed: {result.content}")
    return elapsed


@dataclass
class Measured:
    samples: Samples
    upstream: dict[str, int]  # phase -> requests the replay saw
    list_bytes: int = 0
    tools: int = 0
    answer_bytes: dict[str, int] = field(default_factory=dict)  # kind -> one warm answer (JSON-RPC result)


async def one_round(subject: Subject, replay: ReplayServer, folder: Path, warm_calls: int) -> Measured:
    folder.mkdir()
    params = subject.params(folder)
    out = Measured({}, {})
    add = out.samples.setdefault
    with open(folder / "stderr.log", "a") as log:
        await first_process(subject, client_of(params, log), replay, out, warm_calls)
        if not subject.calls:
            return out
        before = replay.count()
        async with client_of(params, log) as client:  # a new process, same cache
            for kind in KINDS:
                add(f"primer {kind}", []).append(await timed(subject, client, subject.primers[kind], "sqlite"))
                add(f"restart {kind}", []).append(await timed(subject, client, subject.calls[kind], "sqlite"))
        out.upstream["restarted process"] = replay.count() - before
        await warm_up(subject, client_of(params, log), out)
    return out


async def warm_up(subject: Subject, connect: Client, out: Measured) -> None:
    """A third process on the same cache: its first call (the search primer), the same call
    again as its second call, then :data:`REPEATS` more. The timed calls after a restart are a
    process's second calls; this shows what being second costs a server when its answer comes
    from its cache (ours: the memory tier) against the same call once the process has run a while."""
    add = out.samples.setdefault
    primer = subject.primers["search"]
    async with connect as client:
        await timed(subject, client, primer, "sqlite")
        add("second call", []).append(await timed(subject, client, primer, "memory"))
        add("steady", []).extend([await timed(subject, client, primer, "memory") for _ in range(REPEATS)])


def client_of(params: StdioServerParameters, log: TextIO) -> Client:
    """The SDK client over stdio; the server's stderr goes to ``log`` (the same for every server)."""
    return Client(stdio_client(params, errlog=log), cache=None, read_timeout_seconds=60)


async def first_process(
    subject: Subject, connect: Client, replay: ReplayServer, out: Measured, warm_calls: int
) -> None:
    """Start-up, tools/list, cold calls and warm calls in the first process on an empty cache."""
    add = out.samples.setdefault
    before = replay.count()
    started = time.perf_counter()
    async with connect as client:
        add("handshake", []).append(time.perf_counter() - started)
        listed = await client.list_tools()
        add("startup", []).append(time.perf_counter() - started)
        out.list_bytes = len(listed.model_dump_json(by_alias=True, exclude_none=True).encode())
        out.tools = len(listed.tools)
        if not subject.calls:
            return
        for kind in KINDS:
            await timed(subject, client, subject.primers[kind], None)
            add(f"cold {kind}", []).append(await timed(subject, client, subject.calls[kind], None))
        out.upstream["first process"] = replay.count() - before
        before = replay.count()
        for kind in KINDS:
            add(f"warm {kind}", []).extend(
                [await timed(subject, client, subject.calls[kind], "memory") for _ in range(warm_calls)]
            )
        out.upstream["warm calls"] = replay.count() - before
        for kind in KINDS:  # untimed: what a client receives per call
            result = await client.call_tool(*subject.calls[kind])
            out.answer_bytes[kind] = len(result.model_dump_json(by_alias=True, exclude_none=True).encode())


async def measure(
    subjects: list[Subject], replay: ReplayServer, folder: Path, rounds: int, warm_calls: int
) -> dict[str, list[Measured]]:
    """Every subject once per round, the order rotating; one untimed warm-up round first."""
    for number, subject in enumerate(subjects):
        await one_round(subject, replay, folder / f"warmup-{number}", 2)
    out: dict[str, list[Measured]] = {subject.name: [] for subject in subjects}
    for index in range(rounds):
        shift = index % len(subjects)
        for number, subject in enumerate(subjects[shift:] + subjects[:shift]):
            out[subject.name].append(await one_round(subject, replay, folder / f"r{index}-{number}", warm_calls))
    return out


def cache_control_routes(max_age: int) -> list[Route]:
    """Every ClinicalTrials.gov route of the fixtures, answered with ``Cache-Control: max-age``."""
    table = load_routes(DEFAULT_FIXTURES)

    def with_header(request: RouteRequest) -> Reply:
        reply = answer(table, request)
        if reply is None:
            raise FileNotFoundError(request.path)
        return replace(reply, headers={**reply.headers, "cache-control": f"max-age={max_age}"})

    return [Route(re.compile(r"/api/v2/.*"), with_header)]


def pooled(runs: list[Measured], key: str) -> list[float]:
    return [value for run in runs for value in run.samples.get(key, [])]


def median(values: list[float]) -> float:
    return Summary.of(values).median


def report(results: dict[str, list[Measured]], names: list[str], peers: list[str]) -> None:
    floor_name, ours_name, trivial_name = "cacheless floor", "trialstock-mcp", "trivial server"
    rows = []
    for kind in KINDS:
        for phase in PHASES:
            key = f"{phase} {kind}"
            base = pooled(results[floor_name], key)
            for name in [ours_name, *peers]:
                rows.append(Row(f"{kind}: {PHASE_LABELS[phase]}: {name}", pooled(results[name], key), "floor", base))
    print_table(rows, title="Per call over stdio, upstream latency 0 ms, baseline the cacheless floor", unit="ms")
    primers = [
        Row(
            f"{kind}: restarted process's first call: {name}",
            pooled(results[name], f"primer {kind}"),
            "floor",
            pooled(results[floor_name], f"primer {kind}"),
        )
        for kind in KINDS
        for name in [ours_name, *peers]
    ]
    print_table(
        primers,
        title="The restarted process's first call of each tool (the untimed primer above; includes the SDK client's"
        " one-time output-schema check where the tool has an output schema)",
        unit="ms",
    )
    warm_ups = [
        Row(
            f"{name}: a fresh process's second call",
            pooled(results[name], "second call"),
            "its steady state",
            pooled(results[name], "steady"),
        )
        for name in [ours_name, floor_name, *peers]
    ]
    print_table(
        warm_ups,
        title="A fresh process's second call (a cached search, the same as its first) against the same call"
        f" repeated {REPEATS} times after it (the floor asks the upstream every time)",
        unit="ms",
    )
    startup = [
        Row(f"{name}: {what}", pooled(results[name], key), trivial_name, pooled(results[trivial_name], key))
        for key, what in (("handshake", "spawn + initialize"), ("startup", "spawn + initialize + first tools/list"))
        for name in names
        if name != trivial_name
    ]
    print_table(startup, title="Start-up over stdio, baseline the trivial Python MCP server", unit="ms")
    print("Answer sizes (JSON-RPC results, bytes: tools/list; one search; one record) and upstream requests per")
    print("round (median; first process = 2 primers + 2 cold calls + any start-up check; then the warm calls;")
    print("restarted process = 2 primers + 2 calls; 0 means answered from its cache):")
    for name in names:
        runs = results[name]
        sizes = " ".join(f"{runs[-1].answer_bytes.get(kind, 0):7,}" for kind in KINDS)
        phases = ", ".join(
            f"{phase} {median([float(run.upstream.get(phase, 0)) for run in runs]):.0f}"
            for phase in ("first process", "warm calls", "restarted process")
        )
        print(f"  {name:22} {runs[-1].list_bytes:7,} ({runs[-1].tools:2} tools) {sizes};  {phases}")
    print()
    targets = []
    for kind in KINDS:
        for phase in PHASES:
            key = f"{phase} {kind}"
            mine = median(pooled(results[ours_name], key))
            if peers:
                best = min(peers, key=lambda name: median(pooled(results[name], key)))
                theirs = median(pooled(results[best], key))
                targets.append(
                    Target(
                        f"{kind} {PHASE_LABELS[phase]}: ours at or below the peer's best mode ({best})",
                        f"{mine * 1000:.2f} ms vs {theirs * 1000:.2f} ms ({mine / theirs:.2f}x)",
                        mine <= theirs,
                    )
                )
    if not peers:
        print("The targets against the peer are not checked: the peer rows were skipped (see above).\n")
    for kind in KINDS:
        restart = median(pooled(results[ours_name], f"restart {kind}"))
        warm = median(pooled(results[ours_name], f"warm {kind}"))
        targets.append(
            Target(
                f"{kind}: our first call after restart (SQLite) within 2x of a warm call",
                f"{restart * 1000:.2f} ms vs {warm * 1000:.2f} ms ({restart / warm:.2f}x)",
                restart <= 2 * warm,
            )
        )
    mine, base = median(pooled(results[ours_name], "startup")), median(pooled(results[trivial_name], "startup"))
    targets.append(
        Target(
            f"start-up (to first tools/list) within {STARTUP_TARGET}x of the trivial server",
            f"{mine * 1000:.0f} ms vs {base * 1000:.0f} ms ({mine / base:.2f}x)",
            mine <= STARTUP_TARGET * base,
        )
    )
    print_targets(targets)


async def run(binary: Path | None, cache_control: bool, rounds: int, warm_calls: int) -> None:
    routes = cache_control_routes(MAX_AGE) if cache_control else None
    with ReplayServer(routes=routes) as replay, scratch("trialstock-peer-bench-") as folder:
        subjects = [ours(replay.url), floor(replay.url), trivial(replay.url)]
        if binary is not None:
            subjects += [peer(binary, replay.url, None), peer(binary, replay.url, "infinite")]
        peers = [subject.name for subject in subjects if subject.name.startswith("peer")]
        results = await measure(subjects, replay, folder, rounds, warm_calls)
        if binary is not None:  # the peer's caches lived in the round folders, nowhere else
            caches = len(list(folder.glob("r*/.cache/biomcp/http/index-v*")))
            print(f"Peer HTTP cache indexes found inside the round folders: {caches} (expected {len(peers) * rounds})")
    report(results, [subject.name for subject in subjects], peers)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    rounds, warm_calls = (3, 10) if args.quick else (7, 30)
    header = f"CT.gov answers carry Cache-Control: max-age={MAX_AGE}." if args.cache_control else "No Cache-Control."
    print(f"Peer: {PEER_SPEC} (a throwaway environment). Replay latency 0 ms. {header}")
    print(f"{rounds} alternating rounds, {warm_calls} warm calls per tool per round; the machine may be shared.")
    try:
        with installed_peer(PEER_SPEC, PEER_BINARY) as binary:
            asyncio.run(run(binary, args.cache_control, rounds, warm_calls))
            return
    except PeerUnavailable as exc:
        print(f"\nPEER ROWS SKIPPED: {PEER_SPEC} could not be installed or run here ({exc}).")
        print("Our server, the floor and the trivial server are measured without it.\n")
    asyncio.run(run(None, args.cache_control, rounds, warm_calls))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peer", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of 10 warm calls (default 7 of 30)")
    parser.add_argument(
        "--no-cache-control",
        dest="cache_control",
        action="store_false",
        help="the replay sends no Cache-Control: the peer's default mode then caches nothing",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
