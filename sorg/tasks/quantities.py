"""Quantities in free text: money amounts, percentages, durations and clock-time ranges.

Why a module of its own: the rubric's numeric constraints (`sorg.tasks.rubric`: a budget that
adds up, hours that fill a week, shares that make 100%) need the numbers an answer writes, in
the many ways a model writes them ("$1.2k", "EUR 300", "25 percent", "9:00-17:30", "3 weeks").
Parsing them is one concern; judging a rubric with them is another.
"""

from __future__ import annotations

import math
import re

__all__ = ["extract_amounts", "extract_percents", "line_hours", "line_quantities", "LIST_ITEM", "TOTAL_LINE"]



_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
_SCALE = r"(?:k\b|m\b|mn\b|bn\b|thousand\b|million\b|billion\b)"
_CURRENCY_PREFIX = re.compile(
    rf"(?:[$€£]|\bUSD|\bEUR|\bGBP)\s?(?P<num>{_NUM})\s?(?P<scale>{_SCALE})?", re.IGNORECASE
)
_CURRENCY_SUFFIX = re.compile(
    rf"(?<![\w$€£.,])(?P<num>{_NUM})\s?(?P<scale>{_SCALE})?\s?"
    r"(?:usd|dollars?|eur|euros?|gbp|pounds?)\b",
    re.IGNORECASE,
)
_SCALES = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}
_PERCENT = re.compile(rf"(?<![\w.])(?P<num>{_NUM})\s?(?:%|percent\b|per cent\b)", re.IGNORECASE)
_PLAIN_NUMBER = re.compile(rf"(?<![\w.])-?(?:{_NUM})(?![\w])")
# A line that *states* a total ("Total: $120,000", "The overall budget is $5k", "**Sum** 100%")
# is not an item of the list it sums; "Venue: $40,000 (a third of the total)" still is.
TOTAL_LINE = re.compile(
    r"^\W*(?:grand\s+)?(?:total|sum|overall|altogether)\b"
    r"|\b(?:total|sum|overall|altogether|in all)\b[^$€£\d\n]{0,30}(?:[$€£]|\d)",
    re.IGNORECASE,
)

_DURATION = re.compile(
    rf"(?<![\w.])(?P<num>{_NUM})[\s-]?(?P<unit>hours?|hrs?|h|minutes?|mins?)\b", re.IGNORECASE
)
_CLOCK = r"(?P<{n}h>\d{{1,2}})(?:[:.h](?P<{n}m>\d{{2}}))?\s?(?P<{n}ap>a\.?m\.?|p\.?m\.?)?"
_TIME_RANGE = re.compile(
    r"(?<![\d:.])" + _CLOCK.format(n="s") + r"\s?(?:-|–|—|to|until)\s?" + _CLOCK.format(n="e")
    + r"(?![\d:])",
    re.IGNORECASE,
)

LIST_ITEM = re.compile(
    r"^\s*(?:[-*•+▪◦]\s+|\d{1,3}[.)]\s+|[a-z][.)]\s+|\(\d{1,3}\)\s+|"
    r"(?:week|day|phase|module|session|step|unit|lesson|sprint|stage|milestone|part|month)"
    r"\s*\d{1,3}\b)\S*",
    re.IGNORECASE,
)


def _to_float(num: str) -> float | None:
    try:
        value = float(num.replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def extract_amounts(text: str) -> list[float]:
    """Currency amounts in `text`, in order: "$4,000", "$4k", "€1.2 million", "300 USD".

    A span matched by the prefix form is not matched again by the suffix form ("$300 USD" is
    one amount).
    """
    found: list[tuple[int, float]] = []
    taken: list[tuple[int, int]] = []
    for m in _CURRENCY_PREFIX.finditer(text):
        value = _to_float(m.group("num"))
        if value is None:
            continue
        scale = (m.group("scale") or "").lower()
        found.append((m.start(), value * _SCALES.get(scale, 1.0)))
        taken.append(m.span())
    for m in _CURRENCY_SUFFIX.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        value = _to_float(m.group("num"))
        if value is None:
            continue
        scale = (m.group("scale") or "").lower()
        found.append((m.start(), value * _SCALES.get(scale, 1.0)))
    return [v for _, v in sorted(found)]


def extract_percents(text: str) -> list[float]:
    """Percentages in `text` ("25%", "25 percent")."""
    out = []
    for m in _PERCENT.finditer(text):
        value = _to_float(m.group("num"))
        if value is not None:
            out.append(value)
    return out


def _clock_minutes(h: str, m: str | None, ap: str | None) -> int | None:
    hour = int(h)
    minute = int(m) if m else 0
    if minute >= 60:
        return None
    if ap:
        if not 1 <= hour <= 12:
            return None
        pm = ap.lower().startswith("p")
        hour = (hour % 12) + (12 if pm else 0)
    elif hour > 24:
        return None
    return hour * 60 + minute


def _range_hours(m: re.Match[str]) -> float | None:
    s_ap, e_ap = m.group("sap"), m.group("eap")
    if s_ap is None and e_ap is not None and m.group("sm") is None:
        s_ap = e_ap  # "2-4pm"
    start = _clock_minutes(m.group("sh"), m.group("sm"), s_ap)
    end = _clock_minutes(m.group("eh"), m.group("em"), e_ap)
    if start is None or end is None:
        return None
    if m.group("sm") is None and m.group("em") is None and s_ap is None and e_ap is None:
        return None  # "3-5" is a count range, not a time range
    if end <= start:
        if s_ap is None and e_ap is None and start < 12 * 60 and end + 12 * 60 > start:
            end += 12 * 60  # "11:00-1:00", "9:00-5:00": a 12-hour clock
        else:
            end += 24 * 60  # "22:00-06:00", "10pm-6am": an overnight shift
    return (end - start) / 60.0


def line_hours(line: str) -> float | None:
    """The duration a schedule line states, in hours: its explicit durations ("2 h", "90 min")
    if any, else its time ranges ("9:00-10:30", "2pm-4pm", "22:00-06:00" overnight); None if
    the line states neither."""
    total = 0.0
    seen = False
    for m in _DURATION.finditer(line):
        value = _to_float(m.group("num"))
        if value is None:
            continue
        unit = m.group("unit").lower()
        total += value / 60.0 if unit.startswith("m") else value
        seen = True
    if seen:
        return total
    for m in _TIME_RANGE.finditer(line):
        hours = _range_hours(m)
        if hours is not None:
            total += hours
            seen = True
    return total if seen else None


_SPAN = {
    "days": re.compile(rf"(?<![\w.])(?P<num>{_NUM})[\s-]?(?:days?)\b", re.IGNORECASE),
    "weeks": re.compile(rf"(?<![\w.])(?P<num>{_NUM})[\s-]?(?:weeks?|wks?)\b", re.IGNORECASE),
    "months": re.compile(rf"(?<![\w.])(?P<num>{_NUM})[\s-]?(?:months?|mos?)\b", re.IGNORECASE),
}


def line_quantities(line: str, unit: str) -> list[float]:
    if unit in _SPAN:
        return [v for m in _SPAN[unit].finditer(line) if (v := _to_float(m.group("num"))) is not None]
    if unit == "currency":
        return extract_amounts(line)
    if unit == "percent":
        return extract_percents(line)
    if unit == "hours":
        h = line_hours(line)
        return [] if h is None else [h]
    out = []
    for m in _PLAIN_NUMBER.finditer(line):
        value = _to_float(m.group(0).lstrip("-"))
        if value is not None:
            out.append(-value if m.group(0).startswith("-") else value)
    return out
