"""Where a study names a mutation (pure classification over recorded and small texts)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.fixtures import load_json
from tools.clinical_trials.mutation import locate, pattern


def study(
    criteria: str | None = None, title: str = "A trial", summary: str = "", keywords: list[str] | None = None
) -> dict[str, Any]:
    protocol: dict[str, Any] = {
        "identificationModule": {"nctId": "NCT00000001", "briefTitle": title},
        "descriptionModule": {"briefSummary": summary},
        "conditionsModule": {"conditions": ["NSCLC"], "keywords": keywords or []},
    }
    if criteria is not None:
        protocol["eligibilityModule"] = {"eligibilityCriteria": criteria}
    return {"protocolSection": protocol}


def test_recorded_exclusion_only_and_inclusion_trials() -> None:
    wild_type = locate(load_json("ctgov/biomcp_get_nct06382129_20260811.json"), "EGFR L858R")
    assert wild_type.exclusion_only and wild_type.places == ("exclusion",)
    mutant = locate(load_json("ctgov/biomcp_get_nct06604689_20260811.json"), "egfr l858r")
    assert not mutant.exclusion_only and mutant.places == ("inclusion",)
    assert mutant.exclusion_excerpt is None


@pytest.mark.parametrize("text", ["EGFR L858R", "EGFR-L858R", "egfr  l858r", "EGFR (L858R)", "EGFR:L858R"])
def test_spelling_variants_match(text: str) -> None:
    assert pattern("EGFR L858R").search(f"patients with {text} mutation")


@pytest.mark.parametrize("text", ["EGFR L858RX", "XEGFR L858R", "EGFR L85R", "EGFRL858R"])
def test_other_words_do_not_match(text: str) -> None:
    assert pattern("EGFR L858R").search(f"patients with {text} mutation") is None


def test_named_in_both_parts_or_in_the_title_is_a_match() -> None:
    both = locate(
        study("Inclusion Criteria:\n* KRAS G12C\nExclusion Criteria:\n* prior KRAS G12C inhibitor"), "KRAS G12C"
    )
    assert both.places == ("inclusion", "exclusion") and not both.exclusion_only
    titled = locate(
        study("Inclusion Criteria:\n* adults\nExclusion Criteria:\n* KRAS G12C", title="Sotorasib in KRAS G12C NSCLC"),
        "KRAS G12C",
    )
    assert titled.places == ("exclusion", "title") and not titled.exclusion_only
    assert titled.excerpt == "Sotorasib in KRAS G12C NSCLC"


def test_unsectioned_text_summary_keywords_and_nowhere() -> None:
    assert locate(study("Adults with BRAF V600E melanoma"), "BRAF V600E").places == ("eligibility",)
    assert locate(study(summary="Targets BRAF V600E.", keywords=["BRAF V600E"]), "BRAF V600E").places == (
        "summary",
        "keywords",
    )
    nowhere = locate(study("Inclusion Criteria:\n* adults"), "BRAF V600E")
    assert nowhere.places == () and nowhere.excerpt is None and not nowhere.exclusion_only


def test_excerpt_is_the_criterion_cut_around_the_hit() -> None:
    long_item = "* " + "word " * 100 + "ALK fusion positive " + "tail " * 100
    where = locate(study(f"Inclusion Criteria:\n{long_item}\nExclusion Criteria:\n* none"), "ALK fusion")
    assert where.excerpt is not None and "ALK fusion positive" in where.excerpt
    assert len(where.excerpt) <= 242 and where.excerpt.startswith("…") and where.excerpt.endswith("…")
