"""Tool arguments as agents send them: misspelled names refused with the closest real one,
harmless type slips accepted.

Agents and their clients send ``symbol: 2330`` as a number (MCP Inspector's CLI does),
``statuses: "open"`` as one string where a list is expected, or ``"2330,AAPL"`` for a list.
Where the intent is unambiguous, :func:`forgive` turns such a value into what the input schema
asks for before the tool's own validation runs (which still rejects anything wrong, naming the
field). An argument name the tool does not have is never ignored: it is refused with the
closest real name (``unknown argument 'start'; did you mean 'start_date'?``), before any
upstream request. Both the MCP path and the in-process path (warming, the CLI) go through
:func:`normalize_arguments` with the tool's input schema.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from tools.errors import InvalidInput

Schema = Mapping[str, Any]


def normalize_arguments(tool: str, schema: Schema, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """``arguments`` with each value forgiven (:func:`forgive`) against its property in the input
    ``schema``. Raises InvalidInput for the first argument name the schema does not have."""
    properties: Mapping[str, Any] = schema.get("properties", {})
    for name in arguments:
        if name not in properties:
            close = closest(name, properties)
            suggestion = f"; did you mean {close!r}?" if close else ""
            raise InvalidInput(
                name,
                f"unknown argument{suggestion} ({tool} takes: {', '.join(properties) or 'no arguments'})",
                hint=f"did you mean {close!r}?" if close else None,
            )
    return {name: forgive(value, properties[name], schema) for name, value in arguments.items()}


def forgive(value: Any, prop: Schema, root: Schema) -> Any:
    """``value`` as property ``prop`` (of the schema ``root``) expects it, where a slip is harmless:
    a whole number for a text becomes that text (``2330`` -> ``"2330"``; not a fraction or a
    huge number); for a list, a bare value becomes a one-item list and a comma-separated text its
    items (a blank text stays as it is, to be refused). Anything else is returned as
    it is, for the tool's validation to accept or reject."""
    types, items = shape(prop, root)
    if isinstance(value, bool):
        return value
    if "array" in types and not types & {"string", "number", "integer"}:
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return value  # a JSON list sent as text: the SDK parses it
            parts = [part.strip() for part in value.split(",") if part.strip()]
            return [forgive(part, items, root) for part in parts] if parts else value
        if _code_like(value):
            return [forgive(value, items, root)]
        if isinstance(value, list):
            return [forgive(item, items, root) for item in value]
        return value
    if _code_like(value) and "string" in types and not types & {"number", "integer"}:
        return _number_text(value)
    return value


def shape(prop: Schema, root: Schema) -> tuple[set[str], Schema]:
    """(JSON types the property allows, its array items schema), following anyOf/oneOf and $refs;
    an enum counts as text."""
    if "$ref" in prop:
        target: Any = root
        for part in str(prop["$ref"]).removeprefix("#/").split("/"):
            target = target.get(part, {})
        return shape(target, root)
    kind = prop.get("type")
    types = {kind} if isinstance(kind, str) else set(kind or ())
    if "enum" in prop or "const" in prop:
        types.add("string")
    items: Schema = prop.get("items", {})
    for member in (*prop.get("anyOf", ()), *prop.get("oneOf", ())):
        member_types, member_items = shape(member, root)
        types |= member_types
        items = items or member_items
    return types or {"object"}, items


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to ``word`` (a misspelling or a prefix of it), or None."""
    options = list(choices)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return close[0]
    prefixed = [option for option in options if option.startswith(word) or word.startswith(option)]
    return prefixed[0] if len(prefixed) == 1 else None


CODE_LIMIT = 10**15
"""A number is taken for a code (a stock code, NCT digits) only when whole and below this."""


def _code_like(value: object) -> bool:
    """A whole number small enough to be a code someone typed (not 1e308)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return (isinstance(value, int) or value.is_integer()) and abs(value) < CODE_LIMIT


def _number_text(value: int | float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
