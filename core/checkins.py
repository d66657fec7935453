"""Check-ins and pauses: "Did you meet?" the next working day; pauses that end by themselves.

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

from core.checkin_links import checkin_links
from core.db import db
from core.events import log_event
from core.models import Group, GroupMember, Preference, Programme, Round
from core.outbox import insert_deliveries, nudge_channels, nudge_rows
from core.schedule import schedule_for

log = logging.getLogger("fika.checkins")

CHECKIN_WITHIN = timedelta(days=7)


def queue_checkins(now: datetime) -> int:
    """Queue the "Did you meet?" messages that are due; returns how many rows were new."""
    channels = nudge_channels()
    queued = 0
    rounds = db.session.scalars(
        select(Round)
        .join(Programme, Programme.id == Round.programme_id)
        .where(
            Round.status == "planned",
            Round.checkins_queued_at.is_(None),
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
        if channels and now - send_at <= CHECKIN_WITHIN:
            new = _queue_round(rnd, channels, now)
        rnd.checkins_queued_at = now
        db.session.commit()
        log_event(log, "checkins.queued", round=rnd.id, programme=rnd.programme_id, new=new)
        queued += new
    return queued


def _queue_round(rnd: Round, channels: list[str], now: datetime) -> int:
    groups = db.session.scalars(
        select(Group)
        .where(Group.round_id == rnd.id, Group.status == "scheduled")
        .options(selectinload(Group.members).selectinload(GroupMember.person))
    ).all()
    rows = []
    for group in groups:
        for seat in group.members:
            if seat.checkin is not None or seat.response == "cant":
                continue
            key = f"checkin-{group.uid}-{seat.person_id}"
            links = checkin_links(group.id, seat.person_id)
            rows += nudge_rows("checkin", key, group, seat.person, channels, now, links)
    return insert_deliveries(rows)


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
