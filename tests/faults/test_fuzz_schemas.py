"""Property-based fuzzing of every tool's input schema, as the real server publishes it.

For each tool of ``tools/list``, hypothesis-jsonschema draws 60 argument objects from its input
schema (deterministically: ``derandomize``) and each is sent through the real MCP client. The
schemas leave room for much that is hostile on its own: Unicode digits where ``\\d`` is
written, control and private-use characters, unknown argument names with nested values. Every
answer must pass :meth:`tests.support.fuzzing.FuzzTarget.check`: the session keeps answering,
no traceback text, a rejection names one of the tool's arguments and costs no upstream request.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from server.toolset import TOOLS
from tests.support.fuzzing import MB, FuzzTarget
from tools.registry import tool_name

pytestmark = pytest.mark.faults

TOOL_NAMES = [tool_name(fn) for fn, _ in TOOLS]
EXAMPLES = 60

fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def test_every_published_tool_is_fuzzed(fuzz: FuzzTarget) -> None:
    assert sorted(fuzz.schemas) == sorted(TOOL_NAMES)


@pytest.mark.parametrize("tool", TOOL_NAMES)
def test_arguments_drawn_from_the_input_schema(fuzz: FuzzTarget, tool: str) -> None:
    schema = fuzz.schemas[tool]

    @fuzz_settings
    @given(data=st.data())
    def property_holds(data: st.DataObject) -> None:
        arguments: dict[str, Any] = data.draw(from_schema(schema), label="arguments")
        problems = fuzz.check(tool, arguments)
        assert not problems, f"{tool}({_shown(arguments)}): {problems}"

    before = fuzz.outcomes.copy()
    property_holds()
    print(f"\n{tool}: {fuzz.figures(since=before)}; RSS growth since the fuzz began {fuzz.rss_growth() / MB:.1f} MB")


def _shown(arguments: dict[str, Any]) -> str:
    text = repr(arguments)
    return text if len(text) <= 400 else text[:400] + "..."
