"""Download my data (mine only, partners by name only) and delete me (every row, others told)."""

from __future__ import annotations

import json

from sqlalchemy import func, select, update

from core import audit
from core.channels import configured_channels
from core.db import db
from core.dispatch import send_due
from core.models import AuditLog, Delivery, Group, GroupMember, Person, Preference, SignInToken
from core.signin import issue_link
from integrations.payload import message_from_dict
from tests.conftest import settings_of
from tests.web.test_account_pages import (
    group_of,
    next_weekday,
    past_weekday,
    people,
    plan,
    sign_in_as,
)
from web.config import current_settings


def test_download_holds_my_data_and_partners_by_name_only(app, client):
    ids = people(app)
    plan(app, next_weekday())
    with app.app_context():
        ana = db.session.get(Person, ids["ana"])
        ana.preference.avoid = [ids["cai"]]
        ana.preference.topics = ["chess"]
        db.session.commit()
        with app.test_request_context():
            issue_link(current_settings(), ana, None)
        group = db.session.get(Group, group_of(app, ids["ana"]))
        partners = [m.person for m in group.members if m.person_id != ids["ana"]]
        everyone_else = [p.email for p in db.session.scalars(select(Person)) if p.id != ids["ana"]]
    sign_in_as(client, ids["ana"])
    response = client.get("/me/data")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["person"]["email"] == "ana.berg@example.org"
    assert data["preferences"]["topics_to_learn"] == ["chess"]
    assert data["preferences"]["rather_not_meet"] == ["Cai Dahl"]
    [coffee] = data["coffee_breaks"]
    assert {p["name"] for p in coffee["with"]} == {p.name for p in partners}
    assert coffee["programme"] == "Daily digital coffee break"
    assert data["messages_sent_to_me"] and data["sign_in_links"]
    assert all(
        set(d) == {"channel", "status", "created_at", "sent_at"}
        for d in data["messages_sent_to_me"]
    )
    text = response.get_data(as_text=True)
    for email in everyone_else:
        assert email not in text
    assert "secret_hash" not in text


def test_delete_needs_the_tick_and_changes_nothing_without_it(app, client):
    ids = people(app)
    sign_in_as(client, ids["ana"])
    response = client.post("/me/delete", data={})
    assert response.status_code == 400
    assert "Tick the box" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Person, ids["ana"]) is not None


def test_delete_erases_every_row_and_tells_the_others(app, client):
    ids = people(app)
    plan(app, next_weekday())
    with app.app_context():
        ana = db.session.get(Person, ids["ana"])
        db.session.get(Person, ids["ben"]).manager_id = ids["ana"]
        db.session.get(Person, ids["dee"]).preference.avoid = [ids["ana"], ids["cai"]]
        db.session.commit()
        with app.test_request_context():
            issue_link(current_settings(), ana, None)
    group_id = group_of(app, ids["ana"])
    with app.app_context():
        others = [m.person_id for m in db.session.get(Group, group_id).members]
        others.remove(ids["ana"])
    sign_in_as(client, ids["ana"])
    response = client.post("/me/delete", data={"confirm": "y"})
    assert response.status_code == 200 and "You are deleted" in response.get_data(as_text=True)
    assert client.get("/me").status_code == 302  # signed out
    with app.app_context():
        assert db.session.get(Person, ids["ana"]) is None
        assert db.session.get(Preference, ids["ana"]) is None
        for model in (GroupMember, Delivery, SignInToken):
            column = model.person_id
            assert db.session.scalar(select(func.count()).where(column == ids["ana"])) == 0
        assert db.session.get(Person, ids["ben"]).manager_id is None
        assert db.session.get(Person, ids["dee"]).preference.avoid == [ids["cai"]]
        group = db.session.get(Group, group_id)
        assert group.sequence == 1
        rows = db.session.scalars(
            select(Delivery).where(Delivery.group_id == group_id, Delivery.status == "pending")
        ).all()
        # the cancellation still reaches the erased person (detached from their row) ...
        to_ana = [d for d in rows if d.recipient == "ana.berg@example.org"]
        assert to_ana and all(d.person_id is None for d in to_ana)
        assert {d.payload["invite"]["method"] for d in to_ana} == {"CANCEL"}
        # ... and the partner hears about it too
        assert any(d.person_id in others for d in rows if d.payload["invite"]["sequence"] == 1)


def _every_trace_of(text: str) -> list[str]:
    """Where ``text`` still appears in the delivery and audit tables (their whole rows)."""
    found = []
    for row in db.session.scalars(select(Delivery)):
        values = (
            row.key,
            row.recipient,
            row.last_error or "",
            json.dumps(row.payload, ensure_ascii=False),
        )
        if any(text in value for value in values):
            found.append(f"delivery {row.id} ({row.status}, {row.recipient})")
    for entry in db.session.scalars(select(AuditLog)):
        if text in json.dumps(entry.details, ensure_ascii=False) or text in entry.actor:
            found.append(f"audit {entry.id}")
    return found


def test_delete_takes_me_out_of_the_others_records_too(app, client):
    ids = people(app)
    plan(app, past_weekday())
    plan(app, next_weekday())
    with app.app_context():
        send_due(configured_channels(settings_of(app)))  # the past round's messages went out
        hers = select(GroupMember.group_id).where(GroupMember.person_id == ids["ana"])
        db.session.execute(
            update(Delivery)
            .where(Delivery.group_id.in_(hers))
            .values(last_error="not reached on slack, the email invite only: ana.berg@example.org")
        )
        ana = db.session.get(Person, ids["ana"])
        audit.record("admin@example.org", "person.update", email=ana.email, name=ana.name)
        audit.record("admin@example.org", "person.update", email="ben.cole@example.org")
        db.session.commit()
        assert _every_trace_of("ana.berg@example.org") and _every_trace_of("Ana Berg")
    past_group = group_of(app, ids["ana"], future=False)
    sign_in_as(client, ids["ana"])
    assert client.post("/me/delete", data={"confirm": "y"}).status_code == 200
    with app.app_context():
        # Only the cancellation still on its way to her names her, and only until it is sent.
        traces = _every_trace_of("ana.berg@example.org")
        assert traces and all("pending" in t and "ana.berg@example.org" in t for t in traces)
        send_due(configured_channels(settings_of(app)))
        assert _every_trace_of("ana.berg@example.org") == []
        assert _every_trace_of("Ana Berg") == []
        # The others' records of the break they shared still read, without her.
        shared = db.session.scalars(select(Delivery).where(Delivery.group_id == past_group)).all()
        assert shared
        for row in shared:
            message = message_from_dict(row.payload)
            assert "Ana" not in message.invite.summary.split()
            assert len(message.invite.attendees) >= 1
        assert "ana" not in json.dumps([e.details for e in db.session.scalars(select(AuditLog))])
        entries = db.session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
        assert entries[0].details["erased_person"] == ids["ana"]
        assert entries[1].details == {"email": "ben.cole@example.org"}  # others' untouched
