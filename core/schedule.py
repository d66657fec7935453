"""When a programme plans its rounds: plain date arithmetic, no database, no clock reads.

A programme's break on a working day ``d`` starts at ``local_time`` in its zone; the round is
planned ``lead_minutes`` earlier (``plan_at``) and may still be planned late, by a clock that was
down, until the cut-off (``deadline``). The clock's APScheduler trigger asks :meth:`next_firing`,
so there is exactly one firing per working day, whatever the zone's DST rules do:

* a break time that falls in a DST gap (it does not exist that day) is read with the offset
  before the change (PEP 495, fold=0), so 02:30 on a spring-forward night becomes 03:30 new time;
* a break time that occurs twice (fall back) is the first occurrence;
* all arithmetic on instants is done in UTC, never on wall-clock datetimes.

APScheduler's CronTrigger (3.11.3, measured) fires twice in the repeated hour and skips a day
whose firing time falls in a gap, which is why the clock uses this schedule instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.enums import Cadence
from core.holidays import holiday_country, holiday_name, is_public_holiday
from core.models import is_biweekly_week

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: How far ahead to look for the next working day (a year of days off would be a setup error).
HORIZON_DAYS = 400


@dataclass(frozen=True)
class Schedule:
    """A programme's timing, as plain data (see :func:`schedule_for`)."""

    timezone: str
    local_time: time
    days: frozenset[int] = frozenset(range(5))  # weekday numbers, Monday = 0
    lead_minutes: int = 60
    cutoff_minutes: int = 15
    country: str | None = None  # public holidays of this country are skipped
    days_off: frozenset[date] = field(default_factory=frozenset)
    biweekly: bool = False  # every other week only (see core.models.is_biweekly_week)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def day_off_reason(self, day: date) -> str | None:
        """Why there is no break on ``day``, or None on a working day."""
        if day.weekday() not in self.days:
            return f"not a programme day ({WEEKDAYS[day.weekday()]})"
        if self.biweekly and not is_biweekly_week(day):
            return "not this programme's week (it runs every two weeks)"
        if day in self.days_off:
            return "a programme day off"
        if is_public_holiday(self.country, day):
            return f"public holiday in {self.country}: {holiday_name(self.country, day)}"
        return None

    def is_working_day(self, day: date) -> bool:
        """Whether the programme has a break on ``day``."""
        return self.day_off_reason(day) is None

    def break_at(self, day: date) -> datetime:
        """When the break on ``day`` starts, in UTC (gaps read with fold=0, see the module)."""
        return datetime.combine(day, self.local_time, tzinfo=self.zone).astimezone(UTC)

    def plan_at(self, day: date) -> datetime:
        """When the round for ``day`` is planned: ``lead_minutes`` before the break."""
        return self.break_at(day) - timedelta(minutes=self.lead_minutes)

    def deadline(self, day: date) -> datetime:
        """The cut-off: after it a round not yet planned is recorded as missed.

        ``cutoff_minutes`` before the break, but never before the planned time itself (a
        programme with a short lead still runs at its firing).
        """
        cutoff = self.break_at(day) - timedelta(minutes=self.cutoff_minutes)
        return max(cutoff, self.plan_at(day) + timedelta(minutes=1))

    def _days_from(self, start: date, step: int) -> Iterator[date]:
        for offset in range(HORIZON_DAYS):
            yield start + timedelta(days=offset * step)

    def _first_candidate(self, instant: datetime) -> date:
        """A local date early enough that no firing after ``instant`` has an earlier day."""
        local = instant.astimezone(self.zone).date()
        return local - timedelta(days=self.lead_minutes // 1440 + 2)

    def next_firing(self, after: datetime) -> tuple[datetime, date] | None:
        """The first (instant, break date) whose planning time is strictly after ``after``."""
        if not self.days:
            return None
        for day in self._days_from(self._first_candidate(after), 1):
            if self.is_working_day(day):
                at = self.plan_at(day)
                if at > after:
                    return at, day
        return None

    def last_firing(self, at_or_before: datetime) -> tuple[datetime, date] | None:
        """The latest (instant, break date) planned at or before ``at_or_before``."""
        if not self.days:
            return None
        local = at_or_before.astimezone(self.zone).date()
        start = local + timedelta(days=self.lead_minutes // 1440 + 2)
        for day in self._days_from(start, -1):
            if self.is_working_day(day):
                at = self.plan_at(day)
                if at <= at_or_before:
                    return at, day
        return None

    def firings_between(self, start: datetime, end: datetime) -> list[tuple[datetime, date]]:
        """Every (instant, break date) with ``start < instant <= end``, in order."""
        result = []
        cursor = start
        while (firing := self.next_firing(cursor)) is not None and firing[0] <= end:
            result.append(firing)
            cursor = firing[0]
        return result

    def next_working_day(self, day: date) -> date | None:
        """The first working day after ``day`` (when the "Did you meet?" message goes out)."""
        for candidate in self._days_from(day + timedelta(days=1), 1):
            if self.is_working_day(candidate):
                return candidate
        return None


def schedule_for(programme) -> Schedule:
    """The :class:`Schedule` of a ``core.models.Programme`` row."""
    days_off = set()
    for value in programme.days_off or []:
        try:
            days_off.add(date.fromisoformat(str(value)))
        except ValueError:
            continue  # validated where admins enter them; a stray value must not stop the clock
    return Schedule(
        timezone=programme.timezone,
        local_time=programme.local_time,
        days=frozenset(WEEKDAYS.index(d) for d in programme.days or [] if d in WEEKDAYS),
        lead_minutes=programme.lead_minutes if programme.lead_minutes is not None else 60,
        cutoff_minutes=programme.cutoff_minutes if programme.cutoff_minutes is not None else 15,
        country=holiday_country(programme.holiday_country, programme.timezone),
        days_off=frozenset(days_off),
        biweekly=programme.cadence == Cadence.BIWEEKLY,
    )
