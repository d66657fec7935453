"""Changing programmes: the one write path of the admin's programme form and the JSON API.

A programme is created or edited with checked settings (``core.programmes.settings_problems``);
drop-in rooms get their updates or CANCELs (``core.drop_in.programme_changed``) and the change is
audited, all in the caller's transaction. Nothing is ever deleted: a programme is switched off,
as the admin does, so its rounds and history stay. People are added the way they join.
"""

from __future__ import annotations

from sqlalchemy import select

from core import audit, drop_in, learning_teams
from core.db import db
from core.models import Person, Programme, ProgrammeMember
from core.programmes import ProgrammeSettings, apply_settings, find_programme, may_join
from core.settings import Settings


def _snapshot(programme: Programme) -> dict:
    values = ProgrammeSettings.of(programme)
    return {f: getattr(values, f) for f in values.__dataclass_fields__}


def save_programme(
    settings: Settings,
    programme: Programme | None,
    values: ProgrammeSettings,
    actor: str,
    *,
    action: str | None = None,
) -> Programme:
    """Create (``programme`` None) or change a programme to checked ``values``; the caller
    commits. Audited as ``action`` (default ``programme.create`` / ``programme.update``)."""
    before = _snapshot(programme) if programme is not None else None
    created = programme is None
    if programme is None:
        programme = Programme()
        db.session.add(programme)
    apply_settings(programme, values)
    if before is not None and before["room_url"] and not programme.room_url:
        programme.room_url = before["room_url"]  # emptied: keep the room people have
    db.session.flush()
    drop_in.programme_changed(settings, programme, before)
    learning_teams.programme_changed(settings, programme, before)
    after = _snapshot(programme)
    changed = {k: v for k, v in after.items() if not before or before.get(k) != v}
    audit.record(
        actor,
        action or ("programme.create" if created else "programme.update"),
        programme_id=programme.id,
        name=programme.name,
        changed=changed,
    )
    return programme


def switch_off(settings: Settings, programme: Programme, actor: str, action: str) -> Programme:
    """Switch a programme off (the admin's "delete"): no more rounds; drop-in rooms CANCEL."""
    values = ProgrammeSettings.of(programme)
    values.active = False
    return save_programme(settings, programme, values, actor, action=action)


def refused_members(programme: Programme, people: list[Person]) -> list[Person]:
    """Those of ``people`` the programme's department and office filters keep out."""
    return [p for p in people if not may_join(programme, p)]


def add_members(
    settings: Settings, programme: Programme, people: list[Person], actor: str, action: str
) -> list[Person]:
    """Add ``people`` to ``programme`` (checked by the caller); returns those newly added.

    Someone who took part only in the default programme (no membership rows) keeps it. A
    drop-in room switched on sends each newcomer their invite as a person joining does
    (``core.drop_in.joined``); one switched off invites them when it is switched on. The
    caller commits.
    """
    default = find_programme(None)
    added = []
    for person in people:
        chosen = set(
            db.session.scalars(
                select(ProgrammeMember.programme_id).where(ProgrammeMember.person_id == person.id)
            )
        )
        if programme.id in chosen:
            continue
        if not chosen and default is not None and default.id != programme.id:
            db.session.add(ProgrammeMember(programme_id=default.id, person_id=person.id))
        db.session.add(ProgrammeMember(programme_id=programme.id, person_id=person.id))
        db.session.flush()
        if programme.is_drop_in and programme.active:
            drop_in.joined(settings, programme, person)
        added.append(person)
    audit.record(
        actor,
        action,
        programme_id=programme.id,
        added=[p.id for p in added],
        already=len(people) - len(added),
    )
    return added
