"""Admin and people's pages in a real browser (Debian's Chromium via Playwright), demo data in.

Fika is served on loopback from a background thread (SQLite and PostgreSQL, CSRF on) with the
demo organisation and some weeks of history (``fika.demo_history``); the admin signs in through
a real sign-in link. Every admin page must fit a 390 px phone without sideways scrolling and
pass axe-core (``axe-playwright-python``) with no serious or critical violation at 390 and
1280 px; so must every page people see (the form, joined, sign-in, /me and its subpages, the
check-in, pause-offer and unsubscribe links). The dashboard, insights and round pages show what
the admin needs.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from core.db import db
from core.enums import DeliveryStatus
from core.models import Delivery, Group, Person, Programme, Round
from core.signin import issue_link
from tests.web import test_browser_account as account_journey
from tests.web.test_browser_account import DESKTOP, PHONE
from web.config import current_settings

browser = account_journey.browser  # one headless Chromium per module, as the account journey's

SERIOUS = {"serious", "critical"}
BRAND = "rgb(122, 62, 18)"  # --accent in fika.css
CSV = (
    b"email,name,department,office\nnew.one@example.org,New One,Sales,Berlin\nbad,No Mail,Sales,\n"
)

pytestmark = pytest.mark.slow


@pytest.fixture
def demo(make_app) -> Iterator[tuple[str, object, dict]]:
    """Fika with demo data on 127.0.0.1:<free port>; yields (base URL, app, ids of rows)."""
    from core.channels import configured_channels
    from core.dispatch import send_due
    from core.programmes import ensure_default_programme
    from core.rounds import run_round
    from fika.demo import ensure_demo_people
    from fika.demo_history import ADMIN_EMAIL, LEARNING, add_history, demo_admin

    served = {}
    server = make_server("127.0.0.1", 0, lambda e, s: served["app"](e, s), threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app = served["app"] = make_app(
        FIKA_BASE_URL=base,
        FIKA_ADMIN_EMAILS=ADMIN_EMAIL,
        WTF_CSRF_ENABLED=True,
        TESTING=False,
    )
    with app.app_context():
        db.create_all()
        settings = current_settings()
        ensure_demo_people(30, 7)
        today = datetime.now(UTC).date()
        rounds = add_history(settings, today, weeks=3)
        # A round still ahead (the next weekday), its invites sent: the demo's own round.
        ahead = today + timedelta(days=1)
        while ahead.weekday() >= 5:
            ahead += timedelta(days=1)
        assert run_round(settings, ensure_default_programme(settings.timezone), ahead).created
        send_due(configured_channels(settings))
        demo_admin(settings.timezone)
        ids = {
            "programme": db.session.scalar(select(Programme.id).order_by(Programme.id)),
            "learning": db.session.scalar(select(Programme.id).where(Programme.name == LEARNING)),
            "round": rounds[-1],
            "learning_day": db.session.scalar(
                select(Round.date)
                .join(Programme)
                .where(Programme.name == LEARNING)
                .order_by(Round.date.desc())
                .limit(1)
            ).isoformat(),
            "ahead": db.session.scalar(
                select(Round.id).order_by(Round.date.desc(), Round.id.desc()).limit(1)
            ),
        }
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, app, ids
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def signed_in_admin(browser, base: str, app, viewport: dict):
    """A browser page signed in as the demo admin through a real sign-in link."""
    from fika.demo_history import ADMIN_EMAIL

    with app.app_context():
        admin = db.session.scalar(select(Person).where(Person.email == ADMIN_EMAIL))
        link = issue_link(current_settings(), admin, "/admin/")
    assert link.startswith(base)
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/admin/")
    return context, page


def admin_pages(app, ids: dict) -> list[str]:
    """Every admin page a browser can open (GET, HTML), with real ids filled in."""
    fill = {"programme_id": ids["programme"], "round_id": ids["round"]}
    pages = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or "GET" not in rule.methods:
            continue
        if rule.rule.endswith(".csv"):
            continue
        path = rule.rule
        for name, value in fill.items():
            path = path.replace(f"<int:{name}>", str(value))
        assert "<" not in path, f"no demo value for {rule.rule}"
        pages.append(path)
    pages += [
        f"/admin/rounds/{ids['ahead']}",  # a round whose breaks are still ahead
        f"/admin/programmes/{ids['learning']}",
        f"/admin/rounds/preview?programme={ids['learning']}",
    ]
    return sorted(set(pages))


def test_every_admin_page_is_listed(demo):
    _, app, ids = demo
    pages = admin_pages(app, ids)
    for expected in ("/admin/", "/admin/insights", "/admin/rounds", "/admin/deliveries/dead",
                     "/admin/programmes/new", "/admin/people/import", "/admin/audit"):  # fmt: skip
        assert expected in pages


def test_no_admin_page_scrolls_sideways_on_a_phone(browser, demo):
    base, app, ids = demo
    context, page = signed_in_admin(browser, base, app, PHONE)
    try:
        too_wide = {}
        for path in admin_pages(app, ids):
            response = page.goto(base + path)
            assert response.status == 200, path
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                too_wide[path] = (width, page.evaluate(WIDEST))
        assert too_wide == {}
        # A wide table scrolls inside its own box instead.
        page.goto(base + "/admin/people")
        box = page.locator(".table-scroll").first
        assert box.evaluate("e => e.scrollWidth > e.clientWidth")
        assert box.evaluate("e => getComputedStyle(e).overflowX") == "auto"
    finally:
        context.close()


WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
               && !e.closest('.table-scroll'))
  .slice(0, 3).map(e => e.tagName + '.' + e.className + ': ' + e.textContent.slice(0, 40))"""


def axe_problems(page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


# Accessibility is the page's, not the database's: one database (the demo's own, SQLite).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
def test_every_admin_page_passes_axe(browser, demo, viewport):
    base, app, ids = demo
    context, page = signed_in_admin(browser, base, app, viewport)
    try:
        problems = {}
        for path in admin_pages(app, ids):
            page.goto(base + path)
            found = axe_problems(page)
            if found:
                problems[path] = found
        # The pages a form re-renders: a programme without a name, an import's preview.
        page.goto(base + "/admin/programmes/new")
        page.get_by_role("button", name="Save").click()
        page.wait_for_selector(".error")
        problems["programme form with messages"] = axe_problems(page)
        page.goto(base + "/admin/people/import")
        page.get_by_label("CSV file (UTF-8)").set_input_files(
            files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": CSV}]
        )
        page.get_by_role("button", name="Check the file").click()
        page.wait_for_selector("#summary")
        problems["import preview"] = axe_problems(page)
        assert {k: v for k, v in problems.items() if v} == {}
    finally:
        context.close()


def test_the_dashboard_is_what_an_admin_opens_every_morning(browser, demo):
    base, app, ids = demo
    context, page = signed_in_admin(browser, base, app, DESKTOP)
    try:
        text = page.inner_text("main")
        # Plurals: never "1 programmes"; the numbers read as English.
        assert not re.search(r"\b1 (programmes|rounds|groups|people|answers)\b", text)
        card = page.locator("article", has_text="Daily digital coffee break")
        when = card.locator(".when").inner_text()
        assert "Europe/Stockholm" in when and re.search(r"\d{2}:\d{2}", when)
        assert re.search(r"\d+ (person|people) expected", card.inner_text())
        # The preview link opens the next round's preview.
        card.get_by_role("link", name=re.compile("Preview")).click()
        page.wait_for_selector("h1")
        assert "/admin/rounds/preview" in page.url and "Preview only" in page.inner_text("main")
        page.go_back()
        # The learning teams' last round has answers: a met rate.
        learning = page.locator("article", has_text="Learning teams")
        assert re.search(r"\d+ groups?, \d+ (person|people)", learning.inner_text())
        assert re.search(r"Met rate \d+%", learning.inner_text())
        # Delivery health, the dead letter linking to the page that lists it.
        health = page.locator("#delivery-health")
        assert re.search(r"\d+ sent", health.inner_text())
        assert "1 dead" in health.inner_text()
        # Participation over eight weeks: eight bars' labels, and the numbers in a table.
        chart = page.locator("svg.chart.bars")
        assert chart.locator("rect.bar").count() >= 3
        assert page.locator("details table tbody tr").count() == 8
        health.get_by_role("link", name=re.compile("dead")).click()
        page.wait_for_selector("h1:has-text('Dead letters')")
        assert "mailbox unavailable" in page.inner_text("main")
    finally:
        context.close()


def test_insights_draw_bars_for_few_rounds_and_the_heat_map_once(browser, demo):
    base, app, ids = demo
    context, page = signed_in_admin(browser, base, app, DESKTOP)
    try:
        page.goto(base + "/admin/insights")
        assert page.locator("svg.heatmap").count() == 1
        # The same numbers as a table, folded away for screen readers and the curious.
        matrix = page.locator("details table.matrix")
        assert matrix.count() == 1 and not matrix.is_visible()
        assert page.locator("svg.chart.bars").count() == 2  # few rounds: bars, not a line
        assert page.locator("svg polyline").count() == 0
        # No blank band above the heat map: its first cell starts near the top.
        gap = page.evaluate(
            """() => {
              const svg = document.querySelector('svg.heatmap');
              const cell = svg.querySelector('g.cell rect');
              return cell.getBoundingClientRect().top - svg.getBoundingClientRect().top;
            }"""
        )
        assert gap < 140, gap
        # The CSV download has the same numbers as the heat map.
        cells = page.eval_on_selector_all(
            "svg.heatmap g.cell",
            "gs => gs.map(g => [g.dataset.row, g.dataset.col, Number(g.dataset.value)])",
        )
        csv_link = page.get_by_role("link", name=re.compile("CSV")).get_attribute("href")
        body = page.request.get(base + csv_link).text()
        rows = [line.split(",") for line in body.split("\n\n")[-1].strip().splitlines()]
        departments = rows[0][1:]
        from_csv = [
            [r[0], d, int(v)] for r in rows[1:] for d, v in zip(departments, r[1:], strict=True)
        ]
        assert sorted(from_csv) == sorted(cells) and len(cells) > 4
        # One round: one bar, not a lone dot, and a word that this is too little for a trend.
        day = ids["learning_day"]
        page.goto(base + f"/admin/insights?programme={ids['learning']}&from={day}&to={day}")
        assert "Too little data" in page.inner_text("main")
        assert page.locator("svg.chart.bars").first.locator("rect.bar").count() == 1
        # No round at all: no empty charts.
        page.goto(base + "/admin/insights?from=2000-01-01&to=2000-01-02")
        assert "Too little data" in page.inner_text("main")
        assert page.locator("svg.chart").count() == 0
    finally:
        context.close()


def test_round_pages_show_zone_reasons_and_which_breaks_are_over(browser, demo):
    base, app, ids = demo
    context, page = signed_in_admin(browser, base, app, DESKTOP)
    try:
        page.goto(base + f"/admin/rounds/{ids['round']}")
        main = page.inner_text("main")
        assert "Time (Europe/Stockholm)" in main
        assert re.search(r"\d{2}:\d{2}–\d{2}:\d{2} CES?T", main)
        assert "Why they were matched" in main
        reasons = page.locator("tbody tr td:nth-child(4)").all_inner_texts()
        assert any(len(r.strip()) > 3 for r in reasons), reasons
        assert "over" in page.locator(".status").first.inner_text()
        page.goto(base + f"/admin/rounds/{ids['ahead']}")
        assert set(page.locator(".status").all_inner_texts()) == {"ahead"}
        assert "over" not in page.locator("main p").first.inner_text()
        # Links and buttons are styled as on the people's pages, not the browser's blue.
        page.goto(base + "/admin/deliveries/dead")
        button = page.get_by_role("button", name=re.compile("Re-send")).first
        assert button.evaluate("e => getComputedStyle(e).borderRadius") == "8px"
        assert button.evaluate("e => getComputedStyle(e).color") == "rgb(122, 62, 18)"
        page.goto(base + "/admin/")
        link = page.get_by_role("link", name="See everyone")
        assert link.evaluate("e => getComputedStyle(e).color") == "rgb(122, 62, 18)"
        page.goto(base + f"/admin/programmes/{ids['programme']}")
        size = page.get_by_label("Group size")
        assert size.evaluate("e => e.getBoundingClientRect().height") >= 40
        # Checkboxes are ticked in the brand colour, not the browser's blue.
        ticks = page.locator("input[type=checkbox]")
        assert ticks.count() > 0
        assert ticks.first.evaluate("e => getComputedStyle(e).accentColor") == BRAND
    finally:
        context.close()


def test_the_re_send_button_is_in_reach_on_a_phone(browser, demo):
    """At 390 px a dead letter's Re-send button shows without scrolling its table sideways."""
    base, app, _ = demo
    with app.app_context():
        dead = db.session.scalar(select(Delivery).where(Delivery.status == DeliveryStatus.DEAD))
        round_id = dead.round_id or db.session.get(Group, dead.group_id).round_id
    context, page = signed_in_admin(browser, base, app, PHONE)
    try:
        for path in ("/admin/deliveries/dead", f"/admin/rounds/{round_id}"):
            page.goto(base + path)
            button = page.get_by_role("button", name=re.compile("Re-send"))
            assert button.count() == 1, path
            box = button.bounding_box()
            assert 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"], (path, box)
            assert button.evaluate("e => e.closest('.table-scroll').scrollLeft") == 0
    finally:
        context.close()


def test_the_axe_check_does_find_problems(browser):
    """The harness is live: an unlabelled field and an image without text are reported."""
    page = browser.new_page()
    try:
        page.set_content(
            '<html lang="en"><title>t</title><main><input name="q"><img src="x.png"></main></html>'
        )
        found = " ".join(axe_problems(page))
        assert "label" in found and "image-alt" in found
    finally:
        page.close()


def people_pages(app, base: str) -> tuple[str, list[str], list[str]]:
    """(a demo person's email, the pages they open signed in, the ones opened from links)."""
    from core.links import Links
    from core.models import GroupMember

    with app.app_context():
        seat = db.session.scalar(
            select(GroupMember)
            .join(Person)
            .where(Person.email.like("demo%"))
            .order_by(GroupMember.group_id)
            .limit(1)
        )
        person = seat.person
        links = Links(current_settings())
        sign_in = issue_link(current_settings(), person, "/me")
        from_links = [
            sign_in,
            links.checkin(seat.group_id, person.id)["met"],
            links.pause_offer(person.id)["pause_2w"],
            links.unsubscribe(person.id),
        ]
        email = person.email
    assert all(link.startswith(base) for link in from_links)
    signed_in = ["/me", "/me/preferences", "/me/pause", "/me/privacy", "/me/delete"]
    return email, signed_in, from_links


# Accessibility is the page's, not the database's: one database (the demo's own, SQLite).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
def test_every_page_people_see_passes_axe(browser, demo, viewport):
    """The form, joined, sign-in, /me and its subpages, check-in, unsubscribe: axe-clean."""
    base, app, _ = demo
    email, signed_in, from_links = people_pages(app, base)
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems = {}

    def check(name: str) -> None:
        found = axe_problems(page)
        if found:
            problems[name] = found
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > viewport["width"]:
            problems[name + " width"] = [f"{width}px wide: {page.evaluate(WIDEST)}"]

    try:
        page.goto(base + "/")
        check("/ (the form)")
        page.get_by_label("Your name").fill("Axe Tester")
        page.get_by_label("Work email").fill(f"axe.{viewport['width']}@example.org")
        page.get_by_label("Department").fill("Research")
        page.get_by_role("button", name=re.compile("Join")).click()
        page.wait_for_load_state()
        check("the form with a message")  # no office given
        page.get_by_label("Office", exact=True).fill("Stockholm")
        page.get_by_role("button", name=re.compile("Join")).click()
        page.wait_for_load_state()
        assert "in, Axe" in page.inner_text("h1"), page.inner_text("main")[:600]
        check("joined")
        page.goto(base + "/me/sign-in")
        check("/me/sign-in")
        for link in from_links:  # sign-in confirmation, check-in, pause offer, unsubscribe
            page.goto(link)
            check(link.removeprefix(base).split("/")[1] + " link")
        page.goto(from_links[0])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(base + "/me")
        for path in signed_in:
            page.goto(base + path)
            check(path)
        assert problems == {}
        # The people's checkboxes are ticked in the brand colour too, not the browser's blue.
        page.goto(base + "/me/preferences")
        ticks = page.locator("input[type=checkbox]")
        assert ticks.count() > 0
        assert ticks.first.evaluate("e => getComputedStyle(e).accentColor") == BRAND
        with app.app_context():
            assert db.session.scalar(select(Person).where(Person.email == email)) is not None
    finally:
        context.close()
