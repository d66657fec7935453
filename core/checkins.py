"""Check-ins: "Did you meet?" the next working day, the answers, pauses that end by themselves.

The minute tick queues, for each planned round whose next working day has come (at that day's
planning time, the moment the next round is planned), one message per member of each break that
was not cancelled, with signed one-click answers (``web.checkin``). The round is marked
(``Round.checkins_queued_at``) and keys are ``checkin-<uid>-<person>-<channel>``, so a second
clock sends nothing twice. Rounds older than :data:`CHECKIN_WITHIN` are not asked about.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from core.db import db
from core.enums import GroupStatus, ProgrammeKind, RoundStatus
from core.events import log_event
from core.links import ANSWERS
from core.models import Group, GroupMember, Person, Preference, Programme, Round
from core.outbox import Outbox
from core.schedule import schedule_for
from core.settings import Settings
from integrations.base import ButtonAnswer, CheckinAnswer, MessageKind

log = logging.getLogger("fika.checkins")

CHECKIN_WITHIN = timedelta(days=7)


def queue_checkins(settings: Settings, now: datetime) -> int:
    """Queue the "Did you meet?" messages that are due; returns how many rows were new."""
    outbox = Outbox(settings)
    queued = 0
    rounds = db.session.scalars(
        select(Round)
        .join(Programme, Programme.id == Round.programme_id)
        .where(
            Round.status == RoundStatus.PLANNED,
            Round.checkins_queued_at.is_(None),
            # A learning team's round starts a series, not one break: no "did you meet?".
            Programme.kind != ProgrammeKind.LEARNING_TEAM,
            Round.date >= (now - CHECKIN_WITHIN - timedelta(days=2)).date(),
            Round.date <= now.date(),
        )
        .order_by(Round.date)
    ).all()
    for rnd in rounds:
        schedule = schedule_for(rnd.programme)
        day = schedule.next_working_day(rnd.date)
        if day is None:
            continue
        send_at = schedule.plan_at(day)
        if now < send_at:
            continue
        new = 0
        if outbox.per_person and now - send_at <= CHECKIN_WITHIN:
            new = _queue_round(outbox, rnd, now)
        rnd.checkins_queued_at = now
        db.session.commit()
        log_event(log, "checkins.queued", round=rnd.id, programme=rnd.programme_id, new=new)
        queued += new
    return queued


def _queue_round(outbox: Outbox, rnd: Round, now: datetime) -> int:
    groups = db.session.scalars(
        select(Group)
        .where(Group.round_id == rnd.id, Group.status == GroupStatus.SCHEDULED)
        .options(selectinload(Group.members).selectinload(GroupMember.person))
    ).all()
    rows = []
    for group in groups:
        for seat in group.members:
            if seat.checkin is not None or seat.response == ButtonAnswer.CANT:
                continue
            key = f"checkin-{group.uid}-{seat.person_id}"
            links = outbox.links.checkin(group.id, seat.person_id)
            rows += outbox.nudge_rows(MessageKind.CHECKIN, key, group, seat.person, now, links)
    return outbox.write(rows)


def lift_pauses(now: datetime) -> int:
    """Clear pauses that have ended, so people show as active again everywhere.

    Rounds already treat a pause as over on its date (``Preference.available_on``); this only
    tidies the column, a day late, so no zone's round for the day before still sees it lifted.
    """
    result = db.session.execute(
        update(Preference)
        .where(Preference.paused_until < (now - timedelta(days=1)).date())
        .values(paused_until=None)
    )
    db.session.commit()
    if result.rowcount:
        log_event(log, "pauses.lifted", people=result.rowcount)
    return result.rowcount


# --- Answers, and offering a pause to someone whose breaks keep not happening ---------------

NO_SHOW_STREAK = 3
ASK_AGAIN_AFTER = timedelta(days=30)


def record_answer(settings: Settings, seat: GroupMember, answer: str, now: datetime) -> bool:
    """Record ``answer`` for ``seat``; returns whether a pause offer was queued. Commits.

    A break reported as not happening counts against each member who did not say it happened,
    if someone else in the group reported it: the one who reports is the one who turned up.
    After :data:`NO_SHOW_STREAK` such breaks in a row, the person is asked (once a month at
    most) whether to pause, in the same transaction as the answer that tipped it.
    """
    seat.checkin = answer
    seat.met = ANSWERS[answer]
    seat.checkin_at = now
    db.session.flush()
    offered = False
    if answer == CheckinAnswer.NOT_MET:
        for member in seat.group.members:  # the reporter too: both may have stayed away
            offered |= maybe_offer_pause(settings, member.person, now)
    db.session.commit()
    return offered


def _no_show(seat: GroupMember, members: list[GroupMember]) -> bool:
    reported = any(
        m.checkin == CheckinAnswer.NOT_MET for m in members if m.person_id != seat.person_id
    )
    return reported and seat.checkin in (None, CheckinAnswer.NOT_MET)


def no_show_streak(person: Person, now: datetime) -> int:
    """How many of the person's latest past breaks in a row did not happen for them."""
    seats = db.session.scalars(
        select(GroupMember)
        .join(Group, Group.id == GroupMember.group_id)
        .join(Round, Round.id == Group.round_id)
        .where(
            GroupMember.person_id == person.id,
            Group.status == GroupStatus.SCHEDULED,
            Group.start_at < now,
            Round.status == RoundStatus.PLANNED,
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


def maybe_offer_pause(settings: Settings, person: Person, now: datetime) -> bool:
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
    outbox = Outbox(settings)
    key = f"pause_offer-{person.id}-{now.date().isoformat()}"
    links = outbox.links.pause_offer(person.id)
    outbox.write(outbox.nudge_rows(MessageKind.PAUSE_OFFER, key, latest, person, now, links))
    return True
