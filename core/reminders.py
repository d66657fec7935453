"""Reminders: a short plain message to each member shortly before their break.

The clock's minute tick queues them ``Programme.reminder_minutes`` before each scheduled break,
from the group as it is then (so people who withdrew get none, and a cancelled break none at
all), skipping people who turned reminders off (``Preference.reminders``) or said they can't
make it. Keys are ``reminder-<uid>-<person>-<channel>``: a second clock queues nothing new.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.db import db
from core.enums import GroupStatus, ProgrammeKind, RoundStatus
from core.events import log_event
from core.models import Group, GroupMember, Person, Programme, Round
from core.outbox import Outbox
from core.settings import Settings
from integrations.base import ButtonAnswer, MessageKind

log = logging.getLogger("fika.reminders")


def wants_reminder(seat: GroupMember) -> bool:
    """Whether this member should be reminded of this break."""
    preference = seat.person.preference
    if preference is None or not preference.active or not preference.reminders:
        return False
    return seat.response != ButtonAnswer.CANT


def queue_reminders(settings: Settings, now: datetime) -> int:
    """Queue the reminders of every break starting within its programme's reminder window."""
    outbox = Outbox(settings)
    if not outbox.per_person:
        return 0
    queued = 0
    programmes = db.session.scalars(
        select(Programme).where(
            Programme.active.is_(True),
            Programme.reminder_minutes > 0,
            # A learning team's invite is a series; a one-break reminder would misname it.
            Programme.kind != ProgrammeKind.LEARNING_TEAM,
        )
    ).all()
    for programme in programmes:
        groups = db.session.scalars(
            select(Group)
            .join(Round, Round.id == Group.round_id)
            .where(
                Round.programme_id == programme.id,
                Round.status == RoundStatus.PLANNED,
                Group.status == GroupStatus.SCHEDULED,
                Group.start_at > now,
                Group.start_at <= now + timedelta(minutes=programme.reminder_minutes),
            )
            .options(
                selectinload(Group.members)
                .selectinload(GroupMember.person)
                .selectinload(Person.preference)
            )
        ).all()
        for group in groups:
            rows = []
            for seat in group.members:
                if wants_reminder(seat):
                    key = f"reminder-{group.uid}-{seat.person_id}"
                    rows += outbox.nudge_rows(MessageKind.REMINDER, key, group, seat.person, now)
            new = outbox.write(rows)
            if new:
                log_event(log, "reminders.queued", round=group.round_id, group=group.id, new=new)
            queued += new
    db.session.commit()
    return queued
