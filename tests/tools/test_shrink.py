"""The generic JSON shrinker: parts by dotted path, lists cut to fit, the rest reachable."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.cuts import splice
from tools.budget import json_size
from tools.shrink import PathError, select, shrink


def sample() -> dict[str, Any]:
    return {
        "small": [1, 2, 3],
        "big": [{"name": f"item {i}", "values": list(range(i * 10, i * 10 + 40))} for i in range(30)],
        "text": "x" * 100,
    }


def test_select_walks_keys_and_indices() -> None:
    assert select(sample(), "big.3.values.1") == 31
    assert select(sample(), "small") == [1, 2, 3]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("bgi", "no 'bgi' at the top; valid there: big, small, text"),
        ("big.30", "no '30' in 'big'; valid there: indices 0-29"),
        ("big.2.nmae", "no 'nmae' in 'big.2'; valid there: name, values"),
        ("text.x", "no 'x' in 'text'; valid there: nothing (a str value)"),
        ("big..2", "is not a dotted path"),
    ],
)
def test_a_bad_path_names_where_it_failed_and_what_is_valid_there(path: str, message: str) -> None:
    with pytest.raises(PathError, match=message.replace("(", r"\(").replace(")", r"\)")):
        select(sample(), path)


def test_a_value_within_budget_is_left_whole() -> None:
    original = sample()
    value, cuts = shrink(original, 1_000_000)
    assert value is original and value == sample() and cuts == []  # not copied: nothing to cut


def test_a_value_over_budget_is_cut_in_a_copy_never_in_place() -> None:
    original = sample()
    value, cuts = shrink(original, 2_000)
    assert cuts and value is not original and original == sample()


def test_the_costliest_list_is_cut_to_a_prefix_that_fits() -> None:
    value, cuts = shrink(sample(), 2_000)
    assert json_size(value) <= 2_000
    assert [(c.path, c.start) for c in cuts] == [("big", 0)]
    assert value["big"] == sample()["big"][: cuts[0].returned] and value["small"] == [1, 2, 3]
    assert cuts[0].returned + cuts[0].dropped == 30 and cuts[0].next_offset == cuts[0].returned


def test_a_single_huge_item_is_cut_inside() -> None:
    value = {"rows": [{"cells": list(range(2_000))}]}
    fitted, cuts = shrink(value, 500)
    assert json_size(fitted) <= 500
    assert [c.path for c in cuts] == ["rows.0.cells"]  # not the one-item list around it


def test_a_part_shown_from_an_offset_names_nested_lists_by_their_absolute_index() -> None:
    part = sample()["big"][10:]
    fitted, cuts = shrink(part, 400, path="big", start=10)
    assert {c.path for c in cuts} <= {"big", "big.10.values"}
    assert next(c for c in cuts if c.path == "big").start == 10


def test_can_cut_limits_the_lists_cut() -> None:
    _, cuts = shrink(sample(), 600, can_cut=lambda path: path == "small")
    assert [c.path for c in cuts] == ["small"]


@pytest.mark.parametrize("budget", [300, 700, 1_500, 4_000])
def test_following_every_cut_recovers_every_item_once(budget: int) -> None:
    original = sample()
    tree, cuts = shrink(original, budget)
    queue = list(cuts)
    while queue:
        cut = queue.pop(0)
        rest = select(original, cut.path)[cut.next_offset :]
        part, more = shrink(rest, budget, path=cut.path, start=cut.next_offset)
        assert json_size(part) <= budget or len(part) == 1
        splice(tree, cut.path, cut.next_offset, part)
        queue += more
    assert tree == original
