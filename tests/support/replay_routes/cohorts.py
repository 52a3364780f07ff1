"""Synthesised ClinicalTrials.gov answers in the recorded shapes, where no recording is big enough.

- :data:`MANY_SITES`: one study with :data:`MANY_SITES_COUNT` sites, made from the 60 recorded
  ACTT locations (``biomcp_studies_page_nct04280705_with_results.json``) repeated with a site
  number in the facility name, statuses in turn and contacts on every third site (the location
  shape of the recorded ``aact_study_nct06171568.json``, which has site contacts).
- :data:`COHORT_CONDITION`: a patient-matching search over :data:`COHORT_SIZE` studies made
  from the recorded NCT06604689 (eligibility text) and ACTT (locations) shapes, paged the way
  the API pages (``pageSize`` honoured, an opaque ``nextPageToken``, ``totalCount`` on the
  first page only). Study ``i`` varies its ages, sex, where it names EGFR L858R and its sites.

This module sorts before ``ctgov`` so its study route answers before the recorded one.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from tests.support.replay_routes import Reply, Route, RouteRequest

MANY_SITES = "NCT09990600"
MANY_SITES_COUNT = 600
COHORT_CONDITION = "cohort lung cancer"
COHORT_SIZE = 73
_STATUSES = ("RECRUITING", "NOT_YET_RECRUITING", "ACTIVE_NOT_RECRUITING", "COMPLETED", None)
#: Points around Houston (lat, lon): the sites of the cohort's studies, nearest first.
_HOUSTON_AREA = ((29.7071, -95.3978), (29.5583, -95.0893), (30.2672, -97.7431), (32.7767, -96.797))


def actt(fixtures_dir: Path) -> dict[str, Any]:
    path = fixtures_dir / "ctgov" / "biomcp_studies_page_nct04280705_with_results.json"
    study: dict[str, Any] = orjson.loads(path.read_bytes())["studies"][0]
    return study


@cache
def many_sites_study(fixtures_dir: Path) -> dict[str, Any]:
    recorded = actt(fixtures_dir)["protocolSection"]
    base = recorded["contactsLocationsModule"]["locations"]
    locations = []
    for number in range(MANY_SITES_COUNT):
        loc = dict(base[number % len(base)])
        loc["facility"] = f"{loc.get('facility', 'Site')} (site {number})"
        status = _STATUSES[number % len(_STATUSES)]
        if status:
            loc["status"] = status
        if number % 3 == 0:
            loc["contacts"] = [
                {"name": f"Coordinator {number}", "role": "CONTACT", "phone": f"555-01{number:04d}"},
                {
                    "name": f"Investigator {number}",
                    "role": "PRINCIPAL_INVESTIGATOR",
                    "email": f"pi{number}@example.org",
                },
            ]
        locations.append(loc)
    return {
        "protocolSection": {
            "identificationModule": {"nctId": MANY_SITES, "briefTitle": "A synthesised trial with 600 sites"},
            "statusModule": {"overallStatus": "RECRUITING"},
            "contactsLocationsModule": {"locations": locations},
        },
        "hasResults": False,
    }


def cohort_id(index: int) -> str:
    return f"NCT0998{index:04d}"


@cache
def cohort(fixtures_dir: Path) -> tuple[dict[str, Any], ...]:
    """The cohort's studies in registry order."""
    return tuple(_cohort_study(index) for index in range(COHORT_SIZE))


def _cohort_study(index: int) -> dict[str, Any]:
    mutation = ("* EGFR L858R or exon 19 deletion", "* Any EGFR mutation", "")[index % 3]
    excluded = "* EGFR L858R mutation" if index % 7 == 6 else "* Pregnancy"
    if index % 7 == 6:
        mutation = "* EGFR wild-type"
    lat, lon = _HOUSTON_AREA[index % len(_HOUSTON_AREA)]
    eligibility = {
        "eligibilityCriteria": f"Inclusion Criteria:\n\n* Non-small cell lung cancer\n{mutation}\n\n"
        f"Exclusion Criteria:\n\n{excluded}",
        "sex": ("ALL", "FEMALE", "MALE", "ALL")[index % 4],
        "minimumAge": ("18 Years", "60 Years", "18 Years", "21 Years", "18 Years")[index % 5],
    }
    if index % 5 == 3:
        eligibility["maximumAge"] = "55 Years"
    return {
        "protocolSection": {
            "identificationModule": {"nctId": cohort_id(index), "briefTitle": f"Cohort lung cancer study {index}"},
            "statusModule": {"overallStatus": "RECRUITING", "startDateStruct": {"date": "2026-01-05"}},
            "conditionsModule": {"conditions": ["Non-small Cell Lung Cancer"]},
            "designModule": {"studyType": "INTERVENTIONAL", "phases": ["PHASE2"], "enrollmentInfo": {"count": 40}},
            "eligibilityModule": eligibility,
            "contactsLocationsModule": {
                "locations": [
                    {
                        "facility": f"Cohort site {index}",
                        "city": "Houston",
                        "state": "Texas",
                        "country": "United States",
                        "status": "RECRUITING" if index % 2 == 0 else "NOT_YET_RECRUITING",
                        "geoPoint": {"lat": lat, "lon": lon},
                    }
                ]
            },
        }
    }


def cohort_page(fixtures_dir: Path, query: dict[str, str] | Any) -> Reply:
    studies = cohort(fixtures_dir)
    size = min(int(query.get("pageSize", "10")), 1000)
    token = query.get("pageToken")
    start = 0 if token is None else _start(token)
    page: dict[str, Any] = {"studies": list(studies[start : start + size])}
    if start + size < len(studies):
        page["nextPageToken"] = base64.urlsafe_b64encode(f"cohort:{start + size}".encode()).decode()
    if token is None and query.get("countTotal") == "true":
        page["totalCount"] = len(studies)
    return Reply.json(page)


def _start(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode(errors="replace")
    except ValueError:
        raise FileNotFoundError(token) from None
    found = re.fullmatch(r"cohort:(\d+)", text)
    if found is None:
        raise FileNotFoundError(token)
    return int(found.group(1))


def routes(fixtures_dir: Path) -> list[Route]:
    def many(request: RouteRequest) -> Reply:
        return Reply.json(many_sites_study(fixtures_dir))

    return [
        Route(f"/api/v2/studies/{MANY_SITES}", many),
        Route(
            "/api/v2/studies",
            lambda request: cohort_page(fixtures_dir, request.query),
            when=lambda q: q.get("query.cond") == COHORT_CONDITION,
        ),
    ]
