"""Word a ClinicalTrials.gov 400 for the agent: quote the API and name the tool argument.

The API answers a bad request with plain text such as ``Invalid value in parameter
`overallStatus`: `BADSTATUS``` or ``Error parsing query in Other terms: missing ')' at
'<EOF>'`` (see ``error_bodies.json`` in the fixtures). The ``<where>`` of a parse error
names a search area; this module maps it (or the parameter name) back to the tool argument
that produced it.
"""

from __future__ import annotations

import re

from tools.clinical_trials.filters import ADVANCED_ARGUMENTS
from tools.errors import InvalidInput
from tools.http.errors import Rejected

#: Search-area names in parse errors -> (tool argument, API parameter).
_AREAS: dict[str, tuple[str, str]] = {
    "other terms": ("terms", "query.term"),
    "conditions or disease": ("condition", "query.cond"),
    "intervention / treatment": ("intervention", "query.intr"),
    "intervention": ("intervention", "query.intr"),
    "location terms": ("location", "query.locn"),
    "sponsor / collaborator": ("sponsor", "query.spons"),
    "sponsor": ("sponsor", "query.spons"),
    "advanced filter": (ADVANCED_ARGUMENTS, "filter.advanced"),
}
#: API parameter (with or without its ``filter.``/``query.`` prefix) -> (tool argument, full parameter).
_PARAMETERS: dict[str, tuple[str, str]] = {
    "query.cond": ("condition", "query.cond"),
    "query.term": ("terms", "query.term"),
    "query.intr": ("intervention", "query.intr"),
    "query.locn": ("location", "query.locn"),
    "query.spons": ("sponsor", "query.spons"),
    "filter.overallStatus": ("statuses", "filter.overallStatus"),
    "overallStatus": ("statuses", "filter.overallStatus"),
    "filter.geo": ("near", "filter.geo"),
    "geo": ("near", "filter.geo"),
    "filter.advanced": (ADVANCED_ARGUMENTS, "filter.advanced"),
    "advanced": (ADVANCED_ARGUMENTS, "filter.advanced"),
    "aggFilters": ("has_results", "aggFilters"),
    "sort": ("sort", "sort"),
    "pageToken": ("page_token", "pageToken"),
    "pageSize": ("page_size", "pageSize"),
    "nctId": ("nct_id", "nctId"),
}
_PARSE = re.compile(r"Error parsing query in ([^:]+):", re.IGNORECASE)
_NAMED = re.compile(
    r"(?:parameter\s+[`'](?P<a>[^`']+)[`']|[`'](?P<b>[^`']+)[`']\s+is unknown parameter)", re.IGNORECASE
)


def argument_for(body: str, mutation_search: bool = False) -> tuple[str, str] | None:
    """(tool argument, API parameter) a 400 body points at, or None when it names neither.

    In a mutation search the 'Other terms' query also carries the mutation phrase, so the
    argument is reported as 'mutation or terms'.
    """
    parse = _PARSE.search(body)
    if parse:
        found = _AREAS.get(parse.group(1).strip().lower())
        if found and found[0] == "terms" and mutation_search:
            return "mutation or terms", found[1]
        return found
    named = _NAMED.search(body)
    if named:
        return _PARAMETERS.get(named.group("a") or named.group("b"))
    return None


def explain(exc: Rejected, mutation_search: bool = False) -> Exception:
    """An InvalidInput naming the tool argument and quoting the API, when the body names one;
    else the Rejected error itself (a request this server built wrongly)."""
    if exc.status != 400:
        return exc
    found = argument_for(exc.body, mutation_search)
    if found is None:
        return exc
    argument, parameter = found
    quoted = " ".join(exc.body.split())[:500]
    return InvalidInput(argument, f'ClinicalTrials.gov rejected {parameter} (HTTP 400): "{quoted}"')
