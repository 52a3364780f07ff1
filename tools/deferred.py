"""``Deferred``: the base of the models a process needs only once it works, built on first use.

Cached shapes (what a service stores: a search page, a month of bars, a results digest), query
shapes (what a call is resolved into) and the status tool's answers are read by no one before
the first call that needs them: not by registration, not by ``tools/list``. Built at import,
pydantic compiled their validators and serializers at start-up (~10 ms for the lot); deferred
(``defer_build``), each is built once, by the first call that uses it. Answers have the same
treatment through :class:`tools.compact.Compact`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Deferred(BaseModel):
    """A model built on first use (validation, serialization or schema); otherwise a plain
    ``BaseModel``: a subclass's own ``model_config`` is merged with this one."""

    model_config = ConfigDict(defer_build=True)
