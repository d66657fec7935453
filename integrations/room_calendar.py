"""The drop-in coffee room's invite: one recurring event per person and programme.

Unlike a matched break, the room happens at the same local time on the programme's days, so the
event carries an RRULE in the programme's own zone, with its VTIMEZONE: a 10:00 room in
Stockholm stays at 10:00 Stockholm time across daylight-saving changes in every client.

A pause is an update (same UID, SEQUENCE + 1) that lists the paused days as EXDATEs: Outlook,
Google Calendar and Apple Calendar all remove excluded occurrences from an updated series,
whereas a cancel-and-reinvite would make the person accept the series again afterwards (and some
clients keep a cancelled UID as deleted). Leaving or deleting the programme sends METHOD:CANCEL
for the whole series.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from icalendar import Calendar, Event, vCalAddress, vRecur, vText

from core.i18n import current_language, format_day, locale
from core.i18n import gettext as _
from integrations.base import RoomInvite
from integrations.invite_text import jitsi_note, uses_public_jitsi
from integrations.vtimezone import add_vtimezone

PRODID = "-//Fika//Fika coffee room//EN"
RRULE_DAYS = {
    "mon": "MO",
    "tue": "TU",
    "wed": "WE",
    "thu": "TH",
    "fri": "FR",
    "sat": "SA",
    "sun": "SU",
}


def first_occurrence(invite: RoomInvite) -> datetime:
    """The first local start on a programme day, on or after ``first_day``."""
    zone = ZoneInfo(invite.timezone)
    wanted = {list(RRULE_DAYS).index(d) for d in invite.days}
    day = invite.first_day
    for _attempt in range(7):
        if day.weekday() in wanted:
            break
        day += timedelta(days=1)
    return datetime.combine(day, invite.local_time, tzinfo=zone)


def until_utc(invite: RoomInvite) -> datetime | None:
    """The series' UNTIL: the end of ``until`` in the programme's zone, in UTC (RFC 5545 wants
    UTC when DTSTART has a TZID), so the meeting on the last day is still in the series."""
    if invite.until is None:
        return None
    end = datetime.combine(invite.until, time(23, 59, 59), tzinfo=ZoneInfo(invite.timezone))
    return end.astimezone(UTC)


def _day_names(invite: RoomInvite) -> str:
    """The programme's days in the reader's language ("Mon, Wed"; "mån, ons"; "Mo., Mi.")."""
    if current_language() == "en":
        return ", ".join(d.capitalize() for d in invite.days)
    names = get_day_names("abbreviated", locale=locale())
    return ", ".join(names[list(RRULE_DAYS).index(d)] for d in invite.days)


def describe_team(invite: RoomInvite) -> str:
    """The text of a learning team's event: the topic, the frame, who, the goal, the room."""
    values = {
        "programme": invite.programme,
        "topic": invite.topic,
        "days": _day_names(invite),
        "time": invite.local_time.strftime("%H:%M"),
        "zone": invite.timezone.replace("_", " "),
    }
    if invite.until:
        values["until"] = format_day(invite.until, sentence=True, year=True)
        if invite.interval == 1:
            text = _(
                "%(programme)s: your learning team on %(topic)s meets every week on %(days)s "
                "at %(time)s (%(zone)s) until %(until)s.",
                **values,
            )
        else:
            text = _(
                "%(programme)s: your learning team on %(topic)s meets every other week on "
                "%(days)s at %(time)s (%(zone)s) until %(until)s.",
                **values,
            )
    elif invite.interval == 1:
        text = _(
            "%(programme)s: your learning team on %(topic)s meets every week on %(days)s at "
            "%(time)s (%(zone)s).",
            **values,
        )
    else:
        text = _(
            "%(programme)s: your learning team on %(topic)s meets every other week on %(days)s "
            "at %(time)s (%(zone)s).",
            **values,
        )
    lines = [text]
    if invite.members:
        lines += ["", _("Team: %(members)s", members=", ".join(invite.members))]
    if invite.goal:
        lines += ["", _("Goal: %(goal)s", goal=invite.goal)]
    if invite.goal_url:
        lines += ["", _("Your team's goal page: %(url)s", url=invite.goal_url)]
    lines += ["", _("Room: %(url)s", url=invite.room_url)]
    if uses_public_jitsi(invite.room_url):
        lines += ["", jitsi_note()]
    return "\n".join(lines) + "\n"


def describe(invite: RoomInvite) -> str:
    """The text people see in the event: what the room is and how to join."""
    if invite.team:
        return describe_team(invite)
    days = _day_names(invite)
    starts = invite.local_time.strftime("%H:%M")
    lines = [
        _(
            "%(programme)s: a drop-in coffee room, %(days)s at %(time)s (%(zone)s).",
            programme=invite.programme,
            days=days,
            time=starts,
            zone=invite.timezone.replace("_", " "),
        ),
        _(
            "Join when you like, from the office or from home: in the office, join from your "
            "laptop too, so everyone meets on equal terms."
        ),
        "",
        _("Room: %(url)s", url=invite.room_url),
    ]
    if uses_public_jitsi(invite.room_url):
        lines += ["", jitsi_note()]
    return "\n".join(lines) + "\n"


def build_room_calendar(invite: RoomInvite) -> bytes:
    """The VCALENDAR (METHOD, VTIMEZONE, recurring VEVENT) for one person's room invite."""
    if not invite.days:
        raise ValueError("a drop-in room needs at least one day")
    zone = ZoneInfo(invite.timezone)
    start = first_occurrence(invite)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", invite.method)
    event = Event()
    event.add("uid", invite.uid)
    event.add("sequence", invite.sequence)
    event.add("dtstamp", (invite.stamp or start).astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=invite.duration_minutes))
    rule = {"FREQ": "WEEKLY", "BYDAY": [RRULE_DAYS[d] for d in invite.days]}
    if invite.interval > 1:
        rule["INTERVAL"] = invite.interval
    until = until_utc(invite)
    if until is not None:
        rule["UNTIL"] = until
    event.add("rrule", vRecur(rule))
    for day in sorted(invite.exdates):
        event.add("exdate", datetime.combine(day, invite.local_time, tzinfo=zone))
    event.add("summary", f"{invite.programme}: {invite.topic}" if invite.team else invite.programme)
    organizer = vCalAddress(f"mailto:{invite.organizer_email}")
    organizer.params["CN"] = vText(invite.organizer_name.replace('"', "'"))
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{invite.attendee.email}")
    for key, value in (
        ("CN", invite.attendee.name.replace('"', "'")),
        ("CUTYPE", "INDIVIDUAL"),
        ("ROLE", "REQ-PARTICIPANT"),
        ("PARTSTAT", "NEEDS-ACTION"),
        ("RSVP", "TRUE"),
    ):
        attendee.params[key] = vText(value)
    event.add("attendee", attendee)
    event.add("location", invite.room_url)
    event.add("url", invite.room_url)
    event.add("description", describe(invite))
    event.add("status", "CANCELLED" if invite.method == "CANCEL" else "CONFIRMED")
    # A drop-in room does not block the day; a learning team's meeting does.
    event.add("transp", "OPAQUE" if invite.team else "TRANSPARENT")
    calendar.add_component(event)
    # Rules from the year before the first occurrence, so the whole series is covered.
    add_vtimezone(calendar, invite.timezone, start.year - 1)
    return calendar.to_ical()
