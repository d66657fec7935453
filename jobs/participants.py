"""Turn people in the database into the planner's plain data for one programme and date."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from pairing import HistoryRound, Participant
from web.extensions import db
from web.models import Group, GroupMember, Person, Preference, Programme, Round

#: How many earlier rounds of a programme the planner sees: enough to rank "met longest ago".
HISTORY_ROUNDS = 60


def eligible_people(day: date) -> list[Person]:
    """People with active, unpaused preferences who take part on ``day``'s weekday."""
    people = db.session.scalars(
        select(Person)
        .join(Preference)
        .where(Preference.active.is_(True))
        .options(selectinload(Person.preference))
        .order_by(Person.id)
    )
    return [p for p in people if p.preference.available_on(day)]


def to_participant(person: Person, day: date) -> Participant:
    """The planner's view of ``person`` on ``day``: site that day, zone, hours, mode, bans."""
    pref = person.preference
    return Participant(
        id=str(person.id),
        department=person.department,
        site=pref.site_on(day, person.home_office),
        timezone=person.timezone,
        work_hours=(person.work_start, person.work_end),
        mode=pref.mode,
        manager=str(person.manager_id) if person.manager_id else None,
        avoid=frozenset(str(a) for a in (pref.avoid or [])),
        topics=tuple(pref.topics or ()),
    )


def history(programme: Programme, before: date) -> tuple[HistoryRound, ...]:
    """The groups of the programme's last rounds before ``before`` that did happen.

    Cancelled groups and groups whose members said they did not meet are left out, so the people
    in them are not kept apart as if they had met. One Core query over plain columns: with tens
    of thousands of people, 60 rounds are millions of seats, too many to load as objects.
    """
    recent = (
        select(Round.id, Round.date)
        .where(Round.programme_id == programme.id, Round.date < before, Round.status == "planned")
        .order_by(Round.date.desc())
        .limit(HISTORY_ROUNDS)
        .subquery()
    )
    rows = db.session.execute(
        select(recent.c.date, Group.id, GroupMember.person_id, GroupMember.met)
        .join(Group, Group.round_id == recent.c.id)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(Group.status != "cancelled")
        .order_by(recent.c.date.desc(), Group.id)
    )
    days = db.session.scalars(select(recent.c.date).order_by(recent.c.date.desc())).all()
    by_round: dict[date, dict[int, list[str]]] = {day: {} for day in days}
    not_met: set[int] = set()
    for day, group_id, person_id, met in rows:
        by_round[day].setdefault(group_id, []).append(str(person_id))
        if met is False:
            not_met.add(group_id)
    return tuple(
        HistoryRound(
            date=day,
            groups=tuple(tuple(m) for g, m in groups.items() if g not in not_met),
        )
        for day, groups in by_round.items()
    )


def member_rows(group_id: int) -> list[GroupMember]:
    """The seats of one group (for updates and cancellations)."""
    return list(db.session.scalars(select(GroupMember).where(GroupMember.group_id == group_id)))
