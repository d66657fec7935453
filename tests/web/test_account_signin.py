"""Magic-link sign-in: same answer for known and unknown addresses, single use, 30 minutes,
a fresh session at sign-in, sign-out that ends it, and no open redirect."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from email import message_from_bytes, policy

import time_machine
from sqlalchemy import func, select

from core.db import db
from core.models import SignInToken
from tests.core.helpers import add_person

LINK = re.compile(r"https?://\S+/me/sign-in/\S+")


def wait_for_mail(smtp_server, count: int = 1, timeout: float = 5.0):
    """The server's messages once ``count`` have arrived (the link leaves on a thread)."""
    deadline = time.monotonic() + timeout
    while len(smtp_server.messages) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(smtp_server.messages) >= count, "no sign-in mail arrived"
    return smtp_server.messages


def link_path(mail) -> str:
    body = mail.message.get_content()
    url = LINK.search(body).group(0)
    assert url.startswith("https://fika.example.org/me/sign-in/")
    return url.removeprefix("https://fika.example.org")


def mail_app(make_app, smtp_server):
    app = make_app(FIKA_SMTP_URL=smtp_server.url())
    with app.app_context():
        db.create_all()
        add_person("ana.berg@example.org", "Research")
    return app


def test_known_address_gets_a_link_that_signs_in_once(make_app, smtp_server):
    app = mail_app(make_app, smtp_server)
    client = app.test_client()
    assert client.get("/me").status_code == 302  # not signed in yet
    page = client.post("/me/sign-in", data={"email": "Ana.Berg@example.org"})
    assert page.status_code == 200 and "Check your email" in page.get_data(as_text=True)
    [mail] = wait_for_mail(smtp_server)
    assert mail.rcpt_tos == ["ana.berg@example.org"]
    assert mail.message["Subject"] == "Your sign-in link for Fika"
    assert "expires in 30 minutes" in mail.message.get_content()
    path = link_path(mail)

    shown = client.get(path)  # what a mail scanner does: must not use the link up
    assert shown.status_code == 200 and "Sign in" in shown.get_data(as_text=True)
    assert client.get("/me").status_code == 302
    signed = client.post(path)
    assert signed.status_code == 302 and signed.headers["Location"] == "/me"
    assert client.get("/me").status_code == 200

    other = app.test_client()
    again = other.post(path)
    assert again.status_code == 410
    assert "already used" in again.get_data(as_text=True)
    assert other.get("/me").status_code == 302
    with app.app_context():
        token = db.session.scalar(select(SignInToken))
        assert token.used_at is not None
        assert len(token.secret_hash) == 64 and token.secret_hash not in path


def test_unknown_address_gets_the_same_answer_and_no_mail(make_app, smtp_server):
    app = mail_app(make_app, smtp_server)
    client = app.test_client()
    known = client.post("/me/sign-in", data={"email": "ana.berg@example.org"})
    unknown = client.post("/me/sign-in", data={"email": "zed.nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    normalise = lambda r, e: r.get_data(as_text=True).replace(e, "EMAIL")  # noqa: E731
    assert normalise(known, "ana.berg@example.org") == normalise(unknown, "zed.nobody@example.org")
    wait_for_mail(smtp_server, 1)
    time.sleep(0.3)
    assert [m.rcpt_tos for m in smtp_server.messages] == [["ana.berg@example.org"]]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SignInToken)) == 1


def test_link_expires_after_thirty_minutes(make_app, smtp_server):
    app = mail_app(make_app, smtp_server)
    client = app.test_client()
    with time_machine.travel("2030-03-04 09:00 +0000", tick=True) as traveller:
        client.post("/me/sign-in", data={"email": "ana.berg@example.org"})
        path = link_path(wait_for_mail(smtp_server)[0])
        traveller.shift(timedelta(minutes=31))
        assert client.get(path).status_code == 410
        assert client.post(path).status_code == 410
    assert client.get("/me").status_code == 302


def test_tampered_or_foreign_link_is_refused(make_app, smtp_server):
    app = mail_app(make_app, smtp_server)
    client = app.test_client()
    client.post("/me/sign-in", data={"email": "ana.berg@example.org"})
    path = link_path(wait_for_mail(smtp_server)[0])
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    for bad in (tampered, "/me/sign-in/garbage", "/me/sign-in/" + "x" * 90):
        assert client.post(bad).status_code == 410
    assert client.get("/me").status_code == 302
    assert client.post(path).status_code == 302  # the real one still works


def test_sign_in_renews_the_session_and_sign_out_ends_it(make_app, smtp_server):
    app = mail_app(make_app, smtp_server)
    client = app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.post("/me/sign-in", data={"email": "ana.berg@example.org"})
    path = link_path(wait_for_mail(smtp_server)[0])
    client.post(path)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert isinstance(session["person_id"], int)
    assert client.post("/me/sign-out").status_code == 200
    with client.session_transaction() as session:
        assert "person_id" not in session
    assert client.get("/me").status_code == 302


def test_next_page_is_kept_but_never_leaves_the_site(make_app, smtp_server):
    app = mail_app(make_app, smtp_server)
    client = app.test_client()
    bounce = client.get("/me/preferences")
    assert bounce.status_code == 302
    assert bounce.headers["Location"].startswith("/me/sign-in?next=/me/preferences")
    form = client.get(bounce.headers["Location"]).get_data(as_text=True)
    assert 'value="/me/preferences' in form
    client.post("/me/sign-in", data={"email": "ana.berg@example.org", "next": "/me/preferences"})
    first = link_path(wait_for_mail(smtp_server, 1)[0])
    client.post("/me/sign-in", data={"email": "ana.berg@example.org", "next": "//evil.example"})
    second = link_path(wait_for_mail(smtp_server, 2)[1])
    assert client.post(first).headers["Location"] == "/me/preferences"
    assert app.test_client().post(second).headers["Location"] == "/me"


def test_bad_email_rerenders_with_message(client):
    response = client.post("/me/sign-in", data={"email": "not-an-email"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "does not look like an email" in html and 'id="email-error"' in html


def test_without_smtp_the_link_is_written_to_the_outbox_folder(app, tmp_path):
    with app.app_context():
        add_person("ana.berg@example.org", "Research")
    client = app.test_client()
    client.post("/me/sign-in", data={"email": "ana.berg@example.org"})
    folder = tmp_path / "outbox"
    deadline = time.monotonic() + 5
    while not list(folder.glob("signin-*.eml")) and time.monotonic() < deadline:
        time.sleep(0.02)
    [eml] = folder.glob("signin-*.eml")
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "Ana Berg <ana.berg@example.org>"
    url = LINK.search(message.get_content()).group(0)
    path = url.removeprefix("https://fika.example.org")
    assert client.post(path).status_code == 302
