"""The words of an invite, shared by every channel (email, outbox, calendars, Slack, Teams).

One place decides how a break is described, so a person reads the same facts in the calendar
entry, the email and the chat message: who is coming, when that is in each member's own time
zone, where to meet, why these people were matched and a conversation starter.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from html import escape
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from integrations.base import Attendee, Invite
from pairing.model import Mode

JITSI_NOTE = (
    "The video room is on the public Jitsi Meet service: the first person to join may be asked "
    "to sign in (for example with a Google or GitHub account) to open the room; everyone else "
    "joins without an account."
)


def summary_for(names: Iterable[str], programme: str = "Fika") -> str:
    """Title a break by its people ("Fika: Ana, Ben and Chen"), the way people refer to it."""
    names = [name for name in names if name]
    if not names:
        return programme
    if len(names) == 1:
        joined = names[0]
    else:
        joined = ", ".join(names[:-1]) + " and " + names[-1]
    return f"{programme}: {joined}"


def _zone(name: str) -> ZoneInfo:
    """A member's zone, falling back to UTC so one bad profile never blocks a whole invite."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_span(start: datetime, end: datetime, zone_name: str) -> str:
    """Say when a break is in one zone, e.g. "Tue 12 Mar 2024, 11:00–11:30 CET (Europe/Paris)"."""
    zone = _zone(zone_name)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    label = local_start.strftime("%a %d %b %Y, %H:%M") + "–" + local_end.strftime("%H:%M %Z")
    return f"{label} ({zone.key})"


def local_times(invite: Invite) -> list[tuple[Attendee, str]]:
    """Each member with the break's time in their own zone: people read times, not offsets."""
    return [(a, format_span(invite.start, invite.end, a.timezone)) for a in invite.attendees]


def uses_public_jitsi(video_url: str) -> bool:
    """True for the default meet.jit.si room, whose first participant may have to sign in."""
    host = (urlsplit(video_url).hostname or "").lower()
    return host == "meet.jit.si" or host.endswith(".jit.si")


def _member_line(attendee: Attendee) -> str:
    return f"{attendee.name} ({attendee.department})" if attendee.department else attendee.name


def _headline(invite: Invite) -> str:
    if invite.method == "CANCEL":
        if invite.cancel_scope == "attendees":
            return "You are no longer part of this coffee break; it is off your calendar."
        return "This coffee break is cancelled."
    if invite.sequence > 0:
        return "This coffee break has changed: the details below replace the earlier ones."
    return "You have a coffee break with colleagues you may not have met yet."


def _where_lines(invite: Invite) -> list[str]:
    if invite.mode == Mode.IN_PERSON:
        place = invite.site or "the office"
        return [f"In person at {place}.", f"Joining remotely? Video link: {invite.video_url}"]
    return [f"Video call: {invite.video_url}"]


def render_text(invite: Invite, recipient: Attendee | None = None) -> str:
    """The plain-text message: the whole invite readable in any mail client or log."""
    # Without a recipient the text is the group's (calendar DESCRIPTION): no greeting.
    lines = [f"Hello {recipient.name},", ""] if recipient else []
    lines += [_headline(invite), ""]
    lines.append("When")
    lines += [f"  {_member_line(a)}: {when}" for a, when in local_times(invite)]
    lines += ["", "Who"]
    lines += [f"  {_member_line(a)}" for a in invite.attendees]
    lines += ["", "Where"]
    lines += [f"  {line}" for line in _where_lines(invite)]
    if invite.reasons:
        lines += ["", "Why you were matched"]
        lines += [f"  - {reason}" for reason in invite.reasons]
    if invite.starter:
        lines += ["", "Conversation starter", f"  {invite.starter}"]
    if uses_public_jitsi(invite.video_url):
        lines += ["", JITSI_NOTE]
    lines += ["", f"— {invite.programme}"]
    return "\n".join(lines) + "\n"


def _link(url: str) -> str:
    """An anchor for http(s) URLs only, so a bad setting can never inject a javascript: link."""
    if urlsplit(url).scheme in ("http", "https"):
        return f'<a href="{escape(url, quote=True)}">{escape(url)}</a>'
    return escape(url)


def render_html(invite: Invite, recipient: Attendee | None = None) -> str:
    """The HTML message; every value from people or settings is escaped."""
    greeting = f"<p>Hello {escape(recipient.name)},</p>" if recipient else ""
    when = "".join(
        f"<li>{escape(_member_line(a))}: {escape(span)}</li>" for a, span in local_times(invite)
    )
    who = "".join(f"<li>{escape(_member_line(a))}</li>" for a in invite.attendees)
    if invite.mode == Mode.IN_PERSON:
        where = (
            f"<p>In person at {escape(invite.site or 'the office')}.<br>"
            f"Joining remotely? Video link: {_link(invite.video_url)}</p>"
        )
    else:
        where = f"<p>Video call: {_link(invite.video_url)}</p>"
    parts = [
        "<!DOCTYPE html>",
        '<html><body style="font-family: sans-serif">',
        greeting,
        f"<p><strong>{escape(_headline(invite))}</strong></p>",
        f"<h3>When</h3><ul>{when}</ul>",
        f"<h3>Who</h3><ul>{who}</ul>",
        f"<h3>Where</h3>{where}",
    ]
    if invite.reasons:
        reasons = "".join(f"<li>{escape(reason)}</li>" for reason in invite.reasons)
        parts.append(f"<h3>Why you were matched</h3><ul>{reasons}</ul>")
    if invite.starter:
        parts.append(f"<h3>Conversation starter</h3><p>{escape(invite.starter)}</p>")
    if uses_public_jitsi(invite.video_url):
        parts.append(f"<p><small>{escape(JITSI_NOTE)}</small></p>")
    parts.append(f"<p>— {escape(invite.programme)}</p></body></html>")
    return "\n".join(parts) + "\n"


ANSWER_LABELS = (("in", "I'm in"), ("cant", "Can't make it"), ("pause_week", "Pause me for a week"))


def answers_text(links: dict[str, str], unsubscribe_url: str | None = None) -> str:
    """The one-click answers and the unsubscribe link, as plain text ('' when there are none)."""
    lines = [f"  {label}: {links[key]}" for key, label in ANSWER_LABELS if links.get(key)]
    text = ("\nAnswer in one click\n" + "\n".join(lines) + "\n") if lines else ""
    if unsubscribe_url:
        text += f"\nNo more coffee breaks? Unsubscribe: {unsubscribe_url}\n"
    return text


def answers_html(links: dict[str, str], unsubscribe_url: str | None = None) -> str:
    """The same as :func:`answers_text` as escaped HTML ('' when there is nothing to add)."""
    buttons = " · ".join(
        f'<a href="{escape(links[key], quote=True)}">{escape(label)}</a>'
        for key, label in ANSWER_LABELS
        if links.get(key) and urlsplit(links[key]).scheme in ("http", "https")
    )
    html = f"<p><strong>Answer in one click:</strong> {buttons}</p>" if buttons else ""
    if unsubscribe_url and urlsplit(unsubscribe_url).scheme in ("http", "https"):
        html += (
            f'<p style="color:#57606a">No more coffee breaks? '
            f'<a href="{escape(unsubscribe_url, quote=True)}">Unsubscribe</a></p>'
        )
    return html
