"""Each tool's whole output schema, as pydantic derives it from the tool's result model, and
:func:`outline`, the same outline server.catalog reads off the model's fields, cut from it.

``tools/list`` publishes only the outline; tests check answers against the whole nested shape
with these, and that both outlines agree."""

from __future__ import annotations

from typing import Any

from server.catalog import result_model
from server.toolset import TOOLS
from tools.registry import tool_name


def full_output_schemas() -> dict[str, dict[str, Any]]:
    """Tool name -> the JSON schema of the model it answers with."""
    return {tool_name(fn): result_model(fn).model_json_schema() for fn, _ in TOOLS}


def outline(schema: dict[str, Any]) -> dict[str, Any]:
    """The top level of object schema ``schema``: each property's type (a ``$ref`` followed),
    enum and required keys, without what lies below them (nested properties, array items);
    the top level's own ``required`` and ``additionalProperties`` kept."""
    defs: dict[str, Any] = schema.get("$defs", {})
    top = _followed(schema, defs)
    out: dict[str, Any] = {"type": "object"}
    if "properties" in top:
        out["properties"] = {name: _kinds(child, defs) for name, child in top["properties"].items()}
    for key in ("required", "additionalProperties"):
        if key in top and not isinstance(top[key], dict):
            out[key] = top[key]
    return out


_OUTLINED = ("type", "enum", "const", "required", "format")


def _kinds(schema: Any, defs: dict[str, Any]) -> Any:
    """A property's outline: its kind keywords, through ``$ref`` and ``anyOf``/``oneOf``."""
    if not isinstance(schema, dict):
        return schema
    schema = _followed(schema, defs)
    out = {key: schema[key] for key in _OUTLINED if key in schema}
    for key in ("anyOf", "oneOf"):
        if key in schema:
            out[key] = [_kinds(choice, defs) for choice in schema[key]]
    return out


def _followed(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """``schema``, or the ``$defs`` entry its local ``$ref`` points at."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _followed(defs[ref.removeprefix("#/$defs/")], defs)
    return schema
