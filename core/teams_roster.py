"""A programme linked to a Microsoft Teams team: its members take part.

The bot's card in a team offers the link; accepting it lands here with the team's roster (the
connector's paged members, streamed). Each member with an email becomes a Person with default
preferences if Fika does not know them (``core.changes.join``, as the web form), and is added
to the programme (``core.changes.set_programmes``, keeping the programmes they already chose),
so a drop-in room sends its invite and the programme's filters are respected as on the web.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core.changes import join, set_programmes
from core.db import db
from core.models import Person, Programme
from core.programmes import Applicant, check_programmes, programmes_for
from core.settings import Settings
from core.text import clean_text, text_problem

#: What a new person's department says until they set it themselves.
UNSET_DEPARTMENT = "Not set yet"
#: One address, as Teams and Entra give them (no spaces, one @, at most 254 characters).
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}")


@dataclass(frozen=True)
class RosterSync:
    """What a sync did: people added to the programme (``created`` of them new to Fika),
    already in it, and skipped (no email, or the programme's filters keep them out)."""

    added: int = 0
    created: int = 0
    already: int = 0
    skipped: int = 0


def member_email(member: Mapping[str, Any]) -> str | None:
    """A Teams member's email (or their UPN, which Entra makes an address), lower-cased."""
    for key in ("email", "userPrincipalName"):
        value = member.get(key)
        if isinstance(value, str):
            value = value.strip().lower()
            if EMAIL.fullmatch(value) and text_problem(value) is None:
                return value
    return None


def link_team(settings: Settings, programme: Programme, team_id: str) -> None:
    """Link ``programme`` to the team (a team feeds one programme: any older link is undone).

    Flushed; the caller commits (after the roster, so link and people arrive together).
    """
    for other in db.session.scalars(select(Programme).where(Programme.teams_team_id == team_id)):
        if other.id != programme.id:
            other.teams_team_id = None
    programme.teams_team_id = team_id
    db.session.flush()


def add_member(settings: Settings, programme: Programme, member: Mapping[str, Any]) -> str:
    """Put one roster member in the programme: "added", "created", "already" or "skipped"."""
    email = member_email(member)
    if email is None:
        return "skipped"
    person = db.session.scalar(select(Person).where(Person.email == email))
    if person is None:
        # Names from Teams have no form to show an error on: control characters become spaces.
        name = clean_text(str(member.get("name") or ""))[:200] or email.split("@")[0]
        applicant = Applicant(
            email=email,
            name=name,
            department=UNSET_DEPARTMENT,
            home_office=None,
            timezone=settings.timezone,
        )
        try:
            check_programmes(applicant, [programme.id])  # before any write: filters, switched off
        except ValueError:
            return "skipped"
        join(settings, applicant, [programme.id])
        return "created"
    current = {p.id for p in programmes_for(person)}
    if programme.id in current:
        return "already"
    try:
        set_programmes(settings, person, sorted(current | {programme.id}))
    except ValueError:
        return "skipped"
    return "added"


def sync_roster(
    settings: Settings, programme: Programme, members: Iterable[Mapping[str, Any]]
) -> RosterSync:
    """Add every member of the team's roster to the programme. Commits once, at the end."""
    counts = {"added": 0, "created": 0, "already": 0, "skipped": 0}
    seen: set[str] = set()
    for member in members:
        email = member_email(member)
        if email in seen:
            continue
        if email is not None:
            seen.add(email)
        counts[add_member(settings, programme, member)] += 1
    db.session.commit()
    return RosterSync(
        added=counts["added"] + counts["created"],
        created=counts["created"],
        already=counts["already"],
        skipped=counts["skipped"],
    )
