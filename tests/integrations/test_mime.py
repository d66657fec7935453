"""The MIME writer: what it writes parses back, with the ``email`` package, to what went in."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations import mime
from integrations.base import Attendee, Message
from integrations.email import build_email, render_email, render_nudge_email
from tests.integrations.builders import ANA, make_invite, messages_for

FROM = "fika@example.org"


def lines_of(raw: bytes) -> list[bytes]:
    assert not re.search(rb"(?<!\r)\n|\r(?!\n)", raw), "a bare CR or LF"
    return raw.split(b"\r\n")


def test_an_invite_is_crlf_only_with_short_lines_and_7bit_when_ascii_addresses():
    raw = render_email(messages_for(make_invite())[0], FROM)
    lines = lines_of(raw)
    assert max(len(line) for line in lines) <= 78  # RFC 5322 recommends 78, requires 998
    assert raw.isascii()  # quoted-printable, base64 and encoded words: safe on any relay
    assert lines.count(b"MIME-Version: 1.0") == 1


def test_the_boundaries_differ_per_level_and_never_occur_in_a_part():
    message = messages_for(make_invite())[0]
    raw = render_email(message, FROM)
    outer, inner = mime.boundary(message.key, 1), mime.boundary(message.key, 2)
    assert outer != inner
    assert raw.count(f"--{outer}".encode()) == 3  # two parts, one closing delimiter
    assert raw.count(f"--{inner}".encode()) == 4  # three parts, one closing delimiter


def test_non_ascii_and_special_names_round_trip_through_the_headers():
    people = (
        Attendee("Zoë O'Brien, Jr.", "zoe@example.org", "Europe/Dublin"),
        Attendee('Ann "the boss" Lee', "ann@example.org", "Europe/London"),
        Attendee("Łukasz Żółć-Świętochowski von und zu Ärger-Großmann", "lz@example.org", "UTC"),
    )
    summary = "Fika: " + ", ".join(p.name for p in people) + " — " + "ünïcödé " * 8
    message = Message("group", make_invite(attendees=people, summary=summary))
    email = build_email(message, FROM, "Fika på Kontoret")
    assert email["Subject"] == summary
    assert [(a.display_name, a.addr_spec) for a in email["To"].addresses] == [
        (p.name, p.email) for p in people
    ]
    assert email["From"].addresses[0].display_name == "Fika på Kontoret"
    assert max(len(line) for line in lines_of(render_email(message, FROM))) <= 998


def test_a_large_group_folds_its_to_header_one_address_per_line():
    people = tuple(Attendee(f"Person {i}", f"p{i}@example.org", "UTC") for i in range(8))
    raw = render_email(Message("group", make_invite(attendees=people)), FROM)
    to = raw[raw.index(b"\r\nTo: ") + 2 : raw.index(b"\r\nDate: ")]
    assert to.count(b"\r\n ") == 7
    assert [a.addr_spec for a in mime.parse(raw)["To"].addresses] == [p.email for p in people]


@pytest.mark.parametrize(
    "change",
    [
        {"summary": "Fika\r\nBcc: victim@example.net"},
        {"summary": "Fika\nBcc: victim@example.net"},
        {"attendees": (Attendee("Eve\rBcc: x@example.net", "eve@example.org", "UTC"),)},
        {"attendees": (Attendee("Eve", "eve@example.org>\r\nBcc: x@example.net", "UTC"),)},
        {"attendees": (Attendee("Eve", "eve@example.org, x@example.net", "UTC"),)},
        {"attendees": (Attendee("Eve", "not-an-address", "UTC"),)},
    ],
    ids=["crlf-subject", "lf-subject", "cr-name", "crlf-address", "two-addresses", "no-at"],
)
def test_header_injection_and_bad_addresses_are_refused(change):
    message = Message("bad", make_invite(**change))
    with pytest.raises(ValueError, match="line break|not an email address|CR or LF"):
        render_email(message, FROM)


def test_an_unsubscribe_url_with_a_line_break_is_refused():
    message = replace(messages_for(make_invite())[0], unsubscribe_url="https://x/\r\nBcc: v@x")
    with pytest.raises(ValueError, match="line break"):
        render_email(message, FROM)


def test_a_nudge_is_one_quoted_printable_text_part():
    message = replace(messages_for(make_invite())[0], kind="reminder")
    email = mime.parse(render_nudge_email(message, FROM))
    assert not email.is_multipart()
    assert email.get_content_type() == "text/plain"
    assert email["Content-Transfer-Encoding"] == "quoted-printable"
    assert email["Subject"] == f"Soon: {make_invite().summary}"
    assert f"Hi {ANA.name.split()[0]}," in email.get_content()


texts = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"), max_size=300
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# In a display name a run of white space means one space (RFC 5322 3.2.2): names come normalised.
@given(starter=texts, name=texts.filter(lambda s: " ".join(s.split()) == s))
def test_any_text_survives_the_body_and_any_name_the_header(starter, name):
    # Text that looks like a boundary, a dot line, "From " or trailing spaces included.
    starter = f"--{mime.boundary('k', 1)}\n.\nFrom me \n{starter}"
    member = Attendee(name, "x@example.org", "UTC")
    invite = make_invite(starter=starter, attendees=(member, *make_invite().attendees[1:]))
    message = Message("k", invite, member)
    email = build_email(message, FROM)
    alternative, attachment = email.get_payload()
    plain, _html, calendar = alternative.get_payload()
    assert starter in plain.get_content().replace("\r\n", "\n")
    assert calendar.get_content().encode() == attachment.get_content()
    assert email["To"].addresses[0].addr_spec == "x@example.org"
    assert email["To"].addresses[0].display_name == name
