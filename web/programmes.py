"""Programme queries shared by the form, the CLI and the jobs: the default one, the next break."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from web.extensions import db
from web.models import Programme

DEFAULT_PROGRAMME = "Daily digital coffee break"


def ensure_default_programme() -> Programme:
    """Create the default programme (weekdays, 10:00 in FIKA_TIMEZONE, 15 min) if there is none."""
    programme = db.session.scalar(select(Programme).order_by(Programme.id).limit(1))
    if programme is None:
        programme = Programme(
            name=DEFAULT_PROGRAMME,
            timezone=current_app.config["FIKA_TIMEZONE"],
            duration_minutes=15,
            group_size=2,
        )
        db.session.add(programme)
        db.session.commit()
    return programme


def find_programme(name: str | None) -> Programme | None:
    """The programme called ``name``, or the first one when no name is given."""
    query = select(Programme).order_by(Programme.id)
    if name:
        query = query.where(Programme.name == name)
    return db.session.scalar(query.limit(1))


def break_start(programme: Programme, day: date) -> datetime:
    """When the programme's break begins on ``day``, as an aware instant in its zone."""
    return datetime.combine(day, programme.local_time, tzinfo=ZoneInfo(programme.timezone))


def next_break(programme: Programme, now: datetime) -> datetime | None:
    """The first break still ahead of ``now`` (planned ``lead_minutes`` before it), or None."""
    zone = ZoneInfo(programme.timezone)
    today = now.astimezone(zone).date()
    for offset in range(0, 15):
        day = today + timedelta(days=offset)
        if not programme.runs_on(day):
            continue
        start = break_start(programme, day)
        if start - timedelta(minutes=programme.lead_minutes) > now:
            return start
    return None
