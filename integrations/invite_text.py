"""The words of an invite, shared by every channel (email, outbox, calendars, Slack, Teams).

One place decides how a break is described, so a person reads the same facts in the calendar
entry, the email and the chat message: who is coming, when that is in each member's own time
zone, where to meet, why these people were matched and a conversation starter.

Every word goes through ``core.i18n`` and comes out in the language of the current context: a
channel renders one recipient's message inside ``core.i18n.using(message.language)``. Reasons and
conversation starters are stored as their English text and translated whole here, when sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from functools import lru_cache
from html import escape
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.i18n import N_, current_language, using
from core.i18n import format_span as format_local_span
from core.i18n import gettext as _
from integrations.base import Attendee, Invite, Message, first_name
from integrations.reasons import translate_reason
from integrations.starters import translate_starter
from pairing.model import Mode

JITSI_NOTE = N_(
    "The video room is on the public Jitsi Meet service: the first person to join may be asked "
    "to sign in (for example with a Google or GitHub account) to open the room; everyone else "
    "joins without an account."
)


def in_reader_language(message: Message) -> AbstractContextManager[object]:
    """Render inside this to write ``message`` in its reader's language (``message.language``);
    a message without one keeps the surrounding language (the organisation's by default)."""
    return using(message.language) if message.language else nullcontext()


def jitsi_note() -> str:
    """Why the first person in a public Jitsi room may be asked to sign in (translated)."""
    return _(JITSI_NOTE)


def join_names(names: list[str]) -> str:
    """ "Ana", "Ana and Ben", "Ana, Ben and Chen" in the current language."""
    if len(names) <= 1:
        return "".join(names)
    return _("%(names)s and %(last)s", names=", ".join(names[:-1]), last=names[-1])


def summary_for(names: Iterable[str], programme: str = "Fika") -> str:
    """Title a break by its people ("Fika: Ana, Ben and Chen"), the way people refer to it."""
    names = [name for name in names if name]
    if not names:
        return programme
    return f"{programme}: {join_names(names)}"


def summary_of(invite: Invite) -> str:
    """The invite's title in the current language (the stored one is English)."""
    if current_language() == "en":
        return invite.summary
    names = [first_name(a.name) for a in invite.attendees]
    return summary_for(names) if names else invite.summary


def _zone(name: str) -> ZoneInfo:
    """A member's zone, falling back to UTC so one bad profile never blocks a whole invite."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_span(start: datetime, end: datetime, zone_name: str) -> str:
    """Say when a break is in one zone, e.g. "Tue 12 Mar 2024, 11:00–11:30 CET (Europe/Paris)",
    "måndag 7 december 09:00–09:30 CET (Europe/Stockholm)" (``core.i18n.format_span``)."""
    return _span(start, end, zone_name, current_language())


@lru_cache(maxsize=4096)
def _span(start: datetime, end: datetime, zone_name: str, language: str) -> str:
    """:func:`format_span` in ``language``, kept: a round's breaks start at a few times, and
    every message of a group says each member's (Babel's formatting is most of a message's
    text)."""
    zone = _zone(zone_name)
    abbreviation = end.astimezone(zone).strftime("%Z")
    return f"{format_local_span(start, end, zone, language)} {abbreviation} ({zone.key})"


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
            return _("You are no longer part of this coffee break; it is off your calendar.")
        return _("This coffee break is cancelled.")
    if invite.sequence > 0:
        return _("This coffee break has changed: the details below replace the earlier ones.")
    return _("You have a coffee break with colleagues you may not have met yet.")


def _in_person(invite: Invite) -> str:
    if invite.site:
        return _("In person at %(place)s.", place=invite.site)
    return _("In person at the office.")


def _where_lines(invite: Invite) -> list[str]:
    if invite.mode == Mode.IN_PERSON:
        return [
            _in_person(invite),
            _("Joining remotely? Video link: %(url)s", url=invite.video_url),
        ]
    return [_("Video call: %(url)s", url=invite.video_url)]


def reasons_of(invite: Invite) -> list[str]:
    """Why these people were matched, in the current language."""
    return [translate_reason(reason) for reason in invite.reasons]


#: A group's words kept per language: every member's message repeats them (and the calendar's
#: DESCRIPTION is the group's text), only the greeting differs.
GROUP_TEXTS_KEPT = 64


def _kept(render, invite: Invite) -> str:
    """``render(invite, language)`` kept for the group, or made afresh for an invite that cannot
    be a key (a list where a tuple belongs)."""
    language = current_language()
    try:
        return render(invite, language)
    except TypeError:  # unhashable: render it without the cache
        return render.__wrapped__(invite, language)


def render_text(invite: Invite, recipient: Attendee | None = None) -> str:
    """The plain-text message: the whole invite readable in any mail client or log."""
    # Without a recipient the text is the group's (calendar DESCRIPTION): no greeting.
    group = _kept(_group_text, invite)
    if recipient is None:
        return group
    return _("Hello %(name)s,", name=recipient.name) + "\n\n" + group


@lru_cache(maxsize=GROUP_TEXTS_KEPT)
def _group_text(invite: Invite, language: str) -> str:
    """:func:`render_text` without a greeting, in ``language`` (the current one)."""
    lines = [_headline(invite), ""]
    lines.append(_("When"))
    lines += [f"  {_member_line(a)}: {when}" for a, when in local_times(invite)]
    lines += ["", _("Who")]
    lines += [f"  {_member_line(a)}" for a in invite.attendees]
    lines += ["", _("Where")]
    lines += [f"  {line}" for line in _where_lines(invite)]
    if invite.reasons:
        lines += ["", _("Why you were matched")]
        lines += [f"  - {reason}" for reason in reasons_of(invite)]
    if invite.starter:
        lines += ["", _("Conversation starter"), f"  {translate_starter(invite.starter)}"]
    if uses_public_jitsi(invite.video_url):
        lines += ["", jitsi_note()]
    lines += ["", f"— {invite.programme}"]
    return "\n".join(lines) + "\n"


def _link(url: str) -> str:
    """An anchor for http(s) URLs only, so a bad setting can never inject a javascript: link."""
    if _is_web(url):
        return f'<a href="{escape(url, quote=True)}">{escape(url)}</a>'
    return escape(url)


_HTML_HEAD = '<!DOCTYPE html>\n<html><body style="font-family: sans-serif">\n'


def render_html(invite: Invite, recipient: Attendee | None = None) -> str:
    """The HTML message; every value from people or settings is escaped."""
    greeting = f"<p>{escape(_('Hello %(name)s,', name=recipient.name))}</p>" if recipient else ""
    return _HTML_HEAD + greeting + "\n" + _kept(_group_html, invite)


@lru_cache(maxsize=GROUP_TEXTS_KEPT)
def _group_html(invite: Invite, language: str) -> str:
    """:func:`render_html` after its greeting, in ``language`` (the current one)."""
    when = "".join(
        f"<li>{escape(_member_line(a))}: {escape(span)}</li>" for a, span in local_times(invite)
    )
    who = "".join(f"<li>{escape(_member_line(a))}</li>" for a in invite.attendees)
    # The link goes in after escaping the sentence around it, so the URL becomes an anchor.
    marker = "\x00link\x00"
    if invite.mode == Mode.IN_PERSON:
        remote = escape(_("Joining remotely? Video link: %(url)s", url=marker))
        where = f"<p>{escape(_in_person(invite))}<br>{remote}</p>"
    else:
        where = f"<p>{escape(_('Video call: %(url)s', url=marker))}</p>"
    where = where.replace(marker, _link(invite.video_url))
    parts = [
        f"<p><strong>{escape(_headline(invite))}</strong></p>",
        f"<h3>{escape(_('When'))}</h3><ul>{when}</ul>",
        f"<h3>{escape(_('Who'))}</h3><ul>{who}</ul>",
        f"<h3>{escape(_('Where'))}</h3>{where}",
    ]
    if invite.reasons:
        reasons = "".join(f"<li>{escape(reason)}</li>" for reason in reasons_of(invite))
        parts.append(f"<h3>{escape(_('Why you were matched'))}</h3><ul>{reasons}</ul>")
    if invite.starter:
        starter = escape(translate_starter(invite.starter))
        parts.append(f"<h3>{escape(_('Conversation starter'))}</h3><p>{starter}</p>")
    if uses_public_jitsi(invite.video_url):
        parts.append(f"<p><small>{escape(jitsi_note())}</small></p>")
    parts.append(f"<p>— {escape(invite.programme)}</p></body></html>")
    return "\n".join(parts) + "\n"


def answer_labels() -> tuple[tuple[str, str], ...]:
    """The one-click answers of an invite, (link name, label), in the current language."""
    return (
        ("in", _("I'm in")),
        ("cant", _("Can't make it")),
        ("pause_week", _("Pause me for a week")),
    )


def answers_text(links: dict[str, str], unsubscribe_url: str | None = None) -> str:
    """The one-click answers and the unsubscribe link, as plain text ('' when there are none)."""
    lines = [f"  {label}: {links[key]}" for key, label in answer_labels() if links.get(key)]
    text = ("\n" + _("Answer in one click") + "\n" + "\n".join(lines) + "\n") if lines else ""
    if unsubscribe_url:
        text += "\n" + _("No more coffee breaks? Unsubscribe: %(url)s", url=unsubscribe_url) + "\n"
    return text


def _is_web(url: str) -> bool:
    """Whether ``url``'s scheme is http or https (as ``urlsplit`` reads it); the common
    spelling is recognised without parsing (every message checks four links)."""
    return url.startswith(("https://", "http://")) or urlsplit(url).scheme in ("http", "https")


def answers_html(links: dict[str, str], unsubscribe_url: str | None = None) -> str:
    """The same as :func:`answers_text` as escaped HTML ('' when there is nothing to add)."""
    buttons = " · ".join(
        f'<a href="{escape(links[key], quote=True)}">{escape(label)}</a>'
        for key, label in answer_labels()
        if links.get(key) and _is_web(links[key])
    )
    heading = escape(_("Answer in one click:"))
    html = f"<p><strong>{heading}</strong> {buttons}</p>" if buttons else ""
    if unsubscribe_url and _is_web(unsubscribe_url):
        question, label = escape(_("No more coffee breaks?")), escape(_("Unsubscribe"))
        html += (
            f'<p style="color:#57606a">{question} '
            f'<a href="{escape(unsubscribe_url, quote=True)}">{label}</a></p>'
        )
    return html
