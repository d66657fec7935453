"""Some weeks of history for the demo: past rounds with answers, a second programme, a room.

``fika demo`` makes the people and today's round; this adds what a Fika that has run for a
while shows an admin: rounds in the past weeks where some said they met and some did not, a
learning-teams programme, a drop-in room, a message that failed for good and an audit trail.
The screenshots (``docs/screenshots.py``) and the admin's browser tests use it. It is
deterministic for a given ``today`` and may be called again (nothing is added twice).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select

from core import audit
from core.db import db
from core.enums import Cadence, DeliveryStatus, GroupStatus, ProgrammeKind
from core.models import Delivery, Person, Programme, ProgrammeMember, Round
from core.programmes import ensure_default_programme
from core.settings import DEMO_ADMIN_EMAIL, Settings
from fika.demo import ensure_demo_admin

LEARNING = "Learning teams: data"
ROOM = "Friday drop-in"
ADMIN_EMAIL = DEMO_ADMIN_EMAIL


def _programme(name: str, **values) -> Programme:
    programme = db.session.scalar(select(Programme).where(Programme.name == name))
    if programme is None:
        programme = Programme(name=name, **values)
        db.session.add(programme)
        db.session.flush()
    return programme


def _join(programme: Programme, people: list[Person]) -> None:
    have = set(
        db.session.scalars(
            select(ProgrammeMember.person_id).where(ProgrammeMember.programme_id == programme.id)
        )
    )
    for person in people:
        if person.id not in have:
            db.session.add(ProgrammeMember(programme_id=programme.id, person_id=person.id))


def demo_admin(timezone: str) -> Person:
    """The demo's admin, the same person ``fika serve --demo`` signs in (an admin in demo mode)."""
    return ensure_demo_admin(timezone)


def add_history(settings: Settings, today: date, weeks: int = 6) -> list[int]:
    """Past rounds on Mondays and Thursdays of the last ``weeks`` weeks, with answers; returns
    the ids of the rounds run here (none on a second call)."""
    from core.rounds import run_round

    rng = random.Random(today.toordinal())
    default = ensure_default_programme(settings.timezone)
    people = db.session.scalars(
        select(Person).where(Person.email.like("demo%@example.org")).order_by(Person.id)
    ).all()
    learning = _programme(
        LEARNING,
        topic="Data literacy",
        cadence=Cadence.BIWEEKLY,
        days=["thu"],
        local_time=time(15),
        timezone=settings.timezone,
        duration_minutes=45,
        group_size=4,
        lead_minutes=24 * 60,
    )
    room = _programme(
        ROOM,
        kind=ProgrammeKind.DROP_IN,
        days=["fri"],
        local_time=time(15),
        timezone=settings.timezone,
        duration_minutes=30,
    )
    _join(learning, people[::3])
    _join(room, people[1::4])
    db.session.commit()

    created = []
    monday = today - timedelta(days=today.weekday())
    for week in range(weeks, 0, -1):
        for offset in (0, 3):  # Monday and Thursday
            day = monday - timedelta(weeks=week) + timedelta(days=offset)
            for programme in (default, learning):
                if not programme.runs_on(day):
                    continue
                outcome = run_round(settings, programme, day, now=_morning(day))
                if outcome.created and outcome.round_id is not None:
                    created.append(outcome.round_id)
    for round_id in created:
        _answers(round_id, rng)
    if created:
        _dead_letter(rng)
        audit.record(ADMIN_EMAIL, "programme.create", name=LEARNING)
        audit.record(ADMIN_EMAIL, "programme.create", name=ROOM)
    db.session.commit()
    return created


def _morning(day: date) -> datetime:
    return datetime.combine(day, time(6), tzinfo=UTC)


def _answers(round_id: int, rng: random.Random) -> None:
    """About two in three answer "did you meet?", most of them yes; a few breaks called off."""
    rnd = db.session.get(Round, round_id)
    group_ids = [g.id for g in rnd.groups]
    for row in db.session.scalars(
        select(Delivery).where(or_(Delivery.round_id == rnd.id, Delivery.group_id.in_(group_ids)))
    ):
        # The past's messages went out back then (written here, not sent: they are history).
        row.status, row.attempts, row.sent_at = DeliveryStatus.SENT, 1, _morning(rnd.date)
    for group in rnd.groups:
        if rng.random() < 0.04:
            group.status = GroupStatus.CANCELLED
            continue
        met = rng.random() < 0.85
        for member in group.members:
            if rng.random() < 0.65:
                member.met = met


def _dead_letter(rng: random.Random) -> None:
    """One message that failed for good, as a mistyped address would."""
    rows = db.session.scalars(
        select(Delivery).where(Delivery.status != DeliveryStatus.DEAD).order_by(Delivery.id)
    ).all()
    if not rows:
        return
    row = rows[rng.randrange(len(rows))]
    row.status, row.attempts = DeliveryStatus.DEAD, 8
    row.last_error = "550 5.1.1 mailbox unavailable"
