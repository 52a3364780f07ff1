"""Following the cuts of bounded answers: putting the pieces back together, each item once."""

from __future__ import annotations

from typing import Any

from tools.shrink import select


def splice(tree: Any, path: str, offset: int, items: list[Any]) -> None:
    """Append ``items`` to the list at ``path`` in ``tree``, which must hold exactly ``offset``
    items so far (no item seen twice, none skipped)."""
    target = select(tree, path)
    assert isinstance(target, list), path
    assert len(target) == offset, f"{path}: have {len(target)} items, the next piece starts at {offset}"
    target.extend(items)
