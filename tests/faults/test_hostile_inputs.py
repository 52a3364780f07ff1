"""Hostile values in every argument of every tool, identifiers that must be ASCII, and memory.

Every value of :data:`tests.support.fuzzing.HOSTILE` (1 MB strings, control characters, Unicode
digits, glob metacharacters, path traversal, empty strings, huge numbers, nested objects where
scalars are expected) is put in turn into each argument of each tool, next to otherwise valid
arguments, and under an argument name the tool does not have. Each answer passes
:meth:`~tests.support.fuzzing.FuzzTarget.check`; a value the published schema rules out must
be rejected naming that argument (or, for a value too large for the server's per-call
argument cap, refused as too large), without an upstream request.
"""

from __future__ import annotations

from typing import Any

import pytest

from server.toolset import TOOLS
from tests.support.fuzzing import HOSTILE, MB, FuzzTarget, schema_rejects
from tools.registry import tool_name

pytestmark = pytest.mark.faults

VALID: dict[str, dict[str, Any]] = {
    "service_status": {},
    "cache_stats": {},
    "search_trials": {"condition": "melanoma"},
    "get_trial": {"nct_id": "NCT04280705"},
    "get_trial_results": {"nct_id": "NCT04280705"},
    "search_trials_by_mutation": {"mutation": "EGFR L858R"},
    "search_trials_for_mutations": {"mutations": ["EGFR L858R"]},
    "find_trials_for_patient": {
        "condition": "non-small cell lung cancer",
        "mutations": ["EGFR L858R"],
        "age": 58,
        "sex": "female",
    },
    "count_trials": {"condition": "melanoma"},
    "get_stock_quote": {"symbols": ["2330"]},
    "get_price_history": {"symbol": "2330", "start_date": "2026-08-01", "end_date": "2026-08-31"},
    "get_stock_info": {"symbol": "2330"},
    "analyze_stock": {"symbol": "2330"},
    "compare_stocks": {"symbols": ["2330", "2454"], "start_date": "2026-08-01", "end_date": "2026-08-31"},
    "get_market_overview": {},
    "get_institutional_flows": {"symbol": "2409", "start_date": "2026-09-01", "end_date": "2026-09-04"},
    "get_margin_balance": {"symbol": "0050", "date": "2026-09-03"},
}
"""Arguments each tool accepts; one of them at a time is replaced by a hostile value."""

MEMORY_BUDGET = 50 * MB


def test_every_tool_has_valid_arguments_to_start_from(fuzz: FuzzTarget) -> None:
    assert sorted(VALID) == sorted(fuzz.schemas) == sorted(tool_name(fn) for fn, _ in TOOLS)


@pytest.mark.parametrize("tool", list(VALID))
def test_hostile_values_in_every_argument(fuzz: FuzzTarget, tool: str) -> None:
    schema = fuzz.schemas[tool]
    before = fuzz.outcomes.copy()
    problems: list[str] = []
    for field in [*schema.get("properties", {}), "unexpected_argument"]:
        for label, value in HOSTILE.items():
            arguments = {**VALID[tool], field: value}
            must_reject = field if schema_rejects(schema, arguments) else None
            problems += [f"{field}={label}: {p}" for p in fuzz.check(tool, arguments, must_reject=must_reject)]
    figures = f"{tool}: {fuzz.figures(since=before)}; RSS growth since the fuzz began {fuzz.rss_growth() / MB:.1f} MB"
    print("\n" + figures)
    assert not problems, f"{figures}\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("tool", "field", "arguments"),
    [
        pytest.param("get_trial", "nct_id", {"nct_id": "NCT0428070\uff15"}, id="nct_id-fullwidth-digit"),
        pytest.param(
            "get_trial", "nct_id", {"nct_id": "NCT\u0660\u0664\u0662\u0668\u0660\u0667\u0660\u0665"}, id="nct_id-arabic"
        ),
        pytest.param("get_stock_info", "symbol", {"symbol": "\uff12\uff13\uff13\uff10"}, id="symbol-fullwidth"),
        pytest.param("analyze_stock", "symbol", {"symbol": "\u0968\u0969\u0969\u0966"}, id="symbol-devanagari"),
        pytest.param("get_price_history", "symbol", {"symbol": "\uff12\uff13\uff13\uff10"}, id="history-fullwidth"),
        pytest.param("get_stock_quote", "symbols", {"symbols": ["2330", "\uff16\uff14\uff18\uff18"]}, id="quote-list"),
        pytest.param("search_trials_by_mutation", "mutation", {"mutation": "EGFR L\uff18\uff15\uff18R"}, id="mutation"),
    ],
)
def test_identifiers_take_ascii_digits_only(fuzz: FuzzTarget, tool: str, field: str, arguments: dict[str, Any]) -> None:
    """A Unicode digit in an identifier is not the ASCII digit it looks like: reject it, naming
    the argument, before any upstream request (else ``２３３０`` and ``2330`` are two cache keys
    for one stock, or an id reaches the upstream's URL path)."""
    before = fuzz.outcomes.copy()
    problems = fuzz.check(tool, {**VALID[tool], **arguments}, must_reject=field)
    assert not problems, f"{fuzz.figures(since=before)}: {problems}"


def test_memory_stays_bounded_over_the_fuzz_run(fuzz: FuzzTarget) -> None:
    """Runs last in the fuzz package: after the schema fuzz and the hostile values, plus here 100
    distinct 1 MB arguments (refused by the per-call cap) and 300 distinct arguments just under
    the cap (60 KB each, accepted), so it means something when run alone, the in-process
    server's resident memory has grown by less than 50 MB."""
    before = fuzz.outcomes.copy()
    tools = [tool for tool in VALID if tool != "service_status"]
    for index in range(400):
        tool = tools[index % len(tools)]
        size = MB if index < 100 else 60_000
        fuzz.check(tool, {**VALID[tool], "unexpected_argument": f"{index:04d}" + "x" * size})
    growth = fuzz.rss_growth()
    figures = f"{fuzz.figures(since=before)}; RSS growth over the fuzz run {growth / MB:.1f} MB"
    print("\n" + figures)
    assert growth < MEMORY_BUDGET, figures
