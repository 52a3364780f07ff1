"""``cache_stats`` stays within the record budget however many namespaces there are, and pages;
``service_status`` clips the error texts it repeats."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from server.lifespan import build_services
from server.settings import Settings
from server.stats_tool import cache_stats
from server.status import ERROR_CHARS, UpstreamState
from tools.budget import RECORD_BUDGET, json_size
from tools.http.health import UpstreamHealth
from tools.services import Services


def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, sqlite_path=str(tmp_path / "cache.sqlite3"))


def busy(services: Services, count: int) -> list[str]:
    """``count`` namespaces with traffic, half of them failing enough to draw advice."""
    names = [f"{'trials' if i % 2 else 'stocks'}.namespace_with_a_long_name_{i:03}" for i in range(count)]
    for i, name in enumerate(names):
        counters = services.cache.stats.namespace(name)
        counters.hits, counters.misses, counters.loader_calls = 3, 30, 30
        counters.loader_errors = 10 if i % 2 else 0
    return sorted(names)


async def walk(services: Services, **arguments: object) -> tuple[list[str], int]:
    """Every namespace name the pages give, following each cut's ``next``; and how many pages."""
    seen: list[str] = []
    pages = 0
    while True:
        page = await cache_stats(services, **arguments)  # type: ignore[arg-type]
        pages += 1
        assert json_size(page) <= RECORD_BUDGET
        seen += [entry.name for entry in page.namespaces]
        if not page.truncated:
            assert page.cuts is None
            return seen, pages
        assert page.cuts is not None and len(page.cuts) == 1
        cut = page.cuts[0]
        assert (cut.list, cut.returned, cut.returned + cut.dropped) == (
            "namespaces",
            len(page.namespaces),
            page.namespaces_total - len(seen) + cut.returned,
        )
        arguments = {**arguments, **cut.next}


async def test_many_namespaces_fit_the_budget_and_every_one_is_reached_once(tmp_path: Path) -> None:
    async with build_services(settings(tmp_path)) as services:
        names = busy(services, 250)
        first = await cache_stats(services)
        seen, pages = await walk(services)
        trials = await cache_stats(services, namespace="trials")
    assert first.truncated and first.namespaces_total == 250
    assert seen == names and pages > 1
    failing = trials.namespaces[0]
    assert failing.advice and failing.name in failing.advice[0]  # its advice travels with it
    assert all(entry.advice is None for entry in first.namespaces)  # the stocks ones do not fail
    assert not any("namespace " in line for line in first.recommendations)  # only cache-wide advice on top


async def test_a_namespace_filter_pages_within_its_prefix(tmp_path: Path) -> None:
    async with build_services(settings(tmp_path)) as services:
        names = busy(services, 250)
        seen, _ = await walk(services, namespace="trials")
        one = await cache_stats(services, namespace=names[0])
    assert seen == [name for name in names if name.startswith("trials.")]
    assert [entry.name for entry in one.namespaces] == [names[0]] and not one.truncated


async def test_an_unknown_namespace_names_the_known_ones(tmp_path: Path) -> None:
    async with build_services(settings(tmp_path)) as services:
        busy(services, 3)
        with pytest.raises(ToolError, match=r"Invalid input 'namespace': no namespace 'nope'.*known: stocks\.") as err:
            await cache_stats(services, namespace="nope")
        past_the_end = await cache_stats(services, offset=10)
    assert "trials." in str(err.value)
    assert past_the_end.namespaces == [] and past_the_end.namespaces_total == 3 and not past_the_end.truncated


def test_service_status_clips_a_long_upstream_error() -> None:
    health = UpstreamHealth("ctgov", "open", 5, 5, "x" * 10_000, opened_at=1.0, retry_in=3.0)
    state = UpstreamState.of(health)
    assert state.last_error is not None and len(state.last_error) == ERROR_CHARS
    assert state.last_error.endswith("...")
