"""The tool catalog as agents receive it: lean schemas, a fixed order, cache hints.

The SDK derives each tool's input JSON schema from pydantic, which adds a ``title`` to every
property and model. A model reads the name, the description and the input schema; the output
schema is for clients that validate results. So :func:`lean_tool` keeps the input schema's
descriptions but drops its titles, and publishes the output schema as an outline: the answer's
top-level fields with their types, enums and required keys, one level deep. The full nested
shape lives in docs/tools.md and in the result models, which the tests check every answer
against (tests/e2e/test_agent_contract.py).

The outline is read off the result model's fields (:func:`outline_of`), not cut from its JSON
schema: tools are registered without the SDK's structured output (it would build a validator
and the whole JSON schema of every result model at start-up, about half of building the
server), and the result models are built on their first use (:class:`tools.compact.Compact`:
~10 ms on the first call of each tool in a process, instead of ~150 ms for all of them before
the first tools/list). The tests cut the outline from each tool's whole JSON schema too
(tests/support/output_schemas.py) and check that both agree.

Why one level: the SDK's Python client checks every structured result against the published
schema with ``jsonschema`` (pure Python, per node of the answer) and compiles each tool's
schema on a connection's first call of it. With the full nested schema that check cost ~2.5 ms
of a ~5 ms warm ``get_trial`` over stdio and ~40 ms on the first call; the outline costs
~0.05 ms (``python -m benchmarks.floor``, docs/benchmarks.md). The catalog is built once per
server (tools are registered at start-up and never change), in registration order.
"""

from __future__ import annotations

import datetime
import enum
import inspect
import types
import typing
from collections import abc
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union

from mcp.server.caching import CacheableMethod, CacheHint
from mcp.types import Tool
from pydantic import BaseModel
from pydantic.fields import FieldInfo

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


def lean_tool(tool: Tool, result: type[BaseModel]) -> Tool:
    """``tool`` with titles dropped from its input schema and the outline of ``result`` (the
    model it answers with) as its output schema."""
    return tool.model_copy(
        update={"input_schema": lean_schema(tool.input_schema, drop=("title",)), "output_schema": outline_of(result)}
    )


def result_model(fn: Callable[..., Any]) -> type[BaseModel]:
    """The model a tool function answers with (its return annotation)."""
    annotation = inspect.signature(fn, eval_str=True).return_annotation
    if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        raise TypeError(f"tool {fn.__name__} must be annotated to return a pydantic model, not {annotation!r}")
    return annotation


def outline_of(model: type[BaseModel]) -> dict[str, Any]:
    """:func:`outline` of ``model``'s JSON schema, read off its fields (named as serialized)."""
    properties = {name: _kind_of(field.annotation) for name, field in _published(model)}
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required := _required(model):
        out["required"] = required
    if model.model_config.get("extra") == "forbid":
        out["additionalProperties"] = False
    return out


def _published(model: type[BaseModel]) -> list[tuple[str, FieldInfo]]:
    """The fields of ``model`` that its answers carry, under the names they carry them by."""
    fields = model.model_fields.items()
    return [(field.serialization_alias or field.alias or name, field) for name, field in fields if not field.exclude]


def _required(model: type[BaseModel]) -> list[str]:
    return [name for name, field in _published(model) if field.is_required()]


_JSON_TYPES: dict[type, dict[str, Any]] = {
    str: {"type": "string"},
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    datetime.date: {"type": "string", "format": "date"},
    datetime.datetime: {"type": "string", "format": "date-time"},
}


def _kind_of(annotation: Any) -> dict[str, Any]:
    """The outline of one field's type: its JSON type, enum or const, and a model's required keys."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        return _kind_of(args[0])
    if origin in (Union, types.UnionType):
        kept = [arg for arg in args if arg is not type(None)]
        if set(kept) == {int, float}:  # every JSON integer is a number
            return {"type": "number"}
        return _kind_of(kept[0]) if len(kept) == 1 else {"anyOf": [_kind_of(arg) for arg in kept]}
    if origin is Literal:
        values = list(args)
        kinds = {type(value) for value in values}
        out = {"const": values[0]} if len(values) == 1 else {"enum": values}
        return {**_JSON_TYPES[kinds.pop()], **out} if len(kinds) == 1 else out
    if annotation is Any or annotation is object:
        return {}
    if origin in (list, tuple, set, frozenset, abc.Sequence):
        return {"type": "array"}
    if origin in (dict, abc.Mapping) or annotation is dict:
        return {"type": "object"}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        required = _required(annotation)
        return {"type": "object", "required": required} if required else {"type": "object"}
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return {"enum": [member.value for member in annotation]}
    for kind, schema in _JSON_TYPES.items():
        if annotation is kind:
            return dict(schema)
    raise TypeError(f"no outline for the output type {annotation!r}")


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
