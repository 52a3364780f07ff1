"""``CtgovClient``: the ClinicalTrials.gov v2 endpoints this domain reads, with shape checks.

Built on :class:`tools.http.client.UpstreamClient` (retries, rate limit, breaker, error
mapping, redirects followed: an alias NCT id answers 301 to the current one). This layer
adds the domain wording: 404 -> "no trial NCT... on ClinicalTrials.gov", a 400 -> which
tool argument the API rejected, and a body of the wrong shape -> ``BadPayload``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tools.clinical_trials.rejection import explain
from tools.errors import InvalidInput
from tools.http.client import UpstreamClient
from tools.http.errors import BadPayload, NotFound, Rejected

UPSTREAM = "ctgov"


class CtgovClient:
    """Thin, typed access to ``/studies``, ``/studies/{nctId}`` and ``/version``."""

    def __init__(self, upstream: UpstreamClient) -> None:
        self._upstream = upstream

    async def search(self, params: Mapping[str, str], *, mutation_search: bool = False) -> dict[str, Any]:
        """One ``/studies`` page: ``{studies: [...], nextPageToken?, totalCount?}``.

        Raises InvalidInput when a 400 names a tool argument, BadPayload on a wrong shape,
        or any other UpstreamError from the HTTP layer.
        """
        try:
            page = await self._upstream.get_json("/studies", params=dict(params))
        except Rejected as exc:
            raise explain(exc, mutation_search) from exc
        if not isinstance(page, dict) or not isinstance(page.get("studies", []), list):
            raise BadPayload(UPSTREAM, "a /studies answer without a 'studies' list")
        page.setdefault("studies", [])
        return page

    async def get_study(self, nct_id: str, fields: Sequence[str] | None = None) -> dict[str, Any]:
        """One study (``{protocolSection, ...}``); an alias id yields the current record.

        Raises NotFound("no trial NCT... on ClinicalTrials.gov") for an unknown id.
        """
        params = {"fields": ",".join(fields)} if fields else None
        try:
            study = await self._upstream.get_json(f"/studies/{nct_id}", params=params)
        except NotFound as exc:
            raise NotFound(UPSTREAM, f"no trial {nct_id} on ClinicalTrials.gov", body=exc.body) from exc
        except Rejected as exc:
            if exc.status == 400 and "format" in exc.body.lower():
                quoted = exc.body.strip()[:300]
                raise InvalidInput("nct_id", f'ClinicalTrials.gov rejected {nct_id}: "{quoted}"') from exc
            raise explain(exc) from exc
        if not isinstance(study, dict) or not isinstance(study.get("protocolSection"), dict):
            raise BadPayload(UPSTREAM, f"the record of {nct_id} has no protocolSection")
        return study

    async def version(self) -> dict[str, Any]:
        """``{apiVersion, dataTimestamp}``; dataTimestamp moves when the data set is refreshed."""
        data = await self._upstream.get_json("/version")
        if not isinstance(data, dict) or not isinstance(data.get("apiVersion"), str):
            raise BadPayload(UPSTREAM, "a /version answer without apiVersion")
        return data
