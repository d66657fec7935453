"""Messages waiting for a channel that is not configured any more are kept, shown, re-routable.

A trial writes its invites to the outbox folder; then a mail server is configured and the
folder is no longer a channel. Those invites must not go dead unseen: they wait, the admin sees
how many, and sends them by email (or discards them).
"""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from core.channels import configured_channels
from core.db import db
from core.dispatch import _rekey, reroute, send_due, stranded
from core.models import AuditLog, Delivery
from core.programmes import ensure_default_programme
from core.rounds import run_round
from tests.conftest import settings_of
from tests.core.helpers import add_person
from tests.web.admin_support import MONDAY, admin_client_for, admin_config


@pytest.fixture
def trial(make_app, smtp_server):
    """A round written while only the outbox folder was set up, then the mail server added."""
    admins = admin_config({})
    before = make_app(**admins, FIKA_OUTBOX_DIR=None)
    with before.app_context():
        db.create_all()
        add_person("ana@example.org", "Sales")
        add_person("ben@example.org", "Legal")
        settings = settings_of(before)
        assert run_round(settings, ensure_default_programme(settings.timezone), MONDAY).created
        assert {d.channel for d in db.session.scalars(select(Delivery))} == {"outbox"}
    return make_app(**admins, FIKA_OUTBOX_DIR=None, FIKA_SMTP_URL=smtp_server.url())


def rows():
    return db.session.scalars(select(Delivery).order_by(Delivery.id)).all()


def test_they_wait_instead_of_going_dead_and_the_admin_sends_them_by_email(trial, smtp_server):
    with trial.app_context():
        settings = settings_of(trial)
        assert send_due(configured_channels(settings)).sent == 0  # nothing could send them
        assert {(d.channel, d.status) for d in rows()} == {("outbox", "pending")}
        assert stranded(settings) == {"outbox": 2}
    admin = admin_client_for(trial)
    assert "2</strong> waiting for a channel" in admin.get("/admin/").get_data(as_text=True)
    page = admin.get("/admin/deliveries/dead").get_data(as_text=True)
    assert "Waiting for a channel that is not configured" in page
    assert '<option value="email">email</option>' in page
    done = admin.post("/admin/deliveries/stranded/outbox", data={"target": "email"})
    assert done.status_code == 303
    with trial.app_context():
        assert {(d.channel, d.status, d.attempts) for d in rows()} == {("email", "pending", 0)}
        assert all(d.key.endswith(f"-email-{d.person_id}") for d in rows())
        assert send_due(configured_channels(settings_of(trial))).sent == 2
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "delivery.stranded"))
        assert entry.details == {"channel": "outbox", "target": "email", "count": 2}
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        "ana@example.org",
        "ben@example.org",
    ]
    assert "Waiting for a channel" not in admin.get("/admin/deliveries/dead").get_data(as_text=True)


def test_discarded_ones_become_dead_letters_with_the_reason(trial):
    admin = admin_client_for(trial)
    admin.post("/admin/deliveries/stranded/outbox", data={"target": "discard"})
    with trial.app_context():
        assert {(d.status, d.last_error) for d in rows()} == {
            ("dead", "channel 'outbox' is not configured any more; discarded by an admin")
        }


def test_a_message_already_written_for_the_target_is_not_sent_twice(trial):
    with trial.app_context():
        first = rows()[0]
        db.session.add(Delivery(key=_rekey(first.key, "outbox", "email"), channel="email",
                                recipient=first.recipient, payload=first.payload))  # fmt: skip
        db.session.commit()
        assert reroute(settings_of(trial), "outbox", "email") == 1
        assert db.session.get(Delivery, first.id).status == "dead"
        assert db.session.get(Delivery, first.id).last_error.startswith("superseded by ")


@pytest.mark.parametrize(
    ("target", "reason"),
    [("caldav", "cannot carry what 'outbox' was to carry"), ("nowhere", "cannot carry")],
)
def test_a_channel_that_cannot_reach_the_same_people_is_refused(trial, target, reason):
    admin = admin_client_for(trial)
    page = admin.post(
        "/admin/deliveries/stranded/outbox", data={"target": target}, follow_redirects=True
    )
    assert page.status_code == 200 and reason in html.unescape(page.get_data(as_text=True))
    with trial.app_context():
        assert {(d.channel, d.status) for d in rows()} == {("outbox", "pending")}


def test_the_key_gets_the_new_channel_in_place_of_the_old():
    assert _rekey("fika-ab12-0-outbox-7", "outbox", "email") == "fika-ab12-0-email-7"
    assert _rekey("fika-ab12-0-caldav", "caldav", "graph") == "fika-ab12-0-graph"
    assert _rekey("fika-room-3-7.s2.outbox", "outbox", "email") == "fika-room-3-7.s2.email"
    assert _rekey("reminder-fika-ab-7-outbox", "outbox", "email") == "reminder-fika-ab-7-email"
