"""Another time for a planned break: the slots that still suit everyone, and moving it there.

A group that cannot meet at its planned time ("suggest another time" in the Slack group
message) is offered a few slots that are inside every member's working hours, on days they
take part and the programme runs, and free: not over another Fika break of any member nor
over a meeting the calendar service (Graph or Google free/busy) knows. Choosing one moves the
break for everyone: the same UID with SEQUENCE + 1, written to the outbox as an update like
every other change to a planned break, so calendars move the event and the Slack channel edits
the group message it posted.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.db import db
from core.enums import GroupStatus
from core.invites import build_invite
from core.models import WEEKDAYS, Group, GroupMember, Person
from core.outbox import Outbox
from core.schedule import schedule_for
from core.settings import Settings

log = logging.getLogger(__name__)

#: How many slots are offered.
SLOTS = 3
#: Slots start on the quarter hour.
STEP = timedelta(minutes=15)
#: The earliest a moved break may start: time for everyone to see the change.
NOTICE = timedelta(hours=1)
#: How many days ahead of the planned day slots are looked for (the planned day included).
DAYS_AHEAD = 3

Span = tuple[datetime, datetime]


class SlotError(ValueError):
    """The chosen time cannot be used (no longer free, or the break cannot move)."""


def members_of(group: Group) -> list[Person]:
    """The group's people, by name (the order invites list them in)."""
    return sorted((m.person for m in group.members), key=lambda p: (p.name, p.id))


def _inside_working_hours(person: Person, start: datetime, end: datetime) -> bool:
    """Whether [start, end) lies inside the person's working hours on a day they take part."""
    zone = ZoneInfo(person.timezone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if local_start.date() != local_end.date():
        return False
    pref = person.preference
    days = pref.days if pref is not None and pref.days else None
    if days is not None and WEEKDAYS[local_start.weekday()] not in days:
        return False
    return person.work_start <= local_start.time() and local_end.time() <= person.work_end


def _overlaps(start: datetime, end: datetime, spans: Sequence[Span]) -> bool:
    return any(s < end and start < e for s, e in spans)


def fika_busy(group: Group, people: Sequence[Person], start: datetime, end: datetime) -> dict:
    """Each member's other planned Fika breaks between ``start`` and ``end``, by email."""
    rows = db.session.execute(
        select(Person.email, Group.start_at, Group.end_at)
        .join(GroupMember, GroupMember.person_id == Person.id)
        .join(Group, Group.id == GroupMember.group_id)
        .where(
            Person.id.in_([p.id for p in people]),
            Group.id != group.id,
            Group.status == GroupStatus.SCHEDULED,
            Group.end_at > start,
            Group.start_at < end,
        )
    )
    busy: dict[str, list[Span]] = {}
    for email, s, e in rows:
        busy.setdefault(email.lower(), []).append((s, e))
    return busy


def calendar_busy(settings: Settings, emails: Sequence[str], start: datetime, end: datetime):
    """Meetings the calendar service knows between ``start`` and ``end``, by email; {} without
    one or when it fails (the slots are then checked against Fika's own breaks only)."""
    from integrations.base import DeliveryError
    from integrations.catalogue import busy_source

    source = busy_source(settings.channel_settings)
    if source is None or not emails:
        return {}
    try:
        found = source(list(emails), start, end)
    except DeliveryError as exc:
        log.warning("free/busy lookup failed, offering slots without it: %s", exc.reason)
        return {}
    return {email.lower(): list(spans) for email, spans in found.items()}


def free_slots(
    settings: Settings,
    group: Group,
    now: datetime,
    *,
    count: int = SLOTS,
    busy: Mapping[str, Sequence[Span]] | None = None,
) -> list[datetime]:
    """Up to ``count`` start times (UTC) for ``group``'s break other than its own, soonest first.

    Each is at least :data:`NOTICE` from ``now``, on a working day of the programme from the
    planned day to :data:`DAYS_AHEAD` days later, inside every member's working hours and free
    for all of them. ``busy`` (by email) replaces the calendar service's answer, for callers
    that have it already.
    """
    if group.status != GroupStatus.SCHEDULED or group.start_at <= now:
        return []
    people = members_of(group)
    length = group.end_at - group.start_at
    schedule = schedule_for(group.round.programme)
    first_day = group.start_at.astimezone(schedule.zone).date()
    window_start = datetime.combine(first_day, datetime.min.time(), tzinfo=schedule.zone)
    window_end = window_start + timedelta(days=DAYS_AHEAD + 1)
    window = (window_start.astimezone(UTC), window_end.astimezone(UTC))
    taken: dict[str, list[Span]] = {}
    known = calendar_busy(settings, [p.email for p in people], *window) if busy is None else busy
    for source in (known, fika_busy(group, people, *window)):
        for email, spans in source.items():
            taken.setdefault(email.lower(), []).extend(spans)
    earliest = max(now + NOTICE, window[0])
    # Quarter hours from the window's start (the programme's midnight), so slots look round.
    start = window[0] + ((earliest - window[0] + STEP - timedelta(microseconds=1)) // STEP) * STEP
    found: list[datetime] = []
    while start < window[1] and len(found) < count:
        end = start + length
        local_day = start.astimezone(schedule.zone).date()
        if (
            start != group.start_at
            and schedule.is_working_day(local_day)
            and all(_inside_working_hours(p, start, end) for p in people)
            and not any(_overlaps(start, end, taken.get(p.email.lower(), ())) for p in people)
        ):
            found.append(start)
        start += STEP
    return found


def move_group(
    settings: Settings,
    group: Group,
    start: datetime,
    now: datetime,
    *,
    busy: Mapping[str, Sequence[Span]] | None = None,
) -> None:
    """Move ``group``'s break to ``start`` for everyone, if it is still one of the free slots.

    The group keeps its UID; SEQUENCE goes up by one and every member gets the update through
    the outbox, in the same transaction. Raises :class:`SlotError` when the time is no longer
    free (someone's calendar or another break took it). Commits.
    """
    start = start.astimezone(UTC)
    offered = free_slots(settings, group, now, count=10_000, busy=busy)
    if start not in offered:
        raise SlotError("That time is no longer free for everyone. Pick another one.")
    length = group.end_at - group.start_at
    group.start_at, group.end_at = start, start + length
    group.sequence += 1
    people = members_of(group)
    invite = build_invite(settings, group, people, "REQUEST", group.round.programme.name, now)
    outbox = Outbox(settings)
    outbox.write(outbox.invite_rows(invite, group, people, now))
    db.session.commit()
