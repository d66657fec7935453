"""The people's side in a real browser: Debian's Chromium driven by Playwright, phone-sized.

Fika is served on loopback from a background thread against a fresh database (SQLite and
PostgreSQL) with CSRF on, as in production, and mails its sign-in link to a local SMTP server.
One journey: join -> sign-in link by email -> sign in -> preferences -> pause -> the next break
-> download my data -> delete me, with accessibility checks on every page on the way and
screenshots at 390 px and 1280 px kept under the test's tmp_path (a CI artefact).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from core.db import db
from core.models import GroupMember, Person
from core.programmes import ensure_default_programme
from tests.core.helpers import add_person
from web.config import current_settings

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LINK = re.compile(r"https?://\S+/me/sign-in/\S+")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module. Missing in CI is a failure, not a skip."""
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield instance
        instance.close()


@pytest.fixture
def served(make_app, smtp_server) -> Iterator[tuple[str, object]]:
    """Fika on 127.0.0.1:<free port> in a thread; yields (base URL, app)."""
    # Listen first (the OS picks the port), then build the app with the URL it serves at: its
    # links must point at this server, and the settings are fixed once the app is built.
    served_app = {}
    server = make_server(
        "127.0.0.1", 0, lambda environ, start: served_app["app"](environ, start), threaded=True
    )
    base = f"http://127.0.0.1:{server.server_port}"
    app = served_app["app"] = make_app(
        FIKA_BASE_URL=base,
        FIKA_SMTP_URL=smtp_server.url(),
        WTF_CSRF_ENABLED=True,
        TESTING=False,
    )
    with app.app_context():
        db.create_all()
        ensure_default_programme(current_settings().timezone)
        for email, department in [("ben.cole@example.org", "Sales"),
                                  ("cai.dahl@example.org", "Legal"),
                                  ("dee.eko@example.org", "Design")]:  # fmt: skip
            add_person(email, department)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, app
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def check_accessibility(page) -> None:
    """What axe's core rules would catch most often, written as Playwright checks."""
    problems = page.evaluate(
        """() => {
        const out = [];
        if (!document.documentElement.lang) out.push('html has no lang');
        const h1 = document.querySelectorAll('h1').length;
        if (h1 !== 1) out.push(`expected one h1, found ${h1}`);
        if (!document.title.trim()) out.push('empty title');
        for (const el of document.querySelectorAll('input, select, textarea')) {
          if (el.type === 'hidden' || el.type === 'submit') continue;
          const named = el.labels.length || el.getAttribute('aria-label') ||
                        el.getAttribute('aria-labelledby');
          if (!named) out.push(`unlabelled ${el.tagName} ${el.name}`);
        }
        for (const img of document.querySelectorAll('img'))
          if (!img.hasAttribute('alt')) out.push(`img without alt ${img.src}`);
        for (const b of document.querySelectorAll('button, a[href]'))
          if (!b.textContent.trim() && !b.getAttribute('aria-label')) out.push('nameless control');
        const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
        const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
        if (dup.length) out.push(`duplicate ids ${dup}`);
        if (document.documentElement.scrollWidth > window.innerWidth + 1)
          out.push(`wider than the screen: ${document.documentElement.scrollWidth}px`);
        return out;
    }"""
    )
    assert problems == [], f"{page.url}: {problems}"
    # Keyboard: the first Tab lands on the skip link, visibly focused.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.evaluate("document.activeElement.blur()")


def shoot(page, folder: Path, name: str) -> None:
    """Screenshots at phone and desktop width, then back to the phone."""
    for label, size in (("390", PHONE), ("1280", DESKTOP)):
        page.set_viewport_size(size)
        page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(PHONE)


def pause_until_day() -> date:
    """A weekday at least two days ahead: the pause ends then, and the round is that day."""
    day = datetime.now(UTC).date() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def test_join_sign_in_manage_and_delete_on_a_phone(browser, served, smtp_server, tmp_path):
    from core.rounds import run_round

    base, app = served
    shots = tmp_path / "screenshots"
    shots.mkdir()
    context = browser.new_context(viewport=PHONE, accept_downloads=True)
    page = context.new_page()
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security" in m.text else 0)
    page.set_default_timeout(10_000)
    try:
        # Join.
        page.goto(base + "/")
        check_accessibility(page)
        shoot(page, shots, "join")
        page.get_by_label("Your name").fill("Ana Berg")
        page.get_by_label("Work email").fill("ana.berg@example.org")
        page.get_by_label("Department").fill("Research")
        page.get_by_label("Office", exact=True).fill("Stockholm")
        page.get_by_label("Time zone").select_option("Europe/Stockholm")
        page.get_by_role("button", name="Join the coffee breaks").click()
        page.wait_for_selector('h1:has-text("You\'re in, Ana!")')

        # Ask for a sign-in link; it arrives by email.
        page.goto(base + "/me")
        assert "/me/sign-in" in page.url
        check_accessibility(page)
        page.get_by_label("Work email").fill("ana.berg@example.org")
        page.get_by_role("button", name="Email me a sign-in link").click()
        page.wait_for_selector("h1:has-text('Check your email')")
        deadline = time.monotonic() + 10
        while not smtp_server.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        link = LINK.search(smtp_server.messages[0].message.get_content()).group(0)
        assert link.startswith(base)

        # Sign in with it.
        page.goto(link)
        check_accessibility(page)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector("h1:has-text('My coffee breaks')")
        assert "Expected, in the" in page.content()  # the slot before its round is planned

        # Preferences: meet by video, from home on Wednesdays, shorter hours, avoid Cai.
        page.get_by_role("link", name="Preferences").click()
        check_accessibility(page)
        page.get_by_label("How would you like to meet?").select_option("virtual")
        page.get_by_label("Where you work on Wednesday").select_option("remote")
        page.get_by_label("Working hours start").fill("08:30")
        page.get_by_label("Working hours end").fill("16:30")
        page.get_by_label("Small groups welcome").check()
        page.get_by_label("Topics you would like to learn about").fill("negotiation, tea")
        page.get_by_label("Find a colleague").fill("cai")
        page.get_by_role("button", name="Search").click()
        page.get_by_label("Cai Dahl").check()
        # the search kept what was typed before it
        assert page.get_by_label("Working hours start").input_value() == "08:30"
        page.get_by_role("button", name="Save preferences").click()
        page.wait_for_selector("text=Your preferences are saved.")
        shoot(page, shots, "preferences")

        # Pause until a day two working days ahead.
        resume = pause_until_day()
        page.get_by_role("link", name="Pause or leave").click()
        check_accessibility(page)
        page.get_by_label("Until a date").check()
        page.get_by_label("Until (the day you take part again)").fill(resume.isoformat())
        page.get_by_role("button", name="Pause", exact=True).click()
        page.wait_for_selector("h2:has-text('Paused until')")

        with app.app_context():
            ana = db.session.scalar(select(Person).where(Person.email == "ana.berg@example.org"))
            pref = ana.preference
            assert pref.mode == "virtual" and pref.weekday_sites["wed"] is None
            assert pref.topics == ["negotiation", "tea"] and pref.paused_until == resume
            cai = db.session.scalar(select(Person).where(Person.email == "cai.dahl@example.org"))
            assert pref.avoid == [cai.id] and ana.work_start.isoformat() == "08:30:00"
            assert ana.timezone == "Europe/Stockholm"  # not the browser's zone (UTC here)
            # The round on the day the pause ends includes her again.
            assert run_round(
                current_settings(), ensure_default_programme(current_settings().timezone), resume
            ).created
            seat = db.session.scalar(select(GroupMember).where(GroupMember.person_id == ana.id))
            partners = [m.person for m in seat.group.members if m.person_id != ana.id]
            assert partners and cai.id not in {p.id for p in partners}

        # The next break, with who and the link; "I'm in".
        page.get_by_role("link", name="My coffee breaks").click()
        page.wait_for_selector("h2:has-text('Next break')")
        content = page.content()
        for partner in partners:
            assert partner.name in content and partner.email not in content
        assert "meet.jit.si" in content
        check_accessibility(page)
        page.get_by_role("button", name="I'm in").click()
        page.wait_for_selector("text=You said you are in.")
        shoot(page, shots, "breaks")

        # Download my data.
        page.get_by_role("link", name="My data").click()
        check_accessibility(page)
        with page.expect_download() as download:
            page.get_by_role("link", name="Download my data").click()
        data = json.loads(Path(download.value.path()).read_text())
        assert data["person"]["email"] == "ana.berg@example.org"
        assert data["preferences"]["rather_not_meet"] == ["Cai Dahl"]
        assert {p["name"] for p in data["coffee_breaks"][0]["with"]} == {p.name for p in partners}
        assert not any(p.email in json.dumps(data) for p in partners)

        # Delete me.
        page.get_by_role("link", name="Delete me…").click()
        check_accessibility(page)
        page.get_by_role("button", name="Delete me for good").click()
        page.wait_for_selector("text=Tick the box to confirm")
        page.get_by_label("I understand").check()
        page.get_by_role("button", name="Delete me for good").click()
        page.wait_for_selector("h1:has-text('You are deleted, Ana')")
        shoot(page, shots, "deleted")
        page.goto(base + "/me")
        assert "/me/sign-in" in page.url
        with app.app_context():
            assert db.session.get(Person, ana.id) is None
        assert csp_errors == []
    finally:
        context.close()
    for name in ("join", "preferences", "breaks", "deleted"):
        for width in ("390", "1280"):
            assert (shots / f"{name}-{width}.png").stat().st_size > 1000


def test_pages_fit_a_360_px_screen(browser, served):
    """The narrowest phone the issue names: nothing may scroll sideways."""
    base, _ = served
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        for path in ("/", "/me/sign-in"):
            page.goto(base + path)
            check_accessibility(page)
    finally:
        context.close()
