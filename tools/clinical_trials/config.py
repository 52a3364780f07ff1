"""Knobs of the clinical-trial domain, with their defaults, written here once.

Owner: this domain. :class:`TrialsCacheConfig` holds the cache lifetimes; the server exposes its
fields, under the same names, in its ``cache`` settings section
(``TRIALSTOCK_CACHE__TRIALS_SEARCH_FRESH``). :class:`TrialsConfig` holds the rest; the server
exposes ``batch_concurrency`` as ``TRIALSTOCK_TRIALS__BATCH_CONCURRENCY``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Cache namespaces this domain writes; a data-version change invalidates all of them.
NS_SEARCH = "trials.search"
NS_COUNT = "trials.count"
NS_RECORD = "trials.record"
NS_SECTIONS = "trials.sections"
NS_ELIGIBILITY = "trials.eligibility"
NS_MUTATION = "trials.mutation"
NS_RESULTS = "trials.results"
NS_SITES = "trials.sites"
NS_PATIENT = "trials.patient"
NAMESPACES = (
    NS_SEARCH,
    NS_COUNT,
    NS_RECORD,
    NS_SECTIONS,
    NS_ELIGIBILITY,
    NS_MUTATION,
    NS_RESULTS,
    NS_SITES,
    NS_PATIENT,
)
#: Version of the cached value shapes (part of every key): bump it when a cached model changes.
CACHE_FORMAT = 3


class TrialsCacheConfig(BaseModel):
    """Cache lifetimes of the trial namespaces, seconds after the value was fetched. Owner: this domain.

    ``*_fresh`` is the soft TTL, ``*_stale`` the hard TTL (stale values are served while a refresh
    runs behind): ``trials_search_*`` for search pages and counts, ``trials_record_*`` for trial
    records, results digests and site lists. ``trials_version_check_interval``: /version is read at most this often. The field
    names carry the domain because the server's shared ``cache`` section uses them as they are.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    trials_search_fresh: float = Field(3600, gt=0)
    trials_search_stale: float = Field(86_400, gt=0)
    trials_record_fresh: float = Field(6 * 3600, gt=0)
    trials_record_stale: float = Field(7 * 86_400, gt=0)
    trials_version_check_interval: float = Field(300, gt=0, description="Seconds between /version checks.")

    @model_validator(mode="after")
    def _stale_after_fresh(self) -> TrialsCacheConfig:
        for name in ("trials_search", "trials_record"):
            if getattr(self, f"{name}_stale") < getattr(self, f"{name}_fresh"):
                raise ValueError(f"{name}_stale must be at least {name}_fresh")
        return self


class TrialsConfig(BaseModel):
    """Policies and bounds of :class:`tools.clinical_trials.service.TrialsService`. Owner: this domain.

    ``ttl``: the cache lifetimes. ``batch_concurrency``: mutations searched at once by the batch
    tool (at most ``max_batch`` per call). ``max_sites``: sites listed by ``get_trial``;
    ``search_sites``: sites listed per trial in search results. ``mutation_page_size``: trials
    examined per mutation search page. ``eligibility_concurrency``: eligibility texts fetched at
    once when a search page did not carry them. ``max_empty_pages``: empty pages skipped (their
    token followed) before a page is returned as is.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    ttl: TrialsCacheConfig = TrialsCacheConfig()
    batch_concurrency: int = Field(5, ge=1, le=20, description="Mutations fetched at once by the batch tool.")
    max_batch: int = Field(20, ge=1)
    max_sites: int = Field(10, ge=1)
    search_sites: int = Field(3, ge=1)
    mutation_page_size: int = Field(50, ge=1)
    eligibility_concurrency: int = Field(5, ge=1)
    max_empty_pages: int = Field(5, ge=0)
    max_criteria_chars: int = Field(6000, ge=1)
