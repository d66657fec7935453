"""Programmes in the admin, and who takes part in which (membership and filters)."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import select

from core.changes import set_programmes
from core.db import db
from core.models import AuditLog, Programme
from core.participants import programme_members
from core.programmes import ensure_default_programme, open_programmes, programmes_for
from tests.core.helpers import add_person
from tests.web.admin_support import admin_client_for, admin_config
from web.config import current_settings


@pytest.fixture
def app_config(app_config):
    return admin_config(app_config)


@pytest.fixture
def admin_client(app):
    return admin_client_for(app)


FORM = {
    "name": "Learning teams",
    "topic": "Data literacy",
    "active": "y",
    "cadence": "biweekly",
    "days": ["thu"],
    "local_time": "15:00",
    "timezone": "Europe/Oslo",
    "duration_minutes": "45",
    "lead_minutes": "2880",
    "group_size": "4",
    "cooldown_rounds": "4",
    "departments": "Research, Design, Research",
    "offices": "Oslo, remote",
}


def test_create_and_edit_a_programme_with_audit(app, admin_client):
    page = admin_client.get("/admin/programmes/new?preset=learning")
    assert b'value="Learning teams"' in page.data and b"biweekly" in page.data
    created = admin_client.post("/admin/programmes/new", data=FORM)
    assert created.status_code == 302
    with app.app_context():
        programme = db.session.scalar(select(Programme).where(Programme.name == "Learning teams"))
        assert programme.cadence == "biweekly" and programme.days == ["thu"]
        assert programme.local_time == time(15) and programme.timezone == "Europe/Oslo"
        assert programme.group_size == 4 and programme.lead_minutes == 2880
        assert programme.departments == ["Research", "Design"]
        assert programme.offices == ["Oslo", "remote"] and programme.topic == "Data literacy"
        programme_id = programme.id
    edit = admin_client.get(f"/admin/programmes/{programme_id}")
    assert b'value="Research, Design"' in edit.data  # lists shown as text, not Python
    off = {**FORM, "departments": ""}
    off.pop("active")
    assert admin_client.post(f"/admin/programmes/{programme_id}", data=off).status_code == 302
    with app.app_context():
        programme = db.session.get(Programme, programme_id)
        assert programme.active is False and programme.departments == []
        entries = db.session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
        assert [e.action for e in entries] == ["programme.create", "programme.update"]
        assert set(entries[1].details["changed"]) == {"active", "departments"}


def test_group_size_goes_up_to_eight_as_the_planner_does(app, admin_client):
    """Learning teams of 8 are what the planner accepts; the form allows them too."""
    page = admin_client.get("/admin/programmes/new")
    assert b'min="2"' in page.data and b'max="8"' in page.data
    created = admin_client.post(
        "/admin/programmes/new", data={**FORM, "name": "Big teams", "group_size": "8"}
    )
    assert created.status_code == 302
    with app.app_context():
        programme = db.session.scalar(select(Programme).where(Programme.name == "Big teams"))
        assert programme.group_size == 8


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, b"Give the programme a name."),
        ({"name": "daily digital coffee break"}, b"Another programme already has this name."),
        ({"group_size": "9"}, b"From 2 to 8 people."),
        ({"group_size": "1"}, b"From 2 to 8 people."),
        ({"days": []}, b"Choose at least one day."),
        ({"timezone": "Mars/Base"}, b"Unknown time zone"),
        ({"duration_minutes": "x"}, b"Not a valid integer value."),
    ],
)
def test_bad_programme_input_re_renders_with_the_message(app, admin_client, change, message):
    response = admin_client.post("/admin/programmes/new", data={**FORM, **change})
    assert response.status_code == 400
    assert message in response.data and b'aria-invalid="true"' in response.data
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Programme.id))) == 1


def test_biweekly_programmes_run_every_other_week(app):
    with app.app_context():
        programme = Programme(name="x", cadence="biweekly")
        weeks = [programme.in_cadence(date(2026, 11, 2 + 7 * k)) for k in range(4)]
        assert weeks in ([True, False, True, False], [False, True, False, True])
        assert Programme(name="y", cadence="weekly").in_cadence(date(2026, 11, 9))


def test_membership_default_choice_and_filters(app):
    with app.app_context():
        default = ensure_default_programme(current_settings().timezone)
        learning = Programme(name="Learning", departments=["Research"], offices=["remote"])
        weekly = Programme(name="Weekly")
        db.session.add_all([learning, weekly])
        db.session.commit()
        researcher = add_person("r@example.org", "Research", office=None)
        office_researcher = add_person("o@example.org", "research", office="Oslo")
        seller = add_person("s@example.org", "Sales")
        # Nobody chose anything yet: everyone is in the default programme only.
        assert programmes_for(seller) == [default]
        everyone = [researcher, office_researcher, seller]
        assert programme_members(default, everyone) == everyone
        assert programme_members(weekly, everyone) == []
        assert [p.name for p in open_programmes(researcher)] == [default.name, "Learning", "Weekly"]
        assert "Learning" not in [p.name for p in open_programmes(office_researcher)]
        set_programmes(current_settings(), researcher, [learning.id, weekly.id])
        db.session.commit()
        assert programmes_for(researcher) == [learning, weekly]
        assert programme_members(default, everyone) == [office_researcher, seller]
        assert programme_members(learning, everyone) == [researcher]
        # Narrowing a programme applies at the next round, without touching the choice.
        learning.departments = ["Design"]
        assert programme_members(learning, everyone) == []
        with pytest.raises(ValueError, match="not open to you"):
            set_programmes(current_settings(), seller, [learning.id])
        with pytest.raises(ValueError, match="at least one"):
            set_programmes(current_settings(), seller, [])
        set_programmes(current_settings(), researcher, [weekly.id])
        db.session.commit()
        assert programmes_for(researcher) == [weekly]
