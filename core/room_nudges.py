"""The nudge before each drop-in room opens: once per programme and day, working days only.

Run from the clock's minute tick. A programme's nudge is due from ``NUDGE_MINUTES`` before the
room opens until it opens, on the programme's working days (``core.schedule``: its days, minus
public holidays and days off). Each (programme, date) is claimed by inserting a Round row with
status "nudged" through the rounds' ON CONFLICT DO NOTHING claim, so two clocks post once. The
post happens after the claim commits: a crash in between loses one nudge, never doubles it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select

from core.db import db
from core.events import log_event
from core.models import Programme, Round
from core.rooms import room_url
from core.rounds import _claim_round
from core.schedule import schedule_for
from core.settings import Settings
from integrations.room_nudge import NUDGE_MINUTES, post_room_nudge

log = logging.getLogger("fika.room")


def nudge_rooms(settings: Settings, now: datetime) -> int:
    """Post every nudge due at ``now``; returns how many programmes were nudged."""
    config = settings.channel_settings
    if not (config.get("FIKA_SLACK_WEBHOOK_URL") or config.get("FIKA_TEAMS_WEBHOOK_URL")):
        return 0
    programmes = db.session.scalars(
        select(Programme).where(Programme.active.is_(True), Programme.kind == "drop_in")
    ).all()
    posted = 0
    for programme in programmes:
        schedule = replace(schedule_for(programme), lead_minutes=NUDGE_MINUTES)
        day = now.astimezone(schedule.zone).date()
        if not schedule.is_working_day(day):
            continue
        if not schedule.plan_at(day) <= now < schedule.break_at(day):
            continue
        url = room_url(settings, programme)
        claimed = _claim_round(
            programme, day, stats={"nudge": url}, unmatched=[], status=Round.NUDGED
        )
        db.session.commit()
        if claimed is None:
            continue  # another clock posted it
        for target, error in post_room_nudge(config, programme.name, url).items():
            log_event(
                log,
                "room.nudged" if error is None else "room.nudge_failed",
                logging.INFO if error is None else logging.WARNING,
                programme=programme.id,
                date=day,
                target=target,
                error=error.reason if error else None,
            )
        posted += 1
    return posted
