"""The opt-in form with an address that is already known: nothing changes, nothing is revealed.

Anyone can post the public form, with a CSRF token from their own visit. So a form naming an
existing person's address must not change them (name, department, office, zone, a pause, having
left), and its answer must be the same as for a new address. The owner gets a sign-in link by
email instead.
"""

from __future__ import annotations

import socket
import threading
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from core.db import db
from core.models import Person, Preference, Programme, ProgrammeMember, SignInToken
from tests.core.helpers import add_person
from tests.web.test_account_signin import link_path, wait_for_mail

KNOWN = "ana.berg@example.org"
NEW = "zoe.lind@example.org"  # as long as KNOWN, so the pages are as long
#: What a visitor who is not Ana types in, with her address.
VISITOR = {
    "name": "Mallory Mayhem",
    "department": "Sales",
    "office": "",
    "remote": "y",
    "timezone": "America/New_York",
}


def snapshot(app, email: str) -> dict:
    """Every stored fact about the person with ``email`` (their row, preferences, programmes)."""
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.email == email))
        pref = db.session.get(Preference, person.id)
        programmes = db.session.scalars(
            select(ProgrammeMember.programme_id).where(ProgrammeMember.person_id == person.id)
        ).all()
        columns = lambda row: {c.name: getattr(row, c.name) for c in row.__table__.columns}  # noqa: E731
        return {"person": columns(person), "pref": columns(pref), "programmes": sorted(programmes)}


def mail_app(make_app, smtp_server, **preference):
    app = make_app(FIKA_SMTP_URL=smtp_server.url())
    with app.app_context():
        db.create_all()
        db.session.add(Programme(name="Daily digital coffee break", timezone="Europe/Stockholm"))
        db.session.add(Programme(name="Walk and talk", timezone="Europe/Stockholm"))
        db.session.commit()
        add_person(KNOWN, "Research", office="Malmö", **preference)
    return app


@pytest.mark.parametrize(
    ("preference", "subject", "lands_on"),
    [
        ({}, "You already take part in the coffee breaks", "/me/preferences"),
        (
            {"paused_until": date(2099, 1, 1)},
            "You already take part in the coffee breaks",
            "/me/preferences",
        ),
        ({"active": False}, "Join the coffee breaks again", "/me/pause"),
    ],
    ids=["taking-part", "paused", "left"],
)
def test_a_known_address_changes_nothing_and_answers_as_a_new_one(
    make_app, smtp_server, preference, subject, lands_on
):
    app = mail_app(make_app, smtp_server, **preference)
    before = snapshot(app, KNOWN)
    choice = {"programmes_shown": "1", "programmes": "2"}  # "Walk and talk", not Ana's choice
    known = app.test_client().post("/", data=VISITOR | choice | {"email": KNOWN.upper()})
    new = app.test_client().post("/", data=VISITOR | choice | {"email": NEW})

    assert known.status_code == new.status_code == 200
    assert sorted(known.headers.items()) == sorted(new.headers.items())
    assert known.get_data(as_text=True) == new.get_data(as_text=True).replace(NEW, KNOWN)
    assert snapshot(app, KNOWN) == before  # no field, pause, leave or programme changed
    assert snapshot(app, NEW)["person"]["name"] == "Mallory Mayhem"  # a new address is stored

    [mail] = wait_for_mail(smtp_server)  # Ana gets a link; the new address gets nothing
    assert mail.rcpt_tos == [KNOWN] and mail.message["Subject"] == subject
    assert "nothing was changed" in mail.message.get_content()
    owner = app.test_client()
    signed_in = owner.post(link_path(mail))
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == lands_on
    assert owner.get(lands_on).status_code == 200


def test_a_double_submit_of_a_new_address_stores_one_person_and_mails_a_link(make_app, smtp_server):
    app = mail_app(make_app, smtp_server)
    client = app.test_client()
    first = client.post("/", data=VISITOR | {"email": NEW})
    second = client.post("/", data=VISITOR | {"email": NEW, "department": "Legal"})
    assert first.get_data() == second.get_data()
    assert snapshot(app, NEW)["person"]["department"] == "Sales"
    [mail] = wait_for_mail(smtp_server)
    assert mail.rcpt_tos == [NEW]


def test_the_answer_does_not_wait_for_the_mail_server(make_app):
    """The link leaves on a thread: a stalled mail server cannot tell known addresses apart."""
    listener = socket.create_server(("127.0.0.1", 0))
    release = threading.Event()

    def stall() -> None:  # accept, then say nothing until the test has its answer
        conn, _ = listener.accept()
        release.wait(10)
        conn.close()

    threading.Thread(target=stall, daemon=True).start()
    app = make_app(FIKA_SMTP_URL=f"smtp://127.0.0.1:{listener.getsockname()[1]}")
    with app.app_context():
        db.create_all()
        add_person(KNOWN, "Research")
    try:
        answer = app.test_client().post("/", data=VISITOR | {"email": KNOWN})
        assert answer.status_code == 200 and not release.is_set()
        with app.app_context():  # the link was issued before the answer, not after the mail
            assert db.session.scalar(select(SignInToken.person_id)) is not None
    finally:
        release.set()
        listener.close()


def test_an_address_is_mailed_at_most_five_times_in_a_quarter_hour(make_app, smtp_server):
    """The form shares the sign-in page's per-address limit, so no inbox can be flooded."""
    app = make_app(FIKA_SMTP_URL=smtp_server.url(), RATELIMIT_ENABLED=True)
    with app.app_context():
        db.create_all()
        add_person(KNOWN, "Research")
    statuses = [
        app.test_client().post("/", data=VISITOR | {"email": KNOWN}).status_code for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    assert len(wait_for_mail(smtp_server, 5)) == 5
    # A new address counts the same way: the limit says nothing about who is known.
    statuses = [
        app.test_client().post("/", data=VISITOR | {"email": NEW}).status_code for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    assert len(wait_for_mail(smtp_server, 5 + 4)) == 9  # 1 stored it, 4 mailed it a link


@pytest.mark.parametrize("chosen", [False, True], ids=["no-programme-chosen", "programme-chosen"])
def test_two_first_submits_of_one_address_racing_store_one_person(
    make_app, smtp_server, monkeypatch, chosen
):
    """The loser's INSERT finds the address taken: its answer is the same, its link is mailed.

    Without programmes chosen the join is one INSERT … ON CONFLICT DO NOTHING
    (``join_if_new``); with them, the ORM's INSERT fails on the unique email (``join``).
    """
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from web import optin

    app = mail_app(make_app, smtp_server)
    name = "join" if chosen else "join_if_new"
    real_join = getattr(optin.changes, name)

    def racer_first(*args):
        applicant = args[1] if chosen else args[0]
        with app.app_context():
            other = create_engine(db.engine.url, poolclass=NullPool)
        with other.begin() as connection:  # another worker's request commits the address first
            connection.execute(
                Person.__table__.insert().values(
                    email=applicant.email, name="Racer", department="Sales", timezone="UTC",
                    work_start=time(9), work_end=time(17),
                    created_at=datetime.now(UTC), updated_at=datetime.now(UTC),
                )
            )  # fmt: skip
        other.dispose()
        return real_join(*args)

    monkeypatch.setattr(optin.changes, name, racer_first)
    with app.app_context():
        first = db.session.scalar(select(Programme.id).order_by(Programme.id).limit(1))
    choice = {"programmes_shown": "1", "programmes": str(first)} if chosen else {}
    answer = app.test_client().post("/", data=VISITOR | {"email": NEW} | choice)
    assert answer.status_code == 200
    with app.app_context():  # one person: the first one
        assert db.session.scalars(select(Person.name).where(Person.email == NEW)).all() == ["Racer"]
    [mail] = wait_for_mail(smtp_server)
    assert mail.rcpt_tos == [NEW]
