"""Knobs of the clinical-trial domain, with defaults; the server maps its settings onto them."""

from __future__ import annotations

from dataclasses import dataclass

#: Cache namespaces this domain writes; a data-version change invalidates all of them.
NS_SEARCH = "trials.search"
NS_COUNT = "trials.count"
NS_RECORD = "trials.record"
NS_SECTIONS = "trials.sections"
NS_ELIGIBILITY = "trials.eligibility"
NS_MUTATION = "trials.mutation"
NAMESPACES = (NS_SEARCH, NS_COUNT, NS_RECORD, NS_SECTIONS, NS_ELIGIBILITY, NS_MUTATION)
#: Version of the cached value shapes (part of every key): bump it when a cached model changes.
CACHE_FORMAT = 1


@dataclass(frozen=True, slots=True)
class TrialsConfig:
    """Policies and bounds of :class:`tools.clinical_trials.service.TrialsService`.

    Times are seconds. ``*_fresh``/``*_stale`` are the soft and hard TTLs of search pages
    (and counts) and of trial records. ``version_check_interval``: /version is read at most
    this often. ``batch_concurrency``: mutations searched at once by the batch tool (at most
    ``max_batch`` per call). ``max_sites``: sites listed by ``get_trial``; ``search_sites``:
    sites listed per trial in search results. ``mutation_page_size``: trials examined per
    mutation search page. ``eligibility_concurrency``: eligibility texts fetched at once
    when a search page did not carry them. ``max_empty_pages``: empty pages skipped (their
    token followed) before a page is returned as is.
    """

    search_fresh: float = 3600
    search_stale: float = 86_400
    record_fresh: float = 21_600
    record_stale: float = 604_800
    version_check_interval: float = 300
    batch_concurrency: int = 5
    max_batch: int = 20
    max_sites: int = 10
    search_sites: int = 3
    mutation_page_size: int = 50
    eligibility_concurrency: int = 5
    max_empty_pages: int = 5
    max_criteria_chars: int = 6000

    def __post_init__(self) -> None:
        if self.search_stale < self.search_fresh or self.record_stale < self.record_fresh:
            raise ValueError("stale TTLs must be at least the fresh TTLs")
        for name in ("batch_concurrency", "max_batch", "max_sites", "search_sites", "mutation_page_size",
                     "eligibility_concurrency", "max_criteria_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.version_check_interval <= 0 or self.search_fresh <= 0 or self.record_fresh <= 0:
            raise ValueError("intervals and TTLs must be positive")
        if self.max_empty_pages < 0:
            raise ValueError("max_empty_pages must be >= 0")
