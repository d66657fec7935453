"""Programme queries shared by the form, the CLI and the jobs: the default one, the next break."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from core.db import db
from core.models import Person, Programme, ProgrammeMember
from integrations.base import first_name
from web import transactions
from web.per_process import kept

DEFAULT_PROGRAMME = "Daily digital coffee break"


def ensure_default_programme() -> Programme:
    """Create the default programme (weekdays, 10:00 in FIKA_TIMEZONE, 15 min) if there is none."""
    programme = db.session.scalar(select(Programme).order_by(Programme.id).limit(1))
    if programme is None:
        programme = Programme(
            name=DEFAULT_PROGRAMME,
            timezone=current_app.config["FIKA_TIMEZONE"],
            duration_minutes=15,
            group_size=2,
        )
        db.session.add(programme)
        db.session.commit()
    return programme


# --- The programmes as the opt-in form shows them, without a query per page view ---------------

#: Seconds a worker reuses its copy of the programmes (its own changes show at once).
PROGRAMMES_CACHE_SECONDS = 10.0

_bump = threading.Lock()
_generation = 0  # bumped by every commit in this process that wrote a programme


def cached_programmes() -> tuple[Programme, ...]:
    """Every programme, oldest first, as read-only copies read at most every 10 s per process.

    The opt-in form and its confirmation are the pages everyone requests; with these they read
    nothing from the database (the form's GET then needs no transaction at all). A commit in
    this process that adds, changes or deletes a programme makes the next call read afresh
    (``transactions.after_commit_writing``); a change made by another worker or the CLI shows
    within PROGRAMMES_CACHE_SECONDS. The copies are detached from any session: read them, never
    change them or add them to one; whatever writes reads its programmes in its own session
    (``set_programmes`` does).
    """
    return kept("programmes", PROGRAMMES_CACHE_SECONDS, _read_programmes, _generation)


def _read_programmes() -> tuple[Programme, ...]:
    # Its own session, so the request's session and its identity map stay as they were.
    with db.session.session_factory() as session:
        return tuple(session.scalars(select(Programme).order_by(Programme.id)))


def cached_or_default() -> tuple[Programme, ...]:
    """:func:`cached_programmes`, or on a fresh install the default programme, created now."""
    return cached_programmes() or (ensure_default_programme(),)


def default_programme() -> Programme:
    """The first programme (created on a fresh install), from :func:`cached_programmes`."""
    return cached_or_default()[0]


def _programmes_changed() -> None:
    global _generation
    with _bump:
        _generation += 1


transactions.after_commit_writing(Programme, _programmes_changed)


def find_programme(name: str | None) -> Programme | None:
    """The programme called ``name``, or the first one when no name is given."""
    query = select(Programme).order_by(Programme.id)
    if name:
        query = query.where(Programme.name == name)
    return db.session.scalar(query.limit(1))


def break_start(programme: Programme, day: date) -> datetime:
    """When the programme's break begins on ``day``, as an aware instant in its zone."""
    return datetime.combine(day, programme.local_time, tzinfo=ZoneInfo(programme.timezone))


def next_break(programme: Programme, now: datetime) -> datetime | None:
    """The first break still ahead of ``now`` (planned ``lead_minutes`` before it), or None."""
    zone = ZoneInfo(programme.timezone)
    today = now.astimezone(zone).date()
    for offset in range(0, 15):
        day = today + timedelta(days=offset)
        if not programme.runs_on(day):
            continue
        start = break_start(programme, day)
        if start - timedelta(minutes=programme.lead_minutes) > now:
            return start
    return None


# --- Who takes part in which programme -------------------------------------------------------
#
# Membership is a ProgrammeMember row per (programme, person). A person with no rows takes part
# in the default (first) programme only, so everyone who joined through the opt-in form before
# programmes existed keeps their daily break. Department and office filters are checked again
# at every round, so narrowing a programme takes effect without touching anyone's choice.

REMOTE = "remote"


@dataclass(frozen=True)
class Applicant:
    """Someone as the opt-in form describes them, before (or instead of) storing anything.

    The form answers from this alone, so its reply is the same whether or not the address is
    already known (see ``web.optin.join``).
    """

    email: str
    name: str
    department: str
    home_office: str | None
    timezone: str

    def first_name(self) -> str:
        """How the confirmation page addresses them."""
        return first_name(self.name)


def may_join(programme: Programme, person: Person | Applicant) -> bool:
    """Whether the programme's department and office filters let ``person`` in."""
    departments = {d.casefold() for d in programme.departments or []}
    if departments and person.department.casefold() not in departments:
        return False
    offices = {o.casefold() for o in programme.offices or []}
    office = (person.home_office or REMOTE).casefold()
    return not offices or office in offices


def open_programmes(person: Person | Applicant) -> list[Programme]:
    """The programmes switched on that ``person`` may choose on their preferences page."""
    programmes = db.session.scalars(select(Programme).where(Programme.active.is_(True)))
    return [p for p in programmes.all() if may_join(p, person)]


def programmes_for(person: Person) -> list[Programme]:
    """The programmes ``person`` takes part in: those they chose, or else the default one."""
    chosen = db.session.scalars(
        select(Programme)
        .join(ProgrammeMember, ProgrammeMember.programme_id == Programme.id)
        .where(ProgrammeMember.person_id == person.id)
        .order_by(Programme.id)
    ).all()
    if chosen:
        return list(chosen)
    default = db.session.scalar(select(Programme).order_by(Programme.id).limit(1))
    return [default] if default is not None else []


def check_programmes(person: Person | Applicant, ids: list[int]) -> list[Programme]:
    """The programmes ``ids`` name, if ``person`` may choose them all; writes nothing.

    ValueError names a bad choice. An empty choice is refused: leaving every programme is
    "stop taking part" (``core.changes``).
    """
    wanted = set(ids)
    if not wanted:
        raise ValueError("choose at least one programme")
    allowed = {p.id: p for p in open_programmes(person)}
    refused = sorted(wanted - set(allowed))
    if refused:
        raise ValueError(f"programme {refused[0]} is not open to you")
    return [allowed[i] for i in sorted(wanted)]


def set_programmes(person: Person, ids: list[int]) -> list[Programme]:
    """Make ``ids`` the person's programmes (the caller commits). ValueError names a bad choice."""
    chosen = check_programmes(person, ids)
    allowed = {p.id: p for p in chosen}
    wanted = set(allowed)
    current = set(
        db.session.scalars(
            select(ProgrammeMember.programme_id).where(ProgrammeMember.person_id == person.id)
        )
    )
    from core import rooms  # drop-in rooms send their recurring invite or its CANCEL

    for programme_id in current - wanted:
        programme = db.session.get(Programme, programme_id)
        if programme is not None and programme.is_drop_in:
            rooms.left(programme, person)
        db.session.delete(db.session.get(ProgrammeMember, (programme_id, person.id)))
    db.session.add_all(
        ProgrammeMember(programme_id=i, person_id=person.id) for i in sorted(wanted - current)
    )
    db.session.flush()
    for programme_id in sorted(wanted - current):
        if allowed[programme_id].is_drop_in:
            rooms.joined(allowed[programme_id], person)
    return chosen


def submitted_programme_ids(data) -> list[int] | None:
    """The programme ids a form submitted; None when the form did not show the choice."""
    if "programmes_shown" not in data:
        return None
    try:
        return sorted({int(v) for v in data.getlist("programmes")})
    except ValueError:
        raise ValueError("Choose programmes from the list.") from None


def programme_participants(programme: Programme, people: list[Person]) -> list[Person]:
    """Of ``people`` (already eligible that day), those taking part in ``programme``.

    ``core.participants.eligible_people`` finds who is available on a date; this narrows that
    list to the programme's members allowed by its department and office filters.
    """
    if not people:
        return []
    ids = [p.id for p in people]
    chosen: dict[int, set[int]] = {}
    for start in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
        rows = db.session.execute(
            select(ProgrammeMember.person_id, ProgrammeMember.programme_id).where(
                ProgrammeMember.person_id.in_(ids[start : start + 900])
            )
        )
        for person_id, programme_id in rows:
            chosen.setdefault(person_id, set()).add(programme_id)
    default_id = db.session.scalar(select(Programme.id).order_by(Programme.id).limit(1))
    result = []
    for person in people:
        member = programme.id in chosen.get(person.id, {default_id})
        if member and may_join(programme, person):
            result.append(person)
    return result
