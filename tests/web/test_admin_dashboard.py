"""The admin dashboard's numbers, checked against a small round worked out by hand."""

from __future__ import annotations

import re

import pytest
import time_machine
from sqlalchemy import select

from core.db import db
from core.models import GroupMember, Person
from core.programmes import ensure_default_programme
from tests.web.admin_support import (
    ADMIN_EMAIL,
    admin_config,
    past_round_with_dead_letter,
    sign_in,
)
from web.config import current_settings


@pytest.fixture
def app_config(app_config):
    return admin_config(app_config)


def text_of(html: str) -> str:
    """The page as one line of text (tags dropped), for reading sentences."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_next_round_last_outcome_deliveries_and_weeks(app, admin):
    with app.app_context():
        programme = ensure_default_programme(current_settings().timezone)
        round_id, _ = past_round_with_dead_letter(programme)  # Monday 30 November, 6 people
        seats = db.session.scalars(select(GroupMember).order_by(GroupMember.person_id)).all()
        seats[0].met, seats[1].met, seats[2].met = True, True, False
        db.session.commit()
    # Tuesday 1 December, 07:00 in Stockholm: today's 10:00 round is planned at 09:00.
    with time_machine.travel("2026-12-01 06:00 +0000", tick=False):
        with app.app_context():
            sign_in(admin, db.session.scalar(select(Person).where(Person.email == ADMIN_EMAIL)))
        html = admin.get("/admin/").get_data(as_text=True)
    page = text_of(html)
    assert "Next round Tuesday 1 December, 10:00 Europe/Stockholm 6 people expected" in page
    assert "Monday 30 November : 3 groups, 6 people" in page
    assert "Met rate 67% (of 3 answers)" in page, page
    assert "1 dead" in page and re.search(r"\b0 retrying\b", page)
    assert f'href="/admin/rounds/{round_id}"' in html
    assert "/admin/rounds/preview?programme=" in html
    weeks = re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', html)
    assert len(weeks) == 8
    assert weeks[-1] == ("30 November 2026", "6")
    assert all(count == "0" for _, count in weeks[:-1])


def test_a_new_install_says_what_to_do(app, admin):
    page = text_of(admin.get("/admin/").get_data(as_text=True))
    assert "None yet." in page  # no round so far
    assert "No coffee breaks in these weeks yet" in page
    assert "2 people have signed up" in page


@pytest.mark.parametrize(
    ("days_off", "shown", "iso"),
    [
        ([], "Thursday 7 January", "2027-01-07"),  # Wednesday 6 January: Epiphany in Sweden
        (["2027-01-07"], "Friday 8 January", "2027-01-08"),  # and a programme day off after it
    ],
)
def test_next_round_skips_public_holidays_and_days_off_everywhere(app, admin, days_off, shown, iso):
    """Dashboard, rounds page and the preview's default date give the clock's next slot."""
    with app.app_context():
        programme = ensure_default_programme(current_settings().timezone)
        programme.days_off = days_off
        db.session.commit()
        programme_id = programme.id
    # Tuesday 5 January 2027, 13:00 in Stockholm: today's round is planned already.
    with time_machine.travel("2027-01-05 12:00 +0000", tick=False):
        with app.app_context():
            sign_in(admin, db.session.scalar(select(Person).where(Person.email == ADMIN_EMAIL)))
        dashboard = admin.get("/admin/").get_data(as_text=True)
        rounds = admin.get("/admin/rounds").get_data(as_text=True)
        preview = admin.get(f"/admin/rounds/preview?programme={programme_id}")
    assert f"Next round {shown}, 10:00 Europe/Stockholm" in text_of(dashboard)
    assert f"date={iso}" in dashboard
    assert f"{shown}, 10:00 Europe/Stockholm" in text_of(rounds)
    assert f"date={iso}" in rounds
    assert preview.status_code == 200
    assert f": {iso}</h1>" in preview.get_data(as_text=True)


def test_a_round_planned_early_is_not_the_next_round_any_more(app, admin):
    """fika demo or "run now" plans a round before its time: the next round is the one after."""
    from datetime import date

    from core.models import Round

    with app.app_context():
        programme = ensure_default_programme(current_settings().timezone)
        db.session.add(Round(programme_id=programme.id, date=date(2026, 12, 8)))
        db.session.commit()
    # Monday 7 December, 15:00 in Stockholm: Tuesday's round is planned already.
    with time_machine.travel("2026-12-07 14:00 +0000", tick=False):
        with app.app_context():
            sign_in(admin, db.session.scalar(select(Person).where(Person.email == ADMIN_EMAIL)))
        page = text_of(admin.get("/admin/").get_data(as_text=True))
    assert "Next round Wednesday 9 December, 10:00 Europe/Stockholm" in page
    assert "Last round Tuesday 8 December" in page
