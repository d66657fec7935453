"""Finding people: the admin's list with search and filters, and the API's list and lookups."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from core.db import db
from core.models import Person, Preference, ProgrammeMember
from core.people_import import EMAIL_PATTERN

STATUSES = ("active", "paused", "inactive")


@dataclass(frozen=True)
class PeopleFilter:
    """What the list shows: free text over name, email and department, and exact filters."""

    q: str = ""
    department: str = ""
    office: str = ""  # "remote" for people without a home office
    status: str = ""  # one of STATUSES, or "" for everyone
    programme_id: int | None = None


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filtered(query: Select, f: PeopleFilter, today: date | None = None) -> Select:
    """``query`` (over Person) narrowed by the filter."""
    today = today or datetime.now(UTC).date()
    if f.q:
        pattern = f"%{_escape(f.q.lower())}%"
        query = query.where(
            or_(
                func.lower(Person.name).like(pattern, escape="\\"),
                func.lower(Person.email).like(pattern, escape="\\"),
                func.lower(Person.department).like(pattern, escape="\\"),
            )
        )
    if f.department:
        query = query.where(Person.department == f.department)
    if f.office == "remote":
        query = query.where(Person.home_office.is_(None))
    elif f.office:
        query = query.where(Person.home_office == f.office)
    if f.status:
        pref = aliased(Preference)
        query = query.outerjoin(pref, pref.person_id == Person.id)
        paused = pref.paused_until.is_not(None) & (pref.paused_until > today)
        if f.status == "active":
            query = query.where(pref.active.is_(True), ~paused)
        elif f.status == "paused":
            query = query.where(pref.active.is_(True), paused)
        elif f.status == "inactive":
            query = query.where(or_(pref.active.is_(False), pref.person_id.is_(None)))
    if f.programme_id is not None:
        query = query.where(
            Person.id.in_(
                select(ProgrammeMember.person_id).where(
                    ProgrammeMember.programme_id == f.programme_id
                )
            )
        )
    return query


def search(f: PeopleFilter, limit: int, offset: int) -> tuple[list[Person], int]:
    """One page of people matching ``f``, by name, and how many match in all."""
    total = db.session.scalar(filtered(select(func.count(Person.id)), f))
    people = db.session.scalars(
        filtered(select(Person), f)
        .options(selectinload(Person.preference), selectinload(Person.manager))
        .order_by(Person.name, Person.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(people), int(total or 0)


def by_email(email: str) -> Person | None:
    """The person with this email (case-insensitively); None for anything not an address."""
    email = email.strip().lower()
    if not re.fullmatch(EMAIL_PATTERN, email) or len(email) > 254:
        return None
    return db.session.scalar(select(Person).where(Person.email == email))


def choices() -> tuple[list[str], list[str]]:
    """Departments and offices in use, for the filter selects."""
    departments = db.session.scalars(select(Person.department).distinct()).all()
    offices = db.session.scalars(
        select(Person.home_office).where(Person.home_office.is_not(None)).distinct()
    ).all()
    return sorted(d for d in departments if d), sorted(o for o in offices if o)


def status_of(person: Person, today: date | None = None) -> str:
    """'active', 'paused' or 'inactive', as the list shows it."""
    today = today or datetime.now(UTC).date()
    pref = person.preference
    if pref is None or not pref.active:
        return "inactive"
    if pref.paused_until is not None and pref.paused_until > today:
        return "paused"
    return "active"


def person_json(person: Person) -> dict:
    """A person as the API shows them (the OpenAPI ``Person`` schema)."""
    return {
        "email": person.email,
        "name": person.name,
        "department": person.department,
        "office": person.home_office,
        "timezone": person.timezone,
        "work_start": person.work_start.strftime("%H:%M"),
        "work_end": person.work_end.strftime("%H:%M"),
        "manager_email": person.manager.email if person.manager is not None else None,
        "language": person.language,
        "active": person.preference is not None and person.preference.active,
        "learn_topics": list(person.preference.topics or []) if person.preference else [],
        "share_topics": list(person.preference.share_topics or []) if person.preference else [],
        "status": status_of(person),
        "created_at": person.created_at.isoformat(),
        "updated_at": person.updated_at.isoformat(),
    }
