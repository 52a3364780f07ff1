"""Result models are built once, on first use or while a server idles (server.catalog)."""

from __future__ import annotations

import asyncio

from server.catalog import build_models, output_models, result_model
from tools.clinical_trials.record_models import TrialDetail, TrialRecord
from tools.clinical_trials.tools import get_trial
from tools.compact import Compact
from tools.freshness import CacheInfo


class Inner(Compact):
    value: int


class Outer(Compact):
    inner: Inner | None = None
    items: list[Inner] = []


def test_result_models_are_not_built_at_import_and_leave_none_out_once_built() -> None:
    assert not Outer.__pydantic_complete__  # deferred: no class is built twice at start-up
    assert Outer(items=[Inner(value=1)]).model_dump() == {"items": [{"value": 1}]}  # built on first use
    assert Outer.__pydantic_complete__


def test_every_model_reachable_from_a_result_is_found() -> None:
    found = output_models([result_model(get_trial)])
    assert TrialDetail in found and TrialRecord in found and CacheInfo in found


async def test_build_models_builds_what_is_not_built_and_yields_between_models() -> None:
    class Later(Compact):
        inner: Inner

    assert not Later.__pydantic_complete__
    ticks = 0

    async def count() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    counter = asyncio.create_task(count())
    await build_models([Later, Inner], delay=0)
    counter.cancel()
    assert Later.__pydantic_complete__ and Inner.__pydantic_complete__ and ticks >= 2
