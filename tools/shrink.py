"""Fitting a JSON value into a byte budget by cutting lists, and reaching a part of it by path.

A part is named by a dotted path: object keys and list indices (``resultsSection.
outcomeMeasuresModule.outcomeMeasures.3.classes``). :func:`select` returns the part at a path
(a clear error naming the level where it failed and the keys valid there); :func:`shrink`
cuts lists to prefixes until the value fits, and says for each cut list where the rest starts,
so ``select(root, cut.path)[cut.next_offset:]`` is exactly what was left out.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tools.budget import fit, json_size

_SEGMENT = re.compile(r"^[A-Za-z0-9_]+$")


class PathError(ValueError):
    """A path that does not lead into the value: the message names where and what is valid."""


@dataclass(frozen=True, slots=True)
class ListCut:
    """A list at ``path`` shown from ``start`` on, of which ``returned`` items were kept and
    ``dropped`` left out; the rest starts at ``next_offset``."""

    path: str
    start: int
    returned: int
    dropped: int

    @property
    def next_offset(self) -> int:
        return self.start + self.returned


def join(path: str, segment: str | int) -> str:
    return f"{path}.{segment}" if path else str(segment)


def select(value: Any, path: str) -> Any:
    """The part of ``value`` at dotted ``path`` (indices for lists). PathError when a segment
    does not exist: it names the path walked so far and the keys (or index range) valid there."""
    walked = ""
    for segment in path.split("."):
        if not _SEGMENT.match(segment):
            raise PathError(f"'{path}' is not a dotted path (segments are keys or list indices, joined by '.')")
        if isinstance(value, dict) and segment in value:
            value = value[segment]
        elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            raise PathError(f"no '{segment}' {_where(walked)}; valid there: {_valid(value)}")
        walked = join(walked, segment)
    return value


def shrink(
    value: Any,
    budget: int,
    *,
    path: str = "",
    start: int = 0,
    can_cut: Callable[[str], bool] | None = None,
) -> tuple[Any, list[ListCut]]:
    """``value`` within ``budget`` bytes of compact JSON, and the lists cut to get there: ``value``
    itself when it fits already (a read-only view: callers never change it), else a cut copy.

    While over budget, the list that costs the most bytes (among those with two or more items,
    else any) is cut to the prefix that lets the whole fit (at least one item is dropped each
    time, so this ends). ``path`` names ``value`` itself and ``start`` the index of its first
    item when it is a list shown from an offset; ``can_cut`` limits which lists may be cut.
    The value returned may still be over budget when no list is left to cut (a long string).
    """
    if json_size(value) <= budget:
        return value, []
    value = copy.deepcopy(value)
    shown: dict[str, tuple[int, int]] = {}  # path -> (first index, original length)
    while (excess := json_size(value) - budget) > 0:
        lists = [entry for entry in _lists(value, path, start) if can_cut is None or can_cut(entry[0])]
        longer = [entry for entry in lists if len(entry[2]) >= 2]
        candidates = longer or [entry for entry in lists if entry[2]]
        if not candidates:
            break
        where, first, items = max(candidates, key=lambda entry: json_size(entry[2]))
        shown.setdefault(where, (first, len(items)))
        keep = fit(items, max(json_size(items) - excess, 0))
        del items[min(keep, len(items) - 1) :]
    remaining = {where: len(items) for where, _, items in _lists(value, path, start)}
    # A list inside an item that a later cut dropped is not shown at all: its parent's cut covers it.
    cuts = [
        ListCut(where, first, remaining[where], length - remaining[where])
        for where, (first, length) in shown.items()
        if where in remaining
    ]
    return value, cuts


def _lists(value: Any, path: str, start: int) -> list[tuple[str, int, list[Any]]]:
    """Every list in ``value`` (depth first) with its absolute path and first index."""
    found: list[tuple[str, int, list[Any]]] = []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _lists(child, join(path, key), 0)
    elif isinstance(value, list):
        found.append((path, start, value))
        for index, child in enumerate(value):
            found += _lists(child, join(path, start + index), 0)
    return found


def _where(walked: str) -> str:
    return f"in '{walked}'" if walked else "at the top"


def _valid(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(sorted(value)) or "(empty object)"
    if isinstance(value, list):
        return f"indices 0-{len(value) - 1}" if value else "(empty list)"
    return f"nothing (a {type(value).__name__} value)"
