"""Builders shared by the admin, API, import and insights tests: people, sign-in, a past round."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from core.db import db
from core.models import Delivery, Person
from tests.core.helpers import add_person
from web.config import current_settings

ADMIN_EMAIL = "boss@example.org"
MONDAY = date(2026, 11, 30)


def programme_form(name: str, **changes) -> dict:
    """The admin's programme form, filled in for a weekly Monday/Tuesday break; ``changes`` win."""
    form = {
        "name": name,
        "active": "y",
        "cadence": "weekly",
        "days": ["mon", "tue"],
        "local_time": "10:00",
        "timezone": "Europe/Stockholm",
        "duration_minutes": "15",
        "lead_minutes": "60",
        "group_size": "2",
        "cooldown_rounds": "10",
        "departments": "",
        "offices": "",
    }
    return {**form, **changes}


def admin_config(config: dict) -> dict:
    """Settings with one admin, written in a different case to prove the comparison ignores it."""
    return {**config, "FIKA_ADMIN_EMAILS": " Boss@Example.ORG , other-admin@example.org"}


def make_admin_and_person() -> tuple[Person, Person]:
    """An admin and an ordinary person (both committed)."""
    return add_person(ADMIN_EMAIL, "People"), add_person("someone@example.org", "Sales")


def sign_in(client, person: Person | None) -> None:
    """Put ``person`` in the client's session, as the sign-in code does (None: sign out)."""
    with client.session_transaction() as session:
        session.clear()
        if person is not None:
            session["person_id"] = person.id


def admin_client_for(app):
    """A test client signed in as the admin (who is created, with an ordinary person)."""
    client = app.test_client()
    with app.app_context():
        admin, _ = make_admin_and_person()
        sign_in(client, admin)
    return client


def past_round_with_dead_letter(programme) -> tuple[int, int]:
    """Run a round on MONDAY for four more people and kill one delivery; (round id, delivery id)."""
    from core.rounds import run_round

    for i, dept in enumerate(["Sales", "Legal", "Research", "Design"]):
        add_person(f"member{i}@example.org", dept)
    outcome = run_round(current_settings(), programme, MONDAY)
    assert outcome.created
    delivery = db.session.scalars(db.select(Delivery).order_by(Delivery.id)).first()
    delivery.status, delivery.attempts, delivery.last_error = "dead", 8, "550 mailbox unavailable"
    db.session.commit()
    return outcome.round_id, delivery.id


def people_count(app) -> int:
    """How many people are stored."""
    with app.app_context():
        return db.session.scalar(select(func.count(Person.id)))
