"""Every admin page and action: anonymous -> sign-in, a person -> 403, an admin -> through."""

from __future__ import annotations

import pytest

from core.api_tokens import create_token
from core.db import db
from core.programmes import ensure_default_programme
from tests.web.admin_support import (
    admin_config,
    make_admin_and_person,
    past_round_with_dead_letter,
    programme_form,
)
from tests.web.admin_support import sign_in as sign_in_as
from web.config import current_settings


@pytest.fixture
def app_config(app_config):
    return admin_config(app_config)


def routes(ids: dict) -> list[tuple[str, str, dict | None, int]]:
    """(method, path, form, status an admin gets) for every admin route, in a safe order."""
    p, r, d, t = ids["programme"], ids["round"], ids["delivery"], ids["token"]
    return [
        ("GET", "/admin/", None, 200),
        ("GET", "/admin/programmes", None, 200),
        ("GET", "/admin/programmes/new", None, 200),
        ("GET", "/admin/programmes/new?preset=learning", None, 200),
        ("GET", f"/admin/programmes/{p}", None, 200),
        ("GET", "/admin/programmes/template.csv", None, 200),
        ("GET", "/admin/programmes/import", None, 200),
        ("GET", "/admin/people", None, 200),
        ("GET", "/admin/people?q=sal&status=active&office=remote", None, 200),
        ("GET", "/admin/people/template.csv", None, 200),
        ("GET", "/admin/people/import", None, 200),
        ("GET", "/admin/rounds", None, 200),
        ("GET", f"/admin/rounds/preview?programme={p}&date=2026-12-01", None, 200),
        ("GET", f"/admin/rounds/{r}", None, 200),
        ("GET", "/admin/deliveries/dead", None, 200),
        ("GET", "/admin/insights", None, 200),
        ("GET", "/admin/insights.csv", None, 200),
        ("GET", "/admin/tokens", None, 200),
        ("GET", "/admin/audit", None, 200),
        ("POST", "/admin/programmes/new", programme_form("Weekly 1:1"), 302),
        ("POST", f"/admin/programmes/{p}", programme_form("Daily digital coffee break"), 302),
        ("POST", "/admin/programmes/import", {}, 400),  # no file: the form says so
        ("POST", "/admin/people/import", {}, 400),  # no file: the form says so
        ("POST", "/admin/people/import/" + "0" * 32, {}, 404),  # no such upload
        ("POST", "/admin/rounds/run", {"programme": p, "date": "2026-12-01"}, 302),
        ("POST", f"/admin/deliveries/{d}/resend", {}, 302),
        ("POST", "/admin/deliveries/stranded/outbox", {"target": "discard"}, 303),
        ("POST", "/admin/tokens", {"name": "HR sync"}, 200),
        ("POST", f"/admin/tokens/{t}/revoke", {}, 302),
        ("POST", "/admin/language", {"language": "sv"}, 302),
    ]


@pytest.fixture
def setup(app):
    with app.app_context():
        admin, person = make_admin_and_person()
        programme = ensure_default_programme(current_settings().timezone)
        round_id, delivery_id = past_round_with_dead_letter(programme)
        token, _ = create_token("existing", "test")
        db.session.commit()
        ids = {"programme": programme.id, "round": round_id, "delivery": delivery_id}
        ids["token"] = token.id
        return admin.id, person.id, ids


def _call(client, method, path, form):
    if method == "GET":
        return client.get(path)
    return client.post(path, data=form or {})


def test_route_list_covers_every_admin_rule(app, setup):
    covered = {path.split("?")[0] for _, path, _, _ in routes(setup[2])}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin"):
            sample = (
                rule.rule.replace("<int:programme_id>", str(setup[2]["programme"]))
                .replace("<int:round_id>", str(setup[2]["round"]))
                .replace("<int:delivery_id>", str(setup[2]["delivery"]))
                .replace("<int:token_id>", str(setup[2]["token"]))
                .replace("<token>", "0" * 32)
                .replace("<channel>", "outbox")
            )
            assert sample in covered, f"{rule.rule} is not in the authorisation test"


def test_anonymous_visitors_are_sent_to_sign_in(app, setup):
    client = app.test_client()
    for method, path, form, _ in routes(setup[2]):
        response = _call(client, method, path, form)
        assert response.status_code == 302, (method, path)
        assert "/sign-in" in response.headers["Location"], (method, path)


def test_people_who_are_not_admins_get_403(app, setup):
    from core.models import Person

    client = app.test_client()
    with app.app_context():
        sign_in_as(client, db.session.get(Person, setup[1]))
    for method, path, form, _ in routes(setup[2]):
        response = _call(client, method, path, form)
        assert response.status_code == 403, (method, path)
    with app.app_context():  # and nothing happened
        from core.models import AuditLog, Programme

        assert db.session.scalar(db.select(db.func.count(AuditLog.id))) == 0
        assert db.session.scalar(db.select(db.func.count(Programme.id))) == 1


def test_admins_get_through(app, setup):
    from core.models import AuditLog, Person

    client = app.test_client()
    with app.app_context():
        sign_in_as(client, db.session.get(Person, setup[0]))
    for method, path, form, status in routes(setup[2]):
        response = _call(client, method, path, form)
        assert response.status_code == status, (method, path, response.data[:300])
    with app.app_context():
        actions = set(db.session.scalars(db.select(AuditLog.action)))
        assert {
            "programme.create",
            "programme.update",
            "round.run",
            "delivery.resend",
            "token.create",
            "token.revoke",
        } <= actions
        assert set(db.session.scalars(db.select(AuditLog.actor))) == {"boss@example.org"}


def test_admin_group_claim_makes_an_admin(make_app, app):
    group_app = make_app(FIKA_ADMIN_EMAILS="", FIKA_ADMIN_GROUP="fika-admins")
    with group_app.app_context():
        _, person = make_admin_and_person()
        client = group_app.test_client()
        sign_in_as(client, person)
        assert client.get("/admin/").status_code == 403
        with client.session_transaction() as session:
            session["groups"] = ["staff", "fika-admins"]
        assert client.get("/admin/").status_code == 200
        with client.session_transaction() as session:
            session["groups"] = "fika-admins"  # not a list: ignored
        assert client.get("/admin/").status_code == 403
