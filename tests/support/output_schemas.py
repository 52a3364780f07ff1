"""Each tool's whole output schema, as pydantic derives it from the tool's result model.

``tools/list`` publishes only an outline of it (server.catalog); tests check answers against
the whole nested shape with these."""

from __future__ import annotations

from typing import Any

from server.catalog import result_model
from server.toolset import TOOLS
from tools.registry import tool_name


def full_output_schemas() -> dict[str, dict[str, Any]]:
    """Tool name -> the JSON schema of the model it answers with."""
    return {tool_name(fn): result_model(fn).model_json_schema() for fn, _ in TOOLS}
