"""Full upstream sections of one study, and parts of them by path, bounded to a byte budget.

Paths are the upstream's own (``resultsSection.adverseEventsModule.seriousEvents``, list
indices as segments): a requested section sits at its upstream place (``results`` at
``resultsSection``, ``eligibility`` at ``protocolSection.eligibilityModule``), so every Cut
names its list by the path that fetches the rest: ``next = {"path": ..., "offset": ...}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from tools.budget import Cut
from tools.clinical_trials.compact import SECTION_PATHS
from tools.clinical_trials.models import SectionName
from tools.errors import InvalidInput
from tools.shrink import ListCut, PathError, select, shrink

#: Where each section sits in the upstream study, as a dotted path.
SECTION_ROOTS: dict[str, str] = {
    name: f"{section}.{mod}" if mod else section for name, (section, mod) in SECTION_PATHS.items()
}


def section_of(path: str) -> SectionName:
    """The section a path lies in; InvalidInput naming the path and the valid starts otherwise."""
    for name, root in SECTION_ROOTS.items():
        if path == root or path.startswith(root + "."):
            return cast(SectionName, name)
    first = path.split(".")[0]
    if first == "protocolSection":
        modules = sorted(root.split(".")[1] for root in SECTION_ROOTS.values() if root.startswith("protocolSection."))
        raise InvalidInput(
            "path", f"'{path}' must name a module in 'protocolSection'; valid there: {', '.join(modules)}"
        )
    tops = sorted({root.split(".")[0] for root in SECTION_ROOTS.values()})
    raise InvalidInput("path", f"no '{first}' at the top of '{path}'; valid there: {', '.join(tops)}")


def upstream_view(sections: Mapping[str, Any]) -> dict[str, Any]:
    """The sections put back at their upstream places: ``{"resultsSection": {...}, ...}``."""
    view: dict[str, Any] = {}
    for name, value in sections.items():
        section, mod = SECTION_PATHS[name]
        if mod is None:
            view[section] = value
        else:
            view.setdefault(section, {})[mod] = value
    return view


def fit_sections(sections: Mapping[str, Any], budget: int) -> tuple[dict[str, Any], list[Cut]]:
    """``sections`` (name -> upstream content) cut to ``budget`` bytes, with a Cut per list."""
    view, cuts = shrink(upstream_view(sections), budget)
    fitted = {name: select(view, SECTION_ROOTS[name]) for name in sections}
    return fitted, [path_cut(cut) for cut in cuts]


def fit_part(sections: Mapping[str, Any], path: str, offset: int | None, budget: int) -> tuple[Any, list[Cut]]:
    """The part of the sections at ``path`` (from item ``offset`` when it is a list), cut to ``budget``."""
    try:
        value = select(upstream_view(sections), path)
    except PathError as exc:
        raise InvalidInput("path", str(exc)) from None
    if offset is not None:
        if not isinstance(value, list):
            raise InvalidInput("offset", f"'{path}' is {_kind(value)}, not a list; leave offset out")
        if offset > len(value):
            raise InvalidInput("offset", f"the list at '{path}' has {len(value)} items")
        value = value[offset:]
    part, cuts = shrink(value, budget, path=path, start=offset or 0)
    return part, [path_cut(cut) for cut in cuts]


def path_cut(cut: ListCut) -> Cut:
    return Cut(
        list=cut.path, returned=cut.returned, dropped=cut.dropped, next={"path": cut.path, "offset": cut.next_offset}
    )


def _kind(value: Any) -> str:
    return "an object" if isinstance(value, dict) else f"a {type(value).__name__}"
