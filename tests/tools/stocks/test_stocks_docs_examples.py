"""docs/tools.md shows one call and its real answer per tool and option of issue 17: each
documented answer is what the service returns for the documented call over the recorded data
(tests/support/replay_routes), as the server serialises it (``model_dump(by_alias=True)``).
``cache`` is left out (ages and lifetimes depend on the run), and analyze_stock's shortened
example is checked on its indicator values."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from cache.engine.tiered import TieredCache
from tests.support.recorded_upstream import RecordedUpstream
from tests.support.stocks import Harness, taipei

DOCS = (Path(__file__).resolve().parents[3] / "docs" / "tools.md").read_text(encoding="utf-8")


def documented(marker: str) -> str:
    """The first ```json block after ``marker`` in docs/tools.md."""
    start = DOCS.index(marker)
    block = DOCS.index("```json\n", start) + len("```json\n")
    return DOCS[block : DOCS.index("```", block)]


def shown(answer: BaseModel) -> dict[str, Any]:
    dumped = answer.model_dump(mode="json", by_alias=True)
    dumped.pop("cache")
    return dumped


def without_cache(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text)
    value.pop("cache")
    return value


async def run(transport: RecordedUpstream, cache: TieredCache, when: float, call: str, **args: Any) -> BaseModel:
    harness = Harness(transport, cache, lambda: when)
    try:
        answer: BaseModel = await getattr(harness.service, call)(**args)
        return answer
    finally:
        await harness.aclose()


FRIDAY = taipei(2026, 9, 4, 14, 0)
EXAMPLES = [
    pytest.param(
        "Example, events (Yahoo",
        FRIDAY,
        "get_history",
        {"symbol": "AAPL", "start": date(2020, 11, 4), "end": date(2020, 11, 6), "events": True},
        id="get_price_history-events",
    ),
    pytest.param(
        "Example, adjusted (TWSE",
        FRIDAY,
        "get_history",
        {"symbol": "3443", "market": "twse", "start": date(2026, 6, 4), "end": date(2026, 6, 9), "adjusted": True},
        id="get_price_history-adjusted",
    ),
    pytest.param(
        '`{"symbols": ["2330", "AAPL"], "start_date": "2020-10-26"',
        FRIDAY,
        "compare",
        {"symbols": ["2330", "AAPL"], "start": date(2020, 10, 26), "end": date(2020, 11, 6), "currency": "TWD"},
        id="compare_stocks-currency",
    ),
]


@pytest.mark.parametrize(("marker", "when", "call", "args"), EXAMPLES)
async def test_documented_history_and_comparison_answers_are_real(
    transport: RecordedUpstream, cache: TieredCache, marker: str, when: float, call: str, args: dict[str, Any]
) -> None:
    answer = await run(transport, cache, when, call, **args)
    assert shown(answer) == without_cache(documented(marker))


async def test_documented_flows_answer_is_real(transport: RecordedUpstream, cache: TieredCache) -> None:
    harness = Harness(transport, cache, lambda: taipei(2026, 9, 8, 10, 0))  # 09-07 has ended: kept for good
    try:
        answer = await harness.service.flows.flows("2409", date(2026, 9, 1), date(2026, 9, 7))
    finally:
        await harness.aclose()
    assert shown(answer) == without_cache(documented('`{"symbol": "2409", "start_date":'))


async def test_documented_margin_answer_is_real(transport: RecordedUpstream, cache: TieredCache) -> None:
    harness = Harness(transport, cache, lambda: FRIDAY)
    try:
        answer = await harness.service.flows.margin("0050", date(2026, 9, 3))
    finally:
        await harness.aclose()
    assert shown(answer) == without_cache(documented("recorded TWSE MI_MARGN of 2026-09-03"))


async def test_documented_indicators_are_real(transport: RecordedUpstream, cache: TieredCache) -> None:
    answer = await run(transport, cache, FRIDAY, "analyze", symbol="2330", days=1, end=date(2026, 9, 4))
    text = documented('`{"symbol": "2330", "days": 1, "end_date": "2026-09-04"}`')
    readings = shown(answer)["indicators"]
    for name in ("rsi", "macd", "bollinger"):
        block = re.search(rf'"{name}": (\{{"params".*?\}}\}})', text)
        assert block is not None, name
        assert {key: readings[name][key] for key in ("params", "values")} == json.loads(block.group(1))
    assert f'"bars_used": {shown(answer)["bars_used"]}' in text
