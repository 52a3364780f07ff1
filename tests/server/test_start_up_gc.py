"""``serve`` starts without cyclic collections, then freezes what start-up built."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from server import start_up_gc
from server.cli import main


@pytest.fixture(autouse=True)
def collector() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if was_enabled:
        gc.enable()


def test_resume_freezes_what_is_alive_and_collects_again() -> None:
    start_up_gc.pause()
    assert not gc.isenabled()
    built = [object() for _ in range(10)]
    frozen_before = gc.get_freeze_count()
    start_up_gc.resume()
    assert gc.isenabled()
    assert gc.get_freeze_count() > frozen_before
    assert built  # alive through the freeze


def test_resume_without_a_pause_changes_nothing() -> None:
    gc.enable()
    frozen_before = gc.get_freeze_count()
    start_up_gc.resume()
    start_up_gc.resume()  # more than once is fine
    assert gc.isenabled() and gc.get_freeze_count() == frozen_before


def test_a_command_that_is_not_serve_leaves_the_collector_alone(capsys: pytest.CaptureFixture[str]) -> None:
    frozen_before = gc.get_freeze_count()
    assert main(["version"]) == 0
    assert gc.isenabled() and gc.get_freeze_count() == frozen_before
    assert capsys.readouterr().out.strip()


def test_serve_that_fails_to_start_still_collects_again(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRIALSTOCK_HTTP__CALL_DEADLINE", "-5")  # refused when the settings load
    assert main(["serve"]) == 2
    assert gc.isenabled()
    assert "CALL_DEADLINE" in capsys.readouterr().err.upper()
