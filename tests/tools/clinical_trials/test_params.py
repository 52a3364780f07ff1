"""Input validation: statuses, phases, NCT ids and criteria are checked before any request."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from tests.support.fixtures import load_json
from tools.clinical_trials.filters import ADVANCED_ARGUMENTS
from tools.clinical_trials.models import OPEN_STATUSES, Near
from tools.clinical_trials.params import Mutations, Statuses, build_criteria
from tools.clinical_trials.rejection import argument_for
from tools.clinical_trials.values import NctId, PhaseInput, StatusInput
from tools.errors import InvalidInput


def test_statuses_are_case_insensitive_and_open_expands() -> None:
    statuses = TypeAdapter(list[StatusInput]).validate_python(["recruiting", "Open", "not yet recruiting"])
    criteria = build_criteria(condition="x", statuses=statuses)
    assert criteria.statuses == ("RECRUITING", *OPEN_STATUSES[1:])
    assert "ACTIVE_NOT_RECRUITING" not in OPEN_STATUSES  # 'open': a patient could still join


def test_a_comma_separated_text_is_a_list() -> None:
    assert TypeAdapter(Statuses).validate_python("recruiting, active_not_recruiting") == [
        "RECRUITING",
        "ACTIVE_NOT_RECRUITING",
    ]
    assert TypeAdapter(Statuses).validate_python("open") == ["open"]
    assert TypeAdapter(Mutations).validate_python("EGFR L858R") == ["EGFR L858R"]


@pytest.mark.parametrize(
    ("given", "named", "closest"),
    [("RECRUITNG", "'RECRUITNG'", "'RECRUITING'"), ("compelted", "'compelted'", "'COMPLETED'"), ("opne", "", "'open'")],
)
def test_an_unknown_status_is_named_with_the_closest_valid_one(given: str, named: str, closest: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(Statuses).validate_python(["RECRUITING", given])
    error = caught.value.errors()[0]
    assert error["loc"] == (1,)
    assert f"unknown status {named or repr(given)}" in error["msg"] and f"did you mean {closest}?" in error["msg"]
    assert "Valid: ACTIVE_NOT_RECRUITING" in error["msg"] and "open" in error["msg"]


def test_an_unknown_status_far_from_any_gets_the_valid_list_only() -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(list[StatusInput]).validate_python(["BADSTATUS"])
    assert "did you mean" not in str(caught.value) and "Valid: ACTIVE_NOT_RECRUITING" in str(caught.value)


def test_phase_spellings() -> None:
    phases = TypeAdapter(list[PhaseInput]).validate_python(["phase 2", "Phase-3", "early phase 1", "N/A", "PHASE4"])
    assert phases == ["PHASE2", "PHASE3", "EARLY_PHASE1", "NA", "PHASE4"]
    with pytest.raises(ValidationError, match="unknown phase 'PHASE5'; did you mean 'PHASE4'"):
        TypeAdapter(list[PhaseInput]).validate_python(["PHASE5"])
    with pytest.raises(ValidationError, match="did you mean 'EARLY_PHASE1'"):
        TypeAdapter(list[PhaseInput]).validate_python(["early_phse1"])


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (" nct04280705 ", "NCT04280705"),
        ("NCT04280705", "NCT04280705"),
        ("04280705", "NCT04280705"),
        ("4280705", "NCT04280705"),
        ("NCT00000102", "NCT00000102"),
    ],
)
def test_nct_ids_are_normalised(given: str, expected: str) -> None:
    assert TypeAdapter(NctId).validate_python(given) == expected


@pytest.mark.parametrize(
    "bad", ["NCT123", "NCT0428070X", "NCT042807051", "NCT 04280705", "428070", "NCT0428070５", 4280705, ""]
)
def test_malformed_nct_ids_are_rejected_with_the_expected_form(bad: object) -> None:
    with pytest.raises(ValidationError, match="expected 'NCT' and 8 digits, e.g. NCT04280705"):
        TypeAdapter(NctId).validate_python(bad)


def test_empty_criteria_are_rejected_and_blank_text_is_absent() -> None:
    with pytest.raises(InvalidInput) as caught:
        build_criteria(condition="  ", terms="")
    assert caught.value.field == "criteria" and "condition" in caught.value.message
    assert build_criteria(required=False).is_empty()
    assert build_criteria(near=Near(latitude=0, longitude=0)).near is not None


def test_near_bounds() -> None:
    with pytest.raises(ValidationError):
        Near(latitude=91, longitude=0)
    with pytest.raises(ValidationError):
        Near(latitude=0, longitude=0, radius=0)


def test_every_recorded_400_body_maps_to_an_argument_or_is_left_alone() -> None:
    expected = {
        "Invalid value in parameter `overallStatus`: `BADSTATUS`": ("statuses", "filter.overallStatus"),
        "Error parsing query in Other terms: missing ')' at '<EOF>'": ("terms", "query.term"),
        "Error parsing query in Conditions or disease: mismatched input '[' expecting {<EOF>, '(', ',', 'NOT', 'AND', 'OR'}": (
            "condition",
            "query.cond",
        ),
        "Error parsing query in advanced filter: Unknown area name: `NotARealField`": (
            ADVANCED_ARGUMENTS,
            "filter.advanced",
        ),
        "`filter.phase` is unknown parameter": None,
        "Parameter 'fields' contains invalid field name: 'StudyDesign'": None,
        "Item 1 in parameter `sort` has incorrect format": ("sort", "sort"),
    }
    bodies = {entry["body"] for entry in load_json("ctgov/error_bodies.json")}
    for body, argument in expected.items():
        assert body in bodies
        assert argument_for(body) == argument, body
    assert argument_for("Error parsing query in Other terms: no viable alternative", mutation_search=True) == (
        "mutation or terms",
        "query.term",
    )
