"""Eligibility text: split at the 'Exclusion Criteria' heading, then into criterion items.

The upstream text is markdown-ish: headings such as ``Inclusion Criteria:`` /
``Key Exclusion Criteria:``, numbered (``1.``) or bulleted (``*``) items, indented
sub-items, and markdown escapes (``\\<``). Registrants make mistakes: one recorded study
has a stray, indented ``Exclusion Criteria:`` inside an inclusion item, so an unindented
heading wins over an indented one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(
    r"^(?:[-*•]\s*)?(?:\*\*)?(?:(?:key|main|major|general)\s+)?(?P<kind>inclusion|exclusion|eligibility)"
    r"(?:\s+criteria)?\s*(?:\*\*)?\s*(?::|$)\s*(?:\*\*)?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_MARKER = re.compile(r"^(?:[0-9]{1,3}[.)]|[a-zA-Z][.)]|\([a-zA-Z0-9]{1,3}\)|[-*•+])\s+")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>=|~^])")
_ITEM_CAP = 1000


@dataclass(frozen=True, slots=True)
class Split:
    """Eligibility text cut in two. ``exclusion`` is None when no exclusion heading exists
    (then ``inclusion`` holds the whole, unsectioned text)."""

    inclusion: str
    exclusion: str | None


@dataclass(frozen=True, slots=True)
class CriteriaLists:
    """The items kept within the size limit, and how many items each side has in all."""

    inclusion: list[str]
    exclusion: list[str]
    inclusion_total: int
    exclusion_total: int


def unescape(text: str) -> str:
    """Remove markdown backslash escapes (``\\<`` -> ``<``)."""
    return _ESCAPE.sub(r"\1", text)


def split(text: str) -> Split:
    """Cut at the exclusion heading: the first unindented one, else the first indented one."""
    lines = text.replace("\r\n", "\n").split("\n")
    flush, indented = None, None
    for index, line in enumerate(lines):
        match = _HEADING.match(line.strip())
        if not match or match.group("kind").lower() != "exclusion":
            continue
        if line[:1].isspace():
            indented = index if indented is None else indented
        else:
            flush = index
            break
    cut = flush if flush is not None else indented
    if cut is None:
        return Split("\n".join(lines), None)
    heading = _HEADING.match(lines[cut].strip())
    assert heading is not None  # cut is the index of a line the loop matched
    rest = heading.group("rest")
    exclusion = "\n".join(([rest] if rest else []) + lines[cut + 1 :])
    return Split("\n".join(lines[:cut]), exclusion)


def items(text: str) -> list[str]:
    """Criterion items: a top-level bullet, number or paragraph starts an item; indented
    lines and sub-bullets are folded into the item above. Headings are dropped."""
    result: list[str] = []
    blank = True
    for raw in text.split("\n"):
        stripped = raw.strip()
        if not stripped:
            blank = True
            continue
        heading = _HEADING.match(stripped)
        if heading:
            blank = True
            if not heading.group("rest"):
                continue
            stripped = heading.group("rest")
        indent = len(raw) - len(raw.lstrip())
        marker = _MARKER.match(stripped)
        body = unescape(stripped[marker.end() :] if marker else stripped).strip()
        if not result or (indent <= 1 and (marker or blank)):
            result.append(body)
        else:
            result[-1] = f"{result[-1]}{'; ' if marker else ' '}{body}"
        blank = False
    return [_cap(item, _ITEM_CAP) for item in result if item]


def criteria_lists(text: str | None, max_chars: int) -> CriteriaLists:
    """Inclusion and exclusion items within ``max_chars`` in total (half each unless one
    side needs less); a long item is shortened (ending in '…'), the last kept one too."""
    if not text:
        return CriteriaLists([], [], 0, 0)
    parts = split(text)
    inclusion, exclusion = items(parts.inclusion), items(parts.exclusion or "")
    inc_need, exc_need = _size(inclusion), _size(exclusion)
    inc_budget = max(max_chars // 2, max_chars - exc_need)
    kept_inc = _limit(inclusion, inc_budget)
    kept_exc = _limit(exclusion, max_chars - min(inc_need, inc_budget))
    return CriteriaLists(kept_inc, kept_exc, len(inclusion), len(exclusion))


def _size(values: list[str]) -> int:
    return sum(len(value) for value in values)


def _limit(values: list[str], budget: int) -> list[str]:
    kept: list[str] = []
    used = 0
    for value in values:
        if used + len(value) > budget:
            room = budget - used
            if room > 80:
                kept.append(_cap(value, room))
            return kept
        kept.append(value)
        used += len(value)
    return kept


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
