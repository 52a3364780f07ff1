"""Tool-call floor: warm cached tools against the SDK's own cost: ``python -m benchmarks.floor``.

Sequential calls through the SDK client (``mcp.Client``, client-side response cache off), in
memory (the server in this process) and over stdio (the server as a child process, started the
way an agent starts it). The baseline is ``benchmarks._trivial``: one tool returning a constant
pydantic model, measured in the same run, in alternating rounds with the subjects.

Rows: warm cached ``get_trial`` and ``search_trials`` (every call a memory-tier hit), and the
same two sent with ``client.session.send_request``, which skips the SDK client's re-validation
of the structured result against the tool's output schema (jsonschema, client side): the gap
between the two is what the client spends, the rest is transport plus server.

An 8 KB record costs the SDK more to carry than the trivial tool's two fields whatever the
server does, so two more rows send each tool's real answer (taken from the server in this run)
from a constant tool of the trivial server: the SDK's cost for those bytes, no server work. The
warm tool's ratio to that row is the part the server can still act on.

In memory, that part is split once more: a second copy of our server whose domain service
answers every ``get_trial`` and ``search_trials`` with the result it computed first (the tool's
own work, cache lookup included, replaced by a prebuilt answer; everything else as in the real
server: middleware, argument normalisation and validation, the deadline, rendering the answer,
the client's check). Its ratio to the trivial tool is the most a server of this shape can reach
with a free tool; the warm row's ratio to it is what the tool's own work adds.

Targets: warm cached calls reach >= 90% of the trivial tool's calls per second over stdio and
>= 75% in memory (calls per second = calls / the time they took, per subject).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
from mcp import Client, types

from benchmarks._harness import SEARCH, TRIAL, ToolCall, bench_settings, child_env, quick_flag, scratch, stdio_params
from benchmarks._table import Row, Target, calls_per_second, interleaved, print_table, print_targets
from benchmarks._trivial import TOOL, build_trivial
from server.app import build_app, build_server
from tests.support.replay import ReplayServer

TARGET_SHARE = {"in-memory": 0.75, "stdio": 0.90}
Call = Callable[[], Awaitable[Any]]


def sdk_call(client: Client, call: ToolCall) -> Call:
    """``client.call_tool`` as an agent makes it (the client validates the structured result)."""
    name, args = call

    async def run() -> Any:
        return await client.call_tool(name, args)

    return run


def unvalidated_call(client: Client, call: ToolCall) -> Call:
    """The same request through the session, without the client-side output-schema check."""
    name, args = call
    request = types.CallToolRequest(params=types.CallToolRequestParams(name=name, arguments=args))

    async def run() -> Any:
        return await client.session.send_request(request, types.CallToolResult)

    return run


async def warm(client: Client, call: ToolCall, times: int = 20) -> None:
    """Load ``call`` once (cold), then repeat until it is a warm memory-tier hit."""
    for _ in range(times):
        result = await client.call_tool(*call)
        if result.is_error:
            raise RuntimeError(f"{call[0]} failed while warming: {result.content}")
    cache = (result.structured_content or {}).get("cache")
    if isinstance(cache, dict) and cache.get("tier") != "memory":  # tools without cache metadata pass
        raise RuntimeError(f"{call[0]} is not a memory-tier hit after warming: {cache}")


SAME_BYTES = {"same_trial": TRIAL, "same_search": SEARCH}
"""The trivial server's constant-answer tools and the real call whose answer each sends."""


async def measure(
    trivial: Client, real: Client, *, rounds: int, samples: int, framework: Client | None = None
) -> list[list[float]]:
    """Samples for [trivial, get_trial, search_trials, get_trial unvalidated, search unvalidated,
    get_trial's answer as a constant, search_trials' answer as a constant], then with
    ``framework`` (the server of :func:`prebuilt_services`) its get_trial and search_trials."""
    extra = [] if framework is None else [framework]
    for client, call in (
        (trivial, (TOOL, {})),
        *((c, TRIAL) for c in (real, *extra)),
        *((c, SEARCH) for c in (real, *extra)),
    ):
        await warm(client, call)
    fns = [
        sdk_call(trivial, (TOOL, {})),
        sdk_call(real, TRIAL),
        sdk_call(real, SEARCH),
        unvalidated_call(real, TRIAL),
        unvalidated_call(real, SEARCH),
        *(sdk_call(trivial, (name, {})) for name in SAME_BYTES),
        *(sdk_call(client, call) for client in extra for call in (TRIAL, SEARCH)),
    ]
    for fn in fns:  # untimed warm-up of every path (imports, caches, branch predictors)
        for _ in range(50):
            await fn()
    return await interleaved(fns, rounds=rounds, samples=samples, keep_gc=True)


async def warm_answers(replay: ReplayServer, folder: Path) -> dict[str, dict[str, Any]]:
    """The structured answers of the calls in SAME_BYTES, warm, from a server in this process."""
    server = build_server(bench_settings(replay.url, folder / "answers.sqlite3"))
    answers: dict[str, dict[str, Any]] = {}
    async with Client(server, cache=None) as client:
        for name, call in SAME_BYTES.items():
            await warm(client, call, times=2)
            result = await client.call_tool(*call)
            assert result.structured_content is not None and not result.is_error, result.content
            answers[name] = result.structured_content
    return answers


def prebuilt(owner: object, method: str) -> None:
    """``owner.method`` answers every call with what its first call returned (an instance
    attribute over the real method: this benchmark's servers only)."""
    real = getattr(owner, method)
    kept: list[Any] = []

    async def first_answer(*args: Any, **kwargs: Any) -> Any:
        if not kept:
            kept.append(await real(*args, **kwargs))
        return kept[0]

    setattr(owner, method, first_answer)


async def in_memory(
    replay: ReplayServer, folder: Path, answers: dict[str, dict[str, Any]], *, rounds: int, samples: int
) -> list[list[float]]:
    server = build_server(bench_settings(replay.url, folder / "memory.sqlite3"))
    framework = build_app(bench_settings(replay.url, folder / "framework.sqlite3"))
    async with (
        Client(build_trivial(answers), cache=None) as trivial,
        Client(server, cache=None) as real,
        Client(framework.mcp, cache=None) as free,
    ):
        for call in (TRIAL, SEARCH):  # the answers kept below are then memory-tier hits
            await warm(free, call)
        trials = framework.lifespan.current.services.trials
        prebuilt(trials, "get_trial")
        prebuilt(trials, "search")
        return await measure(trivial, real, rounds=rounds, samples=samples, framework=free)


async def over_stdio(
    replay: ReplayServer, folder: Path, answers: dict[str, dict[str, Any]], *, rounds: int, samples: int
) -> list[list[float]]:
    env = child_env(replay.url, folder)
    payloads = folder / "answers.json"
    payloads.write_bytes(orjson.dumps(answers))
    trivial_params, real_params = stdio_params("trivial", env, folder), stdio_params("trialstock", env, folder)
    trivial_params.args = [*trivial_params.args, "--payloads", str(payloads)]
    async with (
        Client(trivial_params, cache=None, read_timeout_seconds=60) as trivial,
        Client(real_params, cache=None, read_timeout_seconds=60) as real,
    ):
        return await measure(trivial, real, rounds=rounds, samples=samples)


def report(transport: str, samples: Sequence[list[float]]) -> list[Target]:
    """Print the table for one transport; return its two targets."""
    trivial, trial, search, trial_raw, search_raw, same_trial, same_search, *free = samples
    share = TARGET_SHARE[transport]
    base = f"trivial tool ({transport})"
    rows = [
        Row(
            f"get_trial warm ({transport})",
            trial,
            base,
            trivial,
            note=f"calls/s {calls_per_second(trial):,.0f} vs {calls_per_second(trivial):,.0f}",
        ),
        Row(
            f"search_trials warm ({transport})",
            search,
            base,
            trivial,
            note=f"calls/s {calls_per_second(search):,.0f} vs {calls_per_second(trivial):,.0f}",
        ),
        Row(
            "get_trial, no client-side schema check",
            trial_raw,
            base,
            trivial,
            note="session.send_request: transport + server only",
        ),
        Row(
            "search_trials, no client-side schema check",
            search_raw,
            base,
            trivial,
            note="session.send_request: transport + server only",
        ),
        Row(
            "get_trial's answer, constant (SDK only)", same_trial, base, trivial, note="the SDK's cost for those bytes"
        ),
        Row("search_trials' answer, constant (SDK only)", same_search, base, trivial),
        Row(
            f"get_trial warm ({transport})",
            trial,
            "its answer as a constant",
            same_trial,
            note="what the server and the client's schema check add to carrying the bytes",
        ),
        Row(f"search_trials warm ({transport})", search, "its answer as a constant", same_search),
    ]
    if free:
        free_trial, free_search = free
        rows += [
            Row(
                "get_trial, the tool's work prebuilt",
                free_trial,
                base,
                trivial,
                note="our server with a free tool: the most this shape can reach",
            ),
            Row("search_trials, the tool's work prebuilt", free_search, base, trivial),
            Row(
                f"get_trial warm ({transport})",
                trial,
                "the tool's work prebuilt",
                free_trial,
                note="what the tool's own work (service, cache lookup) adds",
            ),
            Row(f"search_trials warm ({transport})", search, "the tool's work prebuilt", free_search),
        ]
    print_table(rows, title=f"Tool-call floor, sequential SDK client calls, {transport}")
    targets = []
    for name, subject in (("get_trial", trial), ("search_trials", search)):
        reached = calls_per_second(subject) / calls_per_second(trivial)
        targets.append(
            Target(
                f"warm {name} {transport} >= {share:.0%} of trivial calls/s",
                f"{reached:.0%} ({calls_per_second(subject):,.0f} vs {calls_per_second(trivial):,.0f} calls/s)",
                reached >= share,
            )
        )
    return targets


async def main(quick: bool = False) -> None:
    rounds, memory_samples, stdio_samples = (3, 100, 100) if quick else (5, 400, 300)
    with ReplayServer() as replay, scratch() as folder:
        answers = await warm_answers(replay, folder)
        memory = await in_memory(replay, folder, answers, rounds=rounds, samples=memory_samples)
        stdio = await over_stdio(replay, folder, answers, rounds=rounds, samples=stdio_samples)
    targets = report("in-memory", memory) + report("stdio", stdio)
    print_targets(targets)


if __name__ == "__main__":
    asyncio.run(main(quick_flag()))
