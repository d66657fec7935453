"""Linking a programme to a Slack channel: the API's ``slack_channel`` and the admin's form,
one rule for both, and ``fika slack sync``."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core.db import db
from core.models import AuditLog, Person, Programme
from fika.cli import cli
from tests.fakes_chat import SLACK_TOKEN, FakeSlackApi
from tests.web.admin_support import make_admin_and_person, programme_form
from tests.web.admin_support import sign_in as sign_in_as
from tests.web.test_api_programmes import BOOK_CLUB, app_config, client  # noqa: F401 - fixtures


def test_the_api_links_shows_and_unlinks_a_channel(app, client):  # noqa: F811
    c, auth = client
    created = c.post(
        "/api/v1/programmes", json={**BOOK_CLUB, "slack_channel": "C0FIKA1"}, headers=auth
    )
    assert created.status_code == 201 and created.json["slack_channel"] == "C0FIKA1"
    pid = created.json["id"]
    assert c.get(f"/api/v1/programmes/{pid}", headers=auth).json["slack_channel"] == "C0FIKA1"
    with app.app_context():
        assert db.session.get(Programme, pid).slack_channel_id == "C0FIKA1"
    # Other fields changed: the link stays; null or "" unlinks.
    kept = c.put(f"/api/v1/programmes/{pid}", json={"group_size": 3}, headers=auth)
    assert kept.json["slack_channel"] == "C0FIKA1"
    for empty in (None, ""):
        c.put(f"/api/v1/programmes/{pid}", json={"slack_channel": "G0OTHER"}, headers=auth)
        unlinked = c.put(f"/api/v1/programmes/{pid}", json={"slack_channel": empty}, headers=auth)
        assert unlinked.status_code == 200 and unlinked.json["slack_channel"] is None
    with app.app_context():
        changes = [
            a.details["changed"]
            for a in db.session.scalars(select(AuditLog).where(AuditLog.action.like("api.%")))
        ]
        assert {"slack_channel_id": "G0OTHER"} in changes


@pytest.mark.parametrize(
    "bad", ["#coffee", "c0fika1", "U0PERSON", "C0\n", 7, ["C0FIKA1"], "C" + "1" * 40]
)
def test_a_bad_channel_is_refused_with_a_json_reason_and_nothing_saved(app, client, bad):  # noqa: F811
    c, auth = client
    for method, path in [("POST", "/api/v1/programmes"), ("PUT", "/api/v1/programmes/1")]:
        response = c.open(
            path, method=method, json={**BOOK_CLUB, "slack_channel": bad}, headers=auth
        )
        assert 400 <= response.status_code < 500, (method, response.json)
        assert response.json["error"]
        reasons = {e["field"]: e["reason"] for e in response.json["errors"]}
        assert "slack_channel" in reasons and reasons["slack_channel"]
    with app.app_context():
        assert [p.slack_channel_id for p in db.session.scalars(select(Programme))] == [None]


def test_the_admin_form_links_a_channel_and_refuses_a_name_for_an_id(app):
    admin = app.test_client()
    with app.app_context():
        admin_person, _ = make_admin_and_person()
        db.session.commit()
        sign_in_as(admin, admin_person)
    refused = admin.post(
        "/admin/programmes/new", data=programme_form("Chat", slack_channel_id="#coffee")
    )
    assert refused.status_code == 400
    assert "Give the Slack channel&#39;s id" in refused.get_data(True)
    saved = admin.post(
        "/admin/programmes/new", data=programme_form("Chat", slack_channel_id=" C0FIKA1 ")
    )
    assert saved.status_code == 302
    with app.app_context():
        programme = db.session.scalar(select(Programme).where(Programme.name == "Chat"))
        assert programme.slack_channel_id == "C0FIKA1"
        pid = programme.id
    page = admin.get(f"/admin/programmes/{pid}").get_data(True)
    assert 'value="C0FIKA1"' in page


@pytest.fixture
def fika(app, database_url, tmp_path, monkeypatch):
    """Run ``fika`` in-process on the test database (tables made by ``app``)."""
    monkeypatch.setenv("FIKA_ENV", "test")
    monkeypatch.setenv("FIKA_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FIKA_BASE_URL", "https://fika.example.org/")
    monkeypatch.chdir(tmp_path)

    def run(*args: str, **env: str):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return CliRunner().invoke(cli, list(args))

    return run


def test_fika_slack_sync_adds_the_channels_members(app, fika):
    with FakeSlackApi({"ana@example.org": "UANA1", "ben@example.org": "UBEN1"}) as slack:
        slack.members["C0FIKA1"] = ["UANA1", "UBEN1"]
        env = {
            "FIKA_SLACK_BOT_TOKEN": SLACK_TOKEN,
            "FIKA_SLACK_SIGNING_SECRET": "s3cret",
            "FIKA_SLACK_API_URL": slack.api_url,
        }
        missing = fika("slack", "sync", "--programme", "Nope", **env)
        assert missing.exit_code == 2
        assert missing.output.strip().splitlines() == [
            "fika: programme 'Nope' is not switched on and linked to a Slack channel"
        ]
        with app.app_context():
            db.session.scalar(select(Programme)).slack_channel_id = "C0FIKA1"
            db.session.commit()
        done = fika("slack", "sync", **env)
        assert done.exit_code == 0, done.output
        assert "2 members, 2 joined, 0 left" in done.output
        with app.app_context():
            assert sorted(p.email for p in db.session.scalars(select(Person))) == [
                "ana@example.org",
                "ben@example.org",
            ]
        slack.check()


def test_fika_slack_sync_needs_a_bot_token(fika):
    result = fika("slack", "sync")
    assert result.exit_code == 2
    assert result.output.strip() == "fika: FIKA_SLACK_BOT_TOKEN: required to read Slack channels"
