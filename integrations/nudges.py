"""The plain messages about a break that are not calendar objects: reminders and check-ins.

A reminder goes out shortly before the break; the next working day a "Did you meet?" message
offers one-click answers; a person whose breaks keep not happening is asked whether to pause.
They reach people as ordinary email (or a ``.txt`` in the outbox folder): no calendar part, since
a calendar client would treat any iCalendar object as a change to the event.

:class:`~integrations.base.Message` carries them with ``kind`` set, the break's invite (for the
time, people and video link) and the signed answer links in ``links``.
"""

from __future__ import annotations

from core.i18n import gettext as _
from core.i18n import lazy_gettext
from integrations.base import Attendee, CheckinAnswer, Message, MessageKind, first_name
from integrations.invite_text import format_span, join_names, summary_of
from integrations.starters import translate_starter
from pairing.model import Mode

KINDS = (MessageKind.REMINDER, MessageKind.CHECKIN, MessageKind.PAUSE_OFFER)
#: Plain messages whose subject and text come whole in ``Message.notice``.
TEXT_KINDS = (MessageKind.TEAM_CHECKIN, MessageKind.DIGEST)

#: Link names the check-in and pause-offer messages show, in this order, with their labels.
#: (Labels are translated when shown, in the reader's language.)
CHECKIN_ANSWERS = {
    CheckinAnswer.MET: lazy_gettext("We met"),
    CheckinAnswer.NOT_MET: lazy_gettext("It didn't happen"),
    CheckinAnswer.RESCHEDULED: lazy_gettext("We rescheduled"),
}
PAUSE_ANSWERS = {
    "pause_2w": lazy_gettext("Pause for two weeks"),
    "pause_4w": lazy_gettext("Pause for four weeks"),
    "keep": lazy_gettext("Keep my coffee breaks coming"),
}


def _others(message: Message) -> str:
    me = message.recipient.email if message.recipient else None
    names = [a.name for a in message.invite.attendees if a.email != me]
    if not names:
        return _("your group")
    return join_names(names)


def _first_name(recipient: Attendee | None) -> str:
    name = first_name(recipient.name) if recipient else ""
    return _("Hi %(name)s,", name=name) if name else _("Hi,")


def _when(message: Message) -> str:
    zone = message.recipient.timezone if message.recipient else "UTC"
    return format_span(message.invite.start, message.invite.end, zone)


def _where(message: Message) -> str:
    invite = message.invite
    if invite.mode == Mode.IN_PERSON and invite.site:
        return _(
            "in person at %(site)s (video for anyone remote: %(url)s)",
            site=invite.site,
            url=invite.video_url,
        )
    return _("on video: %(url)s", url=invite.video_url)


def subject_for(message: Message) -> str:
    """The subject line of a nudge."""
    summary = summary_of(message.invite)
    if message.kind == MessageKind.REMINDER:
        return _("Soon: %(summary)s", summary=summary)
    if message.kind == MessageKind.CHECKIN:
        return _("Did you meet? %(summary)s", summary=summary)
    if message.kind == MessageKind.PAUSE_OFFER:
        return _("Pause your coffee breaks for a while?")
    if message.kind in TEXT_KINDS and message.notice is not None:
        return message.notice.subject
    raise ValueError(f"not a nudge: kind {message.kind!r}")


def _links(message: Message, labels: dict[str, str]) -> list[str]:
    return [
        f"  {label}: {message.links[name]}"
        for name, label in labels.items()
        if name in message.links
    ]


def render_nudge_text(message: Message) -> str:
    """The plain-text body of a reminder, check-in or pause offer."""
    invite = message.invite
    if message.kind in TEXT_KINDS and message.notice is not None:
        # Written (and translated) by the core: the text is whole, links included.
        return message.notice.text.rstrip("\n") + "\n"
    lines = [_first_name(message.recipient), ""]
    if message.kind == MessageKind.REMINDER:
        lines += [
            _("your coffee break with %(others)s starts soon:", others=_others(message)),
            f"  {_when(message)}",
            f"  {_where(message)}",
        ]
        if invite.starter:
            starter = translate_starter(invite.starter)
            lines += ["", _("Something to talk about: %(starter)s", starter=starter)]
        lines += ["", _("You can turn these reminders off in your Fika preferences.")]
    elif message.kind == MessageKind.CHECKIN:
        lines += [
            _("did your coffee break with %(others)s happen?", others=_others(message)),
            f"  {_when(message)}",
            "",
            _("One click tells us:"),
            *_links(message, CHECKIN_ANSWERS),
            "",
            _(
                "Breaks that did not happen do not count as having met, so you can be matched "
                "again."
            ),
        ]
    elif message.kind == MessageKind.PAUSE_OFFER:
        lines += [
            _("your last few coffee breaks did not happen. That is fine: busy weeks happen."),
            _("Would you like to pause for a while? You can come back any time."),
            "",
            *_links(message, PAUSE_ANSWERS),
        ]
    else:
        raise ValueError(f"not a nudge: kind {message.kind!r}")
    if message.unsubscribe_url:
        lines += ["", _("Stop all coffee breaks: %(url)s", url=message.unsubscribe_url)]
    lines += ["", f"-- {invite.programme}"]
    return "\n".join(lines) + "\n"
