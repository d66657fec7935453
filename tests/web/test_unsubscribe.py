"""RFC 8058 one-click unsubscribe: signed opaque token, no cookies, 200 without redirect."""

from sqlalchemy import select

from core.db import db
from core.models import Person
from core.signing import make_token
from tests.core.helpers import add_person
from web.config import current_settings


def token_for(app, email="ana@example.org"):
    with app.app_context():
        person = add_person(email, "Research")
        return make_token(current_settings().secret_key, "unsubscribe", person.id), person.id


def is_active(app, person_id) -> bool:
    with app.app_context():
        return db.session.get(Person, person_id).preference.active


def test_get_changes_nothing(app, client):
    token, pid = token_for(app)
    response = client.get(f"/unsubscribe/{token}")
    assert response.status_code == 200
    assert "Unsubscribe" in response.get_data(as_text=True)
    assert is_active(app, pid)


def test_post_unsubscribes_idempotently_without_redirect(app, client, make_app):
    token, pid = token_for(app)
    strict = make_app(WTF_CSRF_ENABLED=True).test_client()  # as in production: CSRF on
    first = strict.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert first.status_code == 200 and "Location" not in first.headers
    assert "Set-Cookie" not in first.headers
    assert not is_active(app, pid)
    second = strict.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert second.status_code == 200
    assert not is_active(app, pid)


def test_tampered_or_foreign_token_does_nothing(app, client):
    token, pid = token_for(app)
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "garbage", "x" * 80):
        response = client.post(f"/unsubscribe/{bad}")
        assert response.status_code == 404
    with app.app_context():
        other = make_token(
            current_settings().secret_key, "action", pid
        )  # signed, but for another purpose
    assert client.post(f"/unsubscribe/{other}").status_code == 404
    assert is_active(app, pid)
    with app.app_context():
        assert db.session.scalar(select(Person)).preference.active
