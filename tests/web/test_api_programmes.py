"""/api/v1/programmes, on SQLite and PostgreSQL: the admin's rules and write path, by token.

Drop-in rooms are followed through the real outbox (their rows read back as calendars, as in
tests/web/test_rooms.py); every write leaves its audit entry.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.api_tokens import create_token
from core.db import db
from core.models import AuditLog, Programme, ProgrammeMember
from core.programmes import ensure_default_programme
from tests.core.helpers import add_person
from tests.web.admin_support import ADMIN_EMAIL, admin_config, make_admin_and_person, programme_form
from tests.web.admin_support import sign_in as sign_in_as
from tests.web.test_rooms import versions
from web.config import current_settings

BOOK_CLUB = {
    "name": "Book club",
    "kind": "matched",
    "topic": "Books",
    "days": ["fri", "tue"],
    "local_time": "14:30",
    "timezone": "Europe/Oslo",
    "group_size": 4,
    "duration_minutes": 30,
    "lead_minutes": 120,
    "cooldown_rounds": 3,
    "cadence": "biweekly",
    "active": True,
    "departments": ["Research", " Sales ", "Research"],
    "offices": [],
}


@pytest.fixture
def app_config(app_config):
    return {**admin_config(app_config), "FIKA_OUTBOX_DIR": None}


@pytest.fixture
def client(app):
    """A client, and a valid token's headers; the default programme exists."""
    with app.app_context():
        ensure_default_programme(current_settings().timezone)
        _, secret = create_token("LMS", "test")
        db.session.commit()
    return app.test_client(), {"Authorization": f"Bearer {secret}"}


def actions(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [
            (a.actor, a.action) for a in db.session.scalars(select(AuditLog).order_by(AuditLog.id))
        ]


def test_every_route_needs_credentials(app, client):
    c, _ = client
    for method, path in [
        ("GET", "/api/v1/programmes"),
        ("POST", "/api/v1/programmes"),
        ("GET", "/api/v1/programmes/1"),
        ("PUT", "/api/v1/programmes/1"),
        ("DELETE", "/api/v1/programmes/1"),
        ("POST", "/api/v1/programmes/1/members"),
    ]:
        for headers in ({}, {"Authorization": "Bearer fika_wrong"}):
            response = c.open(path, method=method, json={}, headers=headers)
            assert response.status_code == 401, (method, path)
            assert response.json["status"] == 401
    with app.app_context():
        assert db.session.get(Programme, 1).active  # nothing happened


def test_create_read_list_change_and_switch_off(app, client):
    c, auth = client
    created = c.post("/api/v1/programmes", json=BOOK_CLUB, headers=auth)
    assert created.status_code == 201, created.json
    body = created.json
    assert body["name"] == "Book club" and body["local_time"] == "14:30"
    assert body["days"] == ["tue", "fri"]  # week order, as the admin stores them
    assert body["departments"] == ["Research", "Sales"]
    assert body["room_url"] is None and body["group_size"] == 4
    pid = body["id"]
    assert c.get(f"/api/v1/programmes/{pid}", headers=auth).json == body
    names = [p["name"] for p in c.get("/api/v1/programmes", headers=auth).json["programmes"]]
    assert names == ["Daily digital coffee break", "Book club"]

    changed = c.put(f"/api/v1/programmes/{pid}", json={"group_size": 3}, headers=auth)
    assert changed.status_code == 200 and changed.json == {**body, "group_size": 3}

    off = c.delete(f"/api/v1/programmes/{pid}", headers=auth)
    assert off.status_code == 200 and off.json["active"] is False
    with app.app_context():
        assert db.session.get(Programme, pid).active is False  # switched off, not deleted
        entries = db.session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
        assert [(e.actor, e.action) for e in entries] == [
            ("token:LMS", "api.programme.create"),
            ("token:LMS", "api.programme.update"),
            ("token:LMS", "api.programme.switch_off"),
        ]
        assert entries[1].details["changed"] == {"group_size": 3}
    # The admin's page sees what the API made.
    admin = app.test_client()
    with app.app_context():
        admin_person, _ = make_admin_and_person()
        db.session.commit()
        sign_in_as(admin, admin_person)
    assert "Book club" in admin.get("/admin/programmes").get_data(True)


def test_post_takes_the_admins_defaults(client):
    c, auth = client
    body = c.post("/api/v1/programmes", json={"name": "Minimal"}, headers=auth).json
    assert body["days"] == ["mon", "tue", "wed", "thu", "fri"]
    assert (body["local_time"], body["duration_minutes"], body["group_size"]) == ("10:00", 15, 2)
    assert body["kind"] == "matched" and body["active"] is True and body["cadence"] == "weekly"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"group_size": 9}, "group_size"),
        ({"group_size": 1}, "group_size"),
        ({"group_size": True}, "group_size"),
        ({"duration_minutes": 4}, "duration_minutes"),
        ({"lead_minutes": -1}, "lead_minutes"),
        ({"cooldown_rounds": 101}, "cooldown_rounds"),
        ({"kind": "lottery"}, "kind"),
        ({"cadence": "daily"}, "cadence"),
        ({"days": []}, "days"),
        ({"days": ["mon", "mon"]}, "days"),
        ({"days": ["monday"]}, "days"),
        ({"local_time": "25:00"}, "local_time"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "   "}, "name"),
        ({"name": "Two\nlines"}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"topic": 7}, "topic"),
        ({"room_url": "http://insecure.example"}, "room_url"),
        ({"room_url": "https://meet example"}, "room_url"),
        ({"departments": ["A,B"]}, "departments"),
        ({"offices": "Oslo"}, "offices"),
        ({"active": "yes"}, "active"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_fields_are_refused_by_name_and_nothing_is_saved(app, client, change, field):
    c, auth = client
    for method, path in [("POST", "/api/v1/programmes"), ("PUT", "/api/v1/programmes/1")]:
        response = c.open(path, method=method, json={**BOOK_CLUB, **change}, headers=auth)
        assert response.status_code == 422, (method, response.json)
        assert field in [e["field"] for e in response.json["errors"]]
    with app.app_context():
        assert [p.name for p in db.session.scalars(select(Programme))] == [
            "Daily digital coffee break"
        ]
    assert actions(app) == []


def test_the_admin_form_keeps_the_same_rule(app):
    """The room URL the API refuses, the admin's form refuses with the same message."""
    admin = app.test_client()
    with app.app_context():
        admin_person, _ = make_admin_and_person()
        db.session.commit()
        sign_in_as(admin, admin_person)
    form = programme_form("Room", kind="drop_in", room_url="https://meet example")
    response = admin.post("/admin/programmes/new", data=form)
    assert response.status_code == 400
    assert "Give an https:// link to the room" in response.get_data(True)


def test_names_are_unique_and_bodies_must_be_objects(client):
    c, auth = client
    assert c.post("/api/v1/programmes", json=BOOK_CLUB, headers=auth).status_code == 201
    again = c.post("/api/v1/programmes", json={"name": "BOOK CLUB"}, headers=auth)
    assert again.status_code == 409 and "name" in again.json["error"]
    renamed = c.put("/api/v1/programmes/1", json={"name": "book club"}, headers=auth)
    assert renamed.status_code == 409
    for body in (None, [], "text"):
        response = c.post("/api/v1/programmes", json=body, headers=auth)
        assert response.status_code in (400, 422) and response.json["error"]
    assert c.post("/api/v1/programmes", json={}, headers=auth).status_code == 422
    for method in ("GET", "PUT", "DELETE"):
        missing = c.open("/api/v1/programmes/999", method=method, json={}, headers=auth)
        assert missing.status_code == 404 and missing.json["status"] == 404
    for method in ("GET", "PUT", "DELETE", "POST"):  # an id past the bound: 404, not 405
        path = "/api/v1/programmes/2147483648" + ("/members" if method == "POST" else "")
        assert c.open(path, method=method, json={}, headers=auth).status_code == 404, method


def test_adding_members_is_all_or_nothing(app, client):
    c, auth = client
    with app.app_context():
        ana = add_person("ana@example.org", "Research").id
        add_person("ben@example.org", "Sales")
    pid = c.post("/api/v1/programmes", json={**BOOK_CLUB, "departments": []}, headers=auth).json[
        "id"
    ]
    url = f"/api/v1/programmes/{pid}/members"
    refused = c.post(
        url, json={"emails": ["ana@example.org", "nobody@example.org", "NoOne@Example.org"]},
        headers=auth,
    )  # fmt: skip
    assert refused.status_code == 422
    assert refused.json["unknown"] == ["nobody@example.org", "noone@example.org"]
    with app.app_context():
        assert db.session.scalars(select(ProgrammeMember)).all() == []
    assert actions(app)[-1][1] == "api.programme.create"

    added = c.post(url, json={"emails": ["ANA@example.org", "ana@example.org"]}, headers=auth)
    assert added.status_code == 200 and added.json == {"added": ["ana@example.org"], "already": []}
    again = c.post(url, json={"emails": ["ana@example.org", "ben@example.org"]}, headers=auth)
    assert again.json == {"added": ["ben@example.org"], "already": ["ana@example.org"]}
    with app.app_context():
        chosen = {
            (m.programme_id, m.person_id) for m in db.session.scalars(select(ProgrammeMember))
        }
        assert (pid, ana) in chosen and (1, ana) in chosen  # keeps the default programme
    assert actions(app)[-1] == ("token:LMS", "api.programme.members")
    for body in ({"emails": []}, {"emails": ["not an address"]}):
        assert c.post(url, json=body, headers=auth).status_code == 422
    for body in ({}, {"emails": "ana@example.org"}, {"emails": ["a@example.org"], "x": 1}):
        assert c.post(url, json=body, headers=auth).status_code == 400
    assert c.post("/api/v1/programmes/999/members", json={"emails": ["ana@example.org"]},
                  headers=auth).status_code == 404  # fmt: skip


def test_filters_keep_people_out_as_they_do_on_the_preferences_page(app, client):
    c, auth = client
    with app.app_context():
        add_person("ana@example.org", "Research")
        add_person("ben@example.org", "Sales")
    pid = c.post(
        "/api/v1/programmes", json={**BOOK_CLUB, "departments": ["Research"]}, headers=auth
    ).json["id"]
    response = c.post(
        f"/api/v1/programmes/{pid}/members",
        json={"emails": ["ana@example.org", "ben@example.org"]},
        headers=auth,
    )
    assert response.status_code == 409 and response.json["refused"] == ["ben@example.org"]
    with app.app_context():
        assert db.session.scalars(select(ProgrammeMember)).all() == []


def test_drop_in_members_get_their_room_and_switching_off_cancels_it(app, client):
    c, auth = client
    with app.app_context():
        ana = add_person("ana@example.org", "Research").id
    room = {"name": "Coffee room", "kind": "drop_in", "room_url": "https://meet.example/fika"}
    pid = c.post("/api/v1/programmes", json=room, headers=auth).json["id"]
    url = f"/api/v1/programmes/{pid}/members"
    assert c.post(url, json={"emails": ["ana@example.org"]}, headers=auth).status_code == 200
    uid = f"fika-room-{pid}-{ana}"
    with app.app_context():
        assert versions() == [(uid, 0, "REQUEST")]
    moved = c.put(f"/api/v1/programmes/{pid}", json={"local_time": "11:00"}, headers=auth)
    assert moved.status_code == 200
    with app.app_context():
        assert versions()[-1] == (uid, 1, "REQUEST")
    assert c.delete(f"/api/v1/programmes/{pid}", headers=auth).json["active"] is False
    with app.app_context():
        assert versions()[-1] == (uid, 2, "CANCEL")
        assert db.session.get(Programme, pid).room_url == "https://meet.example/fika"


def test_an_admin_session_may_use_it_too(app, client):
    c, _ = client
    with app.app_context():
        admin_person, _ = make_admin_and_person()
        db.session.commit()
        sign_in_as(c, admin_person)
    assert c.get("/api/v1/programmes").status_code == 200
    assert c.post("/api/v1/programmes", json={"name": "By session"}).status_code == 201
    assert actions(app)[-1] == (ADMIN_EMAIL, "api.programme.create")
