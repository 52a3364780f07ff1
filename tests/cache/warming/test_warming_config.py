"""The strategies file: the shipped default, schema errors that name file/strategy/field, usage log."""

from __future__ import annotations

from pathlib import Path

import pytest

from cache.warming import (
    CallSpec,
    StrategyFileError,
    TtlOverride,
    UsageLog,
    default_strategies_path,
    load_strategies,
    parse_strategies,
)
from tests.support.clock import ManualClock

VALID = """
[[strategy]]
name = "s1"
kind = "calls"
priority = 3
concurrency = 4
interval = 600
run_at_startup = true
ttl = { fresh = 3600, stale = 86400 }
calls = [ { tool = "get_trial", arguments = { nct_id = "NCT04280705" } }, { tool = "count_trials" } ]

[[strategy]]
name = "hot"
kind = "trending"
top = 5
window = 600
enabled = false

[[strategy]]
name = "mine"
kind = "custom"
target = "asyncio:sleep"
"""


def test_the_default_file_ships_in_the_package_with_the_agreed_calls() -> None:
    path = default_strategies_path()
    assert path.parent == Path(__file__).resolve().parents[3] / "cache" / "warming"
    strategies = {s.name: s for s in load_strategies(path)}
    mutations = strategies["common-mutations"]
    assert [c.arguments["mutation"] for c in mutations.calls] == ["EGFR L858R", "KRAS G12C", "BRAF V600E"]
    assert {c.tool for c in mutations.calls} == {"search_trials_by_mutation"}
    stocks = strategies["taiwan-stocks"].calls
    assert stocks[0] == CallSpec("get_stock_quote", {"symbols": ["2330", "2317", "2454", "0050"]})
    assert [(c.tool, c.arguments) for c in stocks[1:]] == [
        ("get_price_history", {"symbol": code, "period": "3mo"}) for code in ("2330", "2317", "2454", "0050")
    ]
    flows = strategies["taiwan-flows"]
    assert [(c.tool, c.arguments) for c in flows.calls] == [
        (tool, {"symbol": code})
        for tool in ("get_institutional_flows", "get_margin_balance")
        for code in ("2330", "2317", "2454", "0050")
    ]
    assert flows.concurrency == 1  # the calls share day tables: the later ones are cache hits
    assert strategies["trending"].kind == "trending"
    assert mutations.priority > strategies["taiwan-stocks"].priority > flows.priority > strategies["trending"].priority


def test_every_field_is_read() -> None:
    s1, hot, mine = parse_strategies(VALID)
    assert (s1.priority, s1.concurrency, s1.interval, s1.run_at_startup) == (3, 4, 600.0, True)
    assert s1.ttl == TtlOverride(3600.0, 86400.0)
    assert s1.calls[1] == CallSpec("count_trials", {})
    assert (hot.top, hot.window, hot.enabled, hot.interval) == (5, 600.0, False, None)
    assert mine.target == "asyncio:sleep"


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('kind = "calls"\ncalls = [{ tool = "t" }]', "strategy #1: field 'name': is required"),
        ('name = "a b"\nkind = "calls"', "strategy 'a b': field 'name': use letters"),
        ('name = "x"\nkind = "everything"', "strategy 'x': field 'kind': must be one of calls, trending, custom"),
        (
            'name = "x"\nkind = "calls"\ncalls = [{ tool = "t" }]\npriority = "high"',
            "strategy 'x': field 'priority': must be an integer, got 'high'",
        ),
        (
            'name = "x"\nkind = "calls"\ncalls = [{ tool = "t" }]\nconcurrency = 0',
            "strategy 'x': field 'concurrency': must be at least 1, got 0",
        ),
        (
            'name = "x"\nkind = "calls"\ncalls = [{ tool = "t" }]\ninterval = -5',
            "strategy 'x': field 'interval': must be a positive number of seconds, got -5",
        ),
        (
            'name = "x"\nkind = "calls"\ncalls = [{ tool = "t" }]\nttl = { fresh = 60, stale = 10 }',
            "strategy 'x': field 'ttl.stale': must be at least ttl.fresh (60.0), got 10.0",
        ),
        (
            'name = "x"\nkind = "calls"\ncalls = [{ tool = "t" }]\nttl = { fresh = 60, soft = 10 }',
            "strategy 'x': field 'ttl': must be a table",
        ),
        ('name = "x"\nkind = "calls"\ncalls = []', "strategy 'x': field 'calls': must list at least one call"),
        (
            'name = "x"\nkind = "calls"\ncalls = [{ tool = "t" }, { arguments = {} }]',
            "strategy 'x': field 'calls[2].tool': must be a tool name, got None",
        ),
        (
            'name = "x"\nkind = "calls"\ncalls = [{ tool = "t", arguments = "EGFR" }]',
            "strategy 'x': field 'calls[1].arguments': must be a table",
        ),
        (
            'name = "x"\nkind = "calls"\ncalls = [{ tool = "t" }]\ntop = 5',
            "strategy 'x': field 'top': not a field of a 'calls' strategy",
        ),
        ('name = "x"\nkind = "trending"\ntop = 0', "strategy 'x': field 'top': must be at least 1, got 0"),
        ('name = "x"\nkind = "custom"', "strategy 'x': field 'target': is required"),
        (
            'name = "x"\nkind = "custom"\ntarget = "no_such_module_here:warm"',
            "strategy 'x': field 'target': cannot import module 'no_such_module_here'",
        ),
        (
            'name = "x"\nkind = "custom"\ntarget = "asyncio:no_such_function"',
            "strategy 'x': field 'target': module 'asyncio' has no attribute 'no_such_function'",
        ),
        (
            'name = "x"\nkind = "custom"\ntarget = "json.dumps"',
            "strategy 'x': field 'target': 'json.dumps' must be an async function taking the cache",
        ),
    ],
)
def test_schema_errors_name_the_file_the_strategy_and_the_field(table: str, expected: str) -> None:
    with pytest.raises(StrategyFileError) as caught:
        parse_strategies(f"[[strategy]]\n{table}\n", "warm.toml")
    assert str(caught.value).startswith(f"warm.toml: {expected}")


def test_file_level_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('[[strategy]]\nname = "x\n')
    with pytest.raises(StrategyFileError, match=r"broken.toml: invalid TOML: .*line 2"):
        load_strategies(broken)
    with pytest.raises(StrategyFileError, match=r"missing.toml: cannot read the file"):
        load_strategies(tmp_path / "missing.toml")
    twice = '[[strategy]]\nname = "a"\nkind = "trending"\n' * 2
    with pytest.raises(StrategyFileError, match="strategy 'a': field 'name': the name is used twice"):
        parse_strategies(twice, "twice.toml")
    with pytest.raises(StrategyFileError, match="unknown top-level key"):
        parse_strategies('[strategies]\nname = "a"\n', "typo.toml")


def test_usage_log_ranks_the_calls_of_the_window_and_forgets_old_buckets() -> None:
    clock = ManualClock(6000.0)
    usage = UsageLog(clock=clock, bucket=60.0, horizon=600.0)
    for _ in range(5):
        usage.record("get_trial", {"nct_id": "NCT1"})
    clock.advance(300)
    for _ in range(2):
        usage.record("get_trial", {"nct_id": "NCT2", "sections": None})  # None arguments are dropped
    usage.record("get_stock_quote", {"symbols": ["2330"]})
    assert usage.top(2, window=3600) == [
        (CallSpec("get_trial", {"nct_id": "NCT1"}), 5),
        (CallSpec("get_trial", {"nct_id": "NCT2"}), 2),
    ]
    assert [spec.arguments for spec, _ in usage.top(5, window=120)] == [{"nct_id": "NCT2"}, {"symbols": ["2330"]}]
    clock.advance(700)
    usage.record("count_trials", {})
    assert usage.top(5, window=3600) == [(CallSpec("count_trials", {}), 1)]  # past the 10-minute horizon


def test_usage_log_bounds_distinct_calls_per_bucket() -> None:
    usage = UsageLog(clock=ManualClock(), max_calls=2)
    for n in range(4):
        usage.record("t", {"n": n})
    usage.record("t", {"n": 0})
    assert usage.dropped == 2
    assert usage.top(10, 60) == [(CallSpec("t", {"n": 0}), 2), (CallSpec("t", {"n": 1}), 1)]
