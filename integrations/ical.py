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

from icalendar import Calendar, Event, vCalAddress, vText

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
    return calendar.to_ical()
