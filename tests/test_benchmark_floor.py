"""The benchmarks' cacheless floor asks the upstream for what the real server asks for, so a
cold call is compared with a request of the same size."""

from __future__ import annotations

from benchmarks._cacheless import RECORD_FIELDS
from tools.clinical_trials.service import RECORD_FIELDS as SERVER_RECORD_FIELDS


def test_the_floor_asks_for_the_pieces_of_a_record_that_the_server_asks_for() -> None:
    assert RECORD_FIELDS.split(",") == list(SERVER_RECORD_FIELDS)
