"""``Compact``: the output base whose ``None`` fields are left out of the serialized JSON."""

from __future__ import annotations

import functools
import operator
from typing import Any

from pydantic import GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue

from tools.deferred import Deferred

_is_none = functools.partial(operator.is_, None)
"""``_is_none(value)``: ``value is None``, in C. Pydantic calls it for every optional field of every
model it dumps; as a Python function it cost about 35 ns a field (a third of a plain model's
dump), as this partial about 15 ns (same answers)."""


class Compact(Deferred):
    """Output base: ``None`` fields are omitted from the serialized JSON. Unknown keys are
    ignored, so a cached value written by a newer build still loads.

    Since a value is never ``null`` on the wire, the published JSON schema says so too: an
    optional field is "absent or of its type", not "null or its type". Besides being exact,
    that halves the work of clients that validate results against the output schema.

    Subclasses are built on first use (:class:`~tools.deferred.Deferred`): a server imports some
    seventy of them and publishes its tools without building any (server.catalog reads their
    fields), so its start-up does not pay for them; each is built once, by the first call that
    needs it."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        # Dropping None through pydantic's own per-field exclusion keeps serialization in the
        # Rust core (about 3x faster on a full record than a Python wrap serializer per model).
        # The class is not built yet (defer_build): its first use builds it once, with these.
        super().__pydantic_init_subclass__(**kwargs)
        for field in cls.model_fields.values():
            if field.exclude_if is None:
                field.exclude_if = _is_none

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        for prop in handler.resolve_ref_schema(schema).get("properties", {}).values():
            branches = prop.get("anyOf")
            if branches and {"type": "null"} in branches:
                kept = [branch for branch in branches if branch != {"type": "null"}]
                del prop["anyOf"]
                prop.update(kept[0] if len(kept) == 1 else {"anyOf": kept})
                if prop.get("default", 0) is None:
                    del prop["default"]
        return schema
