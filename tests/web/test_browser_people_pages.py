"""The people's pages in the real browser (Debian's Chromium, headless, via Playwright).

Issue 18, "The people's pages": the joined page and /me give one answer for "your next break"
(``core.next_break``) before and after a round; the joined page leads on; past breaks show
their status, reasons and zone; the preferences link days to offices and suggest colleagues as
you type; the form's zone falls back to the organisation's; nothing scrolls sideways at 390 px.
Served as in ``test_browser_account`` (loopback, CSRF on, SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core import signin
from core.db import db
from core.models import Group, GroupMember, Person, Round
from core.programmes import ensure_default_programme
from core.rounds import run_round
from core.schedule import schedule_for
from tests.core.helpers import add_person
from tests.web import test_browser_account as account_journey
from web.config import current_settings

pytestmark = pytest.mark.slow

# The same headless Chromium and loopback server as the account journey.
browser, served = account_journey.browser, account_journey.served
PHONE = account_journey.PHONE

STOCKHOLM = ZoneInfo("Europe/Stockholm")  # FIKA_TIMEZONE in the tests
WIDTH = PHONE["width"]


def new_page(browser, **options):
    """A phone-sized page that records Content-Security-Policy complaints."""
    context = browser.new_context(viewport=PHONE, **options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.csp_errors = []
    page.on("console", lambda m: "Content Security" in m.text and page.csp_errors.append(m.text))
    return context, page


def assert_fits(page) -> None:
    """Nothing on the page scrolls sideways at 390 px."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} is {width}px wide at {WIDTH}px"


def sign_in(page, base: str, app, email: str) -> None:
    """Open a fresh sign-in link for ``email`` (as the mail would carry) and press Sign in."""
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.email == email))
        link = signin.issue_link(current_settings(), person, "/me")
    page.goto(link)
    assert_fits(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("h1:has-text('My coffee breaks')")


def join(page, base: str, name: str, email: str) -> None:
    """Fill in the opt-in form (the zone left as the page offers it) and send it."""
    page.goto(base + "/")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Department").fill("Research")
    page.get_by_label("Office", exact=True).fill("Stockholm")
    page.get_by_role("button", name="Join the coffee breaks").click()
    page.wait_for_selector('h1:has-text("You\'re in")')


def next_break_shown(page) -> tuple[str, str]:
    """(datetime attribute, text) of the page's next break."""
    shown = page.locator("time.next-break")
    return shown.get_attribute("datetime"), " ".join(shown.inner_text().split())


def first_slot(app) -> datetime:
    """The default programme's first break whose round is planned after now (core.schedule)."""
    with app.app_context():
        schedule = schedule_for(ensure_default_programme(current_settings().timezone))
        _, day = schedule.next_firing(datetime.now(UTC))
        return schedule.break_at(day)


def test_joined_page_and_me_agree_before_and_after_a_round(browser, served):
    base, app = served
    context, page = new_page(browser, timezone_id="UTC")  # a browser that knows no zone
    try:
        # The form: the zone defaults to the organisation's; "how it works" is explained.
        page.goto(base + "/")
        assert page.get_by_label("Time zone").input_value() == "Europe/Stockholm"
        how = page.locator("section.how")
        assert how.get_by_role("heading", name="How it works").is_visible()
        for words in ("Matching", "video link", "Privacy", "delete"):
            assert words in how.inner_text()
        assert_fits(page)

        join(page, base, "Ana Berg", "ana.berg@example.org")
        slot = first_slot(app).astimezone(STOCKHOLM)
        joined = next_break_shown(page)
        assert joined[0] == slot.isoformat()
        assert slot.strftime("%A %-d %B, %H:%M") in joined[1] and "Europe/Stockholm" in joined[1]
        # Not a dead end: my breaks, my preferences, my topics.
        hrefs = {
            page.get_by_role("link", name=name).get_attribute("href")
            for name in (
                "See your coffee breaks",
                "Choose your days and offices",
                "Add topics you would like to talk about",
            )
        }
        assert hrefs == {"/me", "/me/preferences", "/me/preferences#topics"}
        assert_fits(page)

        sign_in(page, base, app, "ana.berg@example.org")
        assert next_break_shown(page) == joined  # the same answer, word for word
        assert "Expected, in the" in page.content()
        assert_fits(page)

        # The round is planned: /me shows the real group.
        with app.app_context():
            programme = ensure_default_programme(current_settings().timezone)
            assert run_round(current_settings(), programme, slot.date()).created
            ana = db.session.scalar(select(Person).where(Person.email == "ana.berg@example.org"))
            seat = db.session.scalar(select(GroupMember).where(GroupMember.person_id == ana.id))
            start = seat.group.start_at.astimezone(STOCKHOLM)
            partners = [m.person.name for m in seat.group.members if m.person_id != ana.id]
        page.reload()
        shown = next_break_shown(page)
        assert shown[0] == start.isoformat() and "Expected, in the" not in page.content()
        assert partners and all(name in page.content() for name in partners)
        assert page.get_by_role("button", name="I'm in").is_visible()
        assert_fits(page)

        # Someone joining now expects the slot after it, on both pages.
        page.get_by_role("button", name="Sign out").click()
        join(page, base, "Eve Fox", "eve.fox@example.org")
        eve_joined = next_break_shown(page)
        assert eve_joined[0] > slot.isoformat()[:10]  # a later day than the planned round
        sign_in(page, base, app, "eve.fox@example.org")
        assert next_break_shown(page) == eve_joined
        assert page.csp_errors == []
    finally:
        context.close()


def past_group(app, members: list[int], start: datetime, reasons=(), **seat) -> None:
    """A group of ``members`` at ``start`` in its own round; ``seat`` sets the first seat."""
    with app.app_context():
        programme = ensure_default_programme(current_settings().timezone)
        round_ = Round(programme_id=programme.id, date=start.date(), status="planned")
        group = Group(
            uid=f"g-{start:%Y%m%d%H%M}@test",
            start_at=start,
            end_at=start + timedelta(minutes=15),
            video_url="https://meet.jit.si/fika-a-rather-long-room-name-that-must-wrap-on-a-phone",
            status=seat.pop("status", "scheduled"),
            reasons=list(reasons),
        )
        round_.groups.append(group)
        group.members = [GroupMember(person_id=i) for i in members]
        for key, value in seat.items():
            setattr(group.members[0], key, value)
        db.session.add(round_)
        db.session.commit()


def test_me_shows_each_past_break_with_status_reasons_and_zone(browser, served):
    base, app = served
    with app.app_context():
        ids = {p.email.split(".")[0]: p.id for p in db.session.scalars(select(Person))}
        ana = add_person("ana.berg@example.org", "Research").id
        add_person("fay.gray@example.org", "Finance")
    day = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    why = "Ana works in Research, Ben in Sales"
    past_group(app, [ana, ids["ben"]], day - timedelta(days=4), reasons=[why])  # happened
    past_group(app, [ana, ids["cai"]], day - timedelta(days=3), met=True)  # said met
    past_group(app, [ana, ids["dee"]], day - timedelta(days=2), status="cancelled")
    past_group(app, [ana, ids["dee"]], day - timedelta(days=1), met=False)  # missed
    context, page = new_page(browser)
    try:
        sign_in(page, base, app, "ana.berg@example.org")
        items = page.locator("li.past-break")
        assert items.count() == 4
        statuses = [items.nth(i).locator(".status").inner_text() for i in range(4)]
        assert statuses == ["missed", "cancelled", "you said you met", "happened"]
        first = (day - timedelta(days=4)).astimezone(STOCKHOLM)
        oldest = items.nth(3)
        assert oldest.locator("time").get_attribute("datetime") == first.isoformat()
        assert "(Europe/Stockholm)" in oldest.locator("time").inner_text()
        assert not oldest.get_by_text(why).is_visible()
        oldest.get_by_text("Why you were matched").click()
        assert oldest.get_by_text(why).is_visible()
        # Ben (happened) and Cai (said met): not Dee (cancelled, then missed).
        assert "You have met 2 people from 2 departments." in " ".join(
            page.locator("p.count").inner_text().split()
        )
        assert_fits(page)

        # Someone with no breaks yet is invited to act, not told "met 0 people".
        page.get_by_role("button", name="Sign out").click()
        sign_in(page, base, app, "fay.gray@example.org")
        text = " ".join(page.locator("main").inner_text().split())
        assert "You have met" not in text and "0 people" not in text
        assert "Your first coffee break is still ahead" in text
        assert page.get_by_role("link", name="what you like to talk about").is_visible()
        assert page.get_by_role("link", name="set your days, offices and topics").is_visible()
        assert "Expected, in the" in text  # the next break, even before any round
        assert_fits(page)
    finally:
        context.close()


def test_preferences_days_offices_suggestions_and_alignment(browser, served):
    base, app = served
    with app.app_context():
        add_person("ana.berg@example.org", "Research")
    context, page = new_page(browser)
    try:
        sign_in(page, base, app, "ana.berg@example.org")
        page.get_by_role("link", name="Preferences").click()
        page.wait_for_selector("h1:has-text('Preferences')")

        # A day not ticked disables its office menu.
        wednesday = page.get_by_label("Take part on Wednesday")
        office = page.get_by_label("Where you work on Wednesday")
        assert office.is_enabled()
        wednesday.uncheck()
        assert office.is_disabled()
        wednesday.check()
        assert office.is_enabled()
        wednesday.uncheck()

        # The avoid list suggests names as you type; picking one adds it, ticked.
        find = page.get_by_label("Find a colleague")
        find.press_sequentially("ca", delay=50)
        page.wait_for_selector(
            '#colleague-suggestions option[value="Cai Dahl (Legal)"]', state="attached"
        )
        find.fill("Cai Dahl (Legal)")
        assert page.get_by_label("Cai Dahl").is_checked()
        assert find.input_value() == ""

        # No bullet before the programme's checkbox; legends line up with the labels.
        bullets = page.evaluate(
            "[...document.querySelectorAll('#programmes li')]"
            ".map(li => getComputedStyle(li).listStyleType)"
        )
        assert bullets and set(bullets) == {"none"}
        offsets = page.evaluate(
            """() => {
            const left = (el) => { const r = document.createRange(); r.selectNodeContents(el);
                                   return r.getBoundingClientRect().left; };
            const label = left(document.querySelector('label[for=mode]'));
            return [...document.querySelectorAll('form.prefs > fieldset > legend')]
                   .map(l => [l.textContent.trim(), left(l) - label]);
        }"""
        )
        assert len(offsets) >= 4
        assert all(abs(dx) < 0.5 for _, dx in offsets), offsets
        assert_fits(page)

        page.get_by_role("button", name="Save preferences").click()
        page.wait_for_selector("text=Your preferences are saved.")
        with app.app_context():
            ana = db.session.scalar(select(Person).where(Person.email == "ana.berg@example.org"))
            cai = db.session.scalar(select(Person).where(Person.email == "cai.dahl@example.org"))
            pref = ana.preference
            assert pref.avoid == [cai.id] and "wed" not in pref.days
            assert pref.weekday_sites["wed"] == "Stockholm"  # kept for when it is ticked again
        assert page.get_by_label("Where you work on Wednesday").is_disabled()
        assert page.csp_errors == []
    finally:
        context.close()


def test_the_form_takes_a_zone_the_browser_does_give(browser, served):
    base, _ = served
    context, page = new_page(browser, timezone_id="America/New_York")
    try:
        page.goto(base + "/")
        assert page.get_by_label("Time zone").input_value() == "America/New_York"
    finally:
        context.close()


def test_no_people_page_scrolls_sideways_at_390_px(browser, served):
    base, app = served
    with app.app_context():
        ana = add_person("ana.berg@example.org", "Research with a rather long department name").id
        ben = db.session.scalar(select(Person.id).where(Person.email == "ben.cole@example.org"))
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    past_group(app, [ana, ben], now - timedelta(days=2), reasons=["A reason " * 12])
    past_group(app, [ana, ben], now + timedelta(days=2))
    context, page = new_page(browser)
    try:
        for path in ("/", "/me/sign-in"):
            page.goto(base + path)
            assert_fits(page)
        join(page, base, "Gus Hale", "gus.hale@example.org")
        assert_fits(page)
        sign_in(page, base, app, "ana.berg@example.org")
        for path in ("/me", "/me/preferences", "/me/pause", "/me/privacy", "/me/delete"):
            page.goto(base + path)
            page.wait_for_selector("h1")
            assert_fits(page)
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_selector("h1")
        assert_fits(page)
        page.goto(base + "/me/sign-in")
        page.get_by_label("Work email").fill("ana.berg@example.org")
        page.get_by_role("button", name="Email me a sign-in link").click()
        page.wait_for_selector("h1:has-text('Check your email')")
        assert_fits(page)
    finally:
        context.close()


def test_colleague_suggestions_need_a_signed_in_person(app, client):
    response = client.get("/me/colleagues?q=ca")
    assert response.status_code == 401 and "Sign in" in response.json["error"]
    with app.app_context():
        ana = add_person("ana.berg@example.org", "Research").id
        add_person("cai.dahl@example.org", "Legal")
    with client.session_transaction() as session:
        session["person_id"] = ana
    people = client.get("/me/colleagues?q=CA").json["people"]
    assert [(p["name"], p["department"]) for p in people] == [("Cai Dahl", "Legal")]
    assert "email" not in people[0]
    assert client.get("/me/colleagues?q=ana").json["people"] == []  # never yourself
