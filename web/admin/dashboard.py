"""The admin's front page: what an admin checks every morning, on one screen.

Per programme the next round (when, in the programme's zone, how many people are expected, a
link to its preview) and the last round's outcome (groups, people, met rate); the health of the
outbox (sent, waiting, retrying, dead, stranded); and participation over the last eight weeks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import render_template
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.db import db
from core.dispatch import counts_by_status, stranded
from core.enums import GroupStatus
from core.i18n import gettext as _
from core.i18n import ngettext
from core.models import Group, GroupMember, Person, Programme, Round
from core.participants import taking_part
from core.programmes import member_counts, next_slot, planned_days
from web.admin import bp
from web.admin.charts import bar_chart, short_date
from web.config import current_settings

WEEKS = 8


@dataclass(frozen=True)
class NextRound:
    """The next round the clock will plan for a programme."""

    day: date
    starts: datetime  # in the programme's zone
    expected: int  # people taking part if it ran now


@dataclass(frozen=True)
class LastRound:
    """The outcome of a programme's latest round."""

    round: Round
    groups: int
    cancelled: int
    people: int
    answered: int
    met: int

    @property
    def met_rate(self) -> float | None:
        """Share of the answers that said "we met"; None before anyone answered."""
        return self.met / self.answered if self.answered else None


def next_round(programme: Programme, now: datetime) -> NextRound | None:
    """The next round the clock plans (``core.programmes.next_slot``), or None when off."""
    if not programme.active or programme.is_drop_in:
        return None
    planned = planned_days(programme, now.date() - timedelta(days=1))  # any zone's today
    slot = next_slot(programme, now, planned=planned)
    if slot is None:
        return None
    return NextRound(slot.day, slot.start, len(taking_part(programme, slot.day)))


def last_round(programme: Programme) -> LastRound | None:
    """The programme's latest round already planned, with what came of it."""
    rnd = db.session.scalar(
        select(Round)
        .where(Round.programme_id == programme.id, Round.is_round())
        .order_by(Round.date.desc(), Round.id.desc())
        .limit(1)
        .options(selectinload(Round.groups).selectinload(Group.members))
    )
    if rnd is None:
        return None
    held = [g for g in rnd.groups if g.status != GroupStatus.CANCELLED]
    seats = [m for g in held for m in g.members]
    answered = [m for m in seats if m.met is not None]
    return LastRound(
        round=rnd,
        groups=len(held),
        cancelled=len(rnd.groups) - len(held),
        people=len(seats),
        answered=len(answered),
        met=sum(1 for m in answered if m.met),
    )


def weekly_participation(today: date, weeks: int = WEEKS) -> list[tuple[date, int]]:
    """People in breaks (not cancelled) per week, Monday first, for the last ``weeks`` weeks."""
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    rows = db.session.execute(
        select(Round.date, GroupMember.person_id)
        .join(Group, Group.round_id == Round.id)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(Round.date >= first, Round.is_round(), Group.status != GroupStatus.CANCELLED)
    )
    people: dict[date, set[int]] = {first + timedelta(weeks=i): set() for i in range(weeks)}
    for day, person_id in rows:
        monday = day - timedelta(days=day.weekday())
        if monday in people:
            people[monday].add(person_id)
    return [(monday, len(ids)) for monday, ids in people.items()]


@bp.get("/")
def dashboard():
    """Next and last round per programme, delivery health, and eight weeks of participation."""
    now = datetime.now(UTC)
    programmes = db.session.scalars(select(Programme).order_by(Programme.id)).all()
    members = member_counts()
    rows = [(p, next_round(p, now), last_round(p), members.get(p.id, 0)) for p in programmes]
    weeks = weekly_participation(now.date())
    chart = bar_chart(
        [(short_date(monday), count) for monday, count in weeks],
        ngettext(
            "People in a coffee break per week, last week",
            "People in a coffee break per week, last %(num)d weeks",
            WEEKS,
        ),
        chart_id="weekly",
        unit=_("people"),
    )
    return render_template(
        "admin/dashboard.html",
        rows=rows,
        deliveries=counts_by_status(),
        stranded=sum(stranded(current_settings()).values()),
        people=db.session.scalar(select(func.count(Person.id))),
        weeks=weeks,
        chart=chart,
    )
