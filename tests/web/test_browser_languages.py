"""A Swedish and a German visitor in a real browser (Chromium with its locale set).

The join form, a submit with a missing field, the confirmation, the sign-in page and /me all
speak the browser's language; a person whose own choice is German sees German even in an
English browser.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import db
from core.models import Person
from core.signin import issue_link
from tests.web import test_browser_account as account_journey
from tests.web.test_browser_account import DESKTOP
from web.config import current_settings

browser = account_journey.browser  # one headless Chromium per module
served = account_journey.served  # Fika on loopback, CSRF on, a local SMTP server

pytestmark = pytest.mark.slow

WORDS = {
    "sv": {
        "title": "Var med på den dagliga fikan",
        "join": "Var med på fikat",
        "name_missing": "Berätta vad du heter.",
        "fix": "Rätta det här fältet:",
        "joined": "Du är med, Lea!",
        "sign_in": "Logga in",
        "preferences": "Spara inställningar",
        "nav": "Mina fikor",
        "days": ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"),
    },
    "de": {
        "title": "Mach mit bei der täglichen Kaffeepause",
        "join": "Bei den Kaffeepausen mitmachen",
        "name_missing": "Bitte sag uns deinen Namen.",
        "fix": "Bitte korrigiere dieses Feld:",
        "joined": "Du bist dabei, Lea!",
        "sign_in": "Anmelden",
        "preferences": "Einstellungen speichern",
        "nav": "Meine Kaffeepausen",
        "days": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    },
}
LOCALES = {"sv": "sv-SE", "de": "de-DE"}


def signed_in_page(browser, base: str, app, email: str, locale: str, sign_in: str):
    """A page in ``locale`` signed in as ``email`` through a real sign-in link."""
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.email == email))
        link = issue_link(current_settings(), person, "/me/preferences")
    context = browser.new_context(viewport=DESKTOP, locale=locale)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(link)
    page.get_by_role("button", name=sign_in, exact=True).click()
    page.wait_for_url(base + "/me/preferences")
    return context, page


@pytest.mark.parametrize("language", ["sv", "de"])
def test_a_visitor_joins_and_reads_me_in_their_language(browser, served, language):
    base, app = served
    words = WORDS[language]
    context = browser.new_context(viewport=DESKTOP, locale=LOCALES[language])
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(base + "/")
    assert page.get_attribute("html", "lang") == language
    assert page.get_by_role("heading", level=1).inner_text() == words["title"]

    # A submit without a name: the field's own message, in the visitor's language.
    page.fill("#email", "lea.lund@example.org")
    page.fill("#department", "Research")
    page.fill("#office", "Stockholm")
    page.get_by_role("button", name=words["join"]).click()
    page.wait_for_selector("#name-error")
    assert page.inner_text("#name-error") == words["name_missing"]
    assert words["fix"] in page.inner_text("[role=alert]")
    assert page.get_attribute("html", "lang") == language

    page.fill("#name", "Lea Lund")
    page.get_by_role("button", name=words["join"]).click()
    page.wait_for_selector("h1")
    assert page.get_by_role("heading", level=1).inner_text() == words["joined"]
    next_break = page.inner_text(".next-break")
    assert next_break.split()[0].rstrip(",") in words["days"]  # Babel's day name, not strftime's
    context.close()

    context, page = signed_in_page(
        browser, base, app, "lea.lund@example.org", LOCALES[language], words["sign_in"]
    )
    assert page.get_attribute("html", "lang") == language
    assert page.get_by_role("button", name=words["preferences"]).is_visible()
    assert page.get_by_role("link", name=words["nav"]).is_visible()
    context.close()
    with app.app_context():  # "Automatic": nothing stored, the browser decides each time
        assert (
            db.session.scalar(select(Person.language).where(Person.email == "lea.lund@example.org"))
            is None
        )


def test_a_persons_own_german_beats_an_english_browser(browser, served):
    base, app = served
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.email == "ben.cole@example.org"))
        person.language = "de"
        db.session.commit()
    context, page = signed_in_page(browser, base, app, "ben.cole@example.org", "en-GB", "Sign in")
    assert page.get_attribute("html", "lang") == "de"
    assert page.get_by_role("heading", level=1).inner_text() == "Einstellungen"
    assert page.locator("#language").input_value() == "de"
    context.close()
