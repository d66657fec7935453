"""The words of messages in each language: dates through Babel, plurals, reasons, starters,
Slack and Teams, and rows written before languages existed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from core.i18n import format_day, format_number, format_span, format_when, ngettext, using
from integrations import nudges
from integrations.base import Message, MessageKind
from integrations.email import build_email
from integrations.invite_text import render_text, summary_for
from integrations.payload import message_from_dict, message_to_dict
from integrations.reasons import translate_reason
from integrations.slack_blocks import announcement_text, group_message
from integrations.starters import STARTERS, translate_starter
from integrations.teams_cards import group_card
from tests.fakes_chat import FakeSlackApi, make_message
from tests.integrations.builders import BEN, make_invite, messages_for

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NINE = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # 09:00 in Stockholm and Berlin


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("sv", "måndag 7 december 09:00"),
        ("de", "Montag, 7. Dezember, 09:00"),
        ("en", "Mon 07 Dec 2026, 09:00"),
    ],
)
def test_a_moment_reads_as_its_readers_say_it(language, expected):
    assert format_when(NINE, STOCKHOLM, language) == expected
    with using(language):  # the current language when none is given
        assert format_when(NINE, STOCKHOLM) == expected


def test_spans_days_and_numbers_follow_the_locale():
    end = NINE.replace(minute=30)
    assert format_span(NINE, end, STOCKHOLM, "de") == "Montag, 7. Dezember, 09:00–09:30"
    assert format_span(NINE, end, ZoneInfo("America/New_York"), "sv") == (
        "måndag 7 december 03:00–03:30"
    )
    assert format_day(NINE.date(), "sv") == "måndag 7 december"
    assert format_day(NINE.date(), "de") == "Montag, 7. Dezember"
    assert (format_number(0.5, "de"), format_number(0.5, "sv"), format_number(0.5, "en")) == (
        "0,5",
        "0,5",
        "0.5",
    )


@pytest.mark.parametrize(
    ("language", "one", "many"),
    [
        ("en", "1 person", "3 people"),
        ("sv", "1 person", "3 personer"),
        ("de", "1 Person", "3 Personen"),
    ],
)
def test_plurals_pick_the_form_for_the_number(language, one, many):
    with using(language):
        assert ngettext("%(num)d person", "%(num)d people", 1) == one
        assert ngettext("%(num)d person", "%(num)d people", 3) == many
        assert announcement_text(1, 2, 0.5).startswith(
            {"en": "Today's", "sv": "Dagens", "de": "Die heutigen"}[language]
        )


@pytest.mark.parametrize(
    ("stored", "sv", "de"),
    [
        ("first time you meet", "första gången ni ses", "ihr trefft euch zum ersten Mal"),
        (
            "you last met 1 round ago",
            "ni sågs senast för 1 omgång sedan",
            "ihr habt euch zuletzt vor 1 Runde getroffen",
        ),
        (
            "Ana and Ben met 3 rounds ago; nobody new was free at the same time",
            "Ana och Ben sågs för 3 omgångar sedan; ingen ny var ledig samtidigt",
            "Ana und Ben haben sich vor 3 Runden getroffen; niemand Neues war zur selben Zeit frei",
        ),
        ("Sales meets Legal", "Sales möter Legal", "Sales trifft Legal"),
        (
            "in person at the Stockholm office",
            "på plats på kontoret i Stockholm",
            "vor Ort im Büro Stockholm",
        ),
        (
            "Stockholm office + remote",
            "kontoret i Stockholm + på distans",
            "Büro Stockholm + remote",
        ),
        (
            "Stockholm office + Berlin office, by video",
            "kontoret i Stockholm + kontoret i Berlin, via video",
            "Büro Stockholm + Büro Berlin, per Video",
        ),
        ("all remote, by video", "alla på distans, via video", "alle remote, per Video"),
        (
            "both curious about chess and go",
            "båda nyfikna på chess och go",
            "beide neugierig auf chess und go",
        ),
        (
            "the only 30 minutes that suit all three of you",
            "de enda 30 minuterna som passar alla 3",
            "die einzigen 30 Minuten, die euch allen 3 passen",
        ),
        ("Sales, Legal and IT", "Sales, Legal och IT", "Sales, Legal und IT"),
        ("something Fika never wrote", "something Fika never wrote", "something Fika never wrote"),
    ],
)
def test_stored_reasons_are_translated_whole(stored, sv, de):
    assert translate_reason(stored) == stored  # English (the default) shows them as stored
    with using("sv"):
        assert translate_reason(stored) == sv
    with using("de"):
        assert translate_reason(stored) == de


def test_every_conversation_starter_is_translated():
    for language in ("sv", "de"):
        with using(language):
            translated = [translate_starter(s) for s in STARTERS]
        assert all(t != s for t, s in zip(translated, STARTERS, strict=True)), language
        assert len(set(translated)) == len(STARTERS)
    with using("de"):
        assert translate_starter(STARTERS[0]) == "Was hast du diese Woche gelernt?"


def test_summary_lists_names_in_the_language():
    assert summary_for(["Ana", "Ben", "Chen"]) == "Fika: Ana, Ben and Chen"
    with using("sv"):
        assert summary_for(["Ana", "Ben", "Chen"]) == "Fika: Ana, Ben och Chen"


def test_a_message_is_rendered_in_its_own_language_whatever_surrounds_it():
    message = replace(messages_for(make_invite())[1], language="de")
    with using("sv"):
        mail = build_email(message, "fika@example.org")
    assert mail["Subject"] == "Fika: Ana, Ben und Chen"
    body = mail.get_body(("plain",)).get_content()
    assert body.startswith("Hallo Ben Okafor,")
    assert "Mittwoch, 12. März, 09:00–09:30 EDT (America/New_York)" in body
    assert "Was hast du diese Woche gelernt?" in body


def test_an_old_row_without_a_language_reads_in_the_organisations(monkeypatch):
    message = messages_for(make_invite())[0]
    stored = message_to_dict(message)
    assert "language" not in stored  # rows as they were before languages
    assert message_from_dict(stored).language is None
    assert message_from_dict({**stored, "language": "sv"}).language == "sv"
    assert build_email(message, "fika@example.org")["Subject"].startswith("Fika: Ana")
    monkeypatch.setenv("FIKA_LANGUAGE", "de")
    text = render_text(message.invite, message.recipient)
    assert text.startswith("Hallo Ana Álvarez,") and "Warum" not in text and "Wann" in text


def test_pause_offer_in_swedish():
    invite = make_invite()
    message = Message(
        key="pause-1",
        invite=invite,
        recipient=BEN,
        kind=MessageKind.PAUSE_OFFER,
        links={"pause_2w": "https://fika.example.org/p/2", "keep": "https://fika.example.org/k"},
        language="sv",
    )
    with using(message.language):
        subject, text = nudges.subject_for(message), nudges.render_nudge_text(message)
    assert subject == "Vill du pausa fikorna ett tag?"
    assert text.startswith("Hej Ben!\n")
    assert "Pausa i två veckor: https://fika.example.org/p/2" in text
    assert "Fortsätt skicka fikor: https://fika.example.org/k" in text


def test_a_slack_group_message_uses_the_language_it_carries():
    """The outbox gives a group's chat message the programme's language; Slack posts it so."""
    from integrations.slack import SlackChannel
    from tests.fakes_chat import SLACK_TOKEN, FakeClock

    users = {f"person{i}@example.org": f"U0{i}AAAA" for i in range(3)}
    with FakeSlackApi(users) as fake:
        clock = FakeClock()
        channel = SlackChannel(SLACK_TOKEN, api_url=fake.api_url, clock=clock, sleep=clock.sleep)
        assert channel.send([replace(make_message(3), language="de")]) == [None]
        fake.check()
        (posted,) = fake.of("chat.postMessage")
    texts = [b["text"]["text"] for b in posted.params["blocks"] if b["type"] == "section"]
    assert any(t.startswith("*Wer*") for t in texts)
    assert any(t.startswith("*Wann*, in der Zeit jeder Person") for t in texts)
    buttons = next(b for b in posted.params["blocks"] if b["type"] == "actions")["elements"]
    assert [b["text"]["text"] for b in buttons] == [
        "Ich bin dabei",
        "Ich kann nicht",
        "Pausiere mich eine Woche",
        "Andere Zeit vorschlagen",
    ]
    assert "Kaffee mit" in posted.params["text"]


def test_slack_and_teams_speak_the_current_language():
    invite = make_invite()
    with using("sv"):
        text, blocks = group_message(invite, {})
        card = group_card(invite, {"in": "https://fika.example.org/a/1"})
    assert text.startswith("Fika: Ana, Ben och Chen: fika med ")
    assert blocks[0]["text"]["text"] == "Fika: Ana, Ben och Chen"
    assert [a["title"] for a in card["actions"]] == ["Jag är med"]
    headings = [b["text"] for b in card["body"] if b.get("weight") == "Bolder"]
    assert "Vilka och när, i var och ens egen tid" in headings
    assert card["fallbackText"].startswith("Fika: Ana, Ben och Chen: fika med")


def test_slash_command_help_and_errors_in_the_current_language():
    from datetime import date

    from integrations.slack_commands import CommandError, help_text, parse_command

    with using("de"):
        assert help_text().startswith("So geht's: `/fika <Befehl>`")
        assert "(1 bis 365)" in help_text()
        with pytest.raises(CommandError) as caught:
            parse_command("pause for 0 days", date(2026, 12, 7))
    assert caught.value.message == (
        "0 Tage gehen nicht: Pausier 1 bis 365 Tage oder schreib `/fika leave`, um nicht mehr "
        "mitzumachen."
    )
    with using("sv"), pytest.raises(CommandError) as caught:
        parse_command("dance", date(2026, 12, 7))
    assert caught.value.message.startswith("Jag känner inte till `dance`.\n\nSå här gör du:")


def test_a_room_invite_describes_itself_in_the_readers_language():
    from datetime import date, time

    from integrations.base import RoomInvite
    from integrations.room_calendar import describe

    room = RoomInvite(
        uid="fika-room-1-2",
        sequence=0,
        method="REQUEST",
        programme="Kaffeerum",
        days=("mon", "wed"),
        local_time=time(10),
        timezone="Europe/Berlin",
        duration_minutes=15,
        first_day=date(2026, 12, 7),
        room_url="https://video.example.org/room",
        organizer_name="Fika",
        organizer_email="fika@example.org",
        attendee=BEN,
    )
    assert describe(room).startswith("Kaffeerum: a drop-in coffee room, Mon, Wed at 10:00")
    with using("de"):
        text = describe(room)
    assert text.startswith("Kaffeerum: ein offener Kaffeeraum, Mo., Mi. um 10:00 (Europe/Berlin).")
    assert "Raum: https://video.example.org/room" in text


def test_a_shared_calendar_event_is_written_in_the_programmes_language():
    """CalDAV, Graph and Google keep one event per group: its words are the programme's."""
    from core.i18n import current_language
    from integrations.event_sync import event_changes, spread
    from integrations.ical import build_event

    group = replace(make_message(3), language="sv")
    seen = []

    def apply(change):
        seen.append((current_language(), str(build_event(change.invite)["SUMMARY"])))

    (change,) = event_changes([group])
    assert change.language == "sv"
    assert spread([change], 1, apply, "caldav") == [None]
    assert seen == [("sv", "Fika: Person, Person och Person")]
