"""Eligibility text is split at the exclusion heading and into criterion items."""

from __future__ import annotations

from tests.support.fixtures import load_json
from tools.clinical_trials.eligibility import criteria_lists, items, split, unescape


def criteria_of(relpath: str) -> str:
    data = load_json(f"ctgov/{relpath}")
    study = data["studies"][0] if "studies" in data else data
    return study["protocolSection"]["eligibilityModule"]["eligibilityCriteria"]


def test_recorded_text_splits_at_the_exclusion_heading() -> None:
    lists = criteria_lists(criteria_of("biomcp_get_nct06382129_20260811.json"), 10_000)
    assert len(lists.inclusion) == 12 and len(lists.exclusion) == 26
    assert lists.exclusion[1] == "Patients with EGFR L858R mutation, EGFR 19DEL mutation or EGFR T790M positive;"
    assert not any("L858R" in item for item in lists.inclusion)
    assert (lists.inclusion_total, lists.exclusion_total) == (12, 26)


def test_a_stray_indented_heading_inside_an_inclusion_item_does_not_split() -> None:
    # NCT04280705 has "      Exclusion Criteria:" inside inclusion item 5, then the real heading.
    text = criteria_of("biomcp_studies_page_nct04280705_with_results.json")
    parts = split(text)
    assert "Admitted to a hospital" in parts.inclusion and "Agrees to not participate" in parts.inclusion
    assert parts.exclusion is not None and parts.exclusion.lstrip().startswith("1. Alanine Transaminase")
    lists = criteria_lists(text, 10_000)
    assert len(lists.inclusion) == 8 and len(lists.exclusion) == 5
    # The sub-items of item 5 are folded into it, escapes removed.
    assert "PCR positive in sample collected < 72 hours" in lists.inclusion[4]
    assert "; PCR positive in sample collected >/= 72 hours" in lists.inclusion[4]


def test_key_headings_lowercase_headings_and_subheadings() -> None:
    dupilumab = criteria_lists(criteria_of("aact_study_nct02210780.json"), 10_000)
    assert dupilumab.inclusion[0].startswith("Male or female adults ages 18 to 64")
    assert "[Eichenfeld 2004]" in dupilumab.inclusion[0]  # markdown escapes removed
    assert dupilumab.exclusion[0].startswith("Prior treatment with dupilumab")
    pride = criteria_lists(criteria_of("aact_study_nct03630471.json"), 10_000)
    assert pride.inclusion[0] == "For adolescent participants:"
    assert pride.exclusion[0] == "For adolescent participants:"


def test_text_without_exclusion_heading_is_all_inclusion() -> None:
    text = criteria_of("aact_study_nct06171568.json")
    assert split(text).exclusion is None
    lists = criteria_lists(text, 10_000)
    assert lists.inclusion == ["Patient over 18 years..."] and lists.exclusion == []


def test_heading_with_text_on_the_same_line_and_crlf() -> None:
    text = "Inclusion Criteria: adults\r\n* able to consent\r\nExclusion criteria: pregnancy\r\n* prior chemo"
    lists = criteria_lists(text, 10_000)
    assert lists.inclusion == ["adults", "able to consent"]
    assert lists.exclusion == ["pregnancy", "prior chemo"]


def test_a_criterion_that_merely_mentions_exclusion_is_not_a_heading() -> None:
    text = "Inclusion Criteria:\n\n* Exclusion of other causes required\n\nExclusion Criteria:\n\n* None"
    parts = split(text)
    assert "Exclusion of other causes" in parts.inclusion
    assert items(parts.exclusion or "") == ["None"]


def test_lists_are_limited_and_count_all_items() -> None:
    text = "Inclusion Criteria:\n" + "\n".join(f"* inclusion item {i} " + "x" * 200 for i in range(40))
    text += "\nExclusion Criteria:\n" + "\n".join(f"* exclusion item {i} " + "y" * 200 for i in range(5))
    lists = criteria_lists(text, 3000)
    assert (lists.inclusion_total, lists.exclusion_total) == (40, 5) and len(lists.inclusion) < 40
    assert len(lists.exclusion) == 5  # the short side keeps everything
    assert sum(map(len, lists.inclusion + lists.exclusion)) <= 3000
    assert lists.inclusion[-1].endswith("…")


def test_unescape_and_empty_text() -> None:
    assert unescape(r"\>/= 72 hours \[x\] a\_b") == ">/= 72 hours [x] a_b"
    empty = criteria_lists(None, 100)
    assert empty == criteria_lists("", 100) and (empty.inclusion, empty.exclusion, empty.inclusion_total) == ([], [], 0)
