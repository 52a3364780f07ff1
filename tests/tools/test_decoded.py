"""tools.decoded: a cached value is validated once per object, never confused with another."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from tools import decoded as module
from tools.decoded import SIZE, decoded


class Point(BaseModel):
    x: int
    y: int


class Other(BaseModel):
    x: int


def test_the_same_object_is_validated_once_and_gives_the_same_model() -> None:
    value = {"x": 1, "y": 2}
    first = decoded(Point, value)
    assert decoded(Point, value) is first and first == Point(x=1, y=2)


def test_an_equal_but_distinct_value_is_validated_on_its_own() -> None:
    one, two = {"x": 1, "y": 2}, {"x": 1, "y": 2}
    assert decoded(Point, one) is not decoded(Point, two)


def test_a_reused_id_is_not_a_hit(monkeypatch: pytest.MonkeyPatch) -> None:
    """An id reused by a new object after the old one died must not return the old model."""
    value: dict[str, Any] = {"x": 1, "y": 2}
    decoded(Point, value)
    key = (Point, id(value))
    stale = module._memo[key]
    monkeypatch.setitem(module._memo, key, ({"x": 9, "y": 9}, stale[1]))  # as if another object held the id
    assert decoded(Point, value) == Point(x=1, y=2) and module._memo[key][0] is value


def test_each_model_has_its_own_entry_for_the_same_value() -> None:
    value = {"x": 3, "y": 4}
    point, other = decoded(Point, value), decoded(Other, value)
    assert isinstance(point, Point) and isinstance(other, Other) and decoded(Point, value) is point


def test_a_bad_value_raises_and_is_not_remembered() -> None:
    bad = {"x": "not a number", "y": 2}
    with pytest.raises(ValidationError):
        decoded(Point, bad)
    assert (Point, id(bad)) not in module._memo


def test_the_memo_is_bounded() -> None:
    values = [{"x": i, "y": i} for i in range(SIZE + 50)]
    for value in values:
        decoded(Point, value)
    assert len(module._memo) <= SIZE
    assert (Point, id(values[0])) not in module._memo and (Point, id(values[-1])) in module._memo
