"""Parsing a study's v2 ``resultsSection`` into a :class:`ResultsDigest`.

Outcomes keep their upstream index and are ordered primary first (then secondary, other
pre-specified, post hoc; upstream order within a type). Adverse events are ordered by pooled
incidence (affected / at risk summed over the groups), highest first, ties by term. Values stay
the upstream strings; missing or odd pieces are left out, never guessed.
"""

from __future__ import annotations

from typing import Any

from tools.clinical_trials.results_models import (
    AdverseEvents,
    Analysis,
    Baseline,
    Event,
    EventGroup,
    EventStat,
    Flow,
    FlowPeriod,
    Group,
    Milestone,
    OutcomeDigest,
    ResultsDigest,
    Row,
    Value,
)

#: Rows kept per outcome (an outcome with more says rows_total; its full data is a get_trial path away).
MAX_ROWS = 40
#: Baseline measure titles kept.
MAX_MEASURES = 30
#: Characters kept of long free texts (time frames, analysis descriptions).
MAX_TEXT = 300

_TYPE_ORDER = {"PRIMARY": 0, "SECONDARY": 1, "OTHER_PRE_SPECIFIED": 2, "POST_HOC": 3}
_PARTICIPANTS = "participants"


def digest(study: dict[str, Any], requested_id: str) -> ResultsDigest:
    """The digest of one upstream study (read with at least NCTId, HasResults, ResultsSection)."""
    ident = _dict(_dict(study.get("protocolSection")).get("identificationModule"))
    nct = ident.get("nctId") or requested_id
    results = _dict(study.get("resultsSection"))
    base = ResultsDigest(
        nct_id=nct,
        requested_id=requested_id if requested_id != nct else None,
        title=ident.get("briefTitle"),
        has_results=bool(study.get("hasResults")) and bool(results),
    )
    if not base.has_results:
        return base
    measures = _list(_dict(results.get("outcomeMeasuresModule")).get("outcomeMeasures"))
    outcomes = [outcome(index, m) for index, m in enumerate(measures) if isinstance(m, dict)]
    base.outcomes = sorted(outcomes, key=lambda o: (_TYPE_ORDER.get(o.type or "", 9), o.index))
    if "participantFlowModule" in results:
        base.flow = flow(_dict(results["participantFlowModule"]))
    if "baselineCharacteristicsModule" in results:
        base.baseline = baseline(_dict(results["baselineCharacteristicsModule"]))
    if "adverseEventsModule" in results:
        base.adverse_events = adverse_events(_dict(results["adverseEventsModule"]))
    return base


def outcome(index: int, measure: dict[str, Any]) -> OutcomeDigest:
    denoms = _list(measure.get("denoms"))
    first = _dict(denoms[0]) if denoms else {}
    units = first.get("units")
    overall = _counts(first)
    rows = [row for cls in _list(measure.get("classes")) for row in _rows(_dict(cls), overall)]
    status = measure.get("reportingStatus")
    return OutcomeDigest(
        index=index,
        type=measure.get("type"),
        title=measure.get("title"),
        time_frame=_short(measure.get("timeFrame")),
        status=status if status and status != "POSTED" else None,
        param=measure.get("paramType"),
        dispersion=measure.get("dispersionType"),
        unit=measure.get("unitOfMeasure"),
        n_units=units if units and units.lower() != _PARTICIPANTS else None,
        groups=_groups(measure.get("groups"), overall),
        rows=rows[:MAX_ROWS],
        rows_total=len(rows) if len(rows) > MAX_ROWS else None,
        analyses=[analysis(_dict(a)) for a in _list(measure.get("analyses"))],
    )


def _rows(cls: dict[str, Any], overall: dict[str, str]) -> list[Row]:
    """One row per category of a class; ``n`` only when the class's denominators differ from the outcome's."""
    denoms = _list(cls.get("denoms"))
    n = _counts(_dict(denoms[0])) if denoms else None
    n = None if n == overall else n
    rows = []
    for category in _list(cls.get("categories")):
        category = _dict(category)
        label = " / ".join(t for t in (cls.get("title"), category.get("title")) if t) or None
        values = [_value(_dict(m)) for m in _list(category.get("measurements")) if _dict(m).get("groupId")]
        rows.append(Row(label=label, n=n or None, values=values))
    return rows


def _value(m: dict[str, Any]) -> Value:
    return Value(
        group=m["groupId"],
        value=m.get("value"),
        spread=m.get("spread"),
        lower=m.get("lowerLimit"),
        upper=m.get("upperLimit"),
        comment=_short(m.get("comment")),
    )


def analysis(a: dict[str, Any]) -> Analysis:
    return Analysis(
        groups=[g for g in _list(a.get("groupIds")) if isinstance(g, str)],
        description=_short(a.get("groupDescription")),
        method=a.get("statisticalMethod"),
        p_value=a.get("pValue"),
        p_value_comment=_short(a.get("pValueComment")),
        estimate_type=a.get("paramType"),
        estimate=a.get("paramValue"),
        ci_pct=a.get("ciPctValue"),
        ci_sides=a.get("ciNumSides"),
        ci_lower=a.get("ciLowerLimit"),
        ci_upper=a.get("ciUpperLimit"),
        dispersion_type=a.get("dispersionType"),
        dispersion_value=a.get("dispersionValue"),
        non_inferiority=a.get("nonInferiorityType"),
    )


def flow(module: dict[str, Any]) -> Flow:
    periods = []
    for period in _list(module.get("periods")):
        period = _dict(period)
        milestones = [
            Milestone(type=m.get("type"), counts=_counts(m, "achievements", "numSubjects"))
            for m in (_dict(m) for m in _list(period.get("milestones")))
        ]
        periods.append(FlowPeriod(title=period.get("title"), milestones=milestones))
    return Flow(groups=_groups(module.get("groups")), periods=periods)


def baseline(module: dict[str, Any]) -> Baseline:
    denoms = _list(module.get("denoms"))
    counts = _counts(_dict(denoms[0])) if denoms else {}
    titles = [t for t in (_dict(m).get("title") for m in _list(module.get("measures"))) if isinstance(t, str)]
    return Baseline(groups=_groups(module.get("groups"), counts), measures=titles[:MAX_MEASURES])


def adverse_events(module: dict[str, Any]) -> AdverseEvents:
    groups = [
        EventGroup(
            id=g["id"],
            title=g.get("title"),
            deaths_affected=g.get("deathsNumAffected"),
            deaths_at_risk=g.get("deathsNumAtRisk"),
            serious_affected=g.get("seriousNumAffected"),
            serious_at_risk=g.get("seriousNumAtRisk"),
            other_affected=g.get("otherNumAffected"),
            other_at_risk=g.get("otherNumAtRisk"),
        )
        for g in (_dict(g) for g in _list(module.get("eventGroups")))
        if isinstance(g.get("id"), str)
    ]
    serious = by_incidence(_list(module.get("seriousEvents")))
    other = by_incidence(_list(module.get("otherEvents")))
    return AdverseEvents(
        frequency_threshold=module.get("frequencyThreshold"),
        time_frame=_short(module.get("timeFrame")),
        groups=groups,
        serious_total=len(serious),
        other_total=len(other),
        serious_events=serious,
        other_events=other,
    )


def by_incidence(events: list[Any]) -> list[Event]:
    """The events, highest pooled incidence first (unknown incidence last), ties by term."""
    parsed = [event(_dict(e)) for e in events]
    return sorted(parsed, key=lambda e: (-(e.incidence if e.incidence is not None else -1.0), e.term or ""))


def event(e: dict[str, Any]) -> Event:
    stats = [
        EventStat(
            group=s["groupId"],
            affected=_int(s.get("numAffected")),
            at_risk=_int(s.get("numAtRisk")),
            events=_int(s.get("numEvents")),
        )
        for s in (_dict(s) for s in _list(e.get("stats")))
        if isinstance(s.get("groupId"), str)
    ]
    affected = sum(s.affected or 0 for s in stats)
    at_risk = sum(s.at_risk or 0 for s in stats)
    return Event(
        term=e.get("term"),
        organ_system=e.get("organSystem"),
        incidence=round(affected / at_risk, 4) if at_risk else None,
        stats=stats,
    )


def _groups(groups: Any, counts: dict[str, str] | None = None) -> list[Group]:
    counts = counts or {}
    return [
        Group(id=g["id"], title=g.get("title"), n=counts.get(g["id"]))
        for g in (_dict(g) for g in _list(groups))
        if isinstance(g.get("id"), str)
    ]


def _counts(holder: dict[str, Any], key: str = "counts", field: str = "value") -> dict[str, str]:
    """``{groupId: count}`` of a denom (``counts``/``value``) or milestone (``achievements``/``numSubjects``)."""
    found = {}
    for item in _list(holder.get(key)):
        item = _dict(item)
        group, value = item.get("groupId"), item.get(field)
        if isinstance(group, str) and value is not None:
            found[group] = str(value)
    return found


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _short(text: Any) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_TEXT else flat[: MAX_TEXT - 1] + "…"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
