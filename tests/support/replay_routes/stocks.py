"""Replay routes for the stock upstreams: TWSE STOCK_DAY, TPEx tradingStock, MIS and Yahoo chart.

Recorded bodies are served byte for byte where a recording exists (2330 and 6488 for 2026-08
and 2026-09, the TWSE no-data reply, the three MIS 2330 quotes, the Yahoo charts). Everything
else is SYNTHESISED in the recorded shape, and says so here:

- 2317, 2454 and 0050 (TWSE; for the default warming strategies) in every month, and other
  months of 2330 (TWSE) and 6488 (TPEx), from 2010-01 to 2026-09: the recorded August
  rows laid on that month's weekdays (so a 1-year history has realistic rows to parse);
  months after 2026-09 get the no-data reply; dates before 2010-01-04 the pre-2010 stat
  (wording from the not-copied stockdiary fixture quoted in SOURCES.md);
- MIS: the 6488, 2317, 2454 and 0050 entries, the TAIEX (``tse_t00.tw``) and TPEx index (``otc_o00.tw``) entries
  (no recording exists) are the recorded 2330 entry with other values; a wrong-prefix channel
  of a known code gets an empty placeholder entry; no entry at all -> rtcode 5001 "Empty Query."
  (the shape twstock's issues #52/#74 show);
- Yahoo: an unknown symbol gets a 404 in the recorded MDLY shape;
- Yahoo ``USDTWD=X`` (no recording exists): SYNTHESISED in the shape of the recorded
  ``chart-eurusd-x-...`` (its meta with currency TWD), one bar per weekday of the requested
  period at 00:00 UTC, closes ``29.4 + 0.3 * sin(ordinal / 9)`` rounded to 4 places
  (:func:`synthesised_usdtwd`); ``range=`` requests get the week before 2026-09-05.
"""

from __future__ import annotations

import calendar
import math
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from tests.support.replay_routes import Reply, Route, RouteRequest

# 2330 is recorded; the others exist so the default warming strategies have something to warm.
TWSE_NAMES = {"2330": "台積電", "2317": "鴻海", "2454": "聯發科", "0050": "元大台灣50"}
TWSE_CODES = set(TWSE_NAMES)
TPEX_CODES = {"6488"}
LAST_MONTH = (2026, 9)
NO_DATA_TOO_EARLY = {"stat": "查詢日期小於99年1月4日，請重新查詢!", "total": 0}
MIS_HTML = "text/html;charset=UTF-8"


def routes(fixtures_dir: Path) -> list[Route]:
    twse, tpex, mis, yahoo = (fixtures_dir / name for name in ("twse", "tpex", "mis", "yahoo"))
    stock_day = _TwseMonths(twse)
    trading_stock = _TpexMonths(tpex)
    realtime = _Mis(mis)
    charts = _Yahoo(yahoo)
    return [
        Route("/rwd/zh/afterTrading/STOCK_DAY", stock_day),
        Route("/exchangeReport/STOCK_DAY", stock_day),
        Route("/www/zh-tw/afterTrading/tradingStock", trading_stock),
        Route("/stock/api/getStockInfo.jsp", realtime),
        Route(re.compile(r"/v8/finance/chart/(?P<symbol>[^/]+)"), charts),
    ]


def weekdays(year: int, month: int) -> list[date]:
    days = calendar.monthrange(year, month)[1]
    return [date(year, month, day) for day in range(1, days + 1) if date(year, month, day).weekday() < 5]


def roc(day: date) -> str:
    return f"{day.year - 1911}/{day.month:02d}/{day.day:02d}"


class _TwseMonths:
    def __init__(self, folder: Path) -> None:
        self.recorded = {
            ("2330", "20260801"): (folder / "twse_stock_day_2330_202608.json").read_bytes(),
            ("2330", "20260901"): (folder / "twse_stock_day_2330_202609.json").read_bytes(),
        }
        self.no_data = (folder / "twse_stock_day_nodata.json").read_bytes()
        self.template = orjson.loads(self.recorded[("2330", "20260801")])

    def __call__(self, request: RouteRequest) -> Reply:
        code, when = request.query.get("stockNo", ""), request.query.get("date", "")
        if (code, when) in self.recorded:
            return Reply.json(self.recorded[(code, when)])
        if when < "20100104":
            return Reply.json(NO_DATA_TOO_EARLY)
        year, month = int(when[:4]), int(when[4:6])
        if code not in TWSE_CODES or (year, month) > LAST_MONTH:
            return Reply.json(self.no_data)
        body = dict(self.template)
        rows = self.template["data"]
        body["data"] = [[roc(day), *rows[i % len(rows)][1:]] for i, day in enumerate(weekdays(year, month))]
        body["date"], body["total"] = when, len(body["data"])
        body["title"] = f"{year - 1911}年{month:02d}月 {code} {TWSE_NAMES[code]}           各日成交資訊"
        return Reply.json(body)


class _TpexMonths:
    def __init__(self, folder: Path) -> None:
        self.recorded = {
            ("6488", "2026/08/01"): (folder / "tpex_trading_stock_6488_202608.json").read_bytes(),
            ("6488", "2026/09/01"): (folder / "tpex_trading_stock_6488_202609.json").read_bytes(),
        }
        self.template = orjson.loads(self.recorded[("6488", "2026/08/01")])

    def __call__(self, request: RouteRequest) -> Reply:
        code, when = request.query.get("code", ""), request.query.get("date", "")
        if (code, when) in self.recorded:
            return Reply.json(self.recorded[(code, when)])
        year, month = int(when[:4]), int(when[5:7])
        body: dict[str, Any] = orjson.loads(orjson.dumps(self.template))
        table = body["tables"][0]
        rows = table["data"] if code in TPEX_CODES and (year, month) <= LAST_MONTH else []
        table["data"] = (
            [[roc(day), *rows[i % len(rows)][1:]] for i, day in enumerate(weekdays(year, month))] if rows else []
        )
        table["totalCount"], table["date"] = len(table["data"]), when.replace("/", "")
        body["code"], body["date"] = code, when.replace("/", "")
        if code not in TPEX_CODES:
            body["name"] = ""
        return Reply.json(body)


class _Mis:
    def __init__(self, folder: Path) -> None:
        self.recorded_2330 = (folder / "mis_getstockinfo_tse_2330_20240516_104454.json").read_bytes()
        base = orjson.loads(self.recorded_2330)
        self.envelope = {key: value for key, value in base.items() if key != "msgArray"}
        entry = base["msgArray"][0]
        self.entries = {
            "tse_2330.tw": entry,
            "otc_6488.tw": {
                **entry,
                "c": "6488",
                "ch": "6488.tw",
                "ex": "otc",
                "n": "環球晶",
                "nf": "環球晶圓股份有限公司",
                "z": "981.0000",
                "y": "927.0000",
                "o": "953.0000",
                "h": "983.0000",
                "l": "940.0000",
                "a": "982.0000_983.0000_",
                "b": "981.0000_980.0000_",
                "v": "8480",
                "u": "1019.0000",
                "w": "835.0000",
            },
            "tse_t00.tw": {
                **entry,
                "c": "t00",
                "ch": "t00.tw",
                "n": "發行量加權股價指數",
                "nf": "發行量加權股價指數",
                "z": "20915.3300",
                "y": "20801.1200",
                "o": "20850.0000",
                "h": "20950.0000",
                "l": "20790.5000",
                "a": "",
                "b": "",
                "v": "3502",
            },
            "otc_o00.tw": {
                **entry,
                "c": "o00",
                "ch": "o00.tw",
                "ex": "otc",
                "n": "櫃買指數",
                "nf": "櫃買指數",
                "z": "251.4500",
                "y": "253.0100",
                "o": "252.8000",
                "h": "253.2000",
                "l": "250.9000",
                "a": "",
                "b": "",
                "v": "712",
            },
        }
        for code, name in TWSE_NAMES.items():
            if code != "2330":
                self.entries[f"tse_{code}.tw"] = {**entry, "c": code, "ch": f"{code}.tw", "n": name, "nf": name}
        known = {channel.split("_", 1)[1] for channel in self.entries}
        self.placeholders = {f"{prefix}_{rest}" for rest in known for prefix in ("tse", "otc")} - set(self.entries)

    def __call__(self, request: RouteRequest) -> Reply:
        channels = [part for part in request.query.get("ex_ch", "").split("|") if part]
        if channels == ["tse_2330.tw"]:
            return Reply.json(self.recorded_2330, content_type=MIS_HTML)
        entries = []
        for channel in channels:
            if channel in self.entries:
                entries.append(self.entries[channel])
            elif channel in self.placeholders:
                prefix, rest = channel.split("_", 1)
                entries.append({"ex": prefix, "ch": rest, "c": rest.split(".")[0], "n": "", "z": "-", "y": "-"})
        if not entries:
            body = {**self.envelope, "msgArray": [], "rtcode": "5001", "rtmessage": "Empty Query."}
            return Reply.json(body, content_type=MIS_HTML)
        return Reply.json({**self.envelope, "msgArray": entries}, content_type=MIS_HTML)


class _Yahoo:
    def __init__(self, folder: Path) -> None:
        self.files = {path.name: path for path in folder.glob("chart-*.json")}

    def __call__(self, request: RouteRequest) -> Reply:
        symbol = (request.match["symbol"] if request.match else "").lower().replace("=", "-")
        if symbol == "usdtwd-x":
            return Reply.json(synthesised_usdtwd(self.files["chart-eurusd-x-2020-01-01-to-2020-01-03.json"], request))
        path = self._pick(symbol, request.query.get("interval", "1d"))
        if path is None:
            body = {
                "chart": {
                    "result": None,
                    "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
                }
            }
            return Reply.json(body, status=404)
        response = orjson.loads(path.read_bytes())["response"]
        body = response.get("bodyJson")
        return Reply.json(body if body is not None else response["body"], status=response["status"])

    def _pick(self, symbol: str, interval: str) -> Path | None:
        if symbol == "aapl":
            name = (
                "chart-aapl-2024-10-02-to-2024-10-03-includeprepost-false-interval-1m.json"
                if interval == "1m"
                else "chart-aapl-2020-08-31-to-2020-11-07.json"
            )
            return self.files[name]
        matches = sorted(
            name for name in self.files if name == f"chart-{symbol}.json" or name.startswith(f"chart-{symbol}-")
        )
        return self.files[matches[0]] if matches else None


def usdtwd_rate(day: date) -> float:
    """The SYNTHESISED USDTWD=X close of ``day`` (see the module docstring)."""
    return round(29.4 + 0.3 * math.sin(day.toordinal() / 9), 4)


def synthesised_usdtwd(eurusd: Path, request: RouteRequest) -> dict[str, Any]:
    """A USDTWD=X chart in the recorded EURUSD=X shape (SYNTHESISED; see the module docstring)."""
    body = orjson.loads(eurusd.read_bytes())["response"]["bodyJson"]
    if "period1" in request.query:
        first = datetime.fromtimestamp(int(request.query["period1"]), UTC).date()
        after = datetime.fromtimestamp(int(request.query["period2"]), UTC).date()
    else:
        first, after = date(2026, 8, 29), date(2026, 9, 5)
    days = [first + timedelta(days=n) for n in range((after - first).days)]
    days = [day for day in days if day.weekday() < 5]
    closes = [usdtwd_rate(day) for day in days]
    (result,) = body["chart"]["result"]
    meta = {**result["meta"], "currency": "TWD", "symbol": "USDTWD=X", "longName": "USD/TWD", "shortName": "USD/TWD"}
    meta["regularMarketPrice"] = closes[-1] if closes else 29.4
    stamps = [int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) for day in days]
    quote = {"open": closes, "high": closes, "low": closes, "close": closes, "volume": [0] * len(days)}
    indicators = {"quote": [quote], "adjclose": [{"adjclose": closes}]}
    return {
        "chart": {"result": [{**result, "meta": meta, "timestamp": stamps, "indicators": indicators}], "error": None}
    }
