"""Your next break (core.next_break): expected before its round is planned, the group after.

Fixed instants around Monday 7 January 2030 (no public holiday); the default programme runs
on weekdays at 10:00 Stockholm time (09:00 UTC), planned 60 minutes before.
"""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from core.db import db
from core.models import Programme, ProgrammeMember
from core.next_break import NextBreak, next_break_for_applicant
from core.next_break import next_break_for as asked_alone
from core.programmes import Applicant, ensure_default_programme, programmes_for
from core.rounds import run_round
from tests.core.helpers import add_person
from web.config import current_settings

MONDAY = date(2030, 1, 7)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """An instant in UTC on ``day``."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def break_on(day: date) -> datetime:
    """The default programme's break on ``day``: 10:00 in Stockholm (winter, UTC+1)."""
    return at(day, 9)


def next_break_for(person, now):
    """``core.next_break.next_break_for``, and the same answer when the caller hands it every
    programme (read-only copies, as /me does: its programmes and rounds in one statement)."""
    answer = asked_alone(person, now)
    copies = tuple(db.session.scalars(select(Programme).order_by(Programme.id)))
    assert summary(asked_alone(person, now, every_programme=copies)) == summary(answer)
    return answer


def summary(upcoming: NextBreak | None):
    if upcoming is None:
        return None
    group = upcoming.group.id if upcoming.group else None
    return upcoming.start, upcoming.end, upcoming.programme.id, group


def test_the_programmes_a_person_chose_count_with_copies_too(app):
    with app.app_context():
        first = programme()
        walk = Programme(name="Walk", timezone="UTC", local_time=time(13), holiday_country="")
        db.session.add(walk)
        db.session.commit()
        ana, _ = two_people()
        assert next_break_for(ana, at(MONDAY, 6)).programme.id == first.id  # none chosen
        db.session.add(ProgrammeMember(person_id=ana.id, programme_id=walk.id))
        db.session.commit()
        upcoming = next_break_for(ana, at(MONDAY, 6))
        assert upcoming.programme.id == walk.id and upcoming.start == at(MONDAY, 13)


def programme():
    programme = ensure_default_programme(current_settings().timezone)
    programme.holiday_country = ""  # no public holidays: the dates below are plain weekdays
    db.session.commit()
    return programme


def two_people(**preference):
    ana = add_person("ana@example.org", "Research", **preference)
    ben = add_person("ben@example.org", "Sales")
    return ana, ben


def test_before_the_planning_time_the_break_is_expected_that_day(app):
    with app.app_context():
        programme()
        ana, _ = two_people()
        upcoming = next_break_for(ana, at(MONDAY, 7, 59))
        assert upcoming.start == break_on(MONDAY) and not upcoming.planned
        assert upcoming.end - upcoming.start == timedelta(minutes=15)
        # at 08:00 UTC the round is being planned: the next slot is Tuesday's
        assert next_break_for(ana, at(MONDAY, 8)).start == break_on(MONDAY + timedelta(days=1))


def test_friday_afternoon_expects_monday(app):
    with app.app_context():
        programme()
        ana, _ = two_people()
        assert next_break_for(ana, at(MONDAY - timedelta(days=3), 15)).start == break_on(MONDAY)


def test_after_the_round_the_real_group_and_who_is_in_it(app):
    with app.app_context():
        programme_ = programme()
        ana, ben = two_people()
        run_round(current_settings(), programme_, MONDAY, now=at(MONDAY, 8))
        upcoming = next_break_for(ana, at(MONDAY, 8, 5))
        assert upcoming.planned and upcoming.start == upcoming.group.start_at
        assert upcoming.start.date() == MONDAY and [p.id for p in upcoming.others] == [ben.id]
        assert upcoming.seat.person_id == ana.id
        # once the break has begun, the next is Tuesday's, expected again
        later = next_break_for(ana, upcoming.start + timedelta(minutes=1))
        assert not later.planned and later.start == break_on(MONDAY + timedelta(days=1))


def test_someone_who_joins_after_the_round_expects_the_next_slot(app):
    with app.app_context():
        programme_ = programme()
        two_people()
        run_round(current_settings(), programme_, MONDAY, now=at(MONDAY, 7))  # planned early
        cai = add_person("cai@example.org", "Legal")
        tuesday = break_on(MONDAY + timedelta(days=1))
        assert next_break_for(cai, at(MONDAY, 7, 30)).start == tuesday
        applicant = Applicant("dee@example.org", "Dee", "Design", "Stockholm", "Europe/Oslo")
        joined = next_break_for_applicant(applicant, programmes_for(cai), at(MONDAY, 7, 30))
        assert joined.start == tuesday and not joined.planned


def test_the_persons_days_pause_and_activity_count(app):
    with app.app_context():
        programme()
        ana, _ = two_people(days=["wed", "thu"])
        assert next_break_for(ana, at(MONDAY, 6)).start == break_on(MONDAY + timedelta(days=2))
        ana.preference.paused_until = MONDAY + timedelta(days=3)  # back on Thursday
        db.session.commit()
        assert next_break_for(ana, at(MONDAY, 6)).start == break_on(MONDAY + timedelta(days=3))
        ana.preference.active = False
        db.session.commit()
        assert next_break_for(ana, at(MONDAY, 6)) is None


def test_once_a_week_waits_seven_days_after_a_break(app):
    with app.app_context():
        programme_ = programme()
        ana, _ = two_people(frequency="weekly")
        assert run_round(current_settings(), programme_, MONDAY, now=at(MONDAY, 8)).created
        after = at(MONDAY, 12)
        # the seven days before the next Monday still hold this one (as for the planner)
        assert next_break_for(ana, after).start == break_on(MONDAY + timedelta(days=8))
        few = add_person("few@example.org", "Design", frequency="few_per_week")
        assert next_break_for(few, after).start == break_on(MONDAY + timedelta(days=1))


def test_programme_days_off_cadence_and_filters(app):
    with app.app_context():
        programme_ = programme()
        programme_.days_off = [MONDAY.isoformat(), (MONDAY + timedelta(days=1)).isoformat()]
        db.session.commit()
        ana, _ = two_people()
        assert next_break_for(ana, at(MONDAY, 6)).start == break_on(MONDAY + timedelta(days=2))
        programme_.departments = ["Sales"]  # Ana (Research) is no longer let in
        db.session.commit()
        assert next_break_for(ana, at(MONDAY, 6)) is None
        programme_.departments, programme_.active = [], False
        db.session.commit()
        assert next_break_for(ana, at(MONDAY, 6)) is None


def test_the_form_and_the_stored_person_agree(app):
    """What "You're in" says for the typed details is what /me says once they are stored."""
    with app.app_context():
        programme()
        ana, _ = two_people()
        applicant = Applicant("ana2@example.org", "Ana", "Research", None, "Europe/Stockholm")
        for now in (at(MONDAY, 6), at(MONDAY, 8, 30), at(MONDAY + timedelta(days=4), 12)):
            stored = next_break_for(ana, now)
            typed = next_break_for_applicant(applicant, programmes_for(ana), now)
            assert (stored.start, stored.end) == (typed.start, typed.end), now


def test_the_rounds_read_on_the_tables_equal_those_read_through_the_models(app):
    """``rounds_since`` and ``chosen_and_rounds_since`` read the tables (Core); the answer is
    the one the statement on the mapped classes gave: cancelled breaks and nudge claims too."""
    from sqlalchemy import Boolean, Date, bindparam, cast, null, union_all

    from core.enums import GroupStatus
    from core.models import Group, GroupMember, Round
    from core.next_break import chosen_and_rounds_since, rounds_since

    by_models = select(
        Round.programme_id,
        Round.date,
        Round.id.in_(
            select(Group.round_id)
            .join(GroupMember, GroupMember.group_id == Group.id)
            .where(
                GroupMember.person_id == bindparam("person_id"),
                Group.status != GroupStatus.CANCELLED,
            )
        ),
    ).where(Round.date >= bindparam("since", type_=Round.date.type), Round.is_round())
    chosen_by_models = union_all(
        select(ProgrammeMember.programme_id, cast(null(), Date), cast(null(), Boolean)).where(
            ProgrammeMember.person_id == bindparam("person_id")
        ),
        by_models,
    )
    with app.app_context():
        programme_ = programme()
        ana, ben = two_people()
        cai = add_person("cai@example.org", "Legal")
        dee = add_person("dee@example.org", "Design")
        settings = current_settings()
        for day in (MONDAY, MONDAY + timedelta(days=1)):
            run_round(settings, programme_, day, now=at(day, 8))
        cancelled = db.session.scalars(
            select(Group).join(GroupMember).where(GroupMember.person_id == ana.id)
        ).first()
        cancelled.status = GroupStatus.CANCELLED
        db.session.add(Round(programme_id=programme_.id, date=MONDAY + timedelta(days=2),
                             status=Round.NUDGED))  # fmt: skip
        db.session.add(ProgrammeMember(person_id=cai.id, programme_id=programme_.id))
        db.session.commit()
        for person in (ana, ben, cai, dee):
            for since in (MONDAY - timedelta(days=8), MONDAY + timedelta(days=1)):
                params = {"since": since, "person_id": person.id}
                planned, breaks = {}, []
                for programme_id, day, mine in db.session.execute(by_models, params):
                    planned.setdefault(programme_id, set()).add(day)
                    breaks += [day] if mine else []
                assert rounds_since(since, person.id) == (planned, breaks)
                chosen = {
                    row[0] for row in db.session.execute(chosen_by_models, params) if row[1] is None
                }
                assert chosen_and_rounds_since(since, person.id) == (chosen, planned, breaks)
        assert rounds_since(MONDAY)[0] == {programme_.id: {MONDAY, MONDAY + timedelta(days=1)}}
        assert MONDAY not in rounds_since(MONDAY, ana.id)[1]  # her cancelled break
