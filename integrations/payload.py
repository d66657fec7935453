"""Messages as JSON-safe dicts, so an outbox row can hold exactly what a channel will send."""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass
from datetime import date, datetime, time
from functools import cache
from typing import Any

from integrations.base import Attendee, Invite, Message, MessageKind, Notice, RoomInvite

#: Values that are already plain; checked first, as most values in a message are.
_SCALARS = (str, int, float, bool, type(None), datetime, date, time)


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind))


def _plain(value: Any) -> Any:
    """Like ``dataclasses.asdict`` without its deep copies (rounds serialise one per person)."""
    if isinstance(value, _SCALARS):
        return value
    if is_dataclass(value) and not isinstance(value, type):
        return {name: _plain(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def message_to_dict(message: Message, invite: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JSON-serialisable form of ``message`` (instants as ISO 8601 strings).

    ``invite`` may pass the invite's dict from an earlier call with the same invite (a group's
    members share one), to skip converting it again.
    """
    skip = ("invite", "room", "notice", "language")
    data = {
        name: _plain(getattr(message, name))
        for name in _field_names(type(message))
        if name not in skip
    }
    if message.language:  # left out when unset: the rows stay as they were before languages
        data["language"] = message.language
    if message.room is not None:
        data["room"] = room_to_dict(message.room)
    if message.notice is not None:
        expires = message.notice.expires
        data["notice"] = {
            "text": message.notice.text,
            "card": message.notice.card,
            "expires": expires.isoformat() if expires else None,
            "subject": message.notice.subject,
        }
        if message.notice.chat_channel:
            data["notice"]["chat_channel"] = message.notice.chat_channel
    if message.invite is None:
        data["invite"] = None
        return data
    data["invite"] = invite_to_dict(message.invite) if invite is None else invite
    return data


def invite_to_dict(invite: Invite) -> dict[str, Any]:
    """The ``invite`` part of :func:`message_to_dict`'s dict (instants as ISO 8601 strings).

    Built field by field rather than by the generic walk of ``_plain``: a round converts one
    invite per group, 25,000 at 50,000 people, and the walk's recursion was most of that.
    Its attendees and reasons are the only fields that are not plain values.
    """
    data = {name: getattr(invite, name) for name in _field_names(Invite)}
    data["start"] = invite.start.isoformat()
    data["end"] = invite.end.isoformat()
    if invite.stamp is not None:
        data["stamp"] = invite.stamp.isoformat()
    data["attendees"] = [
        {name: getattr(who, name) for name in _field_names(Attendee)} for who in invite.attendees
    ]
    data["reasons"] = list(invite.reasons)
    return data


def message_from_dict(data: dict[str, Any]) -> Message:
    """The inverse of :func:`message_to_dict`."""
    recipient = data.get("recipient")
    notice = data.get("notice")
    return Message(
        key=data["key"],
        invite=_invite_from_dict(data["invite"]) if data.get("invite") else None,
        recipient=Attendee(**recipient) if recipient else None,
        unsubscribe_url=data.get("unsubscribe_url"),
        links=dict(data.get("links") or {}),
        kind=data.get("kind", MessageKind.INVITE),
        room=room_from_dict(data["room"]) if data.get("room") else None,
        notice=_notice_from_dict(notice) if notice else None,
        language=data.get("language"),
    )


def _invite_from_dict(data: dict[str, Any]) -> Invite:
    invite = dict(data)
    for key in ("start", "end", "stamp"):
        if invite.get(key) is not None:
            invite[key] = datetime.fromisoformat(invite[key])
    invite["attendees"] = tuple(Attendee(**a) for a in invite["attendees"])
    invite["reasons"] = tuple(invite.get("reasons") or ())
    return Invite(**invite)


def _notice_from_dict(data: dict[str, Any]) -> Notice:
    expires = data.get("expires")
    return Notice(
        text=data["text"],
        card=data["card"],
        expires=datetime.fromisoformat(expires) if expires else None,
        subject=data.get("subject", ""),
        chat_channel=data.get("chat_channel", ""),
    )


def room_to_dict(room: RoomInvite) -> dict[str, Any]:
    """A drop-in room invite as JSON-safe data (dates, times and instants in ISO 8601)."""
    data = _plain(room)
    data["local_time"] = room.local_time.isoformat()
    data["first_day"] = room.first_day.isoformat()
    data["exdates"] = [d.isoformat() for d in room.exdates]
    data["stamp"] = room.stamp.isoformat() if room.stamp else None
    data["until"] = room.until.isoformat() if room.until else None
    return data


def room_from_dict(data: dict[str, Any]) -> RoomInvite:
    """The inverse of :func:`room_to_dict`."""
    data = dict(data)
    data["days"] = tuple(data["days"])
    data["local_time"] = time.fromisoformat(data["local_time"])
    data["first_day"] = date.fromisoformat(data["first_day"])
    data["exdates"] = tuple(date.fromisoformat(d) for d in data.get("exdates") or ())
    data["stamp"] = datetime.fromisoformat(data["stamp"]) if data.get("stamp") else None
    data["attendee"] = Attendee(**data["attendee"])
    data["until"] = date.fromisoformat(data["until"]) if data.get("until") else None
    data["members"] = tuple(data.get("members") or ())
    return RoomInvite(**data)


FORMER = "a former participant"


def forget(value: Any, email: str, name: str, first_name: str = "") -> Any:
    """``value`` (a payload, or any JSON) with one erased person taken out.

    Attendee entries with their ``email`` are dropped from lists; any text holding their email
    address or full name has it replaced; a ``summary`` (which names members by first name) has
    the first name replaced as a whole word. The others' records of a break then no longer say
    who the person was. Used when a person is erased (``core.changes.erase``).
    """
    if isinstance(value, dict):
        forgotten = {k: forget(v, email, name, first_name) for k, v in value.items()}
        summary = forgotten.get("summary")
        if first_name and isinstance(summary, str):
            forgotten["summary"] = re.sub(rf"\b{re.escape(first_name)}\b", FORMER, summary)
        return forgotten
    if isinstance(value, list):
        return [
            forget(v, email, name, first_name)
            for v in value
            if not (isinstance(v, dict) and v.get("email") == email)
        ]
    if isinstance(value, str):
        if email and email in value:
            value = value.replace(email, "(erased)")
        if len(name) >= 3 and name in value:  # a one-letter "name" would eat ordinary words
            value = value.replace(name, FORMER)
        return value
    return value
