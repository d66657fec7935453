"""What a "Did you meet?" answer records, and when someone is asked whether to pause.

An answer sets the seat's ``checkin`` and ``met`` (met: True, not met: False, rescheduled:
unknown). Groups with a "not met" answer are not counted as having met by the repeat rules
(``core.participants.history``).

A break reported as not happening counts against each member who did not say it happened, if
someone else in the group reported it: the one who reports is the one who turned up. After
:data:`NO_SHOW_STREAK` such breaks in a row, the person is asked (once a month at most) whether
to pause, in the same transaction as the answer that tipped it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from core.checkin_links import ANSWERS, pause_links
from core.db import db
from core.models import Group, GroupMember, Person, Round
from core.outbox import insert_deliveries, nudge_channels, nudge_rows

NO_SHOW_STREAK = 3
ASK_AGAIN_AFTER = timedelta(days=30)


def record_answer(seat: GroupMember, answer: str, now: datetime) -> bool:
    """Record ``answer`` for ``seat``; returns whether a pause offer was queued. Commits."""
    seat.checkin = answer
    seat.met = ANSWERS[answer]
    seat.checkin_at = now
    db.session.flush()
    offered = False
    if answer == "not_met":
        for member in seat.group.members:  # the reporter too: both may have stayed away
            offered |= maybe_offer_pause(member.person, now)
    db.session.commit()
    return offered


def _no_show(seat: GroupMember, members: list[GroupMember]) -> bool:
    reported = any(m.checkin == "not_met" for m in members if m.person_id != seat.person_id)
    return reported and seat.checkin in (None, "not_met")


def no_show_streak(person: Person, now: datetime) -> int:
    """How many of the person's latest past breaks in a row did not happen for them."""
    seats = db.session.scalars(
        select(GroupMember)
        .join(Group, Group.id == GroupMember.group_id)
        .join(Round, Round.id == Group.round_id)
        .where(
            GroupMember.person_id == person.id,
            Group.status == "scheduled",
            Group.start_at < now,
            Round.status == "planned",
        )
        .order_by(Group.start_at.desc())
        .limit(NO_SHOW_STREAK)
    ).all()
    streak = 0
    for seat in seats:
        if not _no_show(seat, list(seat.group.members)):
            break
        streak += 1
    return streak


def maybe_offer_pause(person: Person, now: datetime) -> bool:
    """Queue the pause offer when ``person`` keeps not showing up; returns whether it did."""
    preference = person.preference
    if preference is None or not preference.active:
        return False
    if preference.paused_until is not None and preference.paused_until > now.date():
        return False
    asked = preference.pause_asked_on
    if asked is not None and now.date() - asked < ASK_AGAIN_AFTER:
        return False
    if no_show_streak(person, now) < NO_SHOW_STREAK:
        return False
    latest = db.session.scalar(
        select(Group)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.person_id == person.id, Group.start_at < now)
        .order_by(Group.start_at.desc())
        .limit(1)
    )
    preference.pause_asked_on = now.date()
    rows = nudge_rows(
        "pause_offer",
        f"pause_offer-{person.id}-{now.date().isoformat()}",
        latest,
        person,
        nudge_channels(),
        now,
        links=pause_links(person.id),
    )
    insert_deliveries(rows)
    return True
