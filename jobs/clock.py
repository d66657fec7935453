"""The clock: one APScheduler job per programme, firing ``lead_minutes`` before its break.

Exactly one clock should run (the Procfile's ``clock`` process, or inside ``fika serve``), but
correctness never depends on it: every firing goes through ``run_round``, whose UNIQUE
(programme, date) key turns a second firing into a no-op.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask
from sqlalchemy import select

from web.extensions import db
from web.models import WEEKDAYS, Programme
from web.programmes import break_start

log = logging.getLogger("fika.clock")

SYNC_MINUTES = 5


def fire_trigger(programme: Programme) -> CronTrigger:
    """When to plan: ``lead_minutes`` before the break, on the days whose break it plans."""
    start = datetime.combine(date(2000, 1, 3), programme.local_time)  # a Monday
    fire = start - timedelta(minutes=programme.lead_minutes)
    shift = (fire.date() - start.date()).days  # -1 when planning happens the evening before
    days = [WEEKDAYS[(WEEKDAYS.index(d) + shift) % 7] for d in programme.days or []]
    return CronTrigger(
        day_of_week=",".join(days) or "mon",
        hour=fire.hour,
        minute=fire.minute,
        timezone=ZoneInfo(programme.timezone),
    )


def break_date_for(programme: Programme, fired_at: datetime) -> date:
    """The date of the break a firing at ``fired_at`` plans."""
    local = fired_at.astimezone(ZoneInfo(programme.timezone))
    return (local + timedelta(minutes=programme.lead_minutes)).date()


def fire(app: Flask, programme_id: int, fired_at: datetime | None = None) -> None:
    """Run the round a firing asks for; log, never raise (the scheduler must keep going)."""
    from jobs.rounds import run_round

    with app.app_context():
        try:
            programme = db.session.get(Programme, programme_id)
            if programme is None or not programme.active:
                return
            day = break_date_for(programme, fired_at or datetime.now(UTC))
            if not programme.runs_on(day):
                return
            outcome = run_round(programme, day)
            log.info("programme=%s date=%s %s", programme_id, day, outcome.message)
        except Exception:  # noqa: BLE001
            db.session.rollback()
            log.exception("round for programme=%s failed", programme_id)


def catch_up(app: Flask, now: datetime) -> None:
    """A clock that starts after a missed firing still runs today's round before the break."""
    with app.app_context():
        for programme in db.session.scalars(select(Programme).where(Programme.active.is_(True))):
            day = now.astimezone(ZoneInfo(programme.timezone)).date()
            start = break_start(programme, day)
            planned_at = start - timedelta(minutes=programme.lead_minutes)
            if programme.runs_on(day) and planned_at <= now < start:
                log.info("catch-up: programme=%s date=%s missed its firing", programme.id, day)
                fire(app, programme.id, planned_at)


def sync_jobs(app: Flask, scheduler) -> None:
    """Add, replace or remove one job per active programme (admins may change them any time)."""
    with app.app_context():
        programmes = list(db.session.scalars(select(Programme).where(Programme.active.is_(True))))
        wanted = {f"programme-{p.id}": p for p in programmes}
        for job in scheduler.get_jobs():
            if job.id.startswith("programme-") and job.id not in wanted:
                job.remove()
        for job_id, programme in wanted.items():
            scheduler.add_job(
                fire,
                fire_trigger(programme),
                args=(app, programme.id),
                id=job_id,
                replace_existing=True,
                misfire_grace_time=programme.lead_minutes * 60,
                coalesce=True,
            )
        db.session.remove()


def build_scheduler(app: Flask, *, background: bool):
    """A scheduler with the programme jobs and a periodic re-sync of them."""
    scheduler = (BackgroundScheduler if background else BlockingScheduler)(timezone=UTC)
    sync_jobs(app, scheduler)
    scheduler.add_job(sync_jobs, "interval", minutes=SYNC_MINUTES, args=(app, scheduler), id="sync")
    return scheduler


def run_clock(app: Flask) -> None:
    """``fika clock``: catch up, then block and fire rounds until stopped."""
    catch_up(app, datetime.now(UTC))
    scheduler = build_scheduler(app, background=False)
    log.info("clock started with %d programme job(s)", len(scheduler.get_jobs()) - 1)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
