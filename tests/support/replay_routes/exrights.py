"""Replay route for TWSE TWT49U (ex-rights/ex-dividend results, ``/rwd/zh/exRight/TWT49U``).

The one recording covers 2026-06-01..2026-09-03 (25 rows, 2026-06-01..06-09). A request whose
range contains that whole range gets the recorded body byte for byte. Any other range is
SYNTHESISED from it: the recorded envelope with only the rows dated inside the asked range
(``strDate``/``endDate``/``title`` set to that range); a range with no such rows gets TWSE's
no-data reply (the STOCK_DAY wording recorded in ``twse_stock_day_nodata.json``).

Also SYNTHESISED, so that a code of the recording has bars around its ex-date: TWSE STOCK_DAY
of 3443 (創意) for 2026-06, eight rows (06-01..06-10) in the recorded 2330 layout, consistent
with its TWT49U row (close 4,410.00 on 06-05, ex-dividend on 06-08 with reference price
4,390.00: change ``X0.00``). Other months of 3443 get the no-data reply. This module's routes
come before ``stocks.py``'s (modules load alphabetically), so this one answers for 3443.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import orjson

from tests.support.replay_routes import Reply, Route, RouteRequest

RECORDED_RANGE = ("20260601", "20260903")
_CJK = re.compile(r"^([0-9]{2,3})年([0-9]{2})月([0-9]{2})日$")


# date, open, high, low, close, change (3443, 2026-06; 06-08 is the ex-dividend day)
ROWS_3443 = [
    ("115/06/01", "4,350.00", "4,400.00", "4,340.00", "4,380.00", "+30.00"),
    ("115/06/02", "4,380.00", "4,420.00", "4,370.00", "4,400.00", "+20.00"),
    ("115/06/03", "4,400.00", "4,405.00", "4,380.00", "4,395.00", "-5.00"),
    ("115/06/04", "4,395.00", "4,410.00", "4,390.00", "4,405.00", "+10.00"),
    ("115/06/05", "4,405.00", "4,420.00", "4,400.00", "4,410.00", "+5.00"),
    ("115/06/08", "4,390.00", "4,405.00", "4,380.00", "4,400.00", "X0.00"),
    ("115/06/09", "4,400.00", "4,430.00", "4,395.00", "4,420.00", "+20.00"),
    ("115/06/10", "4,420.00", "4,425.00", "4,400.00", "4,415.00", "-5.00"),
]


def routes(fixtures_dir: Path) -> list[Route]:
    twse = fixtures_dir / "twse"
    return [
        Route("/rwd/zh/exRight/TWT49U", _ExRights(twse)),
        Route("/rwd/zh/afterTrading/STOCK_DAY", _Month3443(twse), when=lambda query: query.get("stockNo") == "3443"),
    ]


class _Month3443:
    def __init__(self, folder: Path) -> None:
        self.template = orjson.loads((folder / "twse_stock_day_2330_202608.json").read_bytes())
        self.no_data = (folder / "twse_stock_day_nodata.json").read_bytes()

    def __call__(self, request: RouteRequest) -> Reply:
        if request.query.get("date", "")[:6] != "202606":
            return Reply.json(self.no_data)
        rows = [
            [day, "1,000,000", "4,400,000,000", opened, high, low, close, change, "5,000", ""]
            for day, opened, high, low, close, change in ROWS_3443
        ]
        title = "115年06月 3443 創意             各日成交資訊"
        return Reply.json({**self.template, "date": "20260601", "title": title, "data": rows, "total": len(rows)})


def _iso(roc: str) -> str:
    match = _CJK.match(roc)
    if match is None:
        raise ValueError(roc)
    return f"{int(match[1]) + 1911:04d}{match[2]}{match[3]}"


def _roc(day: str) -> str:
    return f"{int(day[:4]) - 1911}年{day[4:6]}月{day[6:8]}日"


class _ExRights:
    def __init__(self, folder: Path) -> None:
        self.recorded = (folder / "twse_twt49u_20260601_20260903.json").read_bytes()
        self.body = orjson.loads(self.recorded)
        self.no_data = (folder / "twse_stock_day_nodata.json").read_bytes()

    def __call__(self, request: RouteRequest) -> Reply:
        start, end = request.query.get("startDate", ""), request.query.get("endDate", "")
        if not (len(start) == len(end) == 8 and start.isdigit() and end.isdigit()):
            return Reply.json({"stat": "日期格式錯誤"})
        date(int(start[:4]), int(start[4:6]), int(start[6:]))  # a bad date fails like a bad request
        if start <= RECORDED_RANGE[0] and RECORDED_RANGE[1] <= end:
            return Reply.json(self.recorded)
        rows = [row for row in self.body["data"] if start <= _iso(row[0]) <= end]
        if not rows:
            return Reply.json(self.no_data)
        title = f"{_roc(start)} 至 {_roc(end)} 除權除息計算結果表"
        return Reply.json({**self.body, "data": rows, "strDate": start, "endDate": end, "title": title})
