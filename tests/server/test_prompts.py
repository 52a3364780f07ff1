"""The prompts: every tool and argument they name is published, and bad arguments are named."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from server.app import build_server
from server.settings import Settings
from tests.support.output_schemas import full_output_schemas

CALL = re.compile(r"\b([a-z_]+)\(([^()]*)\)")
NAMED = re.compile(r"`([A-Za-z_0-9]+)`")

FULL = {
    "match_patient_to_trials": {
        "condition": "non-small cell lung cancer",
        "mutation": "EGFR L858R",
        "age": "54 years",
        "sex": "Female",
        "location": "Taiwan",
    },
    "summarise_trial": {"nct_id": " nct04280705 "},
    "technical_read_of_stock": {"symbol": "2330"},
}


@pytest.fixture
def server(tmp_path: Path) -> MCPServer[Any]:
    """Prompts render without a connection, so nothing starts and no upstream is reached."""
    return build_server(Settings(_env_file=None, sqlite_path=str(tmp_path / "cache.sqlite3")))


def properties(schema: Any) -> Iterator[str]:
    """Every property name anywhere in a JSON schema (nested objects and $defs included)."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                yield from value
            yield from properties(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from properties(item)


async def text_of(server: MCPServer[Any], name: str, arguments: dict[str, str]) -> str:
    result = await server.get_prompt(name, arguments)
    return "\n".join(message.content.text for message in result.messages)  # type: ignore[union-attr]


async def test_the_prompts_are_listed_with_their_arguments(server: MCPServer[Any]) -> None:
    prompts = {prompt.name: prompt for prompt in await server.list_prompts()}
    assert set(prompts) == set(FULL)
    arguments = {name: [(a.name, a.required) for a in p.arguments or []] for name, p in prompts.items()}
    assert arguments["match_patient_to_trials"] == [
        ("condition", True),
        ("mutation", False),
        ("age", False),
        ("sex", False),
        ("location", False),
    ]
    assert arguments["summarise_trial"] == [("nct_id", True)]
    assert all(p.description and p.title for p in prompts.values())


@pytest.mark.parametrize(
    "name, arguments",
    [*FULL.items(), ("match_patient_to_trials", {"condition": "melanoma"})],
)
async def test_every_tool_and_argument_named_is_published(
    server: MCPServer[Any], name: str, arguments: dict[str, str]
) -> None:
    tools = {tool.name: tool for tool in await server.list_tools()}
    inputs = {tool: set(properties(t.input_schema)) for tool, t in tools.items()}
    # the whole output shapes, as derived from the result models (tools/list publishes outlines)
    outputs = {field for schema in full_output_schemas().values() for field in properties(schema)}
    text = await text_of(server, name, arguments)
    calls = CALL.findall(text)
    assert calls
    for tool, call_arguments in calls:
        assert tool in tools, f"{name} calls an unknown tool {tool}"
        named = set(re.findall(r"\b([a-z_]+)=", call_arguments))
        assert named and named <= inputs[tool], f"{name}: {tool} has no argument {named - inputs[tool]}"
    for word in NAMED.findall(text):
        known = word in tools or any(word in names for names in inputs.values()) or word in outputs
        assert known, f"{name} names `{word}`, which no tool takes or returns"


async def test_the_texts_carry_the_arguments(server: MCPServer[Any]) -> None:
    with_mutation = await text_of(server, "match_patient_to_trials", FULL["match_patient_to_trials"])
    without = await text_of(server, "match_patient_to_trials", {"condition": "melanoma"})
    summary = await text_of(server, "summarise_trial", FULL["summarise_trial"])
    stock = await text_of(server, "technical_read_of_stock", FULL["technical_read_of_stock"])
    assert 'search_trials_by_mutation(mutation="EGFR L858R", condition="non-small cell lung cancer"' in with_mutation
    assert "age: 54; sex: female; location: Taiwan" in with_mutation
    assert "search_trials_by_mutation" not in without and 'search_trials(condition="melanoma", statuses' in without
    assert 'get_trial(nct_id="NCT04280705")' in summary and 'get_trial_results(nct_id="NCT04280705")' in summary
    assert 'analyze_stock(symbol="2330"' in stock and "not investment advice" in stock


@pytest.mark.parametrize(
    "name, arguments, argument",
    [
        ("match_patient_to_trials", {"condition": "   "}, "condition"),
        ("match_patient_to_trials", {}, "condition"),
        ("match_patient_to_trials", {"condition": "x" * 501}, "condition"),
        ("match_patient_to_trials", {"condition": "melanoma", "age": "old"}, "age"),
        ("match_patient_to_trials", {"condition": "melanoma", "age": "130"}, "age"),
        ("match_patient_to_trials", {"condition": "melanoma", "sex": "unknown"}, "sex"),
        ("match_patient_to_trials", {"condition": "melanoma", "mutation": "E" * 81}, "mutation"),
        ("match_patient_to_trials", {"condition": "melanoma", "gene": "EGFR"}, "gene"),
        ("summarise_trial", {"nct_id": "NCT123"}, "nct_id"),
        ("summarise_trial", {"nct_id": "NCT0428070５"}, "nct_id"),  # a full-width digit
        ("technical_read_of_stock", {"symbol": ""}, "symbol"),
        ("technical_read_of_stock", {"symbol": "23 30"}, "symbol"),
    ],
)
async def test_a_bad_argument_is_an_invalid_params_error_naming_it(
    server: MCPServer[Any], name: str, arguments: dict[str, str], argument: str
) -> None:
    with pytest.raises(MCPError) as err:
        await server.get_prompt(name, arguments)
    assert err.value.code == INVALID_PARAMS
    assert err.value.message.startswith(f"Invalid argument {argument!r}: ")


async def test_an_unknown_prompt_is_invalid_params_with_the_closest_name(server: MCPServer[Any]) -> None:
    with pytest.raises(MCPError) as err:
        await server.get_prompt("summarize_trial", {"nct_id": "NCT04280705"})
    assert err.value.code == INVALID_PARAMS
    assert "unknown prompt 'summarize_trial'; did you mean 'summarise_trial'?" in err.value.message
