"""Messages follow their reader: one group, three languages, one calendar event.

A round with an English, a Swedish and a German member goes out through the real outbox and a
real SMTP server (aiosmtpd on 127.0.0.1): each member's email, text and calendar are in their
own language, while UID, SEQUENCE, DTSTART and DTEND are the same for all three. A chat
channel's announcement speaks the programme's language.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import select

from core.channels import configured_channels
from core.db import db
from core.dispatch import send_due
from core.models import Delivery, Group
from core.outbox import Outbox
from core.programmes import ensure_default_programme
from core.rounds import run_round
from integrations.base import MessageKind
from integrations.payload import message_from_dict
from tests.conftest import settings_of
from tests.core.helpers import add_person
from web.config import current_settings

MONDAY = date(2027, 1, 4)
#: How each reader's message says the day of the break (core.i18n.format_when's shapes).
DAY_WORDS = {"en": "Mon 04 Jan 2027, ", "sv": "måndag 4 januari ", "de": "Montag, 4. Januar, "}


@pytest.fixture
def mail_app(make_app, smtp_server):
    return make_app(FIKA_SMTP_URL=smtp_server.url(), FIKA_OUTBOX_DIR=None)


def three_languages() -> dict[str, str]:
    """An English, a Swedish and a German colleague in three departments: email -> language."""
    people = {"erin@example.org": "en", "sven@example.org": "sv", "dora@example.org": "de"}
    for (email, language), department in zip(people.items(), ["Sales", "Legal", "IT"], strict=True):
        person = add_person(email, department, topics=["chess"])
        person.language = None if language == "en" else language  # en: the default, unset
        db.session.commit()
    return people


def plain_text(mail) -> str:
    alternative, _attachment = mail.get_payload()
    return alternative.get_payload()[0].get_content()


def calendar_event(mail) -> icalendar.Event:
    _alternative, attachment = mail.get_payload()
    calendar = icalendar.Calendar.from_ical(attachment.get_payload(decode=True))
    (event,) = calendar.walk("VEVENT")
    return event


def test_one_group_three_readers_three_languages_one_event(app, mail_app, smtp_server):
    with mail_app.app_context():
        languages = three_languages()
        programme = ensure_default_programme(current_settings().timezone)
        assert run_round(current_settings(), programme, MONDAY).created
        (group,) = db.session.scalars(select(Group))
        assert len(group.members) == 3
        group_uid = group.uid
        payloads = {
            r.recipient: r.payload for r in db.session.scalars(select(Delivery)) if r.payload
        }
        # The payload names the reader's language only when they chose one: rows stay small.
        assert payloads["sven@example.org"]["language"] == "sv"
        assert "language" not in payloads["erin@example.org"]
        assert send_due(configured_channels(settings_of(mail_app))).sent == 3

    mails = {m.rcpt_tos[0]: m.message for m in smtp_server.messages}
    assert set(mails) == set(languages)
    events = {email: calendar_event(mail) for email, mail in mails.items()}
    same = {
        (str(e["UID"]), int(e["SEQUENCE"]), e.decoded("DTSTART"), e.decoded("DTEND"))
        for e in events.values()
    }
    assert len(same) == 1  # one event, whatever language it is written in
    (uid, sequence, start, end) = same.pop()
    assert (uid, sequence, end - start) == (group_uid, 0, timedelta(minutes=15))

    en, sv, de = (mails[e] for e in ("erin@example.org", "sven@example.org", "dora@example.org"))
    assert en["Subject"] == "Fika: Erin, Sven and Dora"
    assert sv["Subject"] == "Fika: Erin, Sven och Dora"
    assert de["Subject"] == "Fika: Erin, Sven und Dora"
    assert str(events["sven@example.org"]["SUMMARY"]) == "Fika: Erin, Sven och Dora"
    assert str(events["dora@example.org"]["SUMMARY"]) == "Fika: Erin, Sven und Dora"

    english = plain_text(en)
    assert english.startswith("Hello Erin,")
    assert "Why you were matched" in english and "Answer in one click" in english
    swedish = plain_text(sv)
    assert swedish.startswith("Hej Sven!")
    assert "Därför blev ni ihopparade" in swedish and "Svara med ett klick" in swedish
    assert "alla 3 nyfikna på chess" in swedish  # the reason, translated whole
    german = plain_text(de)
    assert german.startswith("Hallo Dora,")
    assert "Darum trefft ihr euch" in german and "Antworte mit einem Klick" in german
    assert "Why you were matched" not in swedish + german
    for email, words in (("erin@example.org", english), ("sven@example.org", swedish)):
        assert DAY_WORDS[languages[email]] in words
    assert DAY_WORDS["de"] in german
    # Every reader sees every member's local time in their own language's shape.
    local = start.astimezone(ZoneInfo("Europe/Stockholm"))
    assert f"måndag 4 januari {local:%H:%M}–" in swedish
    assert f"Montag, 4. Januar, {local:%H:%M}–" in german
    description = str(events["dora@example.org"]["DESCRIPTION"])
    assert "Darum trefft ihr euch" in description and "Wann" in description


def test_reminder_and_checkin_in_the_readers_language(app, mail_app, smtp_server):
    with mail_app.app_context():
        three_languages()
        settings = current_settings()
        programme = ensure_default_programme(settings.timezone)
        assert run_round(settings, programme, MONDAY).created
        (group,) = db.session.scalars(select(Group))
        dora = next(s.person for s in group.members if s.person.email == "dora@example.org")
        now = datetime.now(UTC)
        outbox = Outbox(settings)
        rows = outbox.nudge_rows(MessageKind.REMINDER, f"reminder-{group.uid}", group, dora, now)
        links = {"met": "https://fika.example.org/c/1", "not_met": "https://fika.example.org/c/2"}
        rows += outbox.nudge_rows(
            MessageKind.CHECKIN, f"checkin-{group.uid}", group, dora, now, links
        )
        assert {message_from_dict(r["payload"]).language for r in rows} == {"de"}
        outbox.write(rows)
        db.session.commit()
        db.session.execute(  # only the nudges: the invites were sent in the test above
            Delivery.__table__.update().where(Delivery.kind == "invite").values(status="sent")
        )
        db.session.commit()
        assert send_due(configured_channels(settings_of(mail_app))).sent == 2

    reminder, checkin = (m.message for m in smtp_server.messages)
    assert reminder["Subject"] == "Gleich: Fika: Erin, Sven und Dora"
    body = reminder.get_content().replace("\r\n", "\n")
    assert body.startswith("Hallo Dora,\n")
    assert "gleich beginnt deine Kaffeepause mit Erin und Sven:" in body
    assert "Montag, 4. Januar, " in body
    assert "Du kannst diese Erinnerungen in deinen Fika-Einstellungen abschalten." in body
    assert checkin["Subject"] == "Habt ihr euch getroffen? Fika: Erin, Sven und Dora"
    text = checkin.get_content().replace("\r\n", "\n")
    assert "hat deine Kaffeepause mit Erin und Sven stattgefunden?" in text
    assert "Wir haben uns getroffen: https://fika.example.org/c/1" in text
    assert "Es hat nicht geklappt: https://fika.example.org/c/2" in text


def test_the_channel_announcement_speaks_the_programmes_language(app, make_app, httpserver):
    posted: list[str] = []

    def webhook(request):
        from werkzeug import Response

        posted.append(request.get_json()["text"])
        return Response("ok", status=200)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(webhook)
    hooked = make_app(FIKA_SLACK_WEBHOOK_URL=httpserver.url_for("/hook"))
    with hooked.app_context():
        three_languages()  # the members' own languages do not matter in a shared channel
        programme = ensure_default_programme(current_settings().timezone)
        programme.language = "sv"
        db.session.commit()
        assert run_round(current_settings(), programme, MONDAY).created
        channels = {"slack_webhook": configured_channels(settings_of(hooked))["slack_webhook"]}
        assert send_due(channels).sent == 1
    assert posted == [
        "Dagens fikor är ute: 3 personer, 3 avdelningar, 0 % blandar kontor och hemma"
    ]


def test_a_button_answer_is_in_the_persons_language(app):
    from core.answers import apply_answer

    with app.app_context():
        three_languages()
        settings = current_settings()
        assert run_round(settings, ensure_default_programme(settings.timezone), MONDAY).created
        (group,) = db.session.scalars(select(Group))
        seats = {s.person.email: s.person for s in group.members}
        now = group.start_at - timedelta(days=1)
        german = apply_answer(settings, seats["dora@example.org"], group, "in", now)
        english = apply_answer(settings, seats["erin@example.org"], group, "in", now)
        swedish = apply_answer(settings, seats["sven@example.org"], group, "pause_week", now)
    assert german.startswith("Super, du bist dabei: Montag, 4. Januar, ")
    assert english.startswith("Great, you're in for Monday 4 January at ")
    assert swedish.startswith("Pausad till söndag 10 januari, och 1 kommande fika är borttagen.")
