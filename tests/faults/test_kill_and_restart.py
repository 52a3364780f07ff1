"""No acknowledged answer is lost: a server killed with SIGKILL during a write burst, or restarted
after an 800-call burst, serves every answer its client received from SQLite, without asking the
upstream again.

The console script runs over stdio (raw JSON-RPC, so hundreds of calls can be in flight and the
test knows exactly which answers arrived before the kill); each call is a distinct search (a
distinct cache key, one write to the SQLite tier). After the restart every answered search is
asked again and must be a cache hit from SQLite, with the upstream's request count unchanged.

The SQLite tier commits queued writes in groups, and documents that ``kill -9`` loses what was
still queued: the writes of the few milliseconds before the kill (docs/caching.md,
"Durability"). An answer reaches the client after its write was queued, and the next group
commit starts at once, so by the time the client has read the answer and the test has killed
the server the write has been committed in every run measured (21 of 21); a loss here would
mean that window has grown.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.console_script import server_env, upstream_env
from tests.support.load import RELAXED
from tests.support.replay import ReplayServer
from tests.support.replay_routes.synthetic import condition
from tests.support.stdio_rpc import Answer, StdioServer

pytestmark = pytest.mark.faults

SEARCHES = "/api/v2/studies"
IN_FLIGHT = 64  # the write burst: calls kept in flight at once
KILL_AFTER = 300  # answers received before the SIGKILL
BURST = 800


def stdio_env(replay: ReplayServer, folder: Path) -> dict[str, str]:
    return server_env(
        folder,
        **upstream_env(replay.url),
        TRIALSTOCK_UPSTREAMS__CTGOV_RATE=RELAXED,
        TRIALSTOCK_WORKER__WARM_AT_STARTUP="false",
        TRIALSTOCK_WORKER__IN_SERVER="false",
    )


def search(index: int) -> dict[str, str]:
    return {"condition": condition(index, "burst-")}


def served_after_restart(replay: ReplayServer, env: dict[str, str], indexes: list[int], log: Path) -> dict[str, int]:
    """Ask every search of ``indexes`` again from a new server process: how many were SQLite
    hits, how many were not, and how many upstream requests that took."""
    before = replay.count(SEARCHES)
    with StdioServer(env, log=log) as server:
        ids = [server.send("search_trials", search(i)) for i in indexes]
        answers = server.wait(ids, timeout=120)
        server.close()
    hits = sum(1 for a in answers.values() if a.ok and a.structured.get("cache", {}).get("tier") == "sqlite")
    return {"hits": hits, "lost": len(indexes) - hits, "upstream_requests": replay.count(SEARCHES) - before}


def figures(sent: int, answers: dict[int, Answer], **extra: object) -> str:
    failed = sum(1 for a in answers.values() if not a.ok)
    slowest = max((a.latency for a in answers.values()), default=0.0)
    parts = [f"calls={sent}", f"answered={len(answers) - failed}", f"failed={failed}", f"max_latency={slowest:.3f}s"]
    return " ".join(parts + [f"{name}={value}" for name, value in extra.items()])


def test_sigkill_during_a_write_burst_loses_no_acknowledged_answer(replay: ReplayServer, tmp_path: Path) -> None:
    env = stdio_env(replay, tmp_path)
    sent: dict[int, int] = {}  # request id -> search index
    with StdioServer(env, log=tmp_path / "killed.log") as server:
        while True:
            answered = sum(1 for i in sent if i in server.answers())
            if answered >= KILL_AFTER:
                break
            while len(sent) - answered < IN_FLIGHT:
                sent[server.send("search_trials", search(len(sent)))] = len(sent)
            server.wait(list(sent), timeout=30, at_least=answered + 1)
        server.kill()
        answers = {i: a for i, a in server.answers().items() if i in sent}
    acknowledged = [sent[i] for i, answer in answers.items() if answer.ok]
    after = served_after_restart(replay, env, acknowledged, tmp_path / "restarted.log")
    report = figures(len(sent), answers, in_flight_at_kill=len(sent) - len(answers), **after)
    print("\n" + report)
    assert len(acknowledged) >= KILL_AFTER and len(sent) > len(answers), report  # killed mid-burst
    assert after["lost"] == 0 and after["upstream_requests"] == 0, report


def test_an_800_call_burst_is_all_in_sqlite_after_a_restart(replay: ReplayServer, tmp_path: Path) -> None:
    # What is under test is that answered calls survive a restart, not load shedding: 800 calls
    # arrive at once, so the rate limiter's queue bound and the 10 s deadline are raised (with the
    # defaults a busy machine turned most of the burst away before any write).
    env = {
        **stdio_env(replay, tmp_path),
        "TRIALSTOCK_HTTP__RATE_LIMIT_QUEUE": "10000",
        "TRIALSTOCK_HTTP__CALL_DEADLINE": "120",
    }
    with StdioServer(env, log=tmp_path / "burst.log") as server:
        ids = {server.send("search_trials", search(index)): index for index in range(BURST)}
        answers = server.wait(list(ids), timeout=180)
        server.close()
    acknowledged = [ids[i] for i, answer in answers.items() if answer.ok]
    after = served_after_restart(replay, env, acknowledged, tmp_path / "restarted.log")
    report = figures(BURST, answers, lost_in_flight=BURST - len(answers), **after)
    print("\n" + report)
    assert len(acknowledged) == BURST, report
    assert after["lost"] == 0 and after["upstream_requests"] == 0, report
