"""Free time on the day of a round, as whole minutes from that day's 00:00 UTC.

Working hours are local to each person and converted through their IANA zone, so a
Tokyo morning and a San Francisco afternoon land on one line. Busy times are widened
to whole minutes. Only intervals that can hold a meeting starting on a 5-minute
boundary are kept: nothing shorter can ever matter for a group.
"""

from __future__ import annotations

import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from pairing.model import Participant

STEP = 5  # meetings start on 5-minute boundaries (in UTC, hence in every whole-quarter zone)
Interval = tuple[int, int]


def day_origin(date: datetime.date) -> datetime.datetime:
    """00:00 UTC of ``date``: the zero of the minute line."""
    return datetime.datetime(date.year, date.month, date.day, tzinfo=datetime.UTC)


def ceil_step(minute: int) -> int:
    """The first 5-minute boundary at or after ``minute``."""
    return -(-minute // STEP) * STEP


@lru_cache(maxsize=4096)
def work_window(
    date: datetime.date, zone: str, start: datetime.time, end: datetime.time
) -> Interval:
    """Working hours on ``date`` in ``zone``, in minutes from the day's 00:00 UTC."""
    tz = ZoneInfo(zone)
    origin = day_origin(date)
    first = datetime.datetime.combine(date, start, tzinfo=tz) - origin
    last = datetime.datetime.combine(date, end, tzinfo=tz) - origin
    return int(first.total_seconds()) // 60, int(last.total_seconds()) // 60


def usable(intervals: list[Interval], duration: int) -> list[Interval]:
    """The intervals that can hold ``duration`` minutes starting on a 5-minute boundary."""
    return [(a, b) for a, b in intervals if -(-a // STEP) * STEP + duration <= b]


def free_intervals(person: Participant, date: datetime.date, duration: int) -> list[Interval]:
    """The person's working time on ``date`` outside busy times, usable intervals only."""
    start, end = work_window(date, person.timezone, person.work_hours[0], person.work_hours[1])
    if not person.busy:
        return usable([(start, end)], duration)
    zero = _day_zero(date)
    spans = []
    for span in person.busy:
        a, b = _busy_minutes(span, span[0].fold, span[1].fold, zero)
        if b > start and a < end:
            spans.append((a, b))
    spans.sort()
    free = []
    cursor = start
    for a, b in spans:
        if a > cursor:
            free.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < end:
        free.append((cursor, end))
    return usable(free, duration)


@lru_cache(maxsize=64)
def _day_zero(date: datetime.date) -> float:
    return day_origin(date).timestamp()


@lru_cache(maxsize=65536)
def _busy_minutes(
    span: tuple[datetime.datetime, datetime.datetime], fold_start: int, fold_end: int, zero: float
) -> Interval:
    """A busy span as whole minutes from ``zero``, widened outwards; remembered, since
    spans repeat (parsing hands out one tuple per distinct span text). The folds are in
    the key for the reason given at :func:`_timestamp`."""
    busy_start, busy_end = span
    a = int((_timestamp(busy_start, fold_start) - zero) // 60)
    b = -int(-(_timestamp(busy_end, fold_end) - zero) // 60)
    return a, b


@lru_cache(maxsize=65536)
def _timestamp(moment: datetime.datetime, fold: int) -> float:
    """``moment.timestamp()``, remembered: it costs 30 times a lookup, and busy times repeat.
    Equal instants have one timestamp; ``fold`` is in the key because two times of one
    zone that differ only by it compare equal but are an hour apart (PEP 495)."""
    return moment.timestamp()


def intersect(first: list[Interval], second: list[Interval]) -> list[Interval]:
    """Where two sorted, disjoint interval lists overlap."""
    out = []
    i = j = 0
    while i < len(first) and j < len(second):
        a = max(first[i][0], second[j][0])
        b = min(first[i][1], second[j][1])
        if a < b:
            out.append((a, b))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return out


def common_free(intervals: list[list[Interval]], duration: int) -> list[Interval]:
    """The usable time every one of the given people has free."""
    if not intervals:
        return []
    shared = intervals[0]
    for other in intervals[1:]:
        shared = usable(intersect(shared, other), duration)
        if not shared:
            break
    return shared


def slot_count(intervals: list[Interval], duration: int) -> int:
    """How many distinct 5-minute-aligned meeting starts fit in the intervals."""
    return sum(max(0, (b - duration - ceil_step(a)) // STEP + 1) for a, b in intervals)


def choose_start(intervals: list[Interval], duration: int, target: float) -> int:
    """The aligned start whose meeting centre is closest to ``target``; earlier on ties."""
    best = None
    wanted = target - duration / 2
    for a, b in intervals:
        first, last = -(-a // STEP) * STEP, (b - duration) // STEP * STEP
        if first > last:
            continue
        near = int(wanted // STEP) * STEP
        for start in (near, near + STEP):
            start = min(max(start, first), last)
            key = (abs(start - wanted), start)
            if best is None or key < best:
                best = key
    if best is None:
        raise ValueError("no slot in the given intervals")
    return best[1]
