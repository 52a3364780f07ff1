"""UsageLog: hard caps on distinct calls and bytes, digests as identities, buckets expiring."""

from __future__ import annotations

import orjson
import pytest

from cache.warming import UsageLog, export
from tests.support.clock import ManualClock


def test_distinct_calls_beyond_max_calls_are_counted_as_dropped(clock: ManualClock) -> None:
    usage = UsageLog(clock=clock, max_calls=100)
    for n in range(5000):
        usage.record("get_trial", {"nct_id": f"NCT{n:08d}"})
    assert len(usage) == 100 and usage.dropped == 4900
    assert usage.record("get_trial", {"nct_id": "NCT00000007"})  # a remembered call is still counted
    assert dict((spec.arguments["nct_id"], count) for spec, count in usage.top(1, 3600)) == {"NCT00000007": 2}


def test_bytes_held_never_exceed_max_bytes(clock: ManualClock) -> None:
    usage = UsageLog(clock=clock, max_bytes=10_000, max_call_bytes=1000)
    for n in range(1000):
        usage.record("search_trials", {"condition": f"{n:04d}" + "x" * 900})
    assert 9000 < usage.held_bytes <= 10_000 and len(usage) == 10 and usage.dropped == 990


def test_a_call_larger_than_max_call_bytes_is_never_remembered(clock: ManualClock) -> None:
    usage = UsageLog(clock=clock, max_call_bytes=4096)
    for n in range(1000):
        assert not usage.record("search_trials", {"condition": f"{n}" + "x" * 1_000_000})
    assert len(usage) == 0 and usage.held_bytes == 0 and usage.dropped == 1000
    assert usage.top(10, 3600) == [] and export(usage) == []  # nothing to publish


def test_calls_are_counted_by_their_canonical_arguments(clock: ManualClock) -> None:
    usage = UsageLog(clock=clock)
    usage.record("get_stock_quote", {"symbols": ["2330"], "market": "auto"})
    usage.record("get_stock_quote", {"market": "auto", "symbols": ["2330"], "ignored": None})
    ((spec, count),) = usage.top(5, 3600)
    assert (
        count == 2
        and spec.tool == "get_stock_quote"
        and dict(spec.arguments) == {"symbols": ["2330"], "market": "auto"}
    )
    assert len(orjson.dumps(export(usage))) < 200


def test_calls_and_their_bytes_leave_with_their_last_bucket(clock: ManualClock) -> None:
    usage = UsageLog(clock=clock, bucket=60, horizon=600)
    for n in range(50):
        usage.record("get_trial", {"nct_id": f"NCT{n:08d}"})
    assert len(usage) == 50 and usage.held_bytes > 0
    clock.advance(700)
    usage.record("get_trial", {"nct_id": "NCT99999999"})
    assert len(usage) == 1 and usage.held_bytes == len('{"nct_id":"NCT99999999"}') + len("get_trial")


@pytest.mark.parametrize("caps", [{"max_calls": 0}, {"max_bytes": 0}, {"max_call_bytes": 0}])
def test_caps_must_be_positive(caps: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="caps"):
        UsageLog(**caps)
