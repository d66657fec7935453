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
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if with_method:
        calendar.add("method", invite.method)
    calendar.add_component(build_event(invite))
    return to_ical(calendar)


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
