"""The nudge before each drop-in room opens: once per programme and day, working days only.

Run from the clock's minute tick. A programme's nudge is due from ``NUDGE_MINUTES`` before the
room opens until it opens, on the programme's working days (``core.schedule``: its days, minus
public holidays and days off). Each (programme, date) is claimed by inserting a Round row with
status "nudged" through the rounds' ON CONFLICT DO NOTHING claim, and the nudge is written to
the outbox in the claim's transaction: two clocks write it once, a failed post is retried, and
one that would arrive after the room opened is not sent (the notice expires then).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select

from core.db import db
from core.enums import ProgrammeKind
from core.events import log_event
from core.models import Programme, Round
from core.outbox import Outbox
from core.rooms import room_url
from core.rounds import claim_round
from core.schedule import schedule_for
from core.settings import Settings
from integrations.base import MessageKind, Notice
from integrations.room_nudge import NUDGE_MINUTES, nudge_card, nudge_text

log = logging.getLogger("fika.room")


def nudge_rooms(settings: Settings, now: datetime) -> int:
    """Queue every nudge due at ``now``; returns how many programmes were nudged."""
    outbox = Outbox(settings)
    if not outbox.notice_channels:
        return 0
    programmes = db.session.scalars(
        select(Programme).where(Programme.active.is_(True), Programme.kind == ProgrammeKind.DROP_IN)
    ).all()
    nudged = 0
    for programme in programmes:
        schedule = replace(schedule_for(programme), lead_minutes=NUDGE_MINUTES)
        day = now.astimezone(schedule.zone).date()
        if not schedule.is_working_day(day):
            continue
        opens = schedule.break_at(day)
        if not schedule.plan_at(day) <= now < opens:
            continue
        url = room_url(settings, programme)
        claimed = claim_round(
            programme, day, stats={"nudge": url}, unmatched=[], status=Round.NUDGED
        )
        if claimed is None:
            db.session.rollback()
            continue  # another clock queued it
        notice = Notice(
            text=nudge_text(programme.name, url),
            card=nudge_card(programme.name, url),
            expires=opens,
        )
        key = f"room_nudge-{programme.id}-{day.isoformat()}"
        new = outbox.write(
            outbox.notice_rows(MessageKind.ROOM_NUDGE, key, notice, now, round_id=claimed)
        )
        db.session.commit()
        log_event(log, "room.nudge_queued", programme=programme.id, date=day, messages=new)
        nudged += 1
    return nudged
