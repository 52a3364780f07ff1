"""Fixtures of the fault suite (``uv run pytest -m faults``; every module is marked ``faults``).

- ``fuzz`` (package): the real server in-process against a replay upstream, driven through a
  synchronous client, shared by the input-fuzzing modules so the memory they leave behind adds
  up over the whole fuzz run (``tests.support.fuzzing``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fuzzing import FuzzTarget, fuzz_target


@pytest.fixture(scope="package")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    with fuzz_target(tmp_path_factory.mktemp("fuzz")) as target:
        yield target
