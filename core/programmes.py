"""Programmes: the default one, when their breaks are, and who may take part in which.

Membership is a ProgrammeMember row per (programme, person). A person with no rows takes part
in the default (first) programme only, so everyone who joined through the opt-in form before
programmes existed keeps their daily break. Department and office filters are checked again at
every round, so narrowing a programme takes effect without touching anyone's choice.
"""

from __future__ import annotations

from collections.abc import Container, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, exists, func, or_, select

from core.db import db
from core.models import Person, Programme, ProgrammeMember, Round
from core.schedule import schedule_for
from integrations.base import first_name

DEFAULT_PROGRAMME = "Daily digital coffee break"


def ensure_default_programme(timezone: str) -> Programme:
    """Create the default programme (weekdays, 10:00 in ``timezone``, 15 min) if there is none."""
    programme = db.session.scalar(select(Programme).order_by(Programme.id).limit(1))
    if programme is None:
        programme = Programme(
            name=DEFAULT_PROGRAMME,
            timezone=timezone,
            duration_minutes=15,
            group_size=2,
        )
        db.session.add(programme)
        db.session.commit()
    return programme


def find_programme(name: str | None) -> Programme | None:
    """The programme called ``name``, or the first one when no name is given."""
    query = select(Programme).order_by(Programme.id)
    if name:
        query = query.where(Programme.name == name)
    return db.session.scalar(query.limit(1))


def programme_names() -> list[str]:
    """Every programme's name, oldest first (to say which ones exist)."""
    return list(db.session.scalars(select(Programme.name).order_by(Programme.id)))


def break_start(programme: Programme, day: date) -> datetime:
    """When the programme's break begins on ``day``, as an aware instant in its zone."""
    return datetime.combine(day, programme.local_time, tzinfo=ZoneInfo(programme.timezone))


@dataclass(frozen=True)
class Slot:
    """One working slot of a programme: a day with a break, and when its round is planned."""

    day: date  # in the programme's zone
    start: datetime  # the break, aware, in the programme's zone
    plan_at: datetime  # when the clock plans its round (UTC)


def slots_after(programme: Programme, now: datetime) -> Iterator[Slot]:
    """The programme's working slots whose round is planned after ``now``, soonest first.

    The one rule for "the programme's next slot": the clock's own schedule
    (``core.schedule.Schedule.next_firing``), so weekdays, cadence, public holidays and the
    programme's days off are skipped here exactly as the clock skips them. Ends after
    ``core.schedule.HORIZON_DAYS`` without a working day.
    """
    schedule = schedule_for(programme)
    zone = ZoneInfo(programme.timezone)
    cursor = now
    while (firing := schedule.next_firing(cursor)) is not None:
        cursor, day = firing
        yield Slot(day=day, start=schedule.break_at(day).astimezone(zone), plan_at=cursor)


#: Slots looked at before giving up on finding one not planned yet.
MAX_SLOTS = 400


def next_slot(programme: Programme, now: datetime, *, planned: Container[date] = ()) -> Slot | None:
    """The programme's next working slot (see :func:`slots_after`), or None when it has none.

    ``planned``: days whose round is planned (or missed) already, skipped: a round planned
    early (``fika demo``, "run now") is not the next one any more. The admin dashboard's "Next
    round", the rounds page's preview date, the demo's round and every person's expected break
    (``core.next_break``) come from here.
    """
    slots = islice(slots_after(programme, now), MAX_SLOTS)
    return next((slot for slot in slots if slot.day not in planned), None)


def planned_days(programme: Programme, since: date) -> set[date]:
    """The days from ``since`` on whose round of ``programme`` is planned or missed already."""
    return set(
        db.session.scalars(
            select(Round.date).where(
                Round.programme_id == programme.id, Round.date >= since, Round.is_round()
            )
        )
    )


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


def member_counts() -> dict[int, int]:
    """How many people chose each programme, by programme id (programmes nobody chose: absent)."""
    return dict(
        db.session.execute(
            select(ProgrammeMember.programme_id, func.count()).group_by(
                ProgrammeMember.programme_id
            )
        ).all()
    )


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


#: The programmes a person (``person_id``) chose, or else the first one: one statement, built once.
_CHOSEN = select(ProgrammeMember.programme_id).where(
    ProgrammeMember.person_id == bindparam("person_id")
)
_PROGRAMMES_FOR = (
    select(Programme)
    .where(
        or_(
            Programme.id.in_(_CHOSEN),
            and_(
                ~exists(_CHOSEN),
                Programme.id == select(func.min(Programme.id)).scalar_subquery(),
            ),
        )
    )
    .order_by(Programme.id)
)


def programmes_for(person: Person) -> list[Programme]:
    """The programmes ``person`` takes part in: those they chose, or else the default one."""
    return list(db.session.scalars(_PROGRAMMES_FOR, {"person_id": person.id}))


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
