"""Which language a page speaks, and the person's own language preference.

Order: the signed-in person's own choice > a chooser registered by another part of the app >
the session's choice (``session["language"]``) > ``Accept-Language`` > ``FIKA_LANGUAGE``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest
from flask import render_template_string
from sqlalchemy import select

from core.db import db
from core.models import Person
from core.settings import SettingsError
from tests.core.helpers import add_person
from tests.web.test_optin import GOOD
from web import create_app
from web.i18n import add_language_chooser

LANG = re.compile(r'<html lang="(\w+)">')


def page_language(response) -> str:
    return LANG.search(response.get_data(as_text=True)).group(1)


def person_with(app, language: str | None) -> int:
    with app.app_context():
        person = add_person("ana.berg@example.org", "Research")
        person.language = language
        db.session.commit()
        return person.id


def sign_in_as(client, person_id: int) -> None:
    with client.session_transaction() as session:
        session["person_id"] = person_id


def test_fika_language_is_the_default(app, make_app):
    client = make_app(FIKA_LANGUAGE="de").test_client()
    response = client.get("/")
    assert page_language(response) == "de"
    assert "Mach mit bei der täglichen Kaffeepause" in response.get_data(as_text=True)


def test_english_without_fika_language_or_browser_wish(client):
    response = client.get("/")
    assert page_language(response) == "en"
    assert "Join the daily coffee break" in response.get_data(as_text=True)


def test_accept_language_beats_fika_language(app, make_app):
    client = make_app(FIKA_LANGUAGE="de").test_client()
    response = client.get("/", headers={"Accept-Language": "fr;q=1, sv-SE;q=0.8, de;q=0.5"})
    assert page_language(response) == "sv"
    assert "Var med på den dagliga fikan" in response.get_data(as_text=True)


def test_a_browser_language_fika_does_not_speak_falls_back_to_fika_language(app, make_app):
    client = make_app(FIKA_LANGUAGE="sv").test_client()
    assert page_language(client.get("/", headers={"Accept-Language": "fr, ja"})) == "sv"


def test_the_session_choice_beats_the_browser(client):
    with client.session_transaction() as session:
        session["language"] = "de"
    assert page_language(client.get("/", headers={"Accept-Language": "sv"})) == "de"


def test_a_registered_chooser_comes_before_the_session(app, client):
    add_language_chooser(app, lambda: "sv")
    with client.session_transaction() as session:
        session["language"] = "de"
    assert page_language(client.get("/", headers={"Accept-Language": "en"})) == "sv"


def test_the_persons_own_choice_beats_everything(app, client):
    add_language_chooser(app, lambda: "sv")
    sign_in_as(client, person_with(app, "de"))
    with client.session_transaction() as session:
        session["language"] = "sv"
    response = client.get("/me/preferences", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert page_language(response) == "de"
    assert "Einstellungen speichern" in response.get_data(as_text=True)


def test_a_person_without_a_choice_gets_the_browsers_language(app, client):
    sign_in_as(client, person_with(app, None))
    response = client.get("/me/preferences", headers={"Accept-Language": "sv"})
    assert page_language(response) == "sv"
    assert "Spara inställningar" in response.get_data(as_text=True)


def test_the_kept_blank_join_page_is_one_per_language(client):
    """The join page is rendered once and reused: never in the previous visitor's language."""
    assert page_language(client.get("/", headers={"Accept-Language": "de"})) == "de"
    assert page_language(client.get("/", headers={"Accept-Language": "sv"})) == "sv"
    assert page_language(client.get("/", headers={"Accept-Language": "de"})) == "de"
    assert page_language(client.get("/")) == "en"


@pytest.mark.parametrize("value", ["fr", "english", "sv_SE"])
def test_an_unknown_fika_language_is_refused_at_start_up(app_config, value):
    with pytest.raises(SettingsError, match=r"^FIKA_LANGUAGE: unknown language"):
        create_app(dict(app_config, FIKA_LANGUAGE=value))


def test_wtforms_own_messages_follow_the_page(client):
    """Length's default message comes from WTForms' catalogue, in the page's language."""
    response = client.post("/", data=dict(GOOD, name="A" * 201), headers={"Accept-Language": "de"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Feld kann nicht länger als 200 Zeichen sein" in html


def test_the_join_form_stores_the_chosen_language(app, client):
    response = client.post("/", data=dict(GOOD, language="sv"))
    assert response.status_code == 200
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.email == "ana.berg@example.org"))
        assert person.language == "sv"


def test_automatic_on_the_join_form_stores_no_language(app, client):
    client.post("/", data=dict(GOOD, language=""))
    with app.app_context():
        assert db.session.scalar(select(Person.language)) is None


def test_a_language_fika_does_not_speak_is_refused_on_the_form(app, client):
    response = client.post("/", data=dict(GOOD, language="fr"), headers={"Accept-Language": "sv"})
    assert response.status_code == 400
    assert "Välj ett språk i listan." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Person)) is None


def test_preferences_show_save_and_export_the_language(app, client):
    person_id = person_with(app, None)
    sign_in_as(client, person_id)
    page = client.get("/me/preferences").get_data(as_text=True)
    assert '<option selected value="">Automatic (browser)</option>' in page
    assert '<option value="sv">Svenska</option>' in page
    form = preferences_form(page)
    form["language"] = "de"
    response = client.post("/me/preferences", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Person, person_id).language == "de"
    page = client.get("/me/preferences").get_data(as_text=True)
    assert '<option selected value="de">Deutsch</option>' in page
    assert "Deine Einstellungen sind gespeichert." in page  # the flash, in the new language
    exported = json.loads(client.get("/me/data").get_data(as_text=True))
    assert exported["person"]["language"] == "de"
    form["language"] = ""
    client.post("/me/preferences", data=form)
    with app.app_context():
        assert db.session.get(Person, person_id).language is None


def preferences_form(html: str) -> dict:
    """The values the preferences page would submit as it is (checked boxes, selected options)."""
    data = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name, value = re.search(r'name="(\w+)"', tag), re.search(r'value="([^"]*)"', tag)
        ticked = " checked" in tag or "checkbox" not in tag and "radio" not in tag
        if name and value and ticked:
            data.setdefault(name.group(1), value.group(1))
    for name, body in re.findall(r'<select[^>]*name="(\w+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"', body) or re.search(
            r'<option value="([^"]*)" selected', body
        )
        if chosen:
            data[name] = chosen.group(1)
    data.pop("search", None)
    data.pop("q", None)
    return data


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Monday 7 December, 09:00"),
        ("sv", "måndag 7 december 09:00"),
        ("de", "Montag, 7. Dezember, 09:00"),
    ],
)
def test_the_datetime_filter_formats_in_the_readers_zone_and_locale(app, language, expected):
    instant = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # 09:00 in Stockholm
    with app.test_request_context(headers={"Accept-Language": language}):
        shown = render_template_string("{{ t|datetime('Europe/Stockholm') }}", t=instant)
        day = render_template_string("{{ d|date }}", d=date(2026, 12, 7))
        clock = render_template_string("{{ t|time('Europe/Stockholm') }}", t=instant)
    assert shown == expected
    assert day == expected.rsplit(" ", 1)[0].rstrip(",")
    assert clock == "09:00"


@pytest.mark.parametrize(
    ("language", "reason", "starter"),
    [
        ("en", "Sales, Legal and IT", "What is something you learned this week?"),
        ("sv", "Sales, Legal och IT", None),
        ("de", "Sales, Legal und IT", None),
    ],
)
def test_me_shows_stored_reasons_and_starters_in_the_readers_language(
    app, client, language, reason, starter
):
    """Stored in English as the planner wrote them; /me reads them in the person's language."""
    from datetime import timedelta

    from core.i18n import gettext, using
    from core.models import Group, GroupMember, Round
    from core.programmes import ensure_default_programme
    from web.config import current_settings

    english = "What is something you learned this week?"
    person_id = person_with(app, language)
    start = datetime.now(UTC) + timedelta(days=2)  # ahead: /me shows its reasons and starter
    with app.app_context():
        programme = ensure_default_programme(current_settings().timezone)
        round_ = Round(programme_id=programme.id, date=start.date(), status="planned")
        group = Group(
            uid="g-reasons@test",
            start_at=start,
            end_at=start + timedelta(minutes=15),
            video_url="https://meet.example.org/r",
            reasons=["Sales, Legal and IT"],
            starter=english,
        )
        round_.groups.append(group)
        group.members = [GroupMember(person_id=person_id)]
        db.session.add(round_)
        db.session.commit()
        with using(language):
            expected_starter = starter or gettext(english)
    assert language == "en" or expected_starter != english  # the catalogue has it
    sign_in_as(client, person_id)
    html = client.get("/me").get_data(as_text=True)
    assert f"<li>{reason}</li>" in html
    assert expected_starter in html
