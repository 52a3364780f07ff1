"""The replay upstream itself, and UpstreamClient talking to it over real loopback HTTP."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support.clock import ManualClock
from tests.support.replay import DEFAULT_FIXTURES, RESET, ReplayServer, Reply, Route
from tools.http.client import UpstreamClient
from tools.http.config import HttpPolicy
from tools.http.errors import BadPayload, NotFound, Rejected, TimedOut
from tools.http.factory import build_upstream

REPO = Path(__file__).resolve().parents[3]
MIS = DEFAULT_FIXTURES / "mis" / "mis_getstockinfo_tse_2330_20240516_104454.json"
MELANOMA = DEFAULT_FIXTURES / "ctgov" / "biomcp_search_melanoma_recruiting_limit3_20260811.json"
ERROR_BODY = json.loads((DEFAULT_FIXTURES / "ctgov" / "error_bodies.json").read_text())[0]["body"]


def routes() -> list[Route]:
    return [
        Route("/api/v2/studies", Reply.file(MELANOMA), when=lambda q: q.get("query.cond") == "melanoma"),
        Route("/api/v2/studies", Reply.text(ERROR_BODY, status=400), when=lambda q: "filter.overallStatus" in q),
        Route(re.compile(r"/api/v2/studies/(NCT\d{8})"), lambda req: Reply.json({"id": req.match[1]})),
        Route("/stock/api/getStockInfo.jsp", Reply.file(MIS, content_type="text/html;charset=UTF-8")),
        Route("/maintenance", Reply.text("<html><body>down for maintenance</body></html>", content_type="text/html")),
    ]


@pytest.fixture
def replay():  # noqa: ANN201 - generator fixture
    with ReplayServer(routes=routes()) as server:
        yield server


def client_for(replay: ReplayServer, clock: ManualClock, name: str = "ctgov", **policy: float) -> UpstreamClient:
    return build_upstream(
        name,
        replay.base_url(name),
        policy=HttpPolicy(**policy),
        rate=None,
        user_agent="test",
        clock=clock,
        sleep=clock.sleep,
    )


async def test_recorded_search_through_ctgov_base_url(replay: ReplayServer, clock: ManualClock) -> None:
    async with client_for(replay, clock) as client:
        data = await client.get_json("/studies", {"query.cond": "melanoma", "filter.geo": None})
        study = await client.get_json("/studies/NCT04280705")
    assert data == json.loads(MELANOMA.read_bytes()) and study == {"id": "NCT04280705"}
    assert replay.counts() == {"/api/v2/studies": 1, "/api/v2/studies/NCT04280705": 1}


async def test_unmatched_request_is_404_naming_path_and_query(replay: ReplayServer, clock: ManualClock) -> None:
    async with client_for(replay, clock) as client:
        with pytest.raises(NotFound) as caught:
            await client.get_json("/studies", {"query.cond": "unrecorded"})
    assert caught.value.body == "no recorded response for /api/v2/studies?query.cond=unrecorded"


async def test_recorded_400_body_reaches_rejected(replay: ReplayServer, clock: ManualClock) -> None:
    async with client_for(replay, clock) as client:
        with pytest.raises(Rejected) as caught:
            await client.get_json("/studies", {"filter.overallStatus": "BADSTATUS"})
    assert caught.value.body == ERROR_BODY and replay.count() == 1


async def test_mis_json_served_as_text_html_parses(replay: ReplayServer, clock: ManualClock) -> None:
    async with client_for(replay, clock, name="mis") as client:
        data = await client.get_json("/stock/api/getStockInfo.jsp", {"ex_ch": "tse_2330.tw", "json": 1})
    assert data["msgArray"][0]["c"] == "2330" and data["msgArray"][0]["z"] == "-"


async def test_html_page_is_bad_payload(replay: ReplayServer, clock: ManualClock) -> None:
    async with client_for(replay, clock, name="twse") as client:
        with pytest.raises(BadPayload, match="maintenance"):
            await client.get_json("/maintenance")


async def test_scripted_503_then_recorded_200(replay: ReplayServer, clock: ManualClock) -> None:
    replay.script("/stock/api/getStockInfo.jsp", Reply.text("busy", status=503))
    async with client_for(replay, clock, name="mis") as client:
        data = await client.get_json("/stock/api/getStockInfo.jsp")
    assert data["rtcode"] == "0000" and replay.count("/stock/api/getStockInfo.jsp") == 2
    assert len(clock.sleeps) == 1


async def test_scripted_429_retry_after_is_waited(replay: ReplayServer, clock: ManualClock) -> None:
    replay.script("/stock/api/getStockInfo.jsp", Reply(429, {"Retry-After": "2"}), times=2)
    async with client_for(replay, clock, name="mis") as client:
        await client.get_json("/stock/api/getStockInfo.jsp")
    assert clock.sleeps == [2.0, 2.0] and replay.count("/stock/api/getStockInfo.jsp") == 3


async def test_slow_answer_becomes_timed_out(replay: ReplayServer, clock: ManualClock) -> None:
    replay.set_latency(0.3)  # far above the 0.02 s read timeout
    async with client_for(replay, clock, name="twse", timeout=0.02, max_attempts=2) as client:
        with pytest.raises(TimedOut):
            await client.get_json("/maintenance")
    assert replay.count("/maintenance") == 2 and len(clock.sleeps) == 1


def test_failure_rate_is_seeded_and_reset_clears_state(replay: ReplayServer) -> None:
    def run() -> list[int]:
        with httpx.Client(base_url=replay.url) as http:
            return [http.get("/maintenance").status_code for _ in range(20)]

    replay.set_failure_rate(0.5, seed=7)
    first = run()
    replay.set_failure_rate(0.5, seed=7)
    assert run() == first and set(first) == {200, 503}
    replay.script(None, Reply(418))
    replay.reset()
    assert replay.count() == 0 and replay.log() == []
    assert run() == [200] * 20  # no failures, no script left


def test_latency_knob_delays_answers(replay: ReplayServer) -> None:
    replay.set_latency(0.05)
    with httpx.Client(base_url=replay.url) as http:
        response = http.get("/maintenance")
    assert response.status_code == 200 and response.elapsed.total_seconds() >= 0.05


def test_route_modules_and_control_endpoint(replay: ReplayServer) -> None:
    with httpx.Client(base_url=replay.url) as http:
        ping = http.get("/__selftest__/ping").json()
        stats = http.get("/__replay__/stats").json()
        reset = http.post("/__replay__/reset")
    assert ping == {"ok": True, "fixtures": str(DEFAULT_FIXTURES)}
    assert stats == {"total": 1, "paths": {"/__selftest__/ping": 1}}
    assert reset.status_code == 200 and replay.count() == 0


def test_reset_knob_closes_connections_without_an_answer(replay: ReplayServer) -> None:
    replay.script("/maintenance", RESET)
    with httpx.Client(base_url=replay.url) as http:
        with pytest.raises(httpx.TransportError):
            http.get("/maintenance")
        assert http.get("/maintenance").status_code == 200  # one scripted reset, then normal answers
        replay.set_reset_rate(1.0)
        with pytest.raises(httpx.TransportError):
            http.get("/maintenance")
    assert replay.count("/maintenance") == 3


def test_knobs_change_at_run_time_and_release_held_requests(replay: ReplayServer) -> None:
    with httpx.Client(base_url=replay.url, timeout=10) as http:
        knobs = http.post("/__replay__/knobs", params={"latency": 30, "failure_rate": 0.25}).json()
        assert knobs == {"latency": 30.0, "failure_rate": 0.25, "reset_rate": 0.0}
        assert http.post("/__replay__/knobs", params={"bogus": 1}).status_code == 400
        with ThreadPoolExecutor(1) as pool:
            held = pool.submit(http.get, "/maintenance")
            deadline = time.monotonic() + 10
            while replay.count("/maintenance") == 0 and time.monotonic() < deadline:
                time.sleep(0.01)  # bounded wait for the request to arrive and be held
            http.post("/__replay__/knobs", params={"latency": 0, "failure_rate": 0})
            assert held.result(timeout=10).status_code == 200  # released at once, not after 30 s


def test_runs_as_a_separate_process() -> None:
    command = [sys.executable, "-m", "tests.support.replay", "--port", "0", "--print-port"]
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        try:
            port = int(proc.stdout.readline())
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                assert http.get("/__selftest__/ping").json()["ok"] is True
                assert http.get("/__replay__/stats").json()["total"] == 1
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    assert proc.returncode == 0
