"""Time-based invalidations on the wire: ``older_than`` / ``unused`` with an absolute cutoff."""

from __future__ import annotations

import pytest

from cache.coordination.event_codec import MalformedMessage, decode, encode, new_message
from cache.engine.invalidator import age_event
from tests.support.events import wire


@pytest.mark.parametrize(
    "event", [age_event("older_than", 1_700_000_000.25), age_event("unused", 1_700_000_000.0, "trials.search")]
)
def test_time_events_round_trip(event: object) -> None:
    message = new_message("host:1:abcd", 1_700_000_001.0, event)  # type: ignore[arg-type]
    assert decode(encode(message)) == message


@pytest.mark.parametrize("value", [[], ["soon"], ["inf"], ["1", "Bad*"], ["1", "ns", "more"], [1.5]])
def test_malformed_time_events_are_rejected(value: object) -> None:
    with pytest.raises(MalformedMessage):
        decode(wire("older_than", value))
