"""Build the invite a group's members receive and the outbox rows that carry it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from email.utils import parseaddr

from flask import current_app

from core.channels import PER_GROUP
from core.models import Delivery, Group, Person
from core.signing import make_token
from integrations.base import Attendee, Invite, Message
from integrations.invite_text import summary_for
from integrations.payload import message_to_dict


def organiser() -> tuple[str, str]:
    """(name, address) from FIKA_MAIL_FROM, e.g. 'Fika <fika@example.org>'."""
    name, address = parseaddr(current_app.config["FIKA_MAIL_FROM"])
    return name or "Fika", address or "fika@localhost"


def attendee(person: Person, site: str | None) -> Attendee:
    """A person as channels see them."""
    return Attendee(
        name=person.name,
        email=person.email,
        timezone=person.timezone,
        department=person.department,
        site=site,
    )


def build_invite(
    group: Group, people: list[Person], method: str, programme_name: str, stamp: datetime
) -> Invite:
    """The calendar invite for ``group`` at its current sequence."""
    name, address = organiser()
    sites = {p.id: (group.site if group.mode == "in_person" else p.home_office) for p in people}
    return Invite(
        uid=group.uid,
        sequence=group.sequence,
        method=method,  # type: ignore[arg-type]
        start=group.start_at,
        end=group.end_at,
        summary=summary_for([p.first_name() for p in people]),
        organizer_name=name,
        organizer_email=address,
        attendees=tuple(attendee(p, sites[p.id]) for p in people),
        video_url=group.video_url,
        mode=group.mode,  # type: ignore[arg-type]
        site=group.site,
        reasons=tuple(group.reasons or ()),
        starter=group.starter,
        programme=programme_name,
        stamp=stamp,
    )


def unsubscribe_url(person: Person) -> str:
    """A one-click (RFC 8058) link that stops this person's breaks, signed and opaque."""
    token = make_token("unsubscribe", person.id)
    return f"{current_app.config['FIKA_BASE_URL']}/unsubscribe/{token}"


def action_links(group: Group, person: Person | None) -> dict[str, str]:
    """Signed links for the buttons: I'm in, can't make it, pause a week.

    Per-person messages carry links that name the person (one click, no sign-in); a message
    shared by the group (a Teams channel card) carries links that ask whoever opens them to
    sign in, so nobody can answer for someone else.
    """
    base = current_app.config["FIKA_BASE_URL"]
    person_id = person.id if person is not None else None
    return {
        action: f"{base}/a/{make_token('action', [action, group.id, person_id])}"
        for action in ("in", "cant", "pause_week")
    }


def deliveries_for(
    invite: Invite, group: Group, people: Iterable[Person], channels: Iterable[str]
) -> list[Delivery]:
    """One outbox row per person (email, outbox folder) or per group (calendar, chat)."""
    people = list(people)
    rows: list[Delivery] = []
    shared = message_to_dict(Message(key="", invite=invite))["invite"]  # once per group
    for channel in channels:
        if channel in PER_GROUP:
            message = Message(
                key=f"{invite.uid}-{invite.sequence}-{channel}",
                invite=invite,
                links=action_links(group, None) if invite.method == "REQUEST" else {},
            )
            rows.append(
                Delivery(
                    key=message.key,
                    channel=channel,
                    recipient=f"group:{group.uid}",
                    group_id=group.id,
                    round_id=group.round_id,
                    payload=message_to_dict(message, shared),
                )
            )
            continue
        for person, who in zip(people, invite.attendees, strict=True):
            message = Message(
                key=f"{invite.uid}-{invite.sequence}-{channel}-{person.id}",
                invite=invite,
                recipient=who,
                unsubscribe_url=unsubscribe_url(person),
                links=action_links(group, person),
            )
            rows.append(
                Delivery(
                    key=message.key,
                    channel=channel,
                    recipient=person.email,
                    group_id=group.id,
                    round_id=group.round_id,
                    person_id=person.id,
                    payload=message_to_dict(message, shared),
                )
            )
    return rows
