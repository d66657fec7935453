"""Reminders before the break, "Did you meet?" after it, and the offer to pause."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import time_machine
from sqlalchemy import func, select

from core.channels import configured_channels
from core.checkins import queue_checkins
from core.db import db
from core.dispatch import send_due
from core.models import Delivery, Group, GroupMember, Person
from core.participants import history
from core.programmes import ensure_default_programme
from core.reminders import queue_reminders
from core.rounds import run_round
from tests.conftest import settings_of
from tests.core.helpers import add_person
from web.config import current_settings

FRIDAY = date(2027, 1, 8)
NEXT_MONDAY_PLANNING = datetime(2027, 1, 11, 8, tzinfo=UTC)  # 09:00 Stockholm


def pair(app, day: date = FRIDAY, **quiet) -> Group:
    with app.app_context():
        add_person("ana@example.org", "Sales")
        add_person("ben@example.org", "Legal", **quiet)
        assert run_round(
            current_settings(), ensure_default_programme(current_settings().timezone), day
        ).created
        return db.session.scalar(select(Group))


def nudges(kind: str) -> list[Delivery]:
    return list(
        db.session.scalars(select(Delivery).where(Delivery.kind == kind).order_by(Delivery.id))
    )


def test_reminders_go_shortly_before_the_break_once_and_respect_opt_out(app):
    pair(app, reminders=False)
    with app.app_context():
        start = db.session.scalar(select(Group.start_at))
        assert (
            queue_reminders(current_settings(), start - timedelta(minutes=30)) == 0
        )  # too early (10 min before)
        assert queue_reminders(current_settings(), start - timedelta(minutes=9)) == 1
        assert (
            queue_reminders(current_settings(), start - timedelta(minutes=8)) == 0
        )  # already queued
        (row,) = nudges("reminder")
        assert row.recipient == "ana@example.org" and row.channel == "outbox"
        assert (
            queue_reminders(current_settings(), start + timedelta(minutes=1)) == 0
        )  # the break has begun


def test_reminder_of_a_cancelled_break_is_not_queued_and_late_ones_are_not_sent(app):
    pair(app)
    with app.app_context():
        group = db.session.scalar(select(Group))
        start = group.start_at
        assert queue_reminders(current_settings(), start - timedelta(minutes=5)) == 2
        counts = send_due(configured_channels(settings_of(app)), now=start + timedelta(minutes=1))
        assert counts.dead == 2  # queued too late: dead, not sent after the start
        assert {r.last_error for r in nudges("reminder")} == {
            "too late: the break has started (reminder)"
        }
        group.status = "cancelled"
        db.session.commit()
        db.session.query(Delivery).filter(Delivery.kind == "reminder").delete()
        db.session.commit()
        assert queue_reminders(current_settings(), start - timedelta(minutes=5)) == 0


def test_reminder_email_is_plain_without_a_calendar_part(app, make_app, smtp_server):
    mail = make_app(FIKA_SMTP_URL=smtp_server.url(), FIKA_OUTBOX_DIR=None)
    pair(mail)
    with mail.app_context():
        start = db.session.scalar(select(Group.start_at))
        queue_reminders(current_settings(), start - timedelta(minutes=5))
        send_due(configured_channels(settings_of(mail)), now=start - timedelta(minutes=5))
    reminders = [m.message for m in smtp_server.messages if m.message["Subject"].startswith("Soon")]
    assert len(reminders) == 2
    for message in reminders:
        assert message.get_content_type() == "text/plain"
        assert not any(p.get_content_type() == "text/calendar" for p in message.walk())
        body = message.get_content()
        assert "starts soon" in body and "https://meet.jit.si/fika-" in body
        assert "09:55" not in body and "10:00" in body  # the break's local time
        assert (
            str(message["List-Unsubscribe"])
            .strip()
            .startswith("<https://fika.example.org/unsubscribe/")
        )


def test_checkins_go_out_the_next_working_day_once(app):
    pair(app)  # a Friday break: the next working day is Monday
    with app.app_context():
        assert (
            queue_checkins(current_settings(), datetime(2027, 1, 9, 12, tzinfo=UTC)) == 0
        )  # Saturday
        assert queue_checkins(current_settings(), NEXT_MONDAY_PLANNING - timedelta(minutes=1)) == 0
        assert queue_checkins(current_settings(), NEXT_MONDAY_PLANNING) == 2
        assert queue_checkins(current_settings(), NEXT_MONDAY_PLANNING + timedelta(hours=1)) == 0
        rows = nudges("checkin")
        assert {r.recipient for r in rows} == {"ana@example.org", "ben@example.org"}
        links = rows[0].payload["links"]
        assert sorted(links) == ["met", "not_met", "rescheduled"]
        assert all(u.startswith("https://fika.example.org/checkin/") for u in links.values())
        send_due(configured_channels(settings_of(app)), now=NEXT_MONDAY_PLANNING)
        assert {r.status for r in nudges("checkin")} == {"sent"}
    texts = sorted(p.name for p in Path(app.config["FIKA_OUTBOX_DIR"]).glob("checkin-*"))
    assert len(texts) == 2 and all(t.endswith(".txt") for t in texts)


def link(row: Delivery, answer: str) -> str:
    return row.payload["links"][answer].removeprefix("https://fika.example.org")


def test_one_click_answer_records_and_not_met_leaves_history(app, client):
    pair(app)
    with app.app_context():
        queue_checkins(current_settings(), NEXT_MONDAY_PLANNING)
        ana_row = next(r for r in nudges("checkin") if r.recipient == "ana@example.org")
        url = link(ana_row, "not_met")
    page = client.get(url)
    assert page.status_code == 200 and b"It didn&#39;t happen?" in page.data
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(GroupMember.checkin.is_not(None))) == 0
        programme = ensure_default_programme(current_settings().timezone)
        assert history(programme, FRIDAY + timedelta(days=3))[0].groups  # counted as met
    done = client.post(url)
    assert done.status_code == 200 and b"will not count as having met" in done.data
    with app.app_context():
        seat = db.session.scalar(
            select(GroupMember).join(Person).where(Person.email == "ana@example.org")
        )
        assert (seat.checkin, seat.met) == ("not_met", False)
        (past,) = history(
            ensure_default_programme(current_settings().timezone), FRIDAY + timedelta(days=3)
        )
        assert past.groups == ()  # the pair may be matched again
    assert client.post(url.replace("/checkin/", "/checkin/x")).status_code == 400
    assert client.post(link(ana_row, "met")).status_code == 200  # an answer can be changed
    with app.app_context():
        assert db.session.scalar(select(GroupMember.met).where(GroupMember.checkin == "met"))


def test_repeated_no_shows_are_asked_to_pause_once(app, client):
    with time_at(datetime(2027, 1, 8, 8, tzinfo=UTC)), app.app_context():
        ana = add_person("ana@example.org", "Sales")
        ben = add_person("ben@example.org", "Legal")
        ana_id, ben_id = ana.id, ben.id
        programme = ensure_default_programme(current_settings().timezone)
        for day in (date(2027, 1, 4), date(2027, 1, 5), date(2027, 1, 7)):
            run_round(current_settings(), programme, day)
        queue_checkins(current_settings(), datetime(2027, 1, 8, 8, tzinfo=UTC))
        rows = {(r.person_id, r.group_id): r for r in nudges("checkin")}
        groups = [g.id for g in db.session.scalars(select(Group).order_by(Group.start_at))]
        for n, group_id in enumerate(groups, 1):  # Ana: it did not happen; Ben never answers
            assert client.post(link(rows[(ana_id, group_id)], "not_met")).status_code == 200
            assert len(nudges("pause_offer")) == (1 if n == 3 else 0)  # the third tips it
        (offer,) = nudges("pause_offer")
        assert offer.person_id == ben_id  # Ana reported, so she turned up: she is not asked
        assert sorted(offer.payload["links"]) == ["keep", "pause_2w", "pause_4w"]
        assert db.session.get(Person, ben_id).preference.pause_asked_on == date(2027, 1, 8)
        pause_url = offer.payload["links"]["pause_2w"].removeprefix("https://fika.example.org")
        client.post(link(rows[(ana_id, groups[0])], "not_met"))  # again: no second offer
        assert len(nudges("pause_offer")) == 1
        assert b"Pause for two weeks?" in client.get(pause_url).data
        assert db.session.get(Person, ben_id).preference.paused_until is None  # GET: nothing
        assert client.post(pause_url).status_code == 200
        db.session.expire_all()
        assert db.session.get(Person, ben_id).preference.paused_until == date(2027, 1, 22)


def time_at(moment: datetime):
    return time_machine.travel(moment, tick=True)


def test_text_of_checkin_message_offers_the_three_links(app):
    pair(app)
    with app.app_context():
        queue_checkins(current_settings(), NEXT_MONDAY_PLANNING)
        send_due(configured_channels(settings_of(app)), now=NEXT_MONDAY_PLANNING)
        row = nudges("checkin")[0]
    text = (Path(app.config["FIKA_OUTBOX_DIR"]) / f"{row.key}.txt").read_text()
    assert "did your coffee break with" in text
    for answer, label in [("met", "We met"), ("not_met", "It didn't happen")]:
        assert re.search(rf"{label}: {re.escape(row.payload['links'][answer])}", text)
