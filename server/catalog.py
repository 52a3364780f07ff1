"""The tool catalog as agents receive it: lean schemas, a fixed order, cache hints.

The SDK derives each tool's input and output JSON schema from pydantic, which adds a ``title``
to every property and model and copies every field description into the output schema. A
model reads the name, the description and the input schema; the output schema is for clients
that validate results. So :func:`lean_tool` keeps the input schema's descriptions but drops
its titles, and reduces the output schema to its shape (types, required fields, enums): field
meanings live in the input descriptions and in docs/tools.md. The catalog is built once per
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

_SHAPE_ONLY = ("title", "description", "examples")
_NAMED_CHILDREN = ("properties", "$defs", "definitions", "patternProperties")


def lean_tool(tool: Tool) -> Tool:
    """``tool`` with titles dropped from its input schema and its output schema reduced to shape."""
    return tool.model_copy(
        update={
            "input_schema": lean_schema(tool.input_schema, drop=("title",)),
            "output_schema": None if tool.output_schema is None else lean_schema(tool.output_schema, drop=_SHAPE_ONLY),
        }
    )


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
