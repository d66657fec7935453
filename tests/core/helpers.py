"""Small builders for people in the database, shared by the jobs and CLI tests."""

from __future__ import annotations

from datetime import time

from core.db import db
from core.models import Person, Preference


def add_person(
    email: str,
    department: str,
    *,
    office: str | None = "Stockholm",
    timezone: str = "Europe/Stockholm",
    hours: tuple[int, int] = (9, 17),
    **preference,
) -> Person:
    """A person with active preferences (weekdays), committed."""
    person = Person(
        email=email,
        name=email.split("@")[0].replace(".", " ").title(),
        department=department,
        home_office=office,
        timezone=timezone,
        work_start=time(hours[0]),
        work_end=time(hours[1]),
    )
    person.preference = Preference(**preference)
    db.session.add(person)
    db.session.commit()
    return person
