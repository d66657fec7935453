"""`fika demo` by email through a real SMTP server on loopback, then a pause's update/cancel."""

from datetime import UTC, date, datetime

import icalendar
import time_machine
import vobject
from click.testing import CliRunner
from sqlalchemy import select

from core.changes import pause
from core.channels import configured_channels
from core.db import db
from core.dispatch import send_due
from core.models import Group, Person
from fika.cli import cli
from tests.conftest import settings_of
from web import create_app
from web.config import current_settings


def calendar_of(mail):
    """(METHOD param, the raw calendar) of the text/calendar part; checks the attachment too."""
    message = mail.message
    assert message.get_content_type() == "multipart/mixed"
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    attachment = next(p for p in message.iter_attachments() if p.get_filename() == "invite.ics")
    data = part.get_payload(decode=True)
    assert attachment.get_payload(decode=True) == data
    return part.get_param("method"), data


def read_both(data: bytes):
    """What an Outlook-style (icalendar) and a Gmail-style (vobject) reader make of an invite."""
    first = icalendar.Calendar.from_ical(data)
    (event,) = first.walk("VEVENT")
    second = vobject.readOne(data.decode()).vevent
    assert event["DTSTART"].dt == second.dtstart.value
    assert event["DTEND"].dt == second.dtend.value
    assert str(event["UID"]) == second.uid.value
    assert str(event["ORGANIZER"]) == second.organizer.value
    return str(first["METHOD"]), event


@time_machine.travel(datetime(2026, 11, 30, 5, 0, tzinfo=UTC), tick=True)
def test_demo_emails_invites_and_a_pause_sends_update_and_cancel(
    smtp_server, database_url, tmp_path, monkeypatch
):
    for key, value in {
        "DATABASE_URL": database_url,
        "FIKA_INSTANCE_PATH": str(tmp_path / "instance"),
        "FIKA_ENV": "test",
        "FIKA_SMTP_URL": smtp_server.url(),
        "FIKA_MAIL_FROM": "Fika <fika@example.org>",
    }.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(cli, ["demo", "--people", "7"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "3 groups, 0 unmatched" in result.output and "sent 7," in result.output

    app = create_app()
    try:
        with app.app_context():
            people = {p.email: p for p in db.session.scalars(select(Person))}
            groups = {g.uid: g for g in db.session.scalars(select(Group))}
            by_uid = {}
            assert len(smtp_server.messages) == 7
            assert sorted(r for m in smtp_server.messages for r in m.rcpt_tos) == sorted(people)
            for mail in smtp_server.messages:
                method, data = calendar_of(mail)
                assert method == "REQUEST"
                ical_method, event = read_both(data)
                assert ical_method == "REQUEST"
                assert str(event["ORGANIZER"]) == "mailto:fika@example.org"
                assert event["ORGANIZER"].params["CN"] == "Fika"
                group = groups[str(event["UID"])]
                assert event["DTSTART"].dt == group.start_at
                assert event["DTEND"].dt == group.end_at
                assert f"mailto:{mail.rcpt_tos[0]}" in [str(a) for a in event["ATTENDEE"]]
                by_uid.setdefault(group.uid, []).append(mail.rcpt_tos[0])

            trio_uid = next(uid for uid, emails in by_uid.items() if len(emails) == 3)
            pair_uid = next(uid for uid, emails in by_uid.items() if len(emails) == 2)
            leaving = people[by_uid[trio_uid][0]]
            leaving_email = leaving.email
            staying = sorted(by_uid[trio_uid][1:])
            pause(current_settings(), leaving, date(2026, 12, 7))
            pause(current_settings(), people[by_uid[pair_uid][0]], date(2026, 12, 7))
            counts = send_due(configured_channels(settings_of(app)))
            assert (counts.sent, counts.retrying, counts.dead) == (5, 0, 0)

        later = smtp_server.messages[7:]
        seen = {}
        for mail in later:
            method, data = calendar_of(mail)
            ical_method, event = read_both(data)
            assert method == ical_method
            seen[(str(event["UID"]), mail.rcpt_tos[0])] = (method, int(event["SEQUENCE"]), event)
        # The trio: the others get an update without the one who paused; that one a CANCEL.
        for email in staying:
            method, sequence, event = seen[(trio_uid, email)]
            assert (method, sequence) == ("REQUEST", 1)
            assert sorted(str(a) for a in event["ATTENDEE"]) == [f"mailto:{e}" for e in staying]
        method, sequence, event = seen[(trio_uid, leaving_email)]
        assert (method, sequence, str(event["STATUS"])) == ("CANCEL", 1, "CANCELLED")
        # The pair: with one left there is no break, so both get the CANCEL.
        for email in by_uid[pair_uid]:
            method, sequence, event = seen[(pair_uid, email)]
            assert (method, sequence, str(event["STATUS"])) == ("CANCEL", 1, "CANCELLED")
        assert len(later) == 5
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
