"""Plain-text rendering for the CLI: aligned tables and indented key/value trees."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def render_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Left-aligned columns separated by two spaces, with a dashed rule under the header."""
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(value.ljust(widths[i]) for i, value in enumerate(row)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_tree(data: Any, indent: int = 0) -> str:
    """YAML-like view of nested dicts and lists; scalars on the key's line."""
    return "\n".join(_lines(data, indent))


def _lines(data: Any, indent: int) -> Iterable[str]:
    pad = "  " * indent
    if isinstance(data, dict):
        for key, value in data.items():
            if _is_scalar(value):
                yield f"{pad}{key}: {_scalar(value)}"
            else:
                yield f"{pad}{key}:"
                yield from _lines(value, indent + 1)
    elif isinstance(data, list):
        if not data:
            yield f"{pad}[]"
        for item in data:
            if _is_scalar(item):
                yield f"{pad}- {_scalar(item)}"
            else:
                yield f"{pad}-"
                yield from _lines(item, indent + 1)
    else:
        yield f"{pad}{_scalar(data)}"


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list)) or not value


def _scalar(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (dict, list)):
        return "{}" if isinstance(value, dict) else "[]"
    return str(value)
