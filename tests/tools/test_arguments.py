"""tools.arguments: which slips are forgiven, and unknown names refused with the closest one."""

from __future__ import annotations

from typing import Any

import pytest

from tools.arguments import closest, forgive, normalize_arguments
from tools.errors import InvalidInput

SCHEMA: dict[str, Any] = {
    "properties": {
        "symbol": {"type": "string"},
        "symbols": {"type": "array", "items": {"type": "string"}},
        "statuses": {"anyOf": [{"type": "array", "items": {"$ref": "#/$defs/Status"}}, {"type": "null"}]},
        "page_size": {"type": "integer"},
        "start_date": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
    },
    "$defs": {"Status": {"enum": ["RECRUITING", "COMPLETED"]}},
}


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("symbol", 2330, "2330"),
        ("symbol", 2330.0, "2330"),
        ("symbol", 23.5, 23.5),  # a fraction is no code: left for validation to refuse
        ("symbol", 1e308, 1e308),  # nor a huge number
        ("symbol", True, True),
        ("symbols", "2330, AAPL", ["2330", "AAPL"]),
        ("symbols", 2330, ["2330"]),
        ("symbols", [2330, "AAPL"], ["2330", "AAPL"]),
        ("symbols", '["2330"]', '["2330"]'),  # JSON text: the SDK parses it
        ("symbols", " , ", " , "),  # blank: refused by validation, not turned into []
        ("statuses", "open", ["open"]),
        ("statuses", "recruiting,completed", ["recruiting", "completed"]),
        ("page_size", "5", "5"),  # pydantic's lax mode takes it
        ("start_date", 20260801, "20260801"),
    ],
)
def test_forgive(name: str, value: Any, expected: Any) -> None:
    assert forgive(value, SCHEMA["properties"][name], SCHEMA) == expected


def test_unknown_names_are_refused_with_the_closest_real_one() -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_arguments("get_price_history", SCHEMA, {"symbol": "2330", "start": "2026-08-01"})
    assert caught.value.field == "start" and caught.value.hint == "did you mean 'start_date'?"
    assert "takes: symbol, symbols, statuses, page_size, start_date" in caught.value.message
    with pytest.raises(InvalidInput) as nothing_close:
        normalize_arguments("t", SCHEMA, {"zzz": 1})
    assert nothing_close.value.hint is None and "did you mean" not in nothing_close.value.message


def test_closest() -> None:
    assert closest("section", ["nct_id", "sections"]) == "sections"
    assert closest("sym", ["symbol", "market"]) == "symbol"  # a prefix
    assert closest("s", ["symbol", "sections"]) is None  # ambiguous
