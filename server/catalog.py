"""The tool catalog as agents receive it: lean schemas, a fixed order, cache hints.

The SDK derives each tool's input and output JSON schema from pydantic, which adds a ``title``
to every property and model and copies every field description into the output schema. A
model reads the name, the description and the input schema; the output schema is for clients
that validate results. So :func:`lean_tool` keeps the input schema's descriptions but drops
its titles, and publishes the output schema as an outline (:func:`outline`): the answer's
top-level fields with their types, enums and required keys, one level deep. The full nested
shape lives in docs/tools.md and in the result models, which the tests check every answer
against (tests/server/test_output_shapes.py).

Why one level: the SDK's Python client checks every structured result against the published
schema with ``jsonschema`` (pure Python, per node of the answer) and compiles each tool's
schema on a connection's first call of it. With the full nested schema that check cost ~2.5 ms
of a ~5 ms warm ``get_trial`` over stdio and ~40 ms on the first call; the outline costs
~0.05 ms (``python -m benchmarks.floor``, docs/benchmarks.md). The catalog is built once per
server (tools are registered at start-up and never change), in registration order.
"""

from __future__ import annotations

from typing import Any

from mcp.server.caching import CacheableMethod, CacheHint
from mcp.types import Tool

CATALOG_TTL_MS = 3_600_000
"""How long a client may reuse tools/list, prompts/list and the resource lists: they are fixed
for the life of a server process (an upgrade restarts it)."""

CACHE_HINTS: dict[CacheableMethod, CacheHint] = {
    "tools/list": CacheHint(ttl_ms=CATALOG_TTL_MS, scope="public"),
    "prompts/list": CacheHint(ttl_ms=CATALOG_TTL_MS, scope="public"),
    "resources/list": CacheHint(ttl_ms=CATALOG_TTL_MS, scope="public"),
    "resources/templates/list": CacheHint(ttl_ms=CATALOG_TTL_MS, scope="public"),
}
"""The 2026-07-28 protocol's freshness hints for the catalog methods (older clients ignore them)."""

_NAMED_CHILDREN = ("properties", "$defs", "definitions", "patternProperties")


def lean_tool(tool: Tool) -> Tool:
    """``tool`` with titles dropped from its input schema and its output schema outlined."""
    return tool.model_copy(
        update={
            "input_schema": lean_schema(tool.input_schema, drop=("title",)),
            "output_schema": None if tool.output_schema is None else outline(tool.output_schema),
        }
    )


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


def lean_schema(schema: Any, drop: tuple[str, ...]) -> Any:
    """A copy of JSON schema ``schema`` without the keywords in ``drop`` (at every level; a
    property that happens to be called ``title`` is kept)."""
    if isinstance(schema, list):
        return [lean_schema(item, drop) for item in schema]
    if not isinstance(schema, dict):
        return schema
    lean: dict[str, Any] = {}
    for key, value in schema.items():
        if key in drop:
            continue
        if key in _NAMED_CHILDREN and isinstance(value, dict):
            lean[key] = {name: lean_schema(child, drop) for name, child in value.items()}
        else:
            lean[key] = lean_schema(value, drop)
    return lean
