"""Counts on admin pages read as English: "1 dead delivery", "6 people", never "1 rounds"."""

from __future__ import annotations

import re

import pytest

from core.programmes import ensure_default_programme
from tests.web.admin_support import admin_config, past_round_with_dead_letter
from web.config import current_settings


@pytest.fixture
def app_config(app_config):
    return admin_config(app_config)


def test_counts_take_the_singular_for_one_and_the_plural_otherwise(app, admin):
    with app.app_context():
        round_id, _ = past_round_with_dead_letter(
            ensure_default_programme(current_settings().timezone)
        )
    dead = admin.get("/admin/deliveries/dead").get_data(as_text=True)
    assert "1 dead delivery<" in dead or "1 dead delivery," in dead
    people = admin.get("/admin/people").get_data(as_text=True)
    assert "6 people" in people
    one = admin.get("/admin/people?q=member0").get_data(as_text=True)
    assert "1 person<" in one
    page = admin.get(f"/admin/rounds/{round_id}").get_data(as_text=True)
    assert re.search(r"\b3 groups\b", page)
    dashboard = admin.get("/admin/").get_data(as_text=True)
    assert "6 people have signed up" in dashboard
    for text in (dead, people, one, page, dashboard):
        assert not re.search(r"\b1 (programmes|rounds|groups|people|deliveries|answers)\b", text)
