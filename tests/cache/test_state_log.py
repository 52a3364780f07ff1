"""StateLog: one line when an episode of trouble starts, one with the counts when it ends."""

from __future__ import annotations

import logging

import pytest

from cache.state_log import StateLog


def test_state_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    episodes = StateLog(logging.getLogger("test.state_log"), "thing", clock=lambda: 0.0)
    with caplog.at_level(logging.WARNING, logger="test.state_log"):
        assert episodes.end("fine") is False  # no episode: nothing to say
        assert episodes.event("timeouts", "after 1s") is True
        assert [episodes.event("timeouts") for _ in range(4)] == [False] * 4
        episodes.event("errors", n=2)
        assert episodes.active and episodes.count("timeouts") == 5
        assert episodes.end("recovered") is True
    first, last = [r.getMessage() for r in caplog.records if r.name == "test.state_log"]
    assert first.startswith("thing: timeouts: after 1s")
    assert last.startswith("thing: recovered (5 timeouts, 2 errors since ")
    assert not episodes.active and episodes.count("timeouts") == 0
