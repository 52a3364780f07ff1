"""Text-to-value helpers shared by the TWSE, TPEx and MIS parsers.

Taiwan exchanges send every number as a string: thousands separators (``"2,390.00"``),
``"--"`` or ``"-"`` for "no trade", signed changes (``"+85.00"``, ``" 0.00"``), the
``"X"`` prefix for a change that is not comparable (ex-dividend / ex-rights day), and dates
in Republic-of-China years (``"115/08/03"`` is 2026-08-03). These helpers turn such text into
``float``/``int``/``date`` or ``None`` and never guess: an unreadable value is ``None`` for
optional numbers, and a ``ValueError`` for dates (the callers map that to ``BadPayload``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

ROC_OFFSET = 1911
_EMPTY = {"", "-", "--", "---", "N/A", "n/a", "除權", "除息", "除權息"}
_TAGS = re.compile(r"<[^>]*>")
_ROC_SLASH = re.compile(r"^([0-9]{2,3})/([0-9]{1,2})/([0-9]{1,2})$")
_ROC_COMPACT = re.compile(r"^([0-9]{2,3})([0-9]{2})([0-9]{2})$")


def clean(text: object) -> str:
    """The text without HTML tags, thousands separators and surrounding whitespace."""
    if text is None:
        return ""
    return _TAGS.sub("", str(text)).replace(",", "").strip()


def parse_number(text: object) -> float | None:
    """A price or amount; None for "no trade" markers and anything unreadable."""
    value = clean(text)
    if value in _EMPTY:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def parse_int(text: object) -> int | None:
    """A count (shares, lots, transactions); None when absent."""
    number = parse_number(text)
    return None if number is None else round(number)


@dataclass(frozen=True, slots=True)
class Change:
    """A parsed change column: ``value`` is None when the exchange marked it not comparable."""

    value: float | None
    not_comparable: bool


def parse_change(text: object) -> Change:
    """Parse ``"+25.00"``, ``"-50.00"``, ``" 0.00"``, ``"11.00"`` or ``"X0.00"``.

    ``X`` marks an ex-dividend / ex-rights day: the exchange says the change is not
    comparable with the previous close, so the value is None and ``not_comparable`` is True.
    """
    value = clean(text)
    if value.upper().startswith("X"):
        return Change(None, True)
    return Change(parse_number(value), False)


def parse_roc_date(text: object) -> date:
    """``"115/08/03"`` or ``"1150803"`` (ROC year) -> ``date(2026, 8, 3)``; ValueError otherwise."""
    value = clean(text).replace(" ", "")
    match = _ROC_SLASH.match(value) or _ROC_COMPACT.match(value)
    if match is None:
        raise ValueError(f"not a ROC date: {text!r}")
    year, month, day = (int(part) for part in match.groups())
    return date(year + ROC_OFFSET, month, day)


def header_index(
    fields: list[object], wanted: dict[str, str], optional: frozenset[str] = frozenset()
) -> dict[str, int]:
    """Map our column names to positions by header text (spaces ignored).

    ``wanted`` maps our name -> the upstream header (e.g. ``{"date": "日期"}``). A missing
    header raises ValueError unless its name is in ``optional`` (then it is left out).
    """
    normalised = {re.sub(r"\s+", "", str(name)): position for position, name in enumerate(fields)}
    index: dict[str, int] = {}
    for ours, header in wanted.items():
        position = normalised.get(re.sub(r"\s+", "", header))
        if position is not None:
            index[ours] = position
        elif ours not in optional:
            raise ValueError(f"column {header!r} missing from {list(normalised)}")
    return index


def cell(row: list[object], index: dict[str, int], name: str) -> object:
    """The raw cell for column ``name`` or None when the column or the cell is absent."""
    position = index.get(name)
    if position is None or position >= len(row):
        return None
    return row[position]
