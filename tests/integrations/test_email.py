"""Email invites: built to iMIP rules and delivered to a real aiosmtpd server on 127.0.0.1."""

from datetime import UTC, datetime, timedelta
from email import message_from_string, policy

import icalendar
import pytest
import vobject
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations import email as email_module
from integrations.base import ConfigError, Message
from integrations.email import EmailChannel, SmtpSettings, build_email, message_id
from tests.integrations.builders import (
    ANA,
    BEN,
    CHEN,
    DST_START,
    MEMBERS,
    make_invite,
    messages_for,
)
from tests.servers import free_port

FROM = "fika@example.org"


def channel_for(server, username=None, password=None) -> EmailChannel:
    settings = SmtpSettings.from_url(server.url(username, password))
    return EmailChannel(settings, FROM, timeout=5, ssl_context=server.client_context)


def calendar_parts(mail):
    """The inline text/calendar part and the attachment, as the email package sees them."""
    mixed = mail.message
    alternative, attachment = mixed.get_payload()
    return alternative.get_payload()[2], attachment


def parsed_event(calendar_bytes: bytes):
    return icalendar.Calendar.from_ical(calendar_bytes), vobject.readOne(calendar_bytes.decode())


# ------------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://127.0.0.1:2525", SmtpSettings("127.0.0.1", 2525, "none")),
        ("smtp://mail.example.org", SmtpSettings("mail.example.org", 25, "none")),
        (
            "smtps://fika%40example.org:p%3Ass%2Fw@smtp.example.org",
            SmtpSettings("smtp.example.org", 465, "tls", "fika@example.org", "p:ss/w"),
        ),
        (
            "smtp+starttls://u:pw@smtp.example.org:587",
            SmtpSettings("smtp.example.org", 587, "starttls", "u", "pw"),
        ),
    ],
)
def test_smtp_urls_are_parsed(url, expected):
    assert SmtpSettings.from_url(url) == expected


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("imap://mail.example.org", "unknown scheme 'imap'"),
        ("mail.example.org:25", "unknown scheme"),
        ("smtp://", "missing host"),
        ("smtp://host:notaport", "not a valid URL"),
        ("smtps://user@host", "no password"),
    ],
)
def test_bad_smtp_urls_name_the_setting(url, why):
    with pytest.raises(ConfigError, match=f"^FIKA_SMTP_URL: .*{why}"):
        SmtpSettings.from_url(url)


# ------------------------------------------------------------------------------- building


def test_message_id_is_stable_per_delivery_key():
    message = messages_for(make_invite())[0]
    first = build_email(message, FROM)
    second = build_email(message, FROM)
    assert first["Message-ID"] == second["Message-ID"] == message_id(message.key, "example.org")
    other = messages_for(make_invite())[1]
    assert build_email(other, FROM)["Message-ID"] != first["Message-ID"]


def test_headers_and_subjects():
    message = messages_for(make_invite())[0]
    email = build_email(message, FROM, "Fika at Example", date=DST_START)
    assert email["From"] == "Fika at Example <fika@example.org>"
    assert email["To"].addresses[0].addr_spec == ANA.email
    assert email["Subject"] == make_invite().summary
    assert email["List-Unsubscribe"] == f"<{message.unsubscribe_url}>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email["Date"].datetime == DST_START
    update = messages_for(make_invite(sequence=1))[0]
    assert build_email(update, FROM)["Subject"].startswith("Updated: Fika: ")
    cancel = messages_for(make_invite(method="CANCEL", sequence=2))[0]
    assert build_email(cancel, FROM)["Subject"].startswith("Cancelled: Fika: ")
    plain = messages_for(make_invite(), unsubscribe=False)[0]
    assert "List-Unsubscribe" not in build_email(plain, FROM)


def test_a_group_message_goes_to_every_member():
    message = Message(key="group", invite=make_invite())
    to = build_email(message, FROM)["To"].addresses
    assert [a.addr_spec for a in to] == [m.email for m in MEMBERS]


# ------------------------------------------------------------------------ real SMTP server


def test_a_round_of_invites_arrives_with_the_right_structure(smtp_server):
    invite = make_invite(start=DST_START, end=DST_START + timedelta(minutes=30))
    messages = messages_for(invite)
    assert channel_for(smtp_server).send(messages) == [None, None, None]

    assert [m.rcpt_tos for m in smtp_server.messages] == [[a.email] for a in MEMBERS]
    for mail, member, message in zip(smtp_server.messages, MEMBERS, messages, strict=True):
        assert mail.mail_from == FROM
        email = mail.message
        assert email.get_content_type() == "multipart/mixed"
        alternative, attachment = email.get_payload()
        assert alternative.get_content_type() == "multipart/alternative"
        plain, html, inline = alternative.get_payload()
        assert plain.get_content_type() == "text/plain"
        assert html.get_content_type() == "text/html"
        assert inline.get_content_type() == "text/calendar"
        assert inline.get_param("method") == "REQUEST"
        assert inline.get_content_charset() == "utf-8"
        assert attachment.get_content_type() == "application/ics"
        assert attachment.get_filename() == "invite.ics"
        assert attachment.get_content_disposition() == "attachment"
        assert email["Message-ID"] == message_id(message.key, "example.org")
        assert email["List-Unsubscribe"] == f"<{message.unsubscribe_url}>"
        assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert f"Hello {member.name}," in plain.get_content()
        assert f"Hello {member.name}," in html.get_content()

        raw = inline.get_content().encode()
        assert raw == attachment.get_content()  # the same calendar twice, byte for byte
        assert b"\r\n" in raw  # RFC 5545 line ends survive the MIME round trip
        calendar, vcal = parsed_event(raw)
        event = calendar.walk("VEVENT")[0]
        assert calendar["METHOD"] == inline.get_param("method") == vcal.method.value
        # Two independent parsers agree on the instants, on the day Europe changes its clocks.
        assert event.decoded("DTSTART") == vcal.vevent.dtstart.value == DST_START
        assert event.decoded("DTEND") == vcal.vevent.dtend.value == invite.end
        assert vcal.vevent.organizer.value == "mailto:fika@example.org"
        assert vcal.vevent.organizer.params["CN"] == ["Fika"]
        attendees = {a.value: a.params for a in vcal.vevent.attendee_list}
        assert set(attendees) == {f"mailto:{m.email}" for m in MEMBERS}
        for params in attendees.values():
            assert params["ROLE"] == ["REQ-PARTICIPANT"] and params["RSVP"] == ["TRUE"]
            assert params["PARTSTAT"] == ["NEEDS-ACTION"]
        assert vcal.vevent.summary.value == invite.summary
        assert invite.video_url in vcal.vevent.location.value
        description = vcal.vevent.description.value
        assert invite.starter in description and invite.reasons[0] in description
        assert "03:30–04:00 CEST" in description  # Ana's local time, already on summer time


def test_request_update_cancel_lifecycle_for_one_uid(smtp_server):
    channel = channel_for(smtp_server)
    first = make_invite()
    moved = make_invite(sequence=1, start=first.start + timedelta(hours=1))
    cancelled = make_invite(sequence=2, method="CANCEL", start=moved.start)
    for invite in (first, moved, cancelled):
        assert channel.send(messages_for(invite)[:1]) == [None]

    seen = []
    for mail in smtp_server.messages:
        inline, _ = calendar_parts(mail)
        calendar, vcal = parsed_event(inline.get_content().encode())
        event = calendar.walk("VEVENT")[0]
        seen.append(
            (
                str(event["UID"]),
                int(event["SEQUENCE"]),
                str(calendar["METHOD"]),
                inline.get_param("method"),
                str(event["STATUS"]),
                event.decoded("DTSTART"),
                vcal.vevent.dtstart.value,
                mail.message["Subject"].split(":")[0],
            )
        )
    uid = first.uid
    assert seen == [
        (uid, 0, "REQUEST", "REQUEST", "CONFIRMED", first.start, first.start, "Fika"),
        (uid, 1, "REQUEST", "REQUEST", "CONFIRMED", moved.start, moved.start, "Updated"),
        (uid, 2, "CANCEL", "CANCEL", "CANCELLED", moved.start, moved.start, "Cancelled"),
    ]


def test_451_is_transient_then_the_resend_succeeds(smtp_server):
    smtp_server.fail_next("451 4.3.0 Try again later")
    channel = channel_for(smtp_server)
    messages = messages_for(make_invite())
    outcomes = channel.send(messages)
    assert outcomes[0] is not None and outcomes[0].transient and "451" in outcomes[0].reason
    assert outcomes[1:] == [None, None]  # the rest of the batch went through
    assert channel.send(messages[:1]) == [None]
    assert [m.rcpt_tos for m in smtp_server.messages] == [[BEN.email], [CHEN.email], [ANA.email]]


def test_550_is_permanent_and_does_not_stop_the_batch(smtp_server):
    smtp_server.fail_next("550 5.1.1 No such user", at="RCPT")
    outcomes = channel_for(smtp_server).send(messages_for(make_invite()))
    assert outcomes[0] is not None and not outcomes[0].transient and "550" in outcomes[0].reason
    assert outcomes[1:] == [None, None]
    assert len(smtp_server.messages) == 2


def test_a_dropped_connection_is_reopened_for_the_rest(smtp_server):
    smtp_server.fail_next("421 4.3.2 Service shutting down")
    outcomes = channel_for(smtp_server).send(messages_for(make_invite()))
    assert outcomes[0] is not None and outcomes[0].transient
    assert outcomes[1:] == [None, None]


def test_starttls_with_login(smtp_server_factory):
    server = smtp_server_factory("starttls", credentials={"fika@example.org": "p:ss/w"})
    channel = channel_for(server, "fika%40example.org", "p%3Ass%2Fw")
    assert channel.send(messages_for(make_invite())) == [None, None, None]
    assert server.handler.logins == ["fika@example.org"]  # one login: one connection per batch
    assert len(server.messages) == 3


def test_implicit_tls_with_login(smtp_server_factory):
    server = smtp_server_factory("tls", credentials={"fika": "pw"})
    assert channel_for(server, "fika", "pw").send(messages_for(make_invite())[:1]) == [None]
    assert len(server.messages) == 1
    assert server.handler.logins == ["fika"]


def test_a_wrong_password_is_permanent(smtp_server_factory):
    server = smtp_server_factory("starttls", credentials={"fika": "pw"})
    outcomes = channel_for(server, "fika", "wrong").send(messages_for(make_invite()))
    assert all(o is not None and not o.transient for o in outcomes)
    assert server.messages == []


def test_an_unreachable_server_is_transient_for_every_message():
    settings = SmtpSettings.from_url(f"smtp://127.0.0.1:{free_port()}")
    outcomes = EmailChannel(settings, FROM, timeout=2).send(messages_for(make_invite()))
    assert len(outcomes) == 3
    assert all(o is not None and o.transient and "cannot connect" in o.reason for o in outcomes)


def test_non_ascii_names_survive_the_headers(smtp_server):
    # A member whose name needs RFC 2047 encoding, on the day the US falls back.
    invite = make_invite(start=datetime(2025, 11, 2, 5, 30, tzinfo=UTC))
    assert channel_for(smtp_server).send(messages_for(invite)[:1]) == [None]
    assert smtp_server.messages[0].message["To"].addresses[0].display_name == ANA.name


def test_starttls_missing_on_the_server_is_permanent(smtp_server):
    settings = SmtpSettings.from_url(f"smtp+starttls://{smtp_server.host}:{smtp_server.port}")
    outcomes = EmailChannel(settings, FROM, timeout=5).send(messages_for(make_invite())[:2])
    assert all(o is not None and not o.transient and "STARTTLS" in o.reason for o in outcomes)


def test_header_injection_is_refused_for_that_message_only(smtp_server):
    evil = ANA.__class__("Eve\r\nBcc: victim@example.net", "eve@example.org")
    bad = Message("evil", make_invite(attendees=(evil,)), evil)
    outcomes = channel_for(smtp_server).send([bad, *messages_for(make_invite())[:1]])
    assert outcomes[0] is not None and not outcomes[0].transient
    assert outcomes[1] is None
    assert [m.rcpt_tos for m in smtp_server.messages] == [[ANA.email]]


def test_each_message_in_a_mixed_batch_carries_its_own_groups_calendar(smtp_server):
    # The channel builds a group's calendar once for its consecutive members; a batch that
    # interleaves groups must still give everyone their own group's event.
    first, second = make_invite(), make_invite(uid="round-7-group-4@fika.example.org", sequence=1)
    batch = [*messages_for(first)[:2], messages_for(second)[0], messages_for(first)[2]]
    assert channel_for(smtp_server).send(batch) == [None] * 4
    uids = []
    for mail in smtp_server.messages:
        inline, attachment = calendar_parts(mail)
        event = icalendar.Calendar.from_ical(attachment.get_content()).walk("VEVENT")[0]
        uids.append((str(event["UID"]), int(event["SEQUENCE"])))
    assert uids == [(first.uid, 0), (first.uid, 0), (second.uid, 1), (first.uid, 0)]


def test_an_internationalised_address_goes_with_smtputf8(smtp_server_factory):
    server = smtp_server_factory(smtputf8=True)
    jose = ANA.__class__("José Núñez", "josé@exämple.org", "Europe/Madrid")
    message = Message("utf8", make_invite(attendees=(jose, BEN)), jose)
    assert channel_for(server).send([message]) == [None]
    assert server.messages[0].rcpt_tos == [jose.email]
    # RFC 6532: the headers carry the address as UTF-8 (the email package parses text for that).
    received = message_from_string(server.messages[0].data.decode(), policy=policy.SMTPUTF8)
    assert received["To"].addresses[0].addr_spec == jose.email
    assert received["To"].addresses[0].display_name == jose.name


def test_an_internationalised_address_is_dead_when_the_server_lacks_smtputf8(smtp_server):
    jose = ANA.__class__("José Núñez", "josé@exämple.org", "Europe/Madrid")
    message = Message("utf8", make_invite(attendees=(jose, BEN)), jose)
    ascii_message = messages_for(make_invite())[1]
    outcomes = channel_for(smtp_server).send([message, ascii_message])
    assert outcomes[0] is not None and not outcomes[0].transient
    assert "SMTPUTF8" in outcomes[0].reason and jose.email in outcomes[0].reason
    assert outcomes[1] is None  # the connection still serves the rest of the batch
    assert [m.rcpt_tos for m in smtp_server.messages] == [[BEN.email]]


def test_rendered_bytes_equal_the_uncached_path_for_mixed_languages_and_updates(monkeypatch):
    """The channel (calendars written directly and shared by a group's members) sends the
    bytes the plain icalendar path renders per member: in each reader's language, and for an
    update with a higher SEQUENCE none of the first version's calendar."""
    from dataclasses import replace

    from integrations import ical, invite_text
    from integrations.email import render_email

    channel = EmailChannel(SmtpSettings("localhost", 25), FROM)
    date = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    first = make_invite()
    update = replace(first, sequence=1, start=first.start + timedelta(hours=1),
                     end=first.end + timedelta(hours=1))  # fmt: skip
    versions = []
    for invite in (first, update):
        versions.append([
            replace(message, language=language)
            for message, language in zip(messages_for(invite), ("sv", "de", "en"), strict=True)
        ])  # fmt: skip
    assert ical._plain_lines(first, True) is not None  # the direct writer serves these
    monkeypatch.setattr("integrations.email.datetime", _FixedNow(date))
    sent = [[channel.render(m) for m in messages] for messages in versions]
    # the reference: icalendar writes every calendar, group texts rendered for each member
    monkeypatch.setattr(ical, "_plain_lines", lambda invite, with_method: None)
    for name in ("_group_text", "_group_html"):
        monkeypatch.setattr(invite_text, name, getattr(invite_text, name).__wrapped__)
    reference = [
        [render_email(m, FROM, date=date) for m in messages] for messages in versions
    ]  # fmt: skip
    assert sent == reference
    calendars = {raw.split(b"invite.ics")[1] for raw in sent[0] + sent[1]}
    assert len(calendars) == 6  # three languages, two versions: no member got another's
    assert b"SEQUENCE:1" in _ics(sent[1][1]) and b"SEQUENCE:0" in _ics(sent[0][1])


class _FixedNow:
    """``datetime`` for integrations.email whose now() is fixed (the Date header)."""

    def __init__(self, moment: datetime):
        self.moment = moment

    def now(self, tz=None):
        return self.moment


def _ics(raw: bytes) -> bytes:
    """The decoded invite.ics attachment of a rendered message."""
    import email as email_package

    parsed = email_package.message_from_bytes(raw, policy=policy.default)
    for part in parsed.walk():
        if part.get_filename() == "invite.ics":
            return part.get_payload(decode=True)
    raise AssertionError("no invite.ics")


@settings(max_examples=500, deadline=None)
@given(st.from_regex(email_module._PLAIN_ADDRESS, fullmatch=True))
def test_plain_addresses_are_written_as_smtplib_quotes_them(address):
    import smtplib

    assert smtplib.quoteaddr(address) == f"<{address}>"


@pytest.mark.parametrize("options", [(), ("size=1234",), ("size=9", "BODY=8BITMIME")])
@pytest.mark.parametrize("address", ["ana@example.org", "a.b+c@x-y.example", "Ben <b@x.org>"])
def test_mail_and_rcpt_commands_are_smtplibs(address, options):
    """The commands sent for MAIL FROM and RCPT TO, byte for byte, as smtplib's own."""
    import smtplib

    def commands(cls):
        sent = []
        client = cls()
        client.does_esmtp = True
        client.putcmd = lambda cmd, args="": sent.append((cmd, args))
        client.getreply = lambda: (250, b"OK")
        client.mail(address, options)
        client.rcpt(address, options)
        return sent

    assert commands(email_module._SMTP) == commands(smtplib.SMTP)
