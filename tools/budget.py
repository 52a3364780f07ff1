"""Size budgets of tool answers, and how a cut list says so.

Every answer an agent gets is bounded (docs/tools.md, "The agent contract"): records and pages
fit in :data:`RECORD_BUDGET` bytes of compact JSON, anything asked for explicitly (a raw
upstream section, a long date range) in :data:`EXPLICIT_BUDGET`. A tool that must drop items
to fit keeps a prefix of the list, sets ``truncated: true`` on its answer and adds a
:class:`Cut` per list: how many items it returned and dropped, and the arguments that fetch
the rest. Nothing is ever cut silently; the server refuses (error kind ``too_large``) an
answer that is still above :data:`HARD_CAP` however it was built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, JsonValue
from pydantic_core import to_json

from tools.compact import Compact

RECORD_BUDGET = 16 * 1024
"""Bytes of compact JSON a record or a page may take by default."""

EXPLICIT_BUDGET = 64 * 1024
"""Bytes an answer may take when the agent asked for the large part explicitly."""

HARD_CAP = EXPLICIT_BUDGET
"""No structured answer leaves the server above this many bytes."""

T = TypeVar("T")


class Cut(Compact):
    """One list that was cut to fit the answer's size budget."""

    list: str = Field(description="Which list was cut (its field, dotted for a nested one).")
    returned: int = Field(description="Items returned.")
    dropped: int = Field(description="Items left out.")
    next: dict[str, JsonValue] = Field(description="Arguments to call the same tool with (changed) for the rest.")


Truncated = Annotated[
    Literal[True] | None, Field(description="Present (true) when a list was cut to fit the size budget; see cuts.")
]
"""The ``truncated`` field of an answer that may be cut: ``truncated: Truncated = None``."""

Cuts = Annotated[list[Cut] | None, Field(description="Each list that was cut, and the arguments that get the rest.")]
"""The ``cuts`` field beside it: ``cuts: Cuts = None``."""


def json_size(value: Any) -> int:
    """Bytes of ``value`` as compact JSON, as the answer will carry it (pydantic models with
    their own serialization, dates and the like included); pydantic's serializer, in Rust."""
    return len(to_json(value))


def fit(items: Sequence[T], budget: int, size: Callable[[T], int] = json_size, *, minimum: int = 1) -> int:
    """How many leading ``items`` fit in ``budget`` bytes (a comma between items counted); at
    least ``minimum`` (by default 1 when there are items, so a caller paging through always
    moves on).

    Most lists fit whole: sized as JSON in one pass (the brackets only make the test stricter),
    they are not sized item by item (a warm price history spent ~30 us a call on that)."""
    if size is json_size and json_size(items) <= budget:
        return len(items)
    used = 0
    for count, item in enumerate(items):
        used += size(item) + (1 if count else 0)
        if used > budget:
            return max(count, minimum)
    return len(items)
