"""A group's calendar invite as channels see it, built from its rows in one place.

The planner's group becomes a ``Group`` row (``core.rounds``); every later version of it (an
update when someone drops out, a cancellation, a reminder about it) is built from that row by
:func:`build_invite`, so the invite, the reminder and the chat card always agree.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parseaddr
from functools import lru_cache

from core.i18n import DEFAULT_LANGUAGE, using
from core.models import Group, Person
from core.settings import Settings
from integrations.base import Attendee, Invite
from integrations.invite_text import summary_for
from pairing.model import Mode


def organiser(settings: Settings) -> tuple[str, str]:
    """(name, address) from FIKA_MAIL_FROM, e.g. 'Fika <fika@example.org>'."""
    return _parsed_sender(settings.mail_from)


@lru_cache(maxsize=8)
def _parsed_sender(mail_from: str) -> tuple[str, str]:
    """FIKA_MAIL_FROM parsed once: a round builds an invite per group, each asking for it."""
    name, address = parseaddr(mail_from)
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


def site_of(group: Group, person: Person) -> str | None:
    """Where ``person`` is for ``group``'s break: the group's office in person, else their own."""
    return group.site if group.mode == Mode.IN_PERSON else person.home_office


def build_invite(
    settings: Settings,
    group: Group,
    people: list[Person],
    method: str,
    programme_name: str,
    stamp: datetime,
) -> Invite:
    """The calendar invite for ``group`` at its current sequence, to ``people``."""
    name, address = organiser(settings)
    # Stored in English, whoever's request writes it: channels translate it per reader when
    # they send (integrations.invite_text.summary_of).
    with using(DEFAULT_LANGUAGE):
        summary = summary_for([p.first_name() for p in people])
    return Invite(
        uid=group.uid,
        sequence=group.sequence,
        method=method,  # type: ignore[arg-type]
        start=group.start_at,
        end=group.end_at,
        summary=summary,
        organizer_name=name,
        organizer_email=address,
        attendees=tuple(attendee(p, site_of(group, p)) for p in people),
        video_url=group.video_url,
        mode=group.mode,  # type: ignore[arg-type]
        site=group.site,
        reasons=tuple(group.reasons or ()),
        starter=group.starter,
        programme=programme_name,
        stamp=stamp,
    )
