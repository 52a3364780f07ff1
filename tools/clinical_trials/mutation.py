"""Where does a study name a mutation: inclusion or exclusion criteria, titles, summary?

A phrase search also returns trials that name the mutation only to exclude its carriers
(an EGFR wild-type trial excludes 'EGFR L858R'). :func:`locate` finds every place the
mutation is named, in any notation the synonyms know (``EGFR p.Leu858Arg`` is found as
``EGFR L858R``); a trial is *exclusion-only* when the only place is the exclusion part
of its eligibility text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tools.clinical_trials.compact import module
from tools.clinical_trials.eligibility import split, unescape
from tools.clinical_trials.models import Place
from tools.clinical_trials.synonyms import expand

_EXCERPT_CAP = 240


@dataclass(frozen=True, slots=True)
class Location:
    """The places a mutation was found and a short excerpt around the first one."""

    places: tuple[Place, ...]
    excerpt: str | None
    exclusion_excerpt: str | None

    @property
    def exclusion_only(self) -> bool:
        return self.places == ("exclusion",)


def pattern(*phrases: str) -> re.Pattern[str]:
    """Case-insensitive pattern for any of the phrases: each one's tokens in order, separated
    by any run of spaces or punctuation ('EGFR L858R' also finds 'EGFR-L858R'), not inside words."""
    bodies = []
    for phrase in sorted(phrases, key=len, reverse=True):
        tokens = [t for t in re.split(r"[^A-Za-z0-9*>]+", phrase) if t]
        if tokens:
            bodies.append(r"[\W_]+".join(re.escape(t) for t in tokens))
    body = "|".join(bodies) or r"(?!)"
    return re.compile(rf"(?<![A-Za-z0-9])(?:{body})(?![A-Za-z0-9])", re.IGNORECASE)


def has_eligibility(study: dict[str, Any]) -> bool:
    return bool(module(study, "eligibilityModule").get("eligibilityCriteria"))


def locate(study: dict[str, Any], mutation: str) -> Location:
    """Every place of ``study`` that names ``mutation`` in any of its notations
    (:func:`tools.clinical_trials.synonyms.expand`)."""
    regex = pattern(*expand(mutation))
    places: list[Place] = []
    excerpt: str | None = None
    exclusion_excerpt: str | None = None
    for place, text in _texts(study):
        hit = regex.search(text)
        if hit is None:
            continue
        places.append(place)
        snippet = _excerpt(text, hit.start(), hit.end())
        if place == "exclusion":
            exclusion_excerpt = snippet
        elif excerpt is None:
            excerpt = snippet
    return Location(tuple(places), excerpt or exclusion_excerpt, exclusion_excerpt)


def _texts(study: dict[str, Any]) -> list[tuple[Place, str]]:
    ident = module(study, "identificationModule")
    conditions = module(study, "conditionsModule")
    texts: list[tuple[Place, str]] = []
    criteria = module(study, "eligibilityModule").get("eligibilityCriteria")
    if isinstance(criteria, str) and criteria:
        parts = split(unescape(criteria))
        texts.append(("inclusion" if parts.exclusion is not None else "eligibility", parts.inclusion))
        if parts.exclusion is not None:
            texts.append(("exclusion", parts.exclusion))
    texts += [
        ("title", ident.get("briefTitle") or ""),
        ("official_title", ident.get("officialTitle") or ""),
        ("summary", module(study, "descriptionModule").get("briefSummary") or ""),
        ("keywords", " | ".join(conditions.get("keywords") or [])),
        ("conditions", " | ".join(conditions.get("conditions") or [])),
    ]
    return [(place, text) for place, text in texts if text]


def _excerpt(text: str, start: int, end: int) -> str:
    """The line (criterion) holding the hit, cut around it to a readable length."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : len(text) if line_end < 0 else line_end].strip()
    line = re.sub(r"^(?:[0-9]{1,3}[.)]|[-*•])\s+", "", line)
    if len(line) <= _EXCERPT_CAP:
        return line
    offset = max(0, (start - line_start) - _EXCERPT_CAP // 3)
    piece = line[offset : offset + _EXCERPT_CAP].strip()
    return ("…" if offset else "") + piece + "…"
