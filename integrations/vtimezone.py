"""Compact VTIMEZONE components (RFC 5545 §3.6.5) built from the tz database.

A recurring event in local time needs its zone's rules. icalendar can write every transition as
an RDATE list, but that is long, ends in 2038 and trips some parsers; calendar clients (Outlook,
Google) write the rule instead: "last Sunday of March at 02:00". This module derives that rule
from zoneinfo's transitions in the invite's year and checks it against the next ten years; a zone
whose rules do not fit a yearly weekday rule falls back to icalendar's RDATE form.
"""

from __future__ import annotations

import calendar as months
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone, TimezoneDaylight, TimezoneStandard, vRecur

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
CHECK_YEARS = 10


def _transitions(zone: ZoneInfo, year: int) -> list[datetime]:
    """UTC instants in ``year`` at which the zone's offset changes (hour resolution, then exact)."""
    found = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    step = timedelta(hours=1)
    previous = moment.astimezone(zone).utcoffset()
    while moment < end:
        following = moment + step
        offset = following.astimezone(zone).utcoffset()
        if offset != previous:
            low, high = moment, following  # bisect to the minute
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == previous:
                    low = middle
                else:
                    high = middle
            found.append(high)
            previous = offset
        moment = following
    return found


def _rule(local: datetime) -> tuple[int, str]:
    """(month, BYDAY) such as (3, "-1SU") for a local transition time."""
    last_day = months.monthrange(local.year, local.month)[1]
    weekday = DAYS[local.weekday()]
    if local.day + 7 > last_day:
        return local.month, f"-1{weekday}"
    return local.month, f"{(local.day - 1) // 7 + 1}{weekday}"


def _matches(zone: ZoneInfo, year: int, rules: list[tuple[int, str, str]]) -> bool:
    """Whether the yearly rules give the same local transition times for the next years."""
    for later in range(year + 1, year + 1 + CHECK_YEARS):
        observed = []
        for moment in _transitions(zone, later):
            before = (moment - timedelta(minutes=1)).astimezone(zone)
            local = (moment + before.utcoffset()).replace(tzinfo=None)
            observed.append((*_rule(local), local.strftime("%H%M")))
        if observed != [(m, d, t) for m, d, t in rules]:
            return False
    return True


def vtimezone(tzid: str, year: int) -> Timezone:
    """A VTIMEZONE for ``tzid`` valid from ``year`` on (RRULE form where the rules allow)."""
    zone = ZoneInfo(tzid)
    moments = _transitions(zone, year)
    component = Timezone()
    component.add("tzid", tzid)
    if not moments:
        standard = TimezoneStandard()
        offset = datetime(year, 1, 1, tzinfo=zone).utcoffset()
        standard.add("dtstart", datetime(year, 1, 1))
        standard.add("tzoffsetfrom", offset)
        standard.add("tzoffsetto", offset)
        standard.add("tzname", datetime(year, 1, 1, tzinfo=zone).tzname())
        component.add_component(standard)
        return component
    rules = []
    parts = []
    for moment in moments:
        before = (moment - timedelta(minutes=1)).astimezone(zone)
        after = moment.astimezone(zone)
        local = (moment + before.utcoffset()).replace(tzinfo=None)  # wall clock before the jump
        month, byday = _rule(local)
        rules.append((month, byday, local.strftime("%H%M")))
        kind = TimezoneDaylight if after.dst() else TimezoneStandard
        part = kind()
        part.add("dtstart", local)
        part.add("tzoffsetfrom", before.utcoffset())
        part.add("tzoffsetto", after.utcoffset())
        part.add("tzname", after.tzname())
        part.add("rrule", vRecur({"FREQ": "YEARLY", "BYMONTH": month, "BYDAY": byday}))
        parts.append(part)
    if len(moments) != 2 or not _matches(zone, year, rules):
        return Timezone.from_tzid(tzid, first_date=datetime(year, 1, 1).date())
    for part in parts:
        component.add_component(part)
    return component


def add_vtimezone(calendar: Calendar, tzid: str, year: int) -> None:
    """Put the zone's VTIMEZONE first in the calendar, as clients expect."""
    calendar.subcomponents.insert(0, vtimezone(tzid, year))
