"""Messages as JSON-safe dicts, so an outbox row can hold exactly what a channel will send."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from integrations.base import Attendee, Invite, Message


def message_to_dict(message: Message) -> dict[str, Any]:
    """A JSON-serialisable form of ``message`` (instants as ISO 8601 strings)."""
    data = asdict(message)
    invite = data["invite"]
    for key in ("start", "end"):
        invite[key] = invite[key].isoformat()
    if invite.get("stamp") is not None:
        invite["stamp"] = invite["stamp"].isoformat()
    return data


def message_from_dict(data: dict[str, Any]) -> Message:
    """The inverse of :func:`message_to_dict`."""
    invite = dict(data["invite"])
    for key in ("start", "end", "stamp"):
        if invite.get(key) is not None:
            invite[key] = datetime.fromisoformat(invite[key])
    invite["attendees"] = tuple(Attendee(**a) for a in invite["attendees"])
    invite["reasons"] = tuple(invite.get("reasons") or ())
    recipient = data.get("recipient")
    return Message(
        key=data["key"],
        invite=Invite(**invite),
        recipient=Attendee(**recipient) if recipient else None,
        unsubscribe_url=data.get("unsubscribe_url"),
        links=dict(data.get("links") or {}),
    )
