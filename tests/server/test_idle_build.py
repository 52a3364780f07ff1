"""Deferred models are built in the server's idle time after the first ``tools/list``, and
never while a request is in flight (:mod:`server.idle_build`)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from server.app import build_app
from server.idle_build import Activity, build_when_idle
from server.settings import Settings
from tools.deferred import Deferred, unbuilt


class Call:
    """A request context as the middleware sees it (only ``method`` is read)."""

    def __init__(self, method: str) -> None:
        self.method = method


def fresh_models() -> list[type[Deferred]]:
    """Two new deferred models, the second holding the first (made per test: building is global)."""

    class Part(Deferred):
        value: int

    class Whole(Deferred):
        parts: list[Part]

    return [Part, Whole]


async def answer(activity: Activity, method: str, release: asyncio.Event | None = None) -> None:
    async def call_next(ctx: Any) -> dict[str, Any]:
        if release is not None:
            await release.wait()
        return {}

    await activity(Call(method), call_next)  # type: ignore[arg-type]


def test_unbuilt_lists_new_models_in_the_order_they_were_defined() -> None:
    part, whole = fresh_models()
    assert [model for model in unbuilt() if model in (part, whole)] == [part, whole]
    part.model_rebuild()
    assert part not in list(unbuilt())
    assert whole in list(unbuilt())


async def test_nothing_is_built_before_the_first_tools_list() -> None:
    models = fresh_models()
    activity = Activity()
    builder = asyncio.create_task(build_when_idle(activity, lambda: models, quiet=0.01))
    await answer(activity, "initialize")
    await answer(activity, "tools/call")
    await asyncio.sleep(0.1)
    assert not builder.done()
    assert not any(model.__pydantic_complete__ for model in models)
    await answer(activity, "tools/list")
    assert await asyncio.wait_for(builder, 5) == 2
    assert all(model.__pydantic_complete__ for model in models)
    assert models[1].model_validate({"parts": [{"value": "3"}]}).parts[0].value == 3


async def test_a_request_in_flight_holds_the_building_back() -> None:
    models = fresh_models()
    activity = Activity()
    await answer(activity, "tools/list")
    release = asyncio.Event()
    busy = asyncio.create_task(answer(activity, "tools/call", release))
    await asyncio.sleep(0)
    builder = asyncio.create_task(build_when_idle(activity, lambda: models, quiet=0.01))
    await asyncio.sleep(0.1)
    assert activity.quiet_for() == 0.0
    assert not any(model.__pydantic_complete__ for model in models)  # it waits for the call to end
    release.set()
    await busy
    assert await asyncio.wait_for(builder, 5) == 2


async def test_a_model_that_cannot_be_built_is_left_to_its_first_use() -> None:
    class Broken(Deferred):
        later: Missing  # type: ignore[name-defined]  # noqa: F821 - never defined

    (part, whole) = fresh_models()
    activity = Activity()
    await answer(activity, "tools/list")
    assert await asyncio.wait_for(build_when_idle(activity, lambda: [Broken, part, whole], quiet=0), 5) == 2
    assert not Broken.__pydantic_complete__


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, sqlite_path=str(tmp_path / "c.sqlite3"), redis={"url": None}, redis_url=None)


async def test_a_connected_server_builds_its_models_once_idle_after_listing(settings: Settings) -> None:
    models = fresh_models()
    app = build_app(settings, role="server")
    async with Client(app.mcp, cache=None) as client:
        await asyncio.sleep(0.2)
        assert not any(model.__pydantic_complete__ for model in models)  # no tools/list yet
        await client.list_tools()
        for _ in range(100):
            if all(model.__pydantic_complete__ for model in models):
                break
            await asyncio.sleep(0.05)
        assert all(model.__pydantic_complete__ for model in models)
        assert not (await client.call_tool("cache_stats", {})).is_error  # the server goes on answering


async def test_a_command_line_state_builds_nothing(settings: Settings) -> None:
    models = fresh_models()
    app = build_app(settings, role="cli")
    async with Client(app.mcp, cache=None) as client:
        await client.list_tools()
        await asyncio.sleep(0.3)
    assert not any(model.__pydantic_complete__ for model in models)


async def test_closing_the_server_stops_a_build_still_waiting_for_quiet(settings: Settings) -> None:
    models = fresh_models()
    app = build_app(settings, role="server")

    async def connect_list_and_leave() -> None:
        async with Client(app.mcp, cache=None) as client:
            await client.list_tools()  # then gone at once, inside the quiet period

    await asyncio.wait_for(connect_list_and_leave(), 10)
    assert not [task for task in asyncio.all_tasks() if task.get_name() == "idle-build"]
    assert not any(model.__pydantic_complete__ for model in models)  # it never got its quiet time
