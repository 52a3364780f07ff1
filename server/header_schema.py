"""``header_schema(input_schema)``: the part of a tool's input schema that ``Mcp-Param-*``
headers are checked against, for the SDK's per-call header validation.

Over streamable HTTP the SDK checks every ``tools/call`` with arguments against the
``x-mcp-header`` annotations of the tool's input schema, and finds them by walking the whole
schema twice per call (``mcp.shared.inbound.validate_mcp_param_headers``): 6-35 us of server
CPU a call for our schemas, the largest single cost a warm call adds to the trivial tool's
under load. The verdict only depends on the annotations, so a schema without any (or with an
invalid one, against which the SDK checks nothing) is represented by an object schema with no
properties: one position to walk, the same verdict on any request (nothing declared, nothing
checked). A schema with valid annotations is kept as it is.
"""

from __future__ import annotations

from typing import Any

from mcp.shared.inbound import find_invalid_x_mcp_header, x_mcp_header_map

__all__ = ["header_schema"]


def header_schema(input_schema: dict[str, Any]) -> dict[str, Any]:
    """``input_schema`` when it declares a valid ``x-mcp-header``; otherwise an object schema
    with no properties (a new one each time: the SDK may keep it)."""
    if find_invalid_x_mcp_header(input_schema) is None and x_mcp_header_map(input_schema):
        return input_schema
    return {"type": "object"}
