"""Learning teams in the real browser (Debian's Chromium, headless, via Playwright).

Starting a team from /me (a topic, colleagues found by name and ticked, the team formed at
once), then its goal page reached from /me: a member writes the goal, and text with a control
character comes back on the form with its message. Served as in ``test_browser_account``
(loopback, CSRF on, SQLite and PostgreSQL).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import db
from core.learning_teams import team_members, teams_of
from core.models import Programme
from tests.web import test_browser_account as account_journey
from tests.web.test_browser_people_pages import assert_fits, new_page, sign_in

pytestmark = pytest.mark.slow

browser, served = account_journey.browser, account_journey.served


def test_start_a_team_then_write_its_goal(browser, served):
    base, app = served
    context, page = new_page(browser)
    try:
        sign_in(page, base, app, "ben.cole@example.org")
        page.get_by_role("link", name="Start a learning team").click()
        page.wait_for_selector("h1:has-text('Start a learning team')")
        assert_fits(page)
        page.get_by_label("Topic").fill("Accessibility")
        for name in ("cai", "dee"):
            page.get_by_label("Find a colleague").fill(name)
            page.get_by_role("button", name="Search").click()
            page.get_by_label(f"{name.title()} ", exact=False).check()
        assert page.locator("#invite-list input:checked").count() == 2
        page.get_by_role("button", name="Start the team").click()
        page.wait_for_selector("text=Your team on Accessibility is started.")
        with app.app_context():
            programme = db.session.scalar(
                select(Programme).where(Programme.topic == "Accessibility")
            )
            (team,) = teams_of(programme)
            members = sorted(p.email for p in team_members(team))
        assert members == ["ben.cole@example.org", "cai.dahl@example.org", "dee.eko@example.org"]

        page.get_by_role("link", name="Accessibility").click()
        page.wait_for_selector("h1:has-text('Learning team: Accessibility')")
        assert_fits(page)
        assert page.locator("#current-goal").inner_text().startswith("No goal yet")
        # A control character (pasted from somewhere) is refused and the text stays on the form.
        page.evaluate("document.getElementById('goal').value = 'Audit\\u0007 our forms'")
        page.get_by_role("button", name="Save the goal").click()
        error = page.locator("#goal-error")
        error.wait_for()
        assert "control characters" in error.inner_text()
        assert page.locator("#goal").get_attribute("aria-invalid") == "true"
        page.get_by_role("textbox", name="Our goal").fill("Audit our forms with a screen reader")
        page.get_by_role("button", name="Save the goal").click()
        page.wait_for_selector("text=Your team's goal is saved.")
        assert page.locator("#current-goal").inner_text() == "Audit our forms with a screen reader"
    finally:
        context.close()
