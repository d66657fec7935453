"""When the clock fires: once per working day, at the right instant, across DST and holidays."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from apscheduler.schedulers.background import BackgroundScheduler
from hypothesis import given, settings
from hypothesis import strategies as st

from core.holidays import country_for_timezone, holiday_country
from core.schedule import Schedule, schedule_for
from jobs.clock import ProgrammeTrigger

WEEKDAYS = frozenset(range(5))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def firings(schedule: Schedule, start: datetime, days: int) -> list[tuple[datetime, date]]:
    return schedule.firings_between(start, start + timedelta(days=days))


# The 2027 changes: (zone, Friday before, [(break date, expected planning instant in UTC)]).
DST_2027 = [
    # Europe/Stockholm: 28 March 02:00 -> 03:00, 31 October 03:00 -> 02:00.
    ("Europe/Stockholm", utc(2027, 3, 26), [(date(2027, 3, 26), utc(2027, 3, 26, 8)),
                                           (date(2027, 3, 29), utc(2027, 3, 29, 7))]),
    ("Europe/Stockholm", utc(2027, 10, 29), [(date(2027, 10, 29), utc(2027, 10, 29, 7)),
                                            (date(2027, 11, 1), utc(2027, 11, 1, 8))]),
    # America/New_York: 14 March 02:00 -> 03:00, 7 November 02:00 -> 01:00.
    ("America/New_York", utc(2027, 3, 12), [(date(2027, 3, 12), utc(2027, 3, 12, 14)),
                                           (date(2027, 3, 15), utc(2027, 3, 15, 13))]),
    ("America/New_York", utc(2027, 11, 5), [(date(2027, 11, 5), utc(2027, 11, 5, 13)),
                                           (date(2027, 11, 8), utc(2027, 11, 8, 14))]),
    # Australia/Sydney: 4 April 03:00 -> 02:00 (DST ends), 3 October 02:00 -> 03:00.
    ("Australia/Sydney", utc(2027, 4, 1), [(date(2027, 4, 2), utc(2027, 4, 1, 22)),
                                          (date(2027, 4, 5), utc(2027, 4, 4, 23))]),
    ("Australia/Sydney", utc(2027, 9, 30), [(date(2027, 10, 1), utc(2027, 9, 30, 23)),
                                           (date(2027, 10, 4), utc(2027, 10, 3, 22))]),
]  # fmt: skip


@pytest.mark.parametrize(("zone", "start", "expected"), DST_2027)
def test_weekday_programme_plans_at_local_nine_across_2027_dst_changes(zone, start, expected):
    """A 10:00 break with a 60-minute lead plans at 09:00 local before and after the change."""
    schedule = Schedule(zone, time(10), WEEKDAYS, lead_minutes=60, country=None)
    got = firings(schedule, start, 4)
    assert [(d, a) for a, d in got] == expected
    for at, day in got:
        local = at.astimezone(zoneinfo.ZoneInfo(zone))
        assert (local.date(), local.time()) == (day, time(9))


# A daily break at an hour that does not exist (spring) or exists twice (autumn) that night.
EDGE_HOURS_2027 = [
    ("Europe/Stockholm", time(2, 30), date(2027, 3, 28), utc(2027, 3, 28, 1, 30)),  # gap
    ("Europe/Stockholm", time(2, 30), date(2027, 10, 31), utc(2027, 10, 31, 0, 30)),  # twice
    ("America/New_York", time(2, 30), date(2027, 3, 14), utc(2027, 3, 14, 7, 30)),  # gap
    ("America/New_York", time(1, 30), date(2027, 11, 7), utc(2027, 11, 7, 5, 30)),  # twice
    ("Australia/Sydney", time(2, 30), date(2027, 4, 4), utc(2027, 4, 3, 15, 30)),  # twice
    ("Australia/Sydney", time(2, 30), date(2027, 10, 3), utc(2027, 10, 2, 16, 30)),  # gap
]


@pytest.mark.parametrize(("zone", "at", "day", "instant"), EDGE_HOURS_2027)
def test_break_in_a_dst_gap_or_fold_fires_exactly_once_that_day(zone, at, day, instant):
    schedule = Schedule(zone, at, frozenset(range(7)), lead_minutes=0, country=None)
    got = firings(schedule, utc(day.year, day.month, day.day) - timedelta(days=2), 4)
    days = [d for _, d in got]
    assert day in days and len(days) == 4  # one a day, none skipped, none doubled
    assert days == [days[0] + timedelta(days=i) for i in range(4)]
    assert dict((d, a) for a, d in got)[day] == instant


@pytest.mark.parametrize(("zone", "start", "expected"), DST_2027)
def test_apscheduler_runs_the_job_at_those_instants(zone, start, expected):
    """The real scheduler, with the clock moved to the Friday before each change."""
    schedule = Schedule(zone, time(10), WEEKDAYS, lead_minutes=60, country=None)
    with time_machine.travel(expected[0][1] - timedelta(hours=1), tick=False):
        scheduler = BackgroundScheduler(timezone=UTC)
        scheduler.start(paused=True)
        try:
            job = scheduler.add_job(print, ProgrammeTrigger(schedule), id="programme-1")
            runs = [job.next_run_time]
            for _ in range(len(expected) - 1):
                runs.append(job.trigger.get_next_fire_time(runs[-1], runs[-1]))
        finally:
            scheduler.shutdown(wait=False)
    assert runs == [at for _, at in expected]


ZONES = sorted(zoneinfo.available_timezones())


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    at=st.times(),
    lead=st.integers(0, 36 * 60),
    days=st.frozensets(st.integers(0, 6), min_size=1),
    start=st.datetimes(datetime(2025, 1, 1), datetime(2031, 12, 31), timezones=st.just(UTC)),
)
def test_one_round_per_local_date_never_two_never_none(zone, at, lead, days, start):
    """Over 45 days in any zone: each working day is planned exactly once, in order."""
    schedule = Schedule(zone, at, days, lead_minutes=lead, country=None)
    end = start + timedelta(days=45)
    got = schedule.firings_between(start, end)
    dates = [d for _, d in got]
    instants = [a for a, _ in got]
    assert len(set(dates)) == len(dates)  # never two
    assert dates == sorted(dates) and instants == sorted(set(instants))
    first = start.astimezone(schedule.zone).date() - timedelta(days=3)
    candidates = [first + timedelta(days=i) for i in range(55)]
    expected = [d for d in candidates if d.weekday() in days and start < schedule.plan_at(d) <= end]
    assert dates == expected  # never none on a working day
    assert len(expected) >= 45 // 7 * len(days) - len(days)
    for instant, day in got:
        # The break is on its own local date, and a firing at that instant picks that date.
        assert schedule.break_at(day).astimezone(schedule.zone).date() == day
        assert schedule.last_firing(instant) == (instant, day)
    # The APScheduler trigger walks the same instants.
    trigger = ProgrammeTrigger(schedule)
    walked, previous = [], None
    while (nxt := trigger.get_next_fire_time(previous, start + timedelta(microseconds=1))) <= end:
        walked.append(nxt)
        previous = nxt
    assert walked == instants


def test_public_holidays_of_the_office_country_are_skipped():
    schedule = Schedule("Europe/Stockholm", time(10), WEEKDAYS, 60, country="SE")
    got = firings(schedule, utc(2027, 1, 4, 12), 4)  # Epiphany: Wednesday 6 January
    assert [d for _, d in got] == [date(2027, 1, 5), date(2027, 1, 7), date(2027, 1, 8)]
    assert schedule.day_off_reason(date(2027, 1, 6)) == "public holiday in SE: Epiphany"
    us = Schedule("America/New_York", time(10), WEEKDAYS, 60, country="US")
    assert not us.is_working_day(date(2027, 7, 5))  # Independence Day observed (Monday)
    assert us.is_working_day(date(2027, 7, 6))


def test_programme_days_off_and_derived_country():
    programme = SimpleNamespace(
        timezone="Europe/Stockholm",
        local_time=time(10),
        days=["mon", "tue", "wed", "thu", "fri"],
        lead_minutes=60,
        cutoff_minutes=15,
        holiday_country=None,
        days_off=["2027-01-05", "not a date"],
        cadence="weekly",
    )
    schedule = schedule_for(programme)
    assert schedule.country == "SE" and country_for_timezone("America/New_York") == "US"
    assert holiday_country("", "Europe/Stockholm") is None  # "" switches holidays off
    assert holiday_country("de-by", "Europe/Stockholm") == "DE-BY"
    assert schedule.day_off_reason(date(2027, 1, 5)) == "a programme day off"
    assert [d for _, d in firings(schedule, utc(2027, 1, 4, 12), 4)] == [
        date(2027, 1, 7),
        date(2027, 1, 8),
    ]
    assert schedule.next_working_day(date(2027, 1, 4)) == date(2027, 1, 7)


def test_deadline_is_the_cutoff_but_never_before_the_planned_time():
    schedule = Schedule("Europe/Stockholm", time(10), WEEKDAYS, 60, cutoff_minutes=15)
    day = date(2027, 1, 4)
    assert schedule.deadline(day) == utc(2027, 1, 4, 8, 45)
    short = Schedule("Europe/Stockholm", time(10), WEEKDAYS, lead_minutes=5, cutoff_minutes=15)
    assert short.deadline(day) == short.plan_at(day) + timedelta(minutes=1)


def test_a_programme_without_days_never_fires():
    schedule = Schedule("UTC", time(10), frozenset(), 60)
    assert schedule.next_firing(utc(2027, 1, 1)) is None
    assert ProgrammeTrigger(schedule).get_next_fire_time(None, utc(2027, 1, 1)) is None


def test_biweekly_programme_works_every_other_week_only():
    from core.schedule import Schedule

    every = Schedule(timezone="Europe/Stockholm", local_time=time(10), country="")
    other = Schedule(timezone="Europe/Stockholm", local_time=time(10), country="", biweekly=True)
    mondays = [date(2027, 1, 4) + timedelta(weeks=w) for w in range(6)]
    assert all(every.is_working_day(d) for d in mondays)
    on = [other.is_working_day(d) for d in mondays]
    assert on in ([True, False] * 3, [False, True] * 3)
    off = next(d for d in mondays if not other.is_working_day(d))
    assert "every two weeks" in other.day_off_reason(off)
