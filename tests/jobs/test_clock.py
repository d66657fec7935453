"""The clock against the database: due rounds, catch-up and missed rounds, holidays, pauses."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from core.checkins import lift_pauses
from core.db import db
from core.models import Delivery, Group, GroupMember, Programme, Round
from core.programmes import ensure_default_programme
from core.rounds import run_round
from core.schedule import schedule_for
from fika.tables import status_report
from jobs.clock import catch_up, fire, sync_jobs, tick
from tests.core.helpers import add_person
from web.config import current_settings, runtime_of

MONDAY = date(2027, 1, 4)  # Stockholm; Wednesday 6 January is Epiphany, a public holiday in SE


def people(n: int = 4) -> None:
    for i in range(n):
        add_person(f"p{i}@example.org", ["Sales", "Legal", "Ops"][i % 3])


def programme_since(created: datetime = datetime(2027, 1, 3, tzinfo=UTC)) -> Programme:
    """The default programme, created on ``created`` (catch-up looks back no further)."""
    programme = ensure_default_programme(current_settings().timezone)
    programme.created_at = created
    db.session.commit()
    return programme


def rounds() -> list[tuple[date, str]]:
    return [(r.date, r.status) for r in db.session.scalars(select(Round).order_by(Round.date))]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_firing_plans_the_round_of_the_day_once(app):
    with app.app_context():
        people()
        programme = programme_since()
        at = schedule_for(programme).plan_at(MONDAY)
        assert at == datetime(2027, 1, 4, 8, tzinfo=UTC)  # 09:00 in Stockholm, 60 min ahead
        fire(runtime_of(app), programme.id, now=at)
        fire(runtime_of(app), programme.id, now=at + timedelta(seconds=30))
        assert rounds() == [(MONDAY, "planned")]
        assert count(Delivery) == 4


def test_a_week_of_firings_skips_the_public_holiday(app):
    with app.app_context():
        people()
        programme = programme_since()
        schedule = schedule_for(programme)
        start = datetime(2027, 1, 4, tzinfo=UTC)
        for at, _ in schedule.firings_between(start, start + timedelta(days=7)):
            fire(runtime_of(app), programme.id, now=at)
        holiday_morning = datetime(2027, 1, 6, 8, tzinfo=UTC)
        fire(runtime_of(app), programme.id, now=holiday_morning)
        assert [d for d, _ in rounds()] == [date(2027, 1, d) for d in (4, 5, 7, 8)]


def test_catch_up_before_the_cutoff_plans_and_says_so(app, caplog):
    with app.app_context():
        people()
        programme = programme_since()
        late = datetime(2027, 1, 4, 8, 40, tzinfo=UTC)  # planned 08:00Z, cut-off 08:45Z
        with caplog.at_level(logging.INFO, logger="fika.clock"):
            catch_up(runtime_of(app), late)
        assert rounds() == [(MONDAY, "planned")]
        round_id = db.session.scalar(select(Round.id))
        assert f"event=round.catch_up round={round_id} programme={programme.id}" in caplog.text
        assert count(Delivery) == 4


def test_after_the_cutoff_the_round_is_recorded_as_missed_visibly(app, caplog):
    with app.app_context():
        people()
        programme = programme_since()
        too_late = datetime(2027, 1, 4, 8, 46, tzinfo=UTC)
        with caplog.at_level(logging.INFO):
            catch_up(runtime_of(app), too_late)
        assert rounds() == [(MONDAY, "missed")]
        assert count(Group) == count(Delivery) == 0
        assert "event=round.missed" in caplog.text and "cut-off 08:45Z" in caplog.text
        assert "2027-01-04 Daily digital coffee break: MISSED" in status_report(too_late)
        # Nothing can still plan that day: not the clock, not `fika round`.
        fire(runtime_of(app), programme.id, now=too_late + timedelta(minutes=1))
        outcome = run_round(current_settings(), programme, MONDAY)
        assert not outcome.created and "recorded as missed" in outcome.message
        assert rounds() == [(MONDAY, "missed")] and count(Delivery) == 0


def test_catch_up_looks_back_a_week_but_not_before_the_programme_existed(app):
    with app.app_context():
        people()
        programme_since(datetime(2027, 1, 5, 12, tzinfo=UTC))
        catch_up(
            runtime_of(app), datetime(2027, 1, 8, 8, 10, tzinfo=UTC)
        )  # Friday, before its cut-off
        assert rounds() == [(date(2027, 1, 7), "missed"), (date(2027, 1, 8), "planned")]


def test_pause_until_a_date_lifts_on_that_date(app):
    with app.app_context():
        people(3)
        paused = add_person("paused@example.org", "People", paused_until=date(2027, 1, 5))
        programme = programme_since()
        run_round(current_settings(), programme, MONDAY)
        run_round(current_settings(), programme, MONDAY + timedelta(days=1))
        seats = {
            d: set(
                db.session.scalars(
                    select(GroupMember.person_id)
                    .join(Group, Group.id == GroupMember.group_id)
                    .join(Round, Round.id == Group.round_id)
                    .where(Round.date == d)
                )
            )
            for d in (MONDAY, MONDAY + timedelta(days=1))
        }
        assert paused.id not in seats[MONDAY] and paused.id in seats[MONDAY + timedelta(days=1)]
        assert lift_pauses(datetime(2027, 1, 5, 12, tzinfo=UTC)) == 0  # still its day somewhere
        assert lift_pauses(datetime(2027, 1, 7, 0, 5, tzinfo=UTC)) == 1
        db.session.refresh(paused.preference)
        assert paused.preference.paused_until is None


def test_sync_keeps_one_job_per_active_programme(app):
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.start(paused=True)
    try:
        with app.app_context():
            programme = programme_since()
            other = Programme(name="Fridays", days=["fri"], timezone="America/New_York")
            db.session.add(other)
            db.session.commit()
            first_id, other_id = programme.id, other.id
        sync_jobs(runtime_of(app), scheduler)
        assert sorted(j.id for j in scheduler.get_jobs()) == [
            f"programme-{first_id}",
            f"programme-{other_id}",
        ]
        job = scheduler.get_job(f"programme-{other_id}")
        assert job.next_run_time.astimezone(schedule_for(other).zone).weekday() == 4
        with app.app_context():
            db.session.get(Programme, other_id).active = False
            db.session.get(Programme, first_id).local_time = datetime(2000, 1, 1, 14).time()
            db.session.commit()
        sync_jobs(runtime_of(app), scheduler)
        (job,) = scheduler.get_jobs()
        assert job.trigger.schedule.local_time.hour == 14
    finally:
        scheduler.shutdown(wait=False)


def test_tick_catches_up_and_never_raises(app, caplog):
    with app.app_context():
        people()
        programme_since()
    tick(runtime_of(app), now=datetime(2027, 1, 4, 8, 30, tzinfo=UTC))
    with app.app_context():
        assert rounds() == [(MONDAY, "planned")]
