"""/me and the download read a person's breaks with one Core query of the columns they show
(``web.account.breaks.my_breaks``). Each view holds what the ORM load of ``Group`` with its
``GroupMember`` and ``Person`` rows gave: the same groups in the same order, the same values,
seats, answers and people, with and without the programme, whole history and page window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, null, or_, select
from sqlalchemy.orm import joinedload

from core.db import db
from core.models import Group, GroupMember, Person, Programme, Round
from core.programmes import ensure_default_programme
from tests.core.helpers import add_person
from web.account.breaks import PAST_SHOWN, my_breaks
from web.config import current_settings


def by_orm(person: Person, with_programme: bool, shown_at: datetime | None):
    """The statement ``my_breaks`` ran before, on the mapped classes, as comparable tuples."""
    person_id = bindparam("person_id")
    query = (
        select(Group, Programme.name if with_programme else null())
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.person_id == person_id)
        .options(joinedload(Group.members).joinedload(GroupMember.person))
        .order_by(Group.start_at, Group.id)
    )
    if shown_at is not None:
        recent = (
            select(Group.id)
            .join(GroupMember, GroupMember.group_id == Group.id)
            .where(GroupMember.person_id == person_id, Group.start_at <= shown_at)
            .order_by(Group.start_at.desc(), Group.id.desc())
            .limit(PAST_SHOWN)
        )
        query = query.where(or_(Group.start_at > shown_at, Group.id.in_(recent)))
    if with_programme:
        query = query.join(Round, Round.id == Group.round_id).join(
            Programme, Programme.id == Round.programme_id
        )
    rows = db.session.execute(query, {"person_id": person.id}).unique()
    out = []
    for group, programme in rows:
        seat = next(m for m in group.members if m.person_id == person.id)
        others = sorted((m.person for m in group.members if m.person_id != person.id),
                        key=lambda p: p.name)  # fmt: skip
        out.append(summary(group, seat, others, programme))
    return out


def summary(group, seat, others, programme):
    columns = (group.id, group.status, group.start_at, group.end_at, group.mode, group.site,
               group.video_url, list(group.reasons or []), group.starter)  # fmt: skip
    seats = sorted((m.person_id, m.response, m.met) for m in group.members)
    return (columns, seats, (seat.person_id, seat.response, seat.met),
            [(p.id, p.name, p.department) for p in others], programme)  # fmt: skip


def test_the_views_hold_what_the_orm_load_gave(app):
    now = datetime.now(UTC).replace(microsecond=0)
    with app.app_context():
        programme = ensure_default_programme(current_settings().timezone)
        walk = Programme(name="Walk", timezone="UTC")
        db.session.add(walk)
        db.session.flush()
        people = [add_person(f"p{i}@example.org", f"Dept {i % 3}") for i in range(6)]
        ana = people[0]
        for n in range(PAST_SHOWN + 6):  # a history longer than the page shows, and ahead
            start = now + timedelta(days=n - PAST_SHOWN - 2, hours=n % 3)
            round_ = Round(programme_id=(programme, walk)[n % 2].id, date=start.date())
            group = Group(
                uid=f"g{n}@test", start_at=start, end_at=start + timedelta(minutes=15),
                video_url=f"https://meet.example/{n}", status="cancelled" if n % 7 == 3 else
                "scheduled", mode="in_person" if n % 2 else "virtual",
                site="Lund" if n % 4 == 1 else None, reasons=[f"reason {n}"] * (n % 3),
                starter=f"starter {n}" if n % 5 else "",
            )  # fmt: skip
            round_.groups.append(group)
            others = [people[1 + (n + k) % 5] for k in range(1 + n % 3)]
            group.members = [GroupMember(person_id=p.id) for p in [ana, *others]]
            group.members[0].response = (None, "in", "cant")[n % 3]
            group.members[0].met = (None, True, False)[n % 3]
            db.session.add(round_)
        db.session.commit()
        for person in people[:3]:
            for with_programme in (False, True):
                for shown_at in (None, now):
                    expected = by_orm(person, with_programme, shown_at)
                    db.session.expunge_all()
                    views = my_breaks(person, with_programme=with_programme, shown_at=shown_at)
                    got = [summary(v.group, v.seat, v.others, v.programme) for v in views]
                    assert got == expected and expected
                    zone = person.timezone
                    assert all(v.start.tzinfo.key == zone == v.end.tzinfo.key for v in views)
        assert len(my_breaks(ana, shown_at=now)) < len(my_breaks(ana)) == PAST_SHOWN + 6
