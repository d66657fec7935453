"""A round on both databases: everyone placed once, trios for odd counts, exactly once, outbox."""

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import func, select

from core.channels import configured_channels
from core.db import db
from core.dispatch import send_due
from core.models import Delivery, Group, GroupMember, Round
from core.programmes import ensure_default_programme
from core.rounds import preview_round, run_round
from tests.conftest import settings_of
from tests.core.helpers import add_person
from web.config import current_settings

MONDAY = date(2026, 11, 30)
DEPARTMENTS = ["Sales", "Research", "Legal", "People", "Finance", "Design", "Ops"]


def make_people(n: int):
    return [
        add_person(
            f"p{i}@example.org",
            DEPARTMENTS[i % len(DEPARTMENTS)],
            office=None if i % 3 == 0 else "Stockholm",
        )
        for i in range(n)
    ]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("n", [2, 5, 8])
def test_everyone_eligible_is_in_exactly_one_group(app, n):
    with app.app_context():
        people = make_people(n)
        outcome = run_round(
            current_settings(), ensure_default_programme(current_settings().timezone), MONDAY
        )
        assert outcome.created
        seats = db.session.scalars(select(GroupMember.person_id)).all()
        assert sorted(seats) == sorted(p.id for p in people)
        sizes = sorted(len(g.members) for g in db.session.scalars(select(Group)))
        assert sizes == ([2] * (n // 2 - 1) + [3] if n % 2 else [2] * (n // 2))
        for group in db.session.scalars(select(Group)):
            assert group.video_url.startswith("https://meet.jit.si/fika-")
            assert group.end_at - group.start_at == timedelta(minutes=15)
            assert group.reasons and group.starter


def test_paused_and_inactive_people_are_left_out(app):
    with app.app_context():
        people = make_people(4)
        paused = add_person("paused@example.org", "Legal", paused_until=MONDAY + timedelta(days=1))
        gone = add_person("gone@example.org", "Legal", active=False)
        back = add_person("back@example.org", "Legal", paused_until=MONDAY)
        run_round(current_settings(), ensure_default_programme(current_settings().timezone), MONDAY)
        seated = set(db.session.scalars(select(GroupMember.person_id)))
        assert paused.id not in seated and gone.id not in seated
        assert back.id in seated  # a pause lifts on its date
        assert {p.id for p in people} <= seated


def test_second_round_for_same_programme_and_date_is_a_noop(app):
    with app.app_context():
        make_people(6)
        programme = ensure_default_programme(current_settings().timezone)
        first = run_round(current_settings(), programme, MONDAY)
        deliveries = count(Delivery)
        second = run_round(current_settings(), programme, MONDAY)
        assert first.created and not second.created
        assert "already ran" in second.message
        assert count(Round) == 1 and count(Delivery) == deliveries == 6
        assert run_round(current_settings(), programme, MONDAY + timedelta(days=1)).created
        assert count(Round) == 2


def test_claim_conflict_rolls_back_everything(app, monkeypatch):
    """A racer that inserted the round between our check and our insert wins; we write nothing."""
    import core.rounds as rounds

    with app.app_context():
        make_people(4)
        programme = ensure_default_programme(current_settings().timezone)
        monkeypatch.setattr(rounds, "existing_round", lambda *a: None)
        assert run_round(current_settings(), programme, MONDAY).created
        before = (count(Round), count(Group), count(Delivery))
        outcome = run_round(current_settings(), programme, MONDAY)
        assert not outcome.created and "already ran" in outcome.message
        assert (count(Round), count(Group), count(Delivery)) == before


def test_dry_run_writes_nothing(app):
    with app.app_context():
        make_people(4)
        outcome = preview_round(
            current_settings(), ensure_default_programme(current_settings().timezone), MONDAY
        )
        assert len(outcome.plan.groups) == 2
        assert count(Round) == count(Group) == count(Delivery) == 0


def test_outbox_invites_parse_with_every_property(app):
    with app.app_context():
        people = [(p.email, p.timezone) for p in make_people(3)]
        run_round(current_settings(), ensure_default_programme(current_settings().timezone), MONDAY)
        counts = send_due(configured_channels(settings_of(app)))
        assert (counts.sent, counts.retrying, counts.dead) == (3, 0, 0)
        assert count(Delivery) == 3
        assert all(d.status == "sent" for d in db.session.scalars(select(Delivery)))
        group = db.session.scalar(select(Group))
    files = sorted(Path(app.config["FIKA_OUTBOX_DIR"]).glob("*.ics"))
    assert len(files) == 1
    calendar = icalendar.Calendar.from_ical(files[0].read_bytes())
    assert str(calendar["METHOD"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == group.uid
    assert event["DTSTAMP"].dt.tzinfo is not None
    assert str(event["ORGANIZER"]).lower() == "mailto:fika@localhost"
    attendees = event["ATTENDEE"]
    assert sorted(str(a).removeprefix("mailto:") for a in attendees) == sorted(
        email for email, _ in people
    )
    for attendee in attendees:
        assert attendee.params["CN"] and attendee.params["RSVP"] == "TRUE"
        assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    start, end = event["DTSTART"].dt, event["DTEND"].dt
    assert start.utcoffset() == timedelta(0) and end - start == timedelta(minutes=15)
    assert start == group.start_at and start.astimezone(UTC).date() == MONDAY
    for _, zone in people:  # inside everyone's working hours (09-17 local)
        local_start, local_end = start.astimezone(ZoneInfo(zone)), end.astimezone(ZoneInfo(zone))
        assert local_start.time() >= time(9) and local_end.time() <= time(17)
    assert str(event["SUMMARY"]).startswith("Fika: ")
    assert group.video_url in str(event["LOCATION"]) and group.video_url in str(
        event["DESCRIPTION"]
    )
    texts = sorted(Path(app.config["FIKA_OUTBOX_DIR"]).glob("*.txt"))
    assert len(texts) == 3 and group.video_url in texts[0].read_text()


def test_worker_does_not_resend_what_was_sent(app):
    with app.app_context():
        make_people(2)
        run_round(current_settings(), ensure_default_programme(current_settings().timezone), MONDAY)
        channels = configured_channels(settings_of(app))
        assert send_due(channels).sent == 2
        assert send_due(channels, now=datetime.now(UTC) + timedelta(days=1)).sent == 0


def test_the_announcement_goes_with_the_round_once_and_a_failed_post_is_retried(
    app, make_app, httpserver
):
    """Written in the round's transaction (a racing second run writes none), sent by the
    outbox: a webhook that fails is tried again instead of losing the announcement."""
    answers = iter([("oops", 500), ("ok", 200)])
    posted: list[str] = []

    def webhook(request):
        from werkzeug import Response

        posted.append(request.get_json()["text"])
        body, status = next(answers)
        return Response(body, status=status)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(webhook)
    hooked = make_app(FIKA_SLACK_WEBHOOK_URL=httpserver.url_for("/hook"))
    with hooked.app_context():
        make_people(4)
        programme = ensure_default_programme(current_settings().timezone)
        assert run_round(current_settings(), programme, MONDAY).created
        assert not run_round(current_settings(), programme, MONDAY).created
        (row,) = db.session.scalars(select(Delivery).where(Delivery.kind == "announcement"))
        assert (row.channel, row.recipient, row.round_id) == (
            "slack_webhook",
            "webhook:slack_webhook",
            db.session.scalar(select(Round.id)),
        )
        channels = {"slack_webhook": configured_channels(settings_of(hooked))["slack_webhook"]}
        now = datetime.now(UTC)
        assert send_due(channels, now=now).retrying == 1
        assert send_due(channels, now=now + timedelta(hours=2)).sent == 1
    assert posted == ["Today's coffee breaks are out: 4 people, 4 departments, 100% mixing "
                      "office and home"] * 2  # fmt: skip
