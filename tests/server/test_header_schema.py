"""The schema the SDK checks ``Mcp-Param-*`` headers against gives the same verdicts as the
tool's whole input schema, for our tools and for schemas that do declare headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp.shared.inbound import validate_mcp_param_headers

from server.app import build_app
from server.header_schema import header_schema
from server.settings import Settings
from server.toolset import TOOLS
from tools.registry import tool_name

REGION = {
    "type": "object",
    "properties": {"region": {"type": "string", "x-mcp-header": "Region"}, "limit": {"type": "integer"}},
}
ON_A_NUMBER = {"type": "object", "properties": {"ratio": {"type": "number", "x-mcp-header": "Ratio"}}}

REQUESTS: list[tuple[dict[str, Any], dict[str, str]]] = [
    ({}, {}),
    ({"region": "tw", "limit": 3}, {}),
    ({"region": "tw"}, {"mcp-param-region": "tw"}),
    ({"region": "tw"}, {"mcp-param-region": "us"}),
    ({}, {"mcp-param-region": "tw"}),
    ({"nct_id": "NCT04280705"}, {"mcp-param-nct": "NCT04280705"}),
    ({"ratio": 0.5}, {"mcp-param-ratio": "0.5"}),
]


def verdicts(schema: dict[str, Any]) -> list[object]:
    return [validate_mcp_param_headers(schema, arguments, headers) for arguments, headers in REQUESTS]


def test_a_schema_that_declares_a_header_is_kept_whole() -> None:
    assert header_schema(REGION) is REGION
    assert any(verdict is not None for verdict in verdicts(REGION))  # the mismatches are still refused


def test_an_invalid_declaration_checks_nothing_either_way() -> None:
    assert header_schema(ON_A_NUMBER) == {"type": "object"}
    assert verdicts(ON_A_NUMBER) == verdicts(header_schema(ON_A_NUMBER)) == [None] * len(REQUESTS)


@pytest.fixture
def server(tmp_path: Path) -> Any:
    return build_app(Settings(_env_file=None, sqlite_path=str(tmp_path / "c.sqlite3")), role="cli").mcp


@pytest.mark.parametrize("name", [tool_name(fn) for fn, _ in TOOLS])
def test_every_tool_gets_the_verdicts_of_its_whole_schema(server: Any, name: str) -> None:
    whole = server._tool_manager.get_tool(name).parameters
    reduced = server._tool_input_schema(name)
    assert reduced == {"type": "object"}  # none of our tools declares a header
    assert verdicts(reduced) == verdicts(whole)
    assert server._tool_input_schema(name) is reduced  # worked out once


def test_an_unknown_tool_has_no_schema(server: Any) -> None:
    assert server._tool_input_schema("no_such_tool") is None
