"""The opt-in form: happy path, updates by email, and each bad input refused with its message."""

import re

import pytest
from sqlalchemy import func, select

from web.extensions import db
from web.models import Person

GOOD = {
    "name": "Ana Berg",
    "email": "Ana.Berg@example.org",
    "department": "Research",
    "office": "Stockholm",
    "timezone": "Europe/Stockholm",
}


def people_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Person))


def test_form_renders_with_labels_and_default_zone(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for field in ("name", "email", "department", "office", "timezone", "remote"):
        assert re.search(rf'<label[^>]*for="{field}"', html), field
    assert '<option selected value="Europe/Stockholm">' in html
    assert 'lang="en"' in html and 'name="viewport"' in html


def test_join_stores_person_and_confirms_first_break(app, client):
    response = client.post("/", data=GOOD)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "You&#39;re in, Ana!" in html or "You're in, Ana!" in html
    assert "Your first break" in html and "Daily digital coffee break" in html
    with app.app_context():
        person = db.session.scalar(select(Person))
        assert person.email == "ana.berg@example.org"
        assert person.home_office == "Stockholm"
        assert person.preference.active and person.preference.paused_until is None


def test_same_email_updates_never_duplicates(app, client):
    client.post("/", data=GOOD)
    again = dict(GOOD, email="ana.berg@EXAMPLE.org", department="Sales", office="", remote="y")
    response = client.post("/", data=again)
    assert response.status_code == 200
    assert "updated" in response.get_data(as_text=True)
    assert people_count(app) == 1
    with app.app_context():
        person = db.session.scalar(select(Person))
        assert person.department == "Sales" and person.home_office is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "does not look like an email"),
        ("timezone", "Europe/Stokholm", "Unknown time zone"),
        ("name", "   ", "tell us your name"),
        ("department", "", "tell us your department"),
        ("office", "", "Name your office"),
    ],
)
def test_bad_input_rerenders_with_message_and_stores_nothing(app, client, field, value, message):
    response = client.post("/", data=dict(GOOD, **{field: value}))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert f'id="{field}-error"' in html or field == "office"
    assert people_count(app) == 0


def test_csrf_is_enforced(app, make_app):
    strict = make_app(WTF_CSRF_ENABLED=True)
    client = strict.test_client()
    response = client.post("/", data=GOOD)
    assert response.status_code == 400
    assert people_count(strict) == 0
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/", data=dict(GOOD, csrf_token=token)).status_code == 200
    assert people_count(strict) == 1
