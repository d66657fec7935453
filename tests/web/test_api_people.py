"""/api/v1/people: who may call it (tokens, sessions) and what each method does."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from core.api_tokens import create_token, revoke
from core.db import db
from core.models import ApiToken, AuditLog, Person
from core.text import PLAIN_TEXT_PATTERN
from tests.core.helpers import add_person
from tests.web.admin_support import admin_config, make_admin_and_person
from tests.web.admin_support import sign_in as sign_in_as
from web.config import current_settings

ADA = {
    "name": "Ada Lovelace",
    "department": "Research",
    "office": "Stockholm",
    "timezone": "Europe/Stockholm",
    "work_start": "08:30",
    "work_end": "16:30",
}


@pytest.fixture
def app_config(app_config):
    return admin_config(app_config)


@pytest.fixture
def people(app):
    """(admin id, person id, a valid token, a revoked token)."""
    with app.app_context():
        admin, person = make_admin_and_person()
        _, good = create_token("HR sync", "test")
        old, revoked = create_token("old", "test")
        revoke(old)
        db.session.commit()
        return admin.id, person.id, good, revoked


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


CALLS = [
    ("GET", "/api/v1/people", None, 200),
    ("GET", "/api/v1/people/someone@example.org", None, 200),
    ("PUT", "/api/v1/people/ada@example.org", ADA, 201),
    ("POST", "/api/v1/people", {"people": [{**ADA, "email": "bob@example.org"}]}, 200),
    ("DELETE", "/api/v1/people/bob@example.org", None, 204),
]


def _call(client, method, path, body, headers=None):
    return client.open(path, method=method, json=body, headers=headers or {})


@pytest.mark.parametrize(("method", "path", "body", "ok"), CALLS)
def test_each_method_needs_credentials(app, people, method, path, body, ok):
    admin_id, person_id, good, revoked = people
    client = app.test_client()
    for headers, reason in [
        ({}, "no credentials"),
        (bearer("fika_wrong"), "wrong token"),
        (bearer(revoked), "revoked token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "not a bearer token"),
        ({"Authorization": "Bearer "}, "empty token"),
    ]:
        response = _call(client, method, path, body, headers)
        assert response.status_code == 401, reason
        assert response.json["error"] and response.json["status"] == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    with app.app_context():
        sign_in_as(client, db.session.get(Person, person_id))
    response = _call(client, method, path, body)
    assert response.status_code == 403 and response.json["status"] == 403
    with app.app_context():
        sign_in_as(client, db.session.get(Person, admin_id))
        if method == "DELETE":
            add_person("bob@example.org", "Sales")
    assert _call(client, method, path, body).status_code == ok
    sign_in_as(client, None)
    with app.app_context():
        if method == "DELETE":
            add_person("bob@example.org", "Sales")
        if method == "PUT":
            from core.changes import erase

            erase(
                current_settings(),
                db.session.scalar(select(Person).where(Person.email == "ada@example.org")),
            )
    assert _call(client, method, path, body, bearer(good)).status_code == ok


def test_session_writes_need_the_csrf_token(make_app, app, people):
    strict = make_app(WTF_CSRF_ENABLED=True)
    client = strict.test_client()
    with strict.app_context():
        sign_in_as(client, db.session.get(Person, people[0]))
    response = client.put("/api/v1/people/ada@example.org", json=ADA)
    assert response.status_code == 400 and "CSRF" in response.json["error"]
    # A bearer token needs no CSRF token: browsers never attach one by themselves.
    response = client.put("/api/v1/people/ada@example.org", json=ADA, headers=bearer(people[2]))
    assert response.status_code == 201


def test_put_creates_then_updates_and_get_reads_back(app, people):
    client = app.test_client()
    headers = bearer(people[2])
    first = client.put("/api/v1/people/Ada@Example.org", json=ADA, headers=headers)
    assert first.status_code == 201
    assert first.json["email"] == "ada@example.org" and first.json["work_start"] == "08:30"
    assert first.json["active"] is True and first.json["status"] == "active"
    again = client.put(
        "/api/v1/people/ada@example.org",
        json={**ADA, "department": "Legal", "office": None, "manager_email": "boss@example.org"},
        headers=headers,
    )
    assert again.status_code == 200
    read = client.get("/api/v1/people/ada@example.org", headers=headers).json
    assert read["department"] == "Legal" and read["office"] is None
    assert read["manager_email"] == "boss@example.org"
    with app.app_context():
        entries = db.session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
        assert [e.action for e in entries] == ["api.person.upsert", "api.person.upsert"]
        assert entries[0].actor == "token:HR sync" and entries[0].details["created"] is True
        assert db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.name == "HR sync"))


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({**ADA, "timezone": "Mars/Olympus"}, "timezone", 422),
        ({**ADA, "name": ""}, "name", 422),
        ({**ADA, "work_start": "25:00"}, "work_start", 422),
        ({**ADA, "manager_email": "nobody@example.org"}, "manager_email", 422),
        ({**ADA, "salary": 1}, "salary", 422),
        ({**ADA, "email": "other@example.org"}, "email", 422),
        ({**ADA, "name": "Ada\x00"}, "name", 422),
        ({**ADA, "name": "Ada\x85"}, "name", 422),  # C1 controls too, as the document says
        ({**ADA, "name": "Ada\n"}, "name", 422),  # at the end too: refused, not stripped
        ({**ADA, "department": "   "}, "department", 422),
        ({**ADA, "active": "yes"}, "active", 422),  # JSON says true or false
        ({**ADA, "manager_email": "bo\x85@example.org"}, "manager_email", 422),
        ({**ADA, "work_start": "17:00", "work_end": "09:00"}, "work_end", 422),
        ({**ADA, "manager_email": "ada@example.org"}, "manager_email", 422),
    ],
)
def test_bad_fields_are_422_with_the_field_and_nothing_is_saved(app, people, body, field, status):
    client = app.test_client()
    response = client.put("/api/v1/people/ada@example.org", json=body, headers=bearer(people[2]))
    assert response.status_code == status
    assert response.json["errors"][0]["field"] == field
    with app.app_context():
        assert db.session.scalar(select(func.count(Person.id))) == 2


def test_empty_or_null_optional_fields_mean_not_given(app, people):
    """What the document says with ``nullable`` and its patterns' empty alternative."""
    body = {**ADA, "timezone": "", "work_start": None, "work_end": "", "manager_email": "",
            "office": None, "active": None}  # fmt: skip
    client = app.test_client()
    response = client.put("/api/v1/people/ada@example.org", json=body, headers=bearer(people[2]))
    assert response.status_code == 201
    assert response.json["timezone"] == "Europe/Stockholm"  # the organisation's
    assert (response.json["work_start"], response.json["work_end"]) == ("09:00", "17:00")
    assert response.json["manager_email"] is None and response.json["office"] is None


def test_the_document_states_the_input_rules(app):
    document = app.test_client().get("/api/openapi.json").json
    schemas = document["components"]["schemas"]
    person = schemas["PersonInput"]["properties"]
    assert person["name"]["minLength"] == 1 and person["department"]["minLength"] == 1
    assert person["office"]["pattern"] == PLAIN_TEXT_PATTERN
    assert "Europe/Oslo" in person["timezone"]["enum"]
    assert "localtime" not in person["timezone"]["enum"]
    assert "email" not in schemas["PersonUpdate"]["properties"]  # the path names the person
    put = document["paths"]["/api/v1/people/{email}"]["put"]
    assert put["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/PersonUpdate"
    )
    query = {
        p["name"]: p["schema"] for p in document["paths"]["/api/v1/people"]["get"]["parameters"]
    }
    assert query["q"]["pattern"] == PLAIN_TEXT_PATTERN


def test_bad_requests_are_4xx_json(app, people):
    client = app.test_client()
    headers = bearer(people[2])
    assert client.put("/api/v1/people/x@y.org", data="nope", headers=headers).status_code == 400
    assert client.post("/api/v1/people", json=[1], headers=headers).status_code == 400
    assert client.post("/api/v1/people", json={"people": []}, headers=headers).status_code == 400
    extra = {"people": [{**ADA, "email": "bo@example.org"}], "dry_run": True}
    assert client.post("/api/v1/people", json=extra, headers=headers).status_code == 400
    for query in ("limit=0", "limit=501", "offset=-1", "limit=x", "limit=²", "q=%00"):
        response = client.get(f"/api/v1/people?{query}", headers=headers)
        assert response.status_code == 400, query
        assert "error" in response.json
    missing = client.get("/api/v1/people/not-an-email", headers=headers)
    assert missing.status_code == 404 and missing.json["status"] == 404
    assert client.delete("/api/v1/people/no@example.org", headers=headers).status_code == 404


def test_batch_upsert_is_all_or_nothing_and_counts(app, people):
    client = app.test_client()
    headers = bearer(people[2])
    batch = [{**ADA, "email": f"p{i}@example.org"} for i in range(5)]
    bad = client.post(
        "/api/v1/people",
        json={"people": [*batch, {**ADA, "email": "p1@example.org"}, {"email": "x@y.org"}]},
        headers=headers,
    )
    assert bad.status_code == 422
    reasons = {(e["index"], e["field"]) for e in bad.json["errors"]}
    assert reasons == {(5, "email"), (6, "name"), (6, "department")}
    with app.app_context():
        assert db.session.scalar(select(func.count(Person.id))) == 2
    good = client.post("/api/v1/people", json={"people": batch}, headers=headers)
    assert good.json == {"created": 5, "updated": 0, "unchanged": 0}
    batch[0]["department"] = "Legal"
    again = client.post("/api/v1/people", json={"people": batch}, headers=headers)
    assert again.json == {"created": 0, "updated": 1, "unchanged": 4}


def test_list_pages_and_searches(app, people):
    client = app.test_client()
    headers = bearer(people[2])
    with app.app_context():
        for i in range(7):
            add_person(f"eng{i}@example.org", "Engineering")
    page = client.get("/api/v1/people?department=Engineering&limit=3&offset=3", headers=headers)
    assert page.json["total"] == 7 and len(page.json["people"]) == 3
    assert page.json["limit"] == 3 and page.json["offset"] == 3
    found = client.get("/api/v1/people?q=BOSS", headers=headers).json
    assert [p["email"] for p in found["people"]] == ["boss@example.org"]
    percent = client.get("/api/v1/people?q=%25", headers=headers).json
    assert percent["total"] == 0  # a literal %, not a wildcard


def test_delete_withdraws_from_upcoming_breaks(app, people):
    from datetime import UTC, datetime, timedelta

    from core.models import Delivery, Group
    from core.programmes import ensure_default_programme
    from core.rounds import run_round

    client = app.test_client()
    with app.app_context():
        for i in range(3):
            add_person(f"m{i}@example.org", ["Sales", "Legal", "Design"][i])
        day = (datetime.now(UTC) + timedelta(days=7)).date()
        while day.weekday() > 4:
            day += timedelta(days=1)
        assert run_round(
            current_settings(), ensure_default_programme(current_settings().timezone), day
        ).created
        groups = db.session.scalars(select(Group)).all()
        victim = groups[0].members[0].person.email
        before = db.session.scalar(select(func.count(Delivery.id)))
    response = client.delete(f"/api/v1/people/{victim}", headers=bearer(people[2]))
    assert response.status_code == 204
    with app.app_context():
        assert db.session.scalar(select(Person).where(Person.email == victim)) is None
        assert db.session.scalar(select(func.count(Delivery.id))) > before  # cancel/update sent
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "api.person.delete"))
        assert victim not in str(entry.details)  # erased means erased, from the audit too
        assert entry.details["email_sha256"] == hashlib.sha256(victim.encode()).hexdigest()
