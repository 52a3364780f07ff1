"""Reading one result page of ``/studies``, skipping empty pages that still have a token.

The API may answer a page with no studies and a ``nextPageToken`` (documented in the spec);
returning that to an agent would look like "nothing here, but more". Instead the token is
followed (with the same parameters) until a page has studies or no token, at most
``max_empty`` times. ``totalCount`` comes only with the first page and is carried over.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from tools.clinical_trials.client import CtgovClient

log = logging.getLogger(__name__)


async def fetch_page(
    client: CtgovClient, params: Mapping[str, str], max_empty: int, *, mutation_search: bool = False
) -> dict[str, Any]:
    """The first non-empty page from ``params`` on, or the last page reached.

    After ``max_empty`` skipped pages an empty page is returned with its token (rare: the
    caller may go on with it).
    """
    page = await client.search(params, mutation_search=mutation_search)
    total = page.get("totalCount")
    skipped = 0
    while not page["studies"] and page.get("nextPageToken") and skipped < max_empty:
        skipped += 1
        params = {**params, "pageToken": page["nextPageToken"]}
        page = await client.search(params, mutation_search=mutation_search)
    if skipped:
        log.debug("skipped %d empty /studies page(s)", skipped)
    if total is not None and page.get("totalCount") is None:
        page["totalCount"] = total
    return page
