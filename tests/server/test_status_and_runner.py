"""The operational tools called as plain functions, and the warming runner over the real Services."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest

from cache import CachePolicy
from cache.warming import WarmOutcome
from server.lifespan import UPSTREAMS, build_services
from server.settings import Settings
from server.status import cache_stats, service_status
from server.tool_runner import ToolRunner
from server.toolset import TOOLS
from tests.support.clock import ManualClock
from tests.support.fixtures import fixtures_dir
from tools.http.tls import TlsContext

RECORD = (fixtures_dir() / "ctgov" / "biomcp_get_nct02576665_20260811.json").read_bytes()


def ctgov(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/version"):
        return httpx.Response(200, json={"apiVersion": "2.0.3", "dataTimestamp": "2026-08-11T23:00:00"})
    if request.url.path.endswith("/NCT02576665"):
        return httpx.Response(200, content=RECORD, headers={"content-type": "application/json"})
    return httpx.Response(404, text="not recorded")


def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, sqlite_path=str(tmp_path / "cache.sqlite3"))


async def test_status_tools_report_on_the_services(tmp_path: Path) -> None:
    clock = ManualClock(1_800_000_000.0)
    async with build_services(settings(tmp_path), clock=clock) as services:
        clock.advance(5)
        status = await service_status(services)
        stats = await cache_stats(services)
    assert [(tier.name, tier.answers) for tier in status.cache_tiers] == [("memory", True), ("sqlite", True)]
    assert [upstream.name for upstream in status.upstreams] == list(UPSTREAMS)
    ctgov_state = status.upstreams[0]
    assert ctgov_state.base_url == settings(tmp_path).upstreams.base_url("ctgov")
    assert (ctgov_state.circuit, ctgov_state.total_requests, ctgov_state.retry_in_seconds) == ("closed", 0, None)
    assert status.uptime_seconds == 5.0
    assert stats.namespaces == [] and stats.namespaces_total == 0 and isinstance(stats.recommendations, list)
    assert set(stats.tiers) == {"memory", "sqlite"}


async def test_service_status_reports_writes_the_sqlite_queue_dropped(tmp_path: Path) -> None:
    small_queue = Settings(_env_file=None, sqlite={"path": str(tmp_path / "cache.sqlite3"), "write_queue_max": 5})
    async with build_services(small_queue) as services:
        await services.cache.set_many([(f"ns:{i}", i) for i in range(12)], CachePolicy("ns", 60.0, 600.0))
        status = await service_status(services)
    assert [(tier.name, tier.dropped_writes) for tier in status.cache_tiers] == [("memory", None), ("sqlite", 7)]


async def test_runner_reads_the_outcome_from_the_typed_result(tmp_path: Path) -> None:
    transports = {"ctgov": httpx.MockTransport(ctgov)}
    async with build_services(settings(tmp_path), transports=transports) as services:
        run = ToolRunner(services, TOOLS)
        assert await run("get_trial", {"nct_id": "NCT02576665"}) == WarmOutcome.warmed()
        assert await run("get_trial", {"nct_id": "nct02576665"}) == WarmOutcome.already_fresh()  # same key
        assert await run("service_status", {}) == WarmOutcome.warmed()  # nothing cached to be fresh
        assert await run("no_such_tool", {}) == WarmOutcome.failed("Unknown tool: no_such_tool")
        invalid = await run("get_trial", {"nct_id": "NCT123"})
        missing = await run("get_trial", {"nct_id": "NCT09999999"})
    assert invalid.status == "failed" and invalid.reason.startswith("Invalid input: nct_id:")
    assert missing.status == "failed" and missing.reason.startswith("get_trial: ctgov: no trial NCT09999999")
    assert "NCT09999999" in missing.reason


async def test_a_failed_ca_bundle_load_fails_the_services_with_its_error(tmp_path: Path) -> None:
    """The bundle is awaited after the cache tiers open (the two overlap); its failure still
    stops the start, and what was opened is closed."""

    def load() -> ssl.SSLContext:
        raise FileNotFoundError("no CA bundle at /nowhere/ca.pem")

    with pytest.raises(FileNotFoundError, match="/nowhere/ca.pem"):
        async with build_services(settings(tmp_path), tls=TlsContext(load)):
            pass
