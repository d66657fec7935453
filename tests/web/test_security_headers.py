"""Headers on every response, cookie flags, CSRF on every form, no inline script anywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from core.db import db
from core.models import Person
from tests.core.helpers import add_person

TEMPLATES = Path(__file__).parents[2] / "web" / "templates"


@pytest.mark.parametrize("path", ["/", "/me/sign-in", "/me", "/nowhere", "/static/fika.css"])
def test_security_headers_on_every_response(client, path):
    with client.get(path) as response:
        headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_personal_pages_are_not_cached(app, client):
    with app.app_context():
        person_id = add_person("ana@example.org", "Research").id
    with client.session_transaction() as session:
        session["person_id"] = person_id
    for path in ("/me", "/me/data", "/me/preferences"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path


def test_templates_have_no_inline_script_or_style():
    """The CSP forbids inline script and style; a template with one would break in browsers."""
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template
        assert not re.search(r"\son[a-z]+\s*=", text), template
        assert not re.search(r"\sstyle\s*=", text), template
        assert "<style" not in text, template
        assert "http://" not in text and "https://" not in text, f"{template}: external URL"


def _session_cookie(response) -> str:
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def test_session_cookie_flags_over_https(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)  # the CSRF token puts something in the session
    cookie = _session_cookie(app.test_client().get("/me/sign-in"))
    assert "; Secure" in cookie and "; HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_not_secure_on_plain_http_base_url(make_app):
    app = make_app(FIKA_BASE_URL="http://127.0.0.1:8000", WTF_CSRF_ENABLED=True)
    cookie = _session_cookie(app.test_client().get("/me/sign-in"))
    assert "Secure" not in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


FORMS = [
    ("/me/sign-in", {"email": "ana@example.org"}),
    ("/me/preferences", {"mode": "virtual"}),
    ("/me/pause", {"length": "week"}),
    ("/me/leave", {}),
    ("/me/delete", {"confirm": "y"}),
    ("/me/sign-out", {}),
]


@pytest.mark.parametrize(("path", "data"), FORMS)
def test_csrf_on_every_form(make_app, path, data):
    strict = make_app(WTF_CSRF_ENABLED=True)
    with strict.app_context():
        db.create_all()
        person_id = add_person("ana@example.org", "Research").id
    client = strict.test_client()
    with client.session_transaction() as session:
        session["person_id"] = person_id
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    with strict.app_context():
        person = db.session.scalar(select(Person))
        assert person is not None and person.preference.active
        assert person.preference.paused_until is None and person.preference.mode == "either"
    with client.session_transaction() as session:
        assert session.get("person_id") == person_id  # sign-out without the token did nothing
