"""Query building reproduces the recorded ClinicalTrials.gov requests."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.support.fixtures import load_json
from tools.clinical_trials import query
from tools.clinical_trials.models import Criteria, Near

RECEIPTS = {
    e["path"].split("/")[-1]: e["receipt"]["request"]
    for e in load_json("ctgov/biomcp_capture_receipts_ctgov.json")["entries"]
}
# The geo pattern of filter.geo in ctg-oas-v2.yaml.
GEO_PATTERN = re.compile(r"^distance\(-?\d+(\.\d+)?,-?\d+(\.\d+)?,\d+(\.\d+)?(km|mi)?\)$")


def recorded(name: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(RECEIPTS[name]).query, keep_blank_values=True))


def assert_reproduces(ours: dict[str, str], name: str) -> None:
    """Every recorded parameter is sent with the recorded value; ``fields`` may add pieces."""
    theirs = recorded(name)
    assert set(ours) == set(theirs)
    for key, value in theirs.items():
        if key == "fields":
            assert set(value.split(",")) <= set(ours[key].split(","))
        else:
            assert ours[key] == value, key


def test_first_and_next_page_reproduce_the_recorded_phelan_requests() -> None:
    base = query.criteria_params(Criteria(condition="Phelan-McDermid  Syndrome"))
    assert_reproduces(query.page_params(base, 5, None, query.search_fields()), "search_phelan_limit5_20260811.json")
    token = load_json("ctgov/biomcp_search_phelan_limit5_20260811.json")["nextPageToken"]
    assert_reproduces(query.page_params(base, 5, token, query.search_fields()), "search_phelan_next_20260811.json")


def test_status_and_intervention_reproduce_recorded_requests() -> None:
    melanoma = query.criteria_params(Criteria(condition="melanoma", statuses=("RECRUITING",)))
    assert_reproduces(
        query.page_params(melanoma, 3, None, query.search_fields()), "search_melanoma_recruiting_limit3_20260811.json"
    )
    keytruda = query.criteria_params(Criteria(intervention='"Keytruda"'))
    assert_reproduces(
        query.page_params(keytruda, 3, None, query.search_fields()), "search_keytruda_limit3_20260811.json"
    )


def test_mutation_query_reproduces_the_recorded_egfr_request_byte_for_byte() -> None:
    # One phrase (a mutation the synonyms cannot read gives exactly one) is the recorded query.
    base = query.criteria_params(Criteria(condition="non-small cell lung cancer"), query.phrases_term(["EGFR L858R"]))
    params = query.page_params(base, 50, None, query.mutation_fields())
    assert_reproduces(params, "search_nsclc_egfr_l858r_20260811.json")
    # The encoded query string (as httpx sends it) matches the receipt up to the field list.
    sent = httpx.Request("GET", "https://clinicaltrials.gov/api/v2/studies", params=params).url.query.decode()
    receipt_query = urlsplit(RECEIPTS["search_nsclc_egfr_l858r_20260811.json"]).query
    assert sent.split("&fields=")[0] == receipt_query.split("&fields=")[0]


def test_mutation_term_sends_the_synonyms_as_one_or_group_per_area() -> None:
    term = query.mutation_term("EGFR p.Leu858Arg")
    group = (
        '("EGFR L858R" OR "EGFR Leu858Arg" OR "EGFR p.L858R" OR "EGFR p.Leu858Arg" OR "HER1 L858R" OR "ERBB1 L858R")'
    )
    assert term == "(" + " OR ".join(f"AREA[{area}]{group}" for area in query.MUTATION_AREAS) + ")"
    assert query.mutation_term("ALK fusion") == query.phrases_term(["ALK fusion"])


def test_mutation_and_free_text_terms_are_combined_with_and() -> None:
    term = query.mutation_term("BRAF V600E")
    params = query.criteria_params(Criteria(terms="melanoma OR nevus"), term)
    assert params["query.term"] == f"{term} AND (melanoma OR nevus)"


def test_open_expands_to_recruiting_type_statuses_without_duplicates() -> None:
    assert query.expand_statuses(["RECRUITING", "open", "COMPLETED"]) == (
        "RECRUITING",
        "NOT_YET_RECRUITING",
        "ENROLLING_BY_INVITATION",
        "AVAILABLE",
        "COMPLETED",
    )
    params = query.criteria_params(Criteria(condition="x", statuses=query.expand_statuses(["open"])))
    assert params["filter.overallStatus"] == "RECRUITING,NOT_YET_RECRUITING,ENROLLING_BY_INVITATION,AVAILABLE"


def test_phases_go_through_filter_advanced() -> None:
    assert query.phase_filter(["PHASE2"]) == "AREA[Phase]PHASE2"
    assert query.phase_filter(["PHASE2", "PHASE3", "PHASE2"]) == "AREA[Phase](PHASE2 OR PHASE3)"
    params = query.criteria_params(Criteria(condition="x", phases=("PHASE1", "PHASE2")))
    assert params["filter.advanced"] == "AREA[Phase](PHASE1 OR PHASE2)"
    assert "filter.phase" not in params


@pytest.mark.parametrize(
    ("near", "expected"),
    [
        (Near(latitude=39.0035707, longitude=-77.1013313, radius=50), "distance(39.0035707,-77.1013313,50mi)"),
        (Near(latitude=25.033, longitude=121.5654, radius=12.5, unit="km"), "distance(25.033,121.5654,12.5km)"),
        (Near(latitude=-0.0000001, longitude=0, radius=1e-7), "distance(-0.0000001,0,0.0000001mi)"),
    ],
)
def test_geo_filter_matches_the_spec_pattern(near: Near, expected: str) -> None:
    assert query.geo_filter(near) == expected
    assert GEO_PATTERN.match(query.geo_filter(near))


def test_all_criteria_map_to_their_parameters() -> None:
    criteria = Criteria(
        condition="c",
        terms="t",
        intervention="i",
        location="Boston",
        sponsor="Pfizer",
        near=Near(latitude=1, longitude=2),
    )
    assert query.criteria_params(criteria) == {
        "query.cond": "c",
        "query.term": "t",
        "query.intr": "i",
        "query.locn": "Boston",
        "query.spons": "Pfizer",
        "filter.geo": "distance(1,2,50mi)",
    }


def test_count_asks_for_one_id_and_the_total() -> None:
    params = query.count_params({"query.cond": "x"})
    assert params == {"query.cond": "x", "countTotal": "true", "pageSize": "1", "fields": "NCTId"}


@pytest.mark.parametrize("text", ['EGFR "L858R"', "KRAS [G12C]", "BRAF) OR (x", "", " ", "x" * 81, "-ALK"])
def test_mutation_text_that_could_break_the_phrase_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="letters, digits"):
        query.normalize_mutation(text)


@pytest.mark.parametrize("text", ["EGFR  L858R", "c.2573T>G", "TP53 R213*", "ERBB2 ex20ins", "BCR-ABL1"])
def test_variant_spellings_are_accepted(text: str) -> None:
    assert query.normalize_mutation(text) == " ".join(text.split())
