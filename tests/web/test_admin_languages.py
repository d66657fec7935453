"""Languages on the admin side: the admin's own switch, a programme's language, a person's.

The CSV column and the people API field (valid, empty or null, unknown), the programme form
and API field, and the switch kept in the session; on SQLite and PostgreSQL.
"""

from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import select

from core.api_tokens import create_token
from core.db import db
from core.models import Person, Programme
from core.people_import import check_csv
from core.programmes import ensure_default_programme
from tests.web.admin_support import admin_client_for, admin_config, programme_form
from web.config import current_settings

HEADER = "email,name,department,language\n"


@pytest.fixture
def app_config(app_config):
    return {**admin_config(app_config), "FIKA_OUTBOX_DIR": None}


@pytest.fixture
def api(app):
    """A client and a valid token's headers; the default programme exists."""
    with app.app_context():
        ensure_default_programme(current_settings().timezone)
        _, secret = create_token("HR", "test")
        db.session.commit()
    return app.test_client(), {"Authorization": f"Bearer {secret}"}


def language_of(app, email: str) -> str | None:
    with app.app_context():
        return db.session.scalar(select(Person.language).where(Person.email == email))


# --- the CSV column -------------------------------------------------------------------------


def test_the_csv_language_column_sets_keeps_and_refuses(app):
    with app.app_context():
        rows = (
            "ada@example.org,Ada,Research,sv\nbo@example.org,Bo,Sales,DE\n"
            "cy@example.org,Cy,Legal,\n"
        )
        report, _ = check_csv((HEADER + rows).encode(), "UTC", dry_run=False)
        db.session.commit()
        assert report.ok and report.created == 3
    assert language_of(app, "ada@example.org") == "sv"
    assert language_of(app, "bo@example.org") == "de"  # the code in any case
    assert language_of(app, "cy@example.org") is None  # empty: no choice
    with app.app_context():
        # An empty cell later makes no choice: Ada keeps Swedish; Bo changes to English.
        again = "ada@example.org,Ada,Research,\nbo@example.org,Bo,Sales,en\n"
        report, _ = check_csv((HEADER + again).encode(), "UTC", dry_run=False)
        db.session.commit()
        assert report.ok and (report.updated, report.unchanged) == (1, 1)
    assert language_of(app, "ada@example.org") == "sv"
    assert language_of(app, "bo@example.org") == "en"
    with app.app_context():
        bad = "dee@example.org,Dee,Legal,fr\n"
        report, _ = check_csv((HEADER + bad).encode(), "UTC", dry_run=False)
        db.session.commit()
        assert [(e.line, e.column) for e in report.errors] == [(2, "language")]
        reason = report.errors[0].reason
        assert "'fr'" in reason and "en, sv, de" in reason
    assert language_of(app, "dee@example.org") is None and report.created == 0


def test_the_admin_import_page_names_the_language_column_and_its_error(app):
    client = admin_client_for(app)
    page = client.get("/admin/people/import").get_data(as_text=True)
    assert "<code>language</code>" in page
    data = {"file": (BytesIO((HEADER + "ed@example.org,Ed,Legal,klingon\n").encode()), "p.csv")}
    response = client.post("/admin/people/import", data=data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert "<td>language</td>" in html and "&#39;klingon&#39;" in html
    template = client.get("/admin/people/template.csv").get_data(as_text=True)
    header, example = (line.split(",") for line in template.splitlines()[:2])
    assert "language" in header and example[header.index("language")] == "sv"


# --- the people API ---------------------------------------------------------------------------


def test_the_people_api_reads_and_writes_the_language(app, api):
    client, headers = api
    put = client.put(
        "/api/v1/people/ada@example.org",
        json={"name": "Ada", "department": "Research", "language": "de"},
        headers=headers,
    )
    assert put.status_code == 201 and put.get_json()["language"] == "de"
    assert (
        client.get("/api/v1/people/ada@example.org", headers=headers).get_json()["language"] == "de"
    )
    # null: no choice, the stored one stays
    put = client.put(
        "/api/v1/people/ada@example.org",
        json={"name": "Ada", "department": "Research", "language": None},
        headers=headers,
    )
    assert put.status_code == 200 and put.get_json()["language"] == "de"
    batch = client.post(
        "/api/v1/people",
        json={
            "people": [
                {"email": "bo@example.org", "name": "Bo", "department": "Sales", "language": "sv"}
            ]
        },
        headers=headers,
    )
    assert batch.status_code == 200 and batch.get_json()["created"] == 1
    assert language_of(app, "bo@example.org") == "sv"
    listed = client.get("/api/v1/people", headers=headers).get_json()["people"]
    assert {p["email"]: p["language"] for p in listed}["bo@example.org"] == "sv"


@pytest.mark.parametrize("value", ["fr", "swedish", 7])
def test_the_people_api_refuses_an_unknown_language_in_english(app, api, value):
    client, headers = api
    response = client.put(
        "/api/v1/people/cy@example.org",
        json={"name": "Cy", "department": "Legal", "language": value},
        headers={**headers, "Accept-Language": "sv"},
    )
    assert response.status_code == 422
    body = response.get_json()
    assert body["errors"][0]["field"] == "language"
    reason = body["errors"][0]["reason"]
    assert reason == "must be text" if value == 7 else "en, sv, de" in reason
    assert language_of(app, "cy@example.org") is None


def test_the_openapi_document_has_both_language_fields(api):
    client, _ = api
    doc = client.get("/api/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    assert schemas["PersonInput"]["properties"]["language"]["enum"] == ["en", "sv", "de", "", None]
    assert "language" in schemas["Person"]["required"]
    assert schemas["ProgrammeInput"]["properties"]["language"]["enum"] == ["en", "sv", "de", None]
    assert "language" in schemas["Programme"]["required"]


# --- a programme's language ---------------------------------------------------------------------


def test_the_programme_api_takes_a_language_or_null_and_refuses_others(app, api):
    client, headers = api
    created = client.post(
        "/api/v1/programmes", json={"name": "Fika på svenska", "language": "sv"}, headers=headers
    )
    assert created.status_code == 201 and created.get_json()["language"] == "sv"
    pid = created.get_json()["id"]
    cleared = client.put(f"/api/v1/programmes/{pid}", json={"language": None}, headers=headers)
    assert cleared.status_code == 200 and cleared.get_json()["language"] is None
    for bad in ("fr", 3):
        refused = client.put(
            f"/api/v1/programmes/{pid}",
            json={"language": bad},
            headers={**headers, "Accept-Language": "de"},
        )
        assert refused.status_code == 422
        errors = refused.get_json()["errors"]
        assert [e["field"] for e in errors] == ["language"]
        if bad == "fr":  # the reason is English whatever the client's language
            assert errors[0]["reason"].startswith("Unknown language; choose one of en, sv, de")
    with app.app_context():
        assert db.session.get(Programme, pid).language is None


def test_the_programme_form_stores_the_language_and_shows_a_field_error(app):
    client = admin_client_for(app)
    form = client.get("/admin/programmes/new").get_data(as_text=True)
    assert 'name="language"' in form and "Organisation default" in form
    response = client.post("/admin/programmes/new", data=programme_form("Kaffe", language="de"))
    assert response.status_code == 302
    with app.app_context():
        programme = db.session.scalar(select(Programme).where(Programme.name == "Kaffe"))
        assert programme.language == "de"
        pid = programme.id
    edit = client.get(f"/admin/programmes/{pid}").get_data(as_text=True)
    assert '<option selected value="de">' in edit or 'value="de" selected' in edit
    bad = client.post(f"/admin/programmes/{pid}", data=programme_form("Kaffe", language="xx"))
    assert bad.status_code == 400
    assert "Unknown language" in bad.get_data(as_text=True)
    default = client.post(f"/admin/programmes/{pid}", data=programme_form("Kaffe", language=""))
    assert default.status_code == 302
    with app.app_context():
        assert db.session.get(Programme, pid).language is None


# --- the admin's own language -----------------------------------------------------------------


def test_the_switch_keeps_the_choice_in_the_session_and_the_pages_follow(app):
    client = admin_client_for(app)
    english = client.get("/admin/programmes").get_data(as_text=True)
    assert '<html lang="en">' in english and "Add a programme" in english
    switched = client.post("/admin/language", data={"language": "sv", "next": "/admin/programmes"})
    assert switched.status_code == 302 and switched.headers["Location"].endswith(
        "/admin/programmes"
    )
    with client.session_transaction() as session:
        assert session["language"] == "sv"
    swedish = client.get("/admin/programmes").get_data(as_text=True)
    assert '<html lang="sv">' in swedish and "Lägg till ett program" in swedish
    client.post("/admin/language", data={"language": "de"})
    german = client.get("/admin/programmes", headers={"Accept-Language": "sv"}).get_data(
        as_text=True
    )
    assert '<html lang="de">' in german and "Programm hinzufügen" in german  # the choice wins
    client.post("/admin/language", data={"language": "automatic"})
    with client.session_transaction() as session:
        assert "language" not in session
    browser = client.get("/admin/programmes", headers={"Accept-Language": "sv"}).get_data(
        as_text=True
    )
    assert '<html lang="sv">' in browser


@pytest.mark.parametrize("form", [{"language": "fr"}, {}])
def test_the_switch_refuses_an_unknown_choice(app, form):
    client = admin_client_for(app)
    response = client.post("/admin/language", data=form)
    assert response.status_code == 400
    with client.session_transaction() as session:
        assert "language" not in session


def test_the_switch_goes_back_only_to_a_page_of_this_site(app):
    client = admin_client_for(app)
    response = client.post("/admin/language", data={"language": "de", "next": "//evil.example"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/")


# --- the admin pages in Swedish and German ----------------------------------------------------

PAGES = {
    "sv": {
        "/admin/": ["Översikt", "Leveranser", "Importera personer från en CSV-fil"],
        "/admin/programmes": ["Lägg till ett program", "varje vecka på måndag, tisdag"],
        "/admin/programmes/new": ["Språk för gemensamma meddelanden", "Organisationens standard"],
        "/admin/people": ["Hitta personer", "Avdelning"],
        "/admin/people/import": ["Importera personer från CSV", "Kontrollera filen"],
        "/admin/rounds": ["Tidigare omgångar", "Kommande omgångar"],
        "/admin/deliveries/dead": ["Olevererbara", "Inga olevererbara meddelanden."],
        "/admin/insights": ["Insikter", "Vem träffade vem över avdelningsgränser"],
        "/admin/tokens": ["Skapa token", "Inga token än."],
        "/admin/audit": ["Granskningslogg", "Administratörsåtgärder, nyaste först"],
    },
    "de": {
        "/admin/": ["Übersicht", "Zustellungen", "Personen aus einer CSV-Datei importieren"],
        "/admin/programmes": ["Programm hinzufügen", "wöchentlich am Montag, Dienstag"],
        "/admin/programmes/new": ["Sprache gemeinsamer Nachrichten", "Standard der Organisation"],
        "/admin/people": ["Personen finden", "Abteilung"],
        "/admin/people/import": ["Personen aus CSV importieren", "Datei prüfen"],
        "/admin/rounds": ["Vergangene Runden", "Nächste Runden"],
        "/admin/deliveries/dead": ["Unzustellbare", "Keine unzustellbaren Nachrichten."],
        "/admin/insights": ["Einblicke", "Wer hat wen abteilungsübergreifend getroffen"],
        "/admin/tokens": ["Token erstellen", "Noch keine Tokens."],
        "/admin/audit": ["Audit-Protokoll", "Admin-Aktionen, neueste zuerst"],
    },
}
#: English words of the layout and the forms that must not be left over in a translated page.
ENGLISH = ["Skip to content", "Dead letters", "Audit log", "Programmes<", "Add a programme"]


@pytest.mark.parametrize("language", ["sv", "de"])
def test_every_admin_page_renders_in_the_chosen_language(app, language):
    client = admin_client_for(app)
    with app.app_context():
        programme = ensure_default_programme(current_settings().timezone)
        programme.days = ["mon", "tue"]
        db.session.commit()
    client.post("/admin/language", data={"language": language})
    for path, words in PAGES[language].items():
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert f'<html lang="{language}">' in html, path
        for word in words:
            assert word in html, (path, word)
        for english in ENGLISH:
            assert english not in html, (path, english)


@pytest.mark.parametrize(
    ("language", "one", "three", "day"),
    [
        ("en", "1 person<", "3 groups", "Monday 30 November"),
        ("sv", "1 person<", "3 grupper", "måndag 30 november"),
        ("de", "1 Person<", "3 Gruppen", "Montag, 30. November"),
    ],
)
def test_counts_and_dates_on_admin_pages_follow_the_language(app, language, one, three, day):
    from tests.web.admin_support import past_round_with_dead_letter

    client = admin_client_for(app)
    with app.app_context():
        round_id, _ = past_round_with_dead_letter(
            ensure_default_programme(current_settings().timezone)
        )
    client.post("/admin/language", data={"language": language})
    assert one in client.get("/admin/people?q=member0").get_data(as_text=True)
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert three in dashboard and day in dashboard
    assert three in client.get(f"/admin/rounds/{round_id}").get_data(as_text=True)


def test_a_flash_and_a_field_error_follow_the_language(app):
    client = admin_client_for(app)
    client.post("/admin/language", data={"language": "de"})
    saved = client.post(
        "/admin/programmes/new", data=programme_form("Kaffee"), follow_redirects=True
    )
    assert "Kaffee gespeichert." in saved.get_data(as_text=True)
    refused = client.post("/admin/programmes/new", data=programme_form("", days=[]))
    html = refused.get_data(as_text=True)
    assert "Gib dem Programm einen Namen." in html and "Wähle mindestens einen Tag." in html
