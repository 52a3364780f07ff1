"""``decoded(model, value)``: a cached value as its model, validated once per cached object.

A memory-tier hit hands back the very object the tier holds, so validating it into its model
on every warm call (``model_validate`` walks the whole value: ~45 us for a trial record) repeats
work whose answer cannot change. This keeps the model of the last :data:`SIZE` values, keyed by
the value's identity and checked with ``is`` (an id reused by a new object is a miss). A value
decoded from SQLite or Redis is a new object each time and is validated as before.

The models handed out are shared by every caller of the same value: read them, never change
them (build a new answer model around them, as the services do). The memo holds its values
alive until they are pushed out: at most SIZE of them, each within the record budget.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["SIZE", "decoded"]

M = TypeVar("M", bound=BaseModel)

SIZE = 256
_memo: OrderedDict[tuple[type[BaseModel], int], tuple[Any, BaseModel]] = OrderedDict()


def decoded(model: type[M], value: Any) -> M:
    """``model.model_validate(value)``, remembered while ``value`` is the same object."""
    key = (model, id(value))
    hit = _memo.get(key)
    if hit is not None and hit[0] is value:
        _memo.move_to_end(key)
        return hit[1]  # type: ignore[return-value]
    result = model.model_validate(value)
    _memo[key] = (value, result)
    if len(_memo) > SIZE:
        _memo.popitem(last=False)
    return result
