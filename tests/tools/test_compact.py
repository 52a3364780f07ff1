"""tools.compact.Compact: None fields left out; built once, on first use, never at import."""

from __future__ import annotations

from tools.compact import Compact


def test_result_models_are_not_built_at_import_and_leave_none_out_once_built() -> None:
    # Defined here, not at import: a server's idle time builds every deferred model there is.
    class Inner(Compact):
        value: int

    class Outer(Compact):
        inner: Inner | None = None
        items: list[Inner] = []

    assert not Outer.__pydantic_complete__  # deferred: no class is built twice at start-up
    assert Outer(items=[Inner(value=1)]).model_dump() == {"items": [{"value": 1}]}  # built on first use
    assert Outer.__pydantic_complete__
