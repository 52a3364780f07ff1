"""Any number of distinct ClinicalTrials.gov searches, for fault, load and soak runs.

A search whose condition starts with :data:`PREFIX` (``"synthetic condition 17"``, ``"...
18"``, ...) is answered with a recorded page (the melanoma search, three studies), whatever
the rest of the condition says. So a test can make a thousand distinct tool calls, each its
own cache key and its own upstream request, all answered in the recorded shape. Other
conditions never reach this route's answer (they fall through to the 404).
"""

from __future__ import annotations

from pathlib import Path

from tests.support.replay_routes import Reply, Route

PREFIX = "synthetic condition "


def condition(index: int, run: str = "") -> str:
    """The ``index``-th synthetic condition (``run`` keeps separate runs' keys apart)."""
    return f"{PREFIX}{run}{index}"


def routes(fixtures_dir: Path) -> list[Route]:
    page = Reply.file(fixtures_dir / "ctgov" / "biomcp_search_melanoma_recruiting_limit3_20260811.json")
    return [Route("/api/v2/studies", page, when=lambda q: q.get("query.cond", "").startswith(PREFIX))]
