"""get_trial with sections or a path: within EXPLICIT_BUDGET, every cut list reachable by its next."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.support.cuts import splice
from tests.support.fixtures import load_json
from tools.budget import EXPLICIT_BUDGET, RECORD_BUDGET, json_size
from tools.clinical_trials.service import TrialsService
from tools.clinical_trials.site_models import SiteQuery
from tools.errors import InvalidInput
from tools.shrink import select

ACTT = "NCT04280705"


def actt() -> dict[str, Any]:
    study: dict[str, Any] = load_json("ctgov/biomcp_studies_page_nct04280705_with_results.json")["studies"][0]
    return study


async def test_the_results_section_is_cut_to_the_explicit_budget(service: TrialsService) -> None:
    detail = await service.get_trial(ACTT, ["results"])
    assert json_size(detail) <= EXPLICIT_BUDGET
    assert detail.truncated is True and detail.cuts
    paths = [cut.list for cut in detail.cuts if not cut.list.startswith("trial.")]
    assert paths and all(path.startswith("resultsSection.") for path in paths)
    for cut in detail.cuts:
        if not cut.list.startswith("trial."):
            assert cut.next == {"path": cut.list, "offset": cut.returned}


async def test_walking_every_cut_recovers_the_results_section_exactly_once(service: TrialsService) -> None:
    first = await service.get_trial(ACTT, ["results"])
    assert first.sections is not None
    tree = {"resultsSection": copy.deepcopy(first.sections["results"])}
    queue = [cut for cut in first.cuts or [] if not cut.list.startswith("trial.")]
    calls = 0
    while queue:
        cut = queue.pop(0)
        step = await service.get_trial(ACTT, ["results"], **cut.next)  # type: ignore[arg-type]
        calls += 1
        assert json_size(step) <= EXPLICIT_BUDGET and step.trial is None and step.path == cut.list
        splice(tree, cut.list, int(str(cut.next["offset"])), step.part)
        queue += step.cuts or []
    assert tree == {"resultsSection": actt()["resultsSection"]}
    assert calls >= 2


async def test_a_path_selects_one_part_and_offset_starts_a_list_later(service: TrialsService) -> None:
    events = actt()["resultsSection"]["adverseEventsModule"]["seriousEvents"]
    whole = await service.get_trial(ACTT, path="resultsSection.adverseEventsModule.seriousEvents")
    later = await service.get_trial(ACTT, path="resultsSection.adverseEventsModule.seriousEvents", offset=3)
    assert whole.part == events[: len(whole.part)] and later.part == events[3 : 3 + len(later.part)]
    assert whole.cache.hit is False and later.cache.hit is True  # one upstream read for both
    keywords = await service.get_trial(ACTT, path="protocolSection.conditionsModule.keywords")
    assert keywords.part == actt()["protocolSection"]["conditionsModule"]["keywords"] and keywords.cuts is None


@pytest.mark.parametrize(
    ("path", "offset", "field", "message"),
    [
        ("resultsSection.adverseEventModule", None, "path", "valid there: adverseEventsModule, baseline"),
        ("resultSection", None, "path", "valid there: derivedSection, documentSection, protocolSection, results"),
        ("protocolSection.nope", None, "path", "valid there: armsInterventionsModule, conditionsModule"),
        ("resultsSection.moreInfoModule", 0, "offset", "is an object, not a list"),
        ("protocolSection.conditionsModule.keywords", 99, "offset", "has 7 items"),
    ],
)
async def test_a_bad_path_or_offset_is_a_clear_invalid_input(
    service: TrialsService, path: str, offset: int | None, field: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await service.get_trial(ACTT, path=path, offset=offset)
    assert caught.value.field == field and message in caught.value.message and path.split(".")[-1] in str(caught.value)


async def test_offset_without_path_is_refused(service: TrialsService) -> None:
    with pytest.raises(InvalidInput, match="offset: give it with path"):
        await service.get_trial(ACTT, offset=3)


async def test_the_record_cuts_lead_to_the_rest(service: TrialsService) -> None:
    detail = await service.get_trial(ACTT)
    assert json_size(detail) <= RECORD_BUDGET and detail.trial is not None and detail.cuts
    cuts = {cut.list: cut for cut in detail.cuts}
    outcomes = cuts["trial.secondary_outcomes"]
    assert (outcomes.returned, outcomes.dropped) == (10, 29)
    rest = await service.get_trial(ACTT, **outcomes.next)  # type: ignore[arg-type]
    upstream = actt()["protocolSection"]["outcomesModule"]["secondaryOutcomes"]
    assert rest.part == upstream[10:]
    assert [o.measure for o in detail.trial.secondary_outcomes] == [o["measure"] for o in upstream[:10]]
    site_cut = cuts["trial.locations.shown"]
    assert site_cut.next == {"sites": {"offset": 10}}
    sites = await service.get_trial(ACTT, sites=SiteQuery.model_validate(site_cut.next["sites"]))
    assert sites.sites is not None and sites.sites.offset == 10 and sites.sites.matching == 60
    shown = [(s.facility, s.city) for s in detail.trial.locations.shown]
    rest = [(s.facility, s.city) for s in sites.sites.sites]
    assert not set(shown) & set(rest) and len(shown) + len(rest) + sum(c.dropped for c in sites.cuts or []) == 60


async def test_every_recorded_study_fits_the_record_budget(service: TrialsService) -> None:
    for nct in ("NCT00763412", "NCT02210780", "NCT03630471", "NCT04207047", "NCT05594173", "NCT06171568"):
        detail = await service.get_trial(nct)
        assert json_size(detail) <= RECORD_BUDGET
        for cut in detail.cuts or []:
            if cut.list == "trial.locations.shown":
                assert cut.next == {"sites": {"offset": cut.returned}}
                continue
            assert select(actt_or(nct), cut.next["path"]) is not None  # type: ignore[arg-type]


def actt_or(nct: str) -> dict[str, Any]:
    study: dict[str, Any] = load_json(f"ctgov/aact_study_{nct.lower()}.json")
    return study
