"""Racing processes make one round: two clocks and ``fika round`` released by one barrier.

Long-lived spawned processes (each with its own app and connection pool) wait at a
multiprocessing barrier, then all plan the same (programme, date) at once: the clock's job
function in two of them, the ``fika round`` command in the third. Every trial must leave exactly
one Round and one set of deliveries; the racers report how often the insert race was actually
lost (the UNIQUE key, not the existence check, decided), so the test shows the race happened.
"""

from __future__ import annotations

import multiprocessing
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core.db import db
from core.models import Delivery, Group, GroupMember, Round
from core.programmes import ensure_default_programme
from core.schedule import schedule_for
from tests.core.helpers import add_person
from tests.jobs import racers
from web.config import current_settings

TRIALS = 20
#: A working day per trial (people take part on weekdays).
DAYS = [d for d in (date(2027, 2, 1) + timedelta(days=i) for i in range(40)) if d.weekday() < 5]


def _racing(app, app_config, roles: list[str]) -> tuple[int, list]:
    with app.app_context():
        for i in range(7):
            add_person(f"r{i}@example.org", ["Sales", "Legal", "Ops"][i % 3])
        programme = ensure_default_programme(
            current_settings().timezone
        )  # everyone takes part in the default one
        programme.holiday_country = ""
        db.session.commit()
        programme_id, name = programme.id, programme.name
        schedule = schedule_for(programme)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(roles))
    results = context.Queue()
    queues = [context.Queue() for _ in roles]
    processes = [
        context.Process(target=racers.run, args=(role, app_config, barrier, q, results))
        for role, q in zip(roles, queues, strict=True)
    ]
    for process in processes:
        process.start()
    outcomes = []
    try:
        for trial in range(TRIALS):
            day = DAYS[trial]
            now = (schedule.plan_at(day) + timedelta(seconds=1)).isoformat()
            for q in queues:
                q.put((programme_id, name, day.isoformat(), now))
            outcomes.append([results.get(timeout=120) for _ in roles])
    finally:
        for q in queues:
            q.put(None)
        for process in processes:
            process.join(30)
            if process.is_alive():
                process.kill()
    return programme_id, outcomes


def _assert_one_round_per_day(app, programme_id: int, outcomes: list) -> None:
    errors = [error for trial in outcomes for _, _, error in trial if error]
    assert errors == []
    with app.app_context():
        for trial in range(TRIALS):
            day = DAYS[trial]
            rounds = db.session.scalars(
                select(Round).where(Round.programme_id == programme_id, Round.date == day)
            ).all()
            assert len(rounds) == 1, f"trial {trial}: {len(rounds)} rounds"
            (rnd,) = rounds
            seats = db.session.scalars(
                select(GroupMember.person_id).join(Group).where(Group.round_id == rnd.id)
            ).all()
            assert sorted(seats) == sorted(set(seats)) and len(seats) == 7
            keys = db.session.scalars(select(Delivery.key).where(Delivery.round_id == rnd.id))
            assert len(set(keys.all())) == 7  # one invite per person, no second set
        assert db.session.scalar(select(func.count()).select_from(Round)) == TRIALS
        assert db.session.scalar(select(func.count()).select_from(Delivery)) == 7 * TRIALS
        assert db.session.scalar(select(func.count()).select_from(Group)) == 3 * TRIALS


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_clocks_and_fika_round_make_one_round_on_postgresql(app, app_config):
    programme_id, outcomes = _racing(app, app_config, ["clock", "clock", "round"])
    _assert_one_round_per_day(app, programme_id, outcomes)
    lost = sum(1 for trial in outcomes if any(raced for _, raced, _ in trial))
    assert lost >= 1, "no trial raced to the insert: the barrier did not line the racers up"


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_clock_and_fika_round_make_one_round_on_sqlite(app, app_config):
    programme_id, outcomes = _racing(app, app_config, ["clock", "round"])
    _assert_one_round_per_day(app, programme_id, outcomes)
