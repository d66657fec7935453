"""One rule for free text, at every way in: no line breaks or other control characters.

A name with a line break once stopped every invite to that person (the mail writer refuses it in
a header), so a visitor could silently stop a colleague's invites. Each way in now refuses such
text with a field error; a chat profile, which nobody can correct on a form, is cleaned.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import urlencode

import pytest
import time_machine
from flask_migrate import upgrade
from sqlalchemy import func, select

from core.api_tokens import create_token
from core.channels import configured_channels
from core.db import db
from core.dispatch import send_due
from core.models import Delivery, Person, Preference, Programme
from core.programmes import ensure_default_programme
from core.rounds import run_round
from core.text import clean_text, is_plain_text, text_problem
from tests.conftest import settings_of
from tests.core.helpers import add_person
from tests.fakes_chat import SLACK_TOKEN, FakeSlackApi
from tests.web.admin_support import admin_client_for, admin_config, programme_form
from tests.web.test_account_pages import GOOD_PREFS, sign_in_as
from tests.web.test_chat_routes import SECRET, signed
from tests.web.test_optin import GOOD
from web.config import current_settings

#: Line breaks, tab, NUL, DEL, a C1 control (NEL) and the Unicode line separator.
BAD = ["\r\n", "\n", "\r", "\t", "\x00", "\x7f", "\x85", "\u2028"]


def people(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Person))


@pytest.mark.parametrize("bad", BAD, ids=repr)
def test_the_rule_names_the_problem(bad):
    assert (
        text_problem(f"Ana{bad}Berg")
        == "must not contain line breaks, tabs or other control characters"
    )
    assert is_plain_text("Ana Berg, Malmö — R&D") and text_problem("\ud800") is not None
    assert clean_text(f" Ana{bad}{bad}Berg ") == "Ana Berg"


@pytest.mark.parametrize("bad", BAD, ids=repr)
@pytest.mark.parametrize(("field", "what"), [
    ("name", "Your name"), ("department", "The department"), ("office", "The office"),
])  # fmt: skip
def test_the_form_refuses_control_characters_with_a_field_error(app, client, field, what, bad):
    response = client.post("/", data=GOOD | {field: f"Ana{bad}Bcc: all@example.org"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f"{what} must not contain line breaks" in html
    assert people(app) == 0


@pytest.mark.parametrize("bad", ["\n", "\x00", "\u2028"], ids=repr)
def test_the_preferences_refuse_control_characters_in_topics(app, client, bad):
    with app.app_context():
        ana = add_person("ana@example.org", "Research", topics=["tea"]).id
    sign_in_as(client, ana)
    response = client.post("/me/preferences", data=GOOD_PREFS | {"topics": f"Python{bad}Go"})
    assert response.status_code == 400
    assert "The topics must not contain line breaks" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Preference, ana).topics == ["tea"]


@pytest.fixture
def admin_app(make_app):
    app = make_app(**admin_config({}))
    with app.app_context():
        db.create_all()
    return app


@pytest.mark.parametrize("bad", ["\n", "\x00"], ids=repr)
def test_the_admin_refuses_control_characters_in_a_programme(admin_app, bad):
    client = admin_client_for(admin_app)
    response = client.post("/admin/programmes/new", data=programme_form(f"Tea{bad}time"))
    assert response.status_code == 400
    assert "The name must not contain line breaks" in response.get_data(as_text=True)
    with admin_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Programme)) == 0


@pytest.mark.parametrize("bad", ["\r\n", "\x00", "\x85"], ids=repr)
def test_the_api_refuses_control_characters_with_the_field(admin_app, bad):
    with admin_app.app_context():
        _, token = create_token("HR sync", "test")
        db.session.commit()
    body = {"name": f"Ada{bad}Lovelace", "department": "Research", "timezone": "UTC"}
    response = admin_app.test_client().put(
        "/api/v1/people/ada@example.org", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 422
    problem = response.get_json()
    assert "name" in str(problem) and "control characters" in str(problem)
    assert people(admin_app) == 0


MONDAY = date(2030, 1, 7)


@time_machine.travel(datetime(2030, 1, 7, 6, tzinfo=UTC))
def test_a_slack_profile_with_a_line_break_is_cleaned_and_invites_still_go_out(
    make_app, smtp_server
):
    """What no person can correct on a form is cleaned; the mail writer never meets it."""
    with FakeSlackApi({"new@example.org": "UNEW4"}) as slack:
        slack.profiles["UNEW4"] = {"real_name": "New\r\nBcc: all@example.org", "title": "R\x00D"}
        app = make_app(
            FIKA_SLACK_BOT_TOKEN=SLACK_TOKEN,
            FIKA_SLACK_SIGNING_SECRET=SECRET,
            FIKA_SLACK_API_URL=slack.api_url,
            FIKA_SMTP_URL=smtp_server.url(),
        )
        with app.app_context():
            upgrade()
            add_person("ben@example.org", "Sales", office=None)
        body = urlencode({"command": "/fika", "text": "join", "user_id": "UNEW4"})
        response = app.test_client().post("/slack/commands", data=body, headers=signed(body))
        assert response.status_code == 200
        with app.app_context():
            person = db.session.scalar(select(Person).where(Person.email == "new@example.org"))
            assert (person.name, person.department) == ("New Bcc: all@example.org", "R D")
            assert run_round(
                current_settings(), ensure_default_programme(current_settings().timezone), MONDAY
            ).created
            channels = {"email": configured_channels(settings_of(app))["email"]}
            send_due(channels)
            mails = db.session.scalars(select(Delivery).where(Delivery.channel == "email")).all()
            assert {d.status for d in mails} == {"sent"} and len(mails) == 2
    assert sorted(r for m in smtp_server.messages for r in m.rcpt_tos) == [
        "ben@example.org",
        "new@example.org",
    ]
