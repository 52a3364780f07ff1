"""Replay routes for the whole-market day tables: TWSE T86 and MI_MARGN, TPEx insti dailyTrade and
margin balance.

The recorded 2026-09-03 files (25 rows each, see SOURCES.md) are served byte for byte for that
date. Everything else is SYNTHESISED, and says so here: every other weekday from 2026-08-03 to
2026-09-04 gets the recorded body with its date fields changed (the same rows: a week of flows
is the recorded day repeated); any other date gets the exchange's no-data reply (TWSE's stat
message; TPEx's table without rows), so a range past 2026-09-04 has days without data.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from tests.support.replay_routes import Reply, Route, RouteRequest

RECORDED = date(2026, 9, 3)
FIRST, LAST = date(2026, 8, 3), date(2026, 9, 4)
TWSE_NO_DATA = {"stat": "很抱歉，沒有符合條件的資料!", "total": 0}


def routes(fixtures_dir: Path) -> list[Route]:
    twse, tpex = fixtures_dir / "twse", fixtures_dir / "tpex"
    return [
        Route("/rwd/zh/fund/T86", _Days(twse / "twse_t86_20260903.json", _twse_date, _twse_body)),
        Route("/rwd/zh/marginTrading/MI_MARGN", _Days(twse / "twse_mi_margn_20260903.json", _twse_date, _twse_body)),
        Route("/www/zh-tw/insti/dailyTrade", _Days(tpex / "tpex_insti_daily_20260903.json", _tpex_date, _tpex_body)),
        Route("/www/zh-tw/margin/balance", _Days(tpex / "tpex_margin_balance_20260903.json", _tpex_date, _tpex_body)),
    ]


def _twse_date(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def _tpex_date(text: str) -> date:
    year, month, day = (int(part) for part in text.split("/"))
    return date(year, month, day)


def _roc(day: date) -> str:
    return f"{day.year - 1911}/{day.month:02d}/{day.day:02d}"


def _twse_body(recorded: dict[str, Any], day: date | None) -> dict[str, Any]:
    if day is None:
        return TWSE_NO_DATA
    body = {**recorded, "date": day.strftime("%Y%m%d")}
    roc = f"{day.year - 1911}年{day.month:02d}月{day.day:02d}日"
    if "title" in body:
        body["title"] = body["title"].replace("115年09月03日", roc)
    body["tables"] = [{**t, "title": t["title"].replace("115年09月03日", roc)} for t in recorded.get("tables", [])]
    if not body["tables"]:
        del body["tables"]
    return body


def _tpex_body(recorded: dict[str, Any], day: date | None) -> dict[str, Any]:
    table = dict(recorded["tables"][0])
    if day is None:
        table.update(data=[], summary=[], totalCount=0)
    else:
        table["date"] = _roc(day)
    stamp = (day or RECORDED).strftime("%Y%m%d")
    return {**recorded, "tables": [table, *recorded["tables"][1:]], "date": stamp}


class _Days:
    def __init__(
        self,
        path: Path,
        parse_date: Callable[[str], date],
        body: Callable[[dict[str, Any], date | None], dict[str, Any]],
    ) -> None:
        self.raw = path.read_bytes()
        self.recorded = orjson.loads(self.raw)
        self.parse_date, self.body = parse_date, body

    def __call__(self, request: RouteRequest) -> Reply:
        try:
            day = self.parse_date(request.query.get("date", ""))
        except ValueError:
            return Reply.json(self.body(self.recorded, None))
        if day == RECORDED:
            return Reply.json(self.raw)
        served = FIRST <= day <= LAST and day.weekday() < 5
        return Reply.json(self.body(self.recorded, day if served else None))
