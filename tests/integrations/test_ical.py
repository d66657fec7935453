"""The iCalendar object, read back by two independent parsers (icalendar and vobject)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import vobject
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar.parser import Contentline

from integrations import ical
from integrations.ical import PRODID, build_calendar, calendar_of, fold
from tests.integrations.builders import ANA, DST_START, MEMBERS, make_invite


def parse_both(data: bytes):
    """The VEVENT as icalendar and vobject see it."""
    ical_event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    vobj = vobject.readOne(data.decode("utf-8"))
    return icalendar.Calendar.from_ical(data), ical_event, vobj


def test_request_has_every_property():
    invite = make_invite()
    calendar, event, _ = parse_both(build_calendar(invite))
    assert calendar["METHOD"] == "REQUEST"
    assert calendar["PRODID"] == PRODID
    assert calendar["VERSION"] == "2.0"
    assert event["UID"] == invite.uid
    assert event["SEQUENCE"] == 0
    assert event["STATUS"] == "CONFIRMED"
    assert event["SUMMARY"] == invite.summary
    assert event["URL"] == invite.video_url
    assert invite.video_url in event["LOCATION"]
    description = str(event["DESCRIPTION"])
    for text in (invite.video_url, invite.reasons[0], invite.starter, "EDT", "CET", "IST"):
        assert text in description
    assert event.decoded("DTSTART") == invite.start
    assert event.decoded("DTEND") == invite.end
    assert event.decoded("DTSTAMP") == invite.start  # no stamp given: falls back to start
    organizer = event["ORGANIZER"]
    assert organizer == "mailto:fika@example.org" and organizer.params["CN"] == "Fika"
    attendees = event["ATTENDEE"]
    assert [str(a) for a in attendees] == [f"mailto:{m.email}" for m in MEMBERS]
    for attendee, member in zip(attendees, MEMBERS, strict=True):
        assert attendee.params["CN"] == member.name
        assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
        assert attendee.params["RSVP"] == "TRUE"
        assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
        assert attendee.params["CUTYPE"] == "INDIVIDUAL"


def test_vobject_reads_the_same_event():
    invite = make_invite()
    _, _, vobj = parse_both(build_calendar(invite))
    event = vobj.vevent
    assert vobj.method.value == "REQUEST"
    assert event.uid.value == invite.uid
    assert event.summary.value == invite.summary
    assert [a.value for a in event.attendee_list] == [f"mailto:{m.email}" for m in MEMBERS]
    assert event.attendee_list[0].params["CN"] == [ANA.name]
    assert event.organizer.params["CN"] == ["Fika"]


@pytest.mark.parametrize(
    "start",
    [
        DST_START,  # Europe springs forward
        datetime(2025, 10, 26, 0, 45, tzinfo=UTC),  # Europe falls back
        datetime(2025, 3, 9, 6, 30, tzinfo=UTC),  # US springs forward
        datetime(2025, 11, 2, 5, 30, tzinfo=UTC),  # US falls back
    ],
)
def test_both_parsers_read_the_same_instants_on_dst_dates(start):
    invite = make_invite(start=start)
    _, event, vobj = parse_both(build_calendar(invite))
    assert event.decoded("DTSTART") == vobj.vevent.dtstart.value == start
    assert event.decoded("DTEND") == vobj.vevent.dtend.value == start + timedelta(minutes=30)


def test_output_is_deterministic_and_uses_the_stamp():
    stamp = datetime(2025, 3, 1, 9, 15, tzinfo=UTC)
    invite = make_invite(stamp=stamp)
    assert build_calendar(invite) == build_calendar(invite)
    _, event, _ = parse_both(build_calendar(invite))
    assert event.decoded("DTSTAMP") == stamp


def test_cancel_keeps_uid_raises_sequence_and_is_cancelled():
    invite = make_invite(method="CANCEL", sequence=2)
    calendar, event, vobj = parse_both(build_calendar(invite))
    assert calendar["METHOD"] == "CANCEL" and vobj.method.value == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 2


def test_calendar_for_caldav_has_no_method():
    calendar, _, _ = parse_both(build_calendar(make_invite(), with_method=False))
    assert "METHOD" not in calendar


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="naive"):
        build_calendar(make_invite(start=datetime(2025, 1, 1, 12, 0)))


# --- Folding: integrations.ical folds content lines itself, exactly as icalendar does ----------

_TEXT = st.text(
    alphabet=st.sampled_from(list('ab ;,:"\\^\t') + ["é", "ö", "€", "😀", "中"]), max_size=400
)


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_folding_a_line_matches_icalendar(line):
    folded = fold(line)
    assert folded == Contentline(line).to_ical()
    assert all(len(piece) <= 75 for piece in folded.split(b"\r\n"))
    assert folded.replace(b"\r\n ", b"").decode("utf-8") == line


@settings(max_examples=60, deadline=None)
@given(name=_TEXT.filter(str.strip), site=_TEXT, sequence=st.integers(0, 5))
def test_calendar_bytes_match_icalendar_to_ical(name, site, sequence):
    """The whole calendar, names and places of any length and script, as icalendar writes it."""
    member = replace(ANA, name=name)
    invite = make_invite(attendees=(member, *MEMBERS[1:]), site=site, sequence=sequence)
    for method in ("REQUEST", "CANCEL"):
        invite = replace(invite, method=method)
        assert build_calendar(invite) == icalendar_bytes(invite)


_ANY = st.text(
    alphabet=st.sampled_from(list("ab ;,:\"\\^\t'\n\r\x7f@.") + ["\u2019", "é", "😀", "中"]),
    max_size=120,
)
#: Mostly text the direct writer takes (no control character, caret or double quote).
_PLAIN = st.text(
    alphabet=st.sampled_from(list("ab ;,:\\'@.") + ["\u2019", "é", "😀", "中"]), max_size=120
)
_ANY = st.one_of(_PLAIN, _PLAIN, _PLAIN, _PLAIN, _PLAIN, _ANY)
_STAMPS = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)


def icalendar_bytes(invite, with_method=True) -> bytes:
    """The calendar as icalendar itself writes it from :func:`build_event` (the reference)."""
    return calendar_of(invite, with_method=with_method).to_ical()


@settings(max_examples=400, deadline=None)
@given(
    names=st.lists(_ANY, min_size=1, max_size=4),
    organizer=_ANY,
    emails=_ANY,
    uid=_ANY,
    url=_ANY,
    site=st.none() | _ANY,
    stamp=st.none() | _STAMPS,
    start=_STAMPS,
    mode=st.sampled_from(["virtual", "in_person"]),
    method=st.sampled_from(["REQUEST", "CANCEL"]),
    with_method=st.booleans(),
)
def test_calendar_written_directly_matches_icalendar(
    names, organizer, emails, uid, url, site, stamp, start, mode, method, with_method
):
    """build_calendar writes the lines itself when names and addresses allow (and leaves the
    rest to icalendar): either way the bytes are icalendar's, or both refuse the invite."""
    members = tuple(
        replace(MEMBERS[i % 3], name=name, email=f"{emails}{i}@example.org")
        for i, name in enumerate(names)
    )
    invite = make_invite(
        attendees=members,
        organizer_name=organizer,
        organizer_email=f"fika{emails}@example.org",
        uid=uid,
        video_url=url,
        site=site,
        stamp=stamp,
        start=start,
        mode=mode,
        method=method,
        sequence=len(names),
    )
    try:
        expected = icalendar_bytes(invite, with_method)
    except (ValueError, AssertionError) as error:
        with pytest.raises(type(error)):
            build_calendar(invite, with_method=with_method)
        return
    assert build_calendar(invite, with_method=with_method) == expected


def test_plain_names_take_the_direct_path_and_odd_ones_icalendar(monkeypatch):
    """The direct writer serves ordinary invites (it is the fast path), and a name it cannot
    write plainly (a caret needs RFC 6868 escaping) goes to icalendar, byte-identical."""
    invite = make_invite()
    assert ical._plain_lines(invite, True) is not None
    odd = make_invite(attendees=(replace(ANA, name="Ana ^Boss^\nÁlvarez"), *MEMBERS[1:]))
    assert ical._plain_lines(odd, True) is None
    assert build_calendar(odd) == icalendar_bytes(odd)
    assert b'CN="Ana ^^Boss^^' in build_calendar(odd).replace(b"\r\n ", b"")


def test_a_long_description_is_folded_below_75_octets():
    calendar = build_calendar(make_invite(summary="Fika: " + "Åsa Öberg, " * 30 + "and Ben"))
    lines = calendar.split(b"\r\n")
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)  # something was folded
    event = icalendar.Calendar.from_ical(calendar).walk("VEVENT")[0]
    assert event["SUMMARY"].startswith("Fika: Åsa")
