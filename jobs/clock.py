"""The clock: one APScheduler job per programme, firing ``lead_minutes`` before each break.

Exactly one clock should run (the Procfile's ``clock`` process, or inside ``fika serve``), but
correctness never depends on it: every firing goes through ``run_round``, whose UNIQUE
(programme, date) key turns a second firing, a second clock or an admin's "run now" into a no-op.

Each job's trigger is the programme's :class:`~core.schedule.Schedule` (its zone, days, public
holidays and days off), so it fires once per working day across DST changes. A minute tick keeps
the jobs in line with the programmes, catches up firings the clock missed (planning them before
the cut-off, recording them as missed after it) and queues reminders and check-ins.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import select

from core.checkins import lift_pauses, queue_checkins
from core.db import db
from core.drop_in import nudge_rooms
from core.enums import ProgrammeKind
from core.events import log_event
from core.models import Programme
from core.reminders import queue_reminders
from core.rounds import existing_round, record_missed, run_round
from core.runtime import Runtime
from core.schedule import Schedule, schedule_for
from core.settings import Settings
from core.slack_events import process_events
from core.slack_sync import (
    linked_programmes,
    member_source,
    slack_configured,
    sync_minutes,
    sync_programme,
)
from core.team_checkins import queue_team_checkins

log = logging.getLogger("fika.clock")

TICK_SECONDS = 60
#: The job that syncs linked Slack channels (``FIKA_SLACK_SYNC_MINUTES``).
SLACK_SYNC_JOB = "slack-sync"
#: How far back a starting clock looks for firings it missed.
CATCH_UP_DAYS = 7


class ProgrammeTrigger(BaseTrigger):
    """An APScheduler trigger firing at each working day's planning time of a schedule."""

    __slots__ = ("schedule",)

    def __init__(self, schedule: Schedule):
        self.schedule = schedule

    def get_next_fire_time(self, previous_fire_time, now):
        """The first planning instant after the previous firing (or at/after ``now``)."""
        after = previous_fire_time if previous_fire_time else now - timedelta(microseconds=1)
        firing = self.schedule.next_firing(after)
        return None if firing is None else firing[0]

    def __getstate__(self):
        return {"version": 1, "schedule": self.schedule}

    def __setstate__(self, state):
        self.schedule = state["schedule"]

    def __str__(self) -> str:
        s = self.schedule
        return f"programme[{s.local_time:%H:%M} {s.timezone}, lead {s.lead_minutes} min]"


def plan_or_miss(
    settings: Settings, programme: Programme, schedule: Schedule, day, now: datetime, *, late: bool
):
    """Plan the round for ``day`` if it is still before the cut-off, else record it as missed."""
    if existing_round(programme, day) is not None:
        return None
    deadline = schedule.deadline(day)
    if now < deadline:
        outcome = run_round(settings, programme, day, now=now)
        if late and outcome.created:
            log_event(
                log,
                "round.catch_up",
                round=outcome.round_id,
                programme=programme.id,
                date=day,
                planned_at=schedule.plan_at(day).isoformat(),
            )
        return outcome
    if programme.is_learning_team:
        # Its teams are formed and keep meeting: a slot with nobody new to place is no miss.
        return None
    return record_missed(programme, day, f"not planned before the cut-off {deadline:%H:%M}Z")


def fire(runtime: Runtime, programme_id: int, now: datetime | None = None) -> None:
    """The job: plan the round whose time has come; log, never raise (the clock must go on)."""
    try:
        with runtime.unit_of_work():
            programme = db.session.get(Programme, programme_id)
            if programme is None or not programme.active or programme.is_drop_in:
                return
            now = now or datetime.now(UTC)
            schedule = schedule_for(programme)
            firing = schedule.last_firing(now)
            if firing is not None:
                plan_or_miss(runtime.settings, programme, schedule, firing[1], now, late=False)
    except Exception:  # noqa: BLE001
        log_event(log, "round.failed", logging.ERROR, programme=programme_id)
        log.exception("round for programme=%s failed", programme_id)


def catch_up(runtime: Runtime, now: datetime) -> None:
    """Plan (before the cut-off) or record as missed (after it) every firing the clock missed."""
    with runtime.unit_of_work():
        for programme in _active_programmes():
            schedule = schedule_for(programme)
            since = max(now - timedelta(days=CATCH_UP_DAYS), programme.created_at)
            for _, day in schedule.firings_between(since, now):
                plan_or_miss(runtime.settings, programme, schedule, day, now, late=True)


def _active_programmes() -> list[Programme]:
    """The switched-on programmes that plan rounds (drop-in rooms are never matched)."""
    return list(
        db.session.scalars(
            select(Programme).where(
                Programme.active.is_(True), Programme.kind != ProgrammeKind.DROP_IN
            )
        )
    )


def sync_jobs(runtime: Runtime, scheduler) -> None:
    """Add, reschedule or remove one job per active programme (admins may change them)."""
    with runtime.unit_of_work():
        wanted = {f"programme-{p.id}": (p.id, schedule_for(p)) for p in _active_programmes()}
    for job in scheduler.get_jobs():
        if job.id.startswith("programme-") and job.id not in wanted:
            job.remove()
    for job_id, (programme_id, schedule) in wanted.items():
        job = scheduler.get_job(job_id)
        if job is not None and job.trigger.schedule == schedule:
            continue  # unchanged: keep its next run time rather than recomputing it
        scheduler.add_job(
            fire,
            ProgrammeTrigger(schedule),
            args=(runtime, programme_id),
            id=job_id,
            replace_existing=True,
            misfire_grace_time=None,  # a late firing still runs; fire() applies the cut-off
            coalesce=True,
            max_instances=1,
        )


def tick(runtime: Runtime, scheduler=None, now: datetime | None = None) -> None:
    """The minute job: sync, catch up, reminders, check-ins, lift pauses, Slack events left
    behind; one failing never stops the others."""
    now = now or datetime.now(UTC)
    settings = runtime.settings
    steps = [("catch_up", lambda: catch_up(runtime, now))]
    if scheduler is not None:
        steps.insert(0, ("sync", lambda: sync_jobs(runtime, scheduler)))
    for name, step in (
        ("reminders", lambda: queue_reminders(settings, now)),
        ("checkins", lambda: queue_checkins(settings, now)),
        ("team_checkins", lambda: queue_team_checkins(settings, now)),
        ("pauses", lambda: lift_pauses(now)),
        ("room_nudges", lambda: nudge_rooms(settings, now)),
        ("slack_events", lambda: process_events(settings, now)),
    ):
        steps.append((name, lambda step=step: _in_unit_of_work(runtime, step)))
    for name, step in steps:
        try:
            step()
        except Exception:  # noqa: BLE001
            log.exception("clock step %s failed", name)


def sync_slack_channels(runtime: Runtime) -> None:
    """The Slack job: sync every linked programme with its channel, one failing never stopping
    the others. A job of its own, not a step of the tick: a big channel takes a while (Slack
    allows about 100 ``users.info`` calls a minute for people Fika does not know yet)."""
    with runtime.unit_of_work():
        ids = [p.id for p in linked_programmes()]
    for programme_id in ids:
        try:
            with runtime.unit_of_work():
                programme = db.session.get(Programme, programme_id)
                if programme is not None and programme.slack_channel_id:
                    sync_programme(runtime.settings, programme, member_source(runtime.settings))
        except Exception:  # noqa: BLE001
            log.exception("slack sync of programme=%s failed", programme_id)


def _in_unit_of_work(runtime: Runtime, step) -> None:
    with runtime.unit_of_work():
        step()


def build_scheduler(runtime: Runtime, *, background: bool):
    """A scheduler with the programme jobs and the minute tick."""
    scheduler = (BackgroundScheduler if background else BlockingScheduler)(timezone=UTC)
    sync_jobs(runtime, scheduler)
    scheduler.add_job(
        tick,
        "interval",
        seconds=TICK_SECONDS,
        args=(runtime, scheduler),
        id="tick",
        coalesce=True,
        max_instances=1,
    )
    minutes = sync_minutes(runtime.settings)
    if slack_configured(runtime.settings) and minutes:
        scheduler.add_job(
            sync_slack_channels,
            "interval",
            minutes=minutes,
            args=(runtime,),
            id=SLACK_SYNC_JOB,
            next_run_time=datetime.now(UTC),  # at start, then every ``minutes``
            coalesce=True,
            max_instances=1,
        )
    return scheduler


def next_firings(scheduler) -> dict[str, datetime | None]:
    """Job id → next run time, for the start-up log line."""
    return {job.id: job.next_run_time for job in scheduler.get_jobs()}


def run_clock(runtime: Runtime) -> None:
    """``fika clock``: catch up, then block and fire rounds until stopped."""
    tick(runtime)
    scheduler = build_scheduler(runtime, background=False)
    programmes = [j for j in scheduler.get_jobs() if j.id.startswith("programme-")]
    log_event(log, "clock.started", programmes=len(programmes))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
