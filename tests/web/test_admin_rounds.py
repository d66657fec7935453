"""Rounds in the admin: a preview saves nothing, "run now" runs once, deliveries, re-send."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.db import db
from core.models import AuditLog, Delivery, Round
from core.programmes import ensure_default_programme
from tests.core.helpers import add_person
from tests.web.admin_support import (
    MONDAY,
    admin_client_for,
    admin_config,
    past_round_with_dead_letter,
)
from web.config import current_settings


@pytest.fixture
def app_config(app_config):
    return admin_config(app_config)


@pytest.fixture
def admin_client(app):
    return admin_client_for(app)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_preview_shows_groups_reasons_and_unmatched_and_saves_nothing(app, admin_client):
    with app.app_context():
        for i, dept in enumerate(["Sales", "Legal", "Research"]):
            add_person(f"p{i}@example.org", dept)
        # Works 22:00-23:00 Stockholm time: no overlap with anyone, so left out with a reason.
        add_person("night@example.org", "Ops", hours=(22, 23))
        programme_id = ensure_default_programme(current_settings().timezone).id
    page = admin_client.get(f"/admin/rounds/preview?programme={programme_id}&date={MONDAY}")
    assert page.status_code == 200
    text = page.data.decode()
    assert "Preview only: nothing has been saved or sent." in text
    assert "Why:" in text and "Night" in text.split("<h2>Unmatched</h2>")[1]
    assert 'action="/admin/rounds/run"' in text
    with app.app_context():
        assert count(Round) == 0 and count(Delivery) == 0


def test_run_now_runs_once_and_shows_deliveries(app, admin_client):
    with app.app_context():
        for i, dept in enumerate(["Sales", "Legal", "Research"]):
            add_person(f"p{i}@example.org", dept)
        programme_id = ensure_default_programme(current_settings().timezone).id
    form = {"programme": programme_id, "date": MONDAY.isoformat()}
    first = admin_client.post("/admin/rounds/run", data=form)
    assert first.status_code == 302 and "/admin/rounds/" in first.headers["Location"]
    second = admin_client.post("/admin/rounds/run", data=form, follow_redirects=True)
    assert b"already ran, nothing to do" in second.data
    with app.app_context():
        assert count(Round) == 1
        deliveries = count(Delivery)
        assert deliveries == 5  # one invite per person, outbox folder channel
        runs = db.session.scalars(select(AuditLog).where(AuditLog.action == "round.run")).all()
        assert [r.details["created"] for r in runs] == [True, False]
    detail = admin_client.get(first.headers["Location"]).data.decode()
    assert "pending 5, retrying 0, sent 0, dead 0" in detail
    preview = admin_client.get(f"/admin/rounds/preview?programme={programme_id}&date={MONDAY}")
    assert b"This round already ran." in preview.data


def test_dead_letters_show_the_reason_and_resend_queues_again(app, admin_client):
    with app.app_context():
        round_id, delivery_id = past_round_with_dead_letter(
            ensure_default_programme(current_settings().timezone)
        )
    page = admin_client.get("/admin/deliveries/dead").data.decode()
    assert "550 mailbox unavailable" in page and f"/admin/deliveries/{delivery_id}/resend" in page
    response = admin_client.post(
        f"/admin/deliveries/{delivery_id}/resend", data={"back": "https://evil.example/"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/admin/deliveries/dead"
    )  # never an open redirect
    with app.app_context():
        row = db.session.get(Delivery, delivery_id)
        assert (row.status, row.attempts) == ("pending", 0)
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "delivery.resend"))
        assert entry.details["last_error"] == "550 mailbox unavailable"
    again = admin_client.post(f"/admin/deliveries/{delivery_id}/resend", follow_redirects=True)
    assert b"not dead; nothing to resend" in again.data
    assert admin_client.get(f"/admin/rounds/{round_id}").status_code == 200


def test_bad_dates_and_missing_things_are_4xx(admin_client):
    assert admin_client.get("/admin/rounds/preview?date=2026-13-01").status_code == 400
    assert admin_client.get("/admin/rounds/preview?programme=999").status_code == 404
    assert admin_client.get("/admin/rounds/999").status_code == 404
    assert admin_client.get("/admin/insights?from=2026-02-01&to=2026-01-01").status_code == 400
    assert admin_client.get("/admin/insights?from=yesterday").status_code == 400
    assert admin_client.post("/admin/deliveries/999/resend").status_code == 404


def test_insights_page_and_csv_from_a_real_round(app, admin_client):
    with app.app_context():
        past_round_with_dead_letter(ensure_default_programme(current_settings().timezone))
    query = "from=2026-11-01&to=2026-12-31"
    page = admin_client.get(f"/admin/insights?{query}").data.decode()
    assert page.count('class="cell"') == 25  # 5 departments: People, Sales, Legal, Research, Design
    assert '<table class="matrix">' in page and 'id="n-left">0<' in page
    csv = admin_client.get(f"/admin/insights.csv?{query}")
    assert csv.mimetype == "text/csv"
    assert (
        "summary,breaks,3" in csv.data.decode() and "summary,people_left_out,0" in csv.data.decode()
    )
