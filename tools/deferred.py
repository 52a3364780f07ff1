"""``Deferred``: the base of the models a process needs only once it works, built on first use.

Cached shapes (what a service stores: a search page, a month of bars, a results digest), query
shapes (what a call is resolved into) and the status tool's answers are read by no one before
the first call that needs them: not by registration, not by ``tools/list``. Built at import,
pydantic compiled their validators and serializers at start-up (~10 ms for the lot); deferred
(``defer_build``), each is built once, by the first call that uses it, or before it in the
server's idle time (:func:`unbuilt`, :mod:`server.idle_build`). Answers have the same treatment
through :class:`tools.compact.Compact`.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict

_DEFINED: list[weakref.ref[type[Deferred]]] = []


class Deferred(BaseModel):
    """A model built on first use (validation, serialization or schema); otherwise a plain
    ``BaseModel``: a subclass's own ``model_config`` is merged with this one."""

    model_config = ConfigDict(defer_build=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        _DEFINED.append(weakref.ref(cls))


def unbuilt() -> Iterator[type[Deferred]]:
    """The ``Deferred`` models not built yet, in the order they were defined: a part before the
    model that holds it, so that building the holder reuses the part's schema."""
    for ref in list(_DEFINED):
        model = ref()
        if model is not None and not model.__pydantic_complete__:
            yield model
