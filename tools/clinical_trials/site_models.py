"""The ``sites`` argument of ``get_trial`` and the page of sites it answers with.

A trial can list hundreds of sites (multicentre phase 3 trials list 500+). ``get_trial`` with
``sites`` returns only them: filtered by country/state/city (whole names, any case), ordered
nearest first from ``near`` (else recruiting first, in registry order), each with its status
and contacts, one budgeted page at a time from ``offset``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, JsonValue

from tools.compact import Compact
from tools.deferred import Deferred

_Name = Field(None, min_length=1, max_length=100)


class SitePoint(Deferred):
    """Where distances are measured from; with ``radius``, only sites within it are kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    radius: float | None = Field(None, gt=0, le=25_000)
    unit: Literal["mi", "km"] = "mi"


class SiteQuery(Deferred):
    """Validated ``sites`` argument: filters, a point to sort by, and where to start."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    country: str | None = _Name
    state: str | None = _Name
    city: str | None = _Name
    near: SitePoint | None = None
    offset: int = Field(0, ge=0, le=100_000)

    def same(self, offset: int) -> dict[str, JsonValue]:
        """This query as a ``sites`` argument starting at ``offset`` (a cut's next)."""
        return {**self.model_dump(mode="json", exclude_none=True, exclude={"offset"}), "offset": offset}


class SiteContact(Compact):
    name: str | None = None
    role: str | None = None
    phone: str | None = None
    email: str | None = None


class SiteDetail(Compact):
    """One site as listed by ``get_trial`` with ``sites``."""

    facility: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    status: str | None = Field(None, description="Site recruitment status, e.g. RECRUITING; absent: not given.")
    distance: float | None = Field(None, description="From `near`, in its unit; absent: no coordinates.")
    contacts: list[SiteContact] | None = Field(None, description="Site contacts; absent: none listed.")


class SiteList(Deferred):
    """Cached shape: every site of a trial, in registry order, with coordinates."""

    nct_id: str
    requested_id: str | None = None
    status: str | None = None
    sites: list[dict[str, object]]


class SitesPage(Compact):
    """The sites of one trial matching the ``sites`` filters, one page of them."""

    nct_id: str
    total: int = Field(description="All sites of the trial.")
    matching: int = Field(description="Sites matching the filters (all of them without filters).")
    recruiting: int = Field(description="Matching sites whose status is RECRUITING.")
    offset: int
    sites: list[SiteDetail]
