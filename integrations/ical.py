"""The iCalendar object of a group's break (RFC 5545), as iTIP REQUEST or CANCEL (RFC 5546).

Built with the ``icalendar`` library rather than by hand, so escaping, line folding and
parameter quoting follow the RFC. Times are written in UTC ("Z"): every client converts them to
the reader's zone, and no VTIMEZONE has to be kept in sync with the tz database.

The output is a pure function of the :class:`Invite`: DTSTAMP comes from ``invite.stamp`` (the
time this version of the invite was made) and falls back to ``invite.start``, never the clock,
so re-sending the same version after a crash yields byte-identical bytes. The words (SUMMARY,
DESCRIPTION) are in the current language (``core.i18n``): each reader's copy of a group's invite
has the same UID, SEQUENCE, DTSTART and DTEND. ``start`` as fallback
is deterministic and, since SEQUENCE rises with every change, clients never need DTSTAMP to order
two versions (RFC 5546 §2.1.5 uses DTSTAMP only between equal SEQUENCEs).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from icalendar import Calendar, Component, Event, vCalAddress, vText

from core.i18n import gettext as _
from integrations.base import Attendee, Invite
from integrations.invite_text import render_text, summary_of
from pairing.model import Mode

PRODID = "-//Fika//Fika coffee breaks//EN"


def _utc(moment: datetime) -> datetime:
    """Normalise an aware datetime to UTC; a naive one is a bug upstream, so refuse it."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: invites need aware UTC times")
    return moment.astimezone(UTC)


def _cn(name: str) -> str:
    """A CN parameter value; double quotes cannot be quoted in RFC 5545 params, so replace them."""
    return name.replace('"', "'")


def _attendee(member: Attendee) -> vCalAddress:
    address = vCalAddress(f"mailto:{member.email}")
    address.params["CN"] = vText(_cn(member.name))
    address.params["CUTYPE"] = vText("INDIVIDUAL")
    address.params["ROLE"] = vText("REQ-PARTICIPANT")
    address.params["PARTSTAT"] = vText("NEEDS-ACTION")
    address.params["RSVP"] = vText("TRUE")
    return address


def location_for(invite: Invite) -> str:
    """The LOCATION line: the video link, or the office with the link for anyone remote."""
    if invite.mode == Mode.IN_PERSON:
        place = invite.site or _("Office")
        return f"{place} / {invite.video_url}"
    return invite.video_url


def build_event(invite: Invite) -> Event:
    """The VEVENT alone, for stores that keep events without an iTIP METHOD (CalDAV)."""
    event = Event()
    event.add("uid", invite.uid)
    event.add("sequence", invite.sequence)
    event.add("dtstamp", _utc(invite.stamp or invite.start))
    event.add("dtstart", _utc(invite.start))
    event.add("dtend", _utc(invite.end))
    event.add("summary", summary_of(invite))
    organizer = vCalAddress(f"mailto:{invite.organizer_email}")
    organizer.params["CN"] = vText(_cn(invite.organizer_name))
    event.add("organizer", organizer)
    for member in invite.attendees:
        event.add("attendee", _attendee(member))
    event.add("location", location_for(invite))
    event.add("description", render_text(invite))
    event.add("url", invite.video_url)
    event.add("status", "CANCELLED" if invite.method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def build_calendar(invite: Invite, *, with_method: bool = True) -> bytes:
    """The VCALENDAR bytes (CRLF lines) for one group's break.

    ``with_method=False`` leaves METHOD out, as RFC 4791 §4.1 requires for resources stored on a
    CalDAV server; email (iMIP) always needs it.
    """
    lines = _plain_lines(invite, with_method)
    if lines is not None:
        return b"\r\n".join(fold(line) for line in lines) + b"\r\n"
    return to_ical(calendar_of(invite, with_method=with_method))


def calendar_of(invite: Invite, *, with_method: bool = True) -> Calendar:
    """The invite's calendar as icalendar's objects (what :func:`build_calendar` writes)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if with_method:
        calendar.add("method", invite.method)
    calendar.add_component(build_event(invite))
    return calendar


#: A CN that icalendar writes as it is or in double quotes, with no RFC 6868 escape: no control
#: character, caret or double quote (anything else goes through icalendar itself).
_PLAIN_CN = re.compile(r'[^\x00-\x1f\x7f^"]*\Z')
#: CN values icalendar puts in double quotes (RFC 5545 §3.2: , ; : and, for CN, space and ').
_QUOTED_CN = re.compile("[,;:\u2019 ']")
#: An address or URL written as it is (icalendar does not escape vCalAddress or vUri values).
_PLAIN_VALUE = re.compile(r"[^\x00-\x1f\x7f]*\Z")


def _param_cn(name: str) -> str | None:
    value = _cn(name)
    if not _PLAIN_CN.match(value):
        return None
    return f'"{value}"' if _QUOTED_CN.search(value) else value


def _stamp(moment: datetime) -> str:
    moment = _utc(moment)
    return "%04d%02d%02dT%02d%02d%02dZ" % (  # noqa: UP031 - the form icalendar writes
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
    )


def _text(value: str) -> str:
    return vText(value).to_ical().decode("utf-8")


def _plain_lines(invite: Invite, with_method: bool) -> list[str] | None:
    """The calendar's content lines (unfolded) exactly as :func:`build_event` and icalendar
    write them, without building icalendar's objects (most of the cost of an email); ``None``
    when a name or address needs icalendar's own escaping, which then writes it.

    icalendar writes the properties in its canonical order (VERSION and PRODID first; then
    SUMMARY, DTSTART, DTEND, DTSTAMP, UID, SEQUENCE, ATTENDEE; the rest alphabetically), and
    the parameters sorted. Tests compare the two for names, places and texts of every kind.
    """
    organizer = _param_cn(invite.organizer_name)
    if organizer is None or not _PLAIN_VALUE.match(invite.organizer_email + invite.video_url):
        return None
    attendees = []
    for member in invite.attendees:
        cn = _param_cn(member.name)
        if cn is None or not _PLAIN_VALUE.match(member.email):
            return None
        attendees.append(
            f"ATTENDEE;CN={cn};CUTYPE=INDIVIDUAL;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;"
            f"RSVP=TRUE:mailto:{member.email}"
        )
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{_text(PRODID)}", "CALSCALE:GREGORIAN"]
    if with_method:
        lines.append(f"METHOD:{_text(invite.method)}")
    lines += [
        "BEGIN:VEVENT",
        f"SUMMARY:{_text(summary_of(invite))}",
        f"DTSTART:{_stamp(invite.start)}",
        f"DTEND:{_stamp(invite.end)}",
        f"DTSTAMP:{_stamp(invite.stamp or invite.start)}",
        f"UID:{_text(invite.uid)}",
        f"SEQUENCE:{int(invite.sequence)}",
        *attendees,
        f"DESCRIPTION:{_text(render_text(invite))}",
        f"LOCATION:{_text(location_for(invite))}",
        f"ORGANIZER;CN={organizer}:mailto:{invite.organizer_email}",
        f"STATUS:{'CANCELLED' if invite.method == 'CANCEL' else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        f"URL:{invite.video_url}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return lines


#: RFC 5545 §3.1: a content line is folded so that no line is longer than 75 octets; icalendar
#: keeps each folded piece to 74 (the continuation's leading space makes 75).
FOLD_OCTETS = 74
_CONTINUATION = 0b1100_0000  # the top bits of a UTF-8 continuation byte are 10


def to_ical(component: Component) -> bytes:
    """``component.to_ical()``, byte for byte, with its lines folded here.

    icalendar folds each content line character by character (encoding every character to
    count its octets), which is the larger part of building an invite's calendar. The lines
    come from its public ``content_lines()``; most are short and pass as they are, and a long
    one is cut by octet offsets, the same places icalendar cuts it (tests compare the two).
    """
    return b"\r\n".join(fold(line) for line in component.content_lines() if line) + b"\r\n"


def fold(line: str) -> bytes:
    """One content line as UTF-8, folded as icalendar folds it: pieces of at most 74 octets that
    never split a character, and never end in a backslash or caret that starts an escape
    (icalendar moves it to the next piece, for clients that cannot rejoin an escape)."""
    data = line.encode("utf-8")
    if len(data) <= FOLD_OCTETS:
        return data
    pieces = []
    start = 0
    while len(data) - start > FOLD_OCTETS:
        end = start + FOLD_OCTETS
        while data[end] & _CONTINUATION == 0b1000_0000:  # inside a character: cut before it
            end -= 1
        if data[end - 1] in b"\\^" and end - 1 > start:
            end -= 1
        pieces.append(data[start:end])
        start = end
    pieces.append(data[start:])
    return b"\r\n ".join(pieces)
